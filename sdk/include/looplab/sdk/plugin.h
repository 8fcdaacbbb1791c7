#pragma once
/// @file plugin.h
/// Components a plugin library provides, and the macro that writes its entry point.
///
/// @code
/// LOOPLAB_PLUGIN("gpt", "1.0.0") {
///   // A component named like its library: name and version come from looplab_plugin.
///   return {looplab::sdk::make_block_component(looplab_plugin, "pre-LN GPT-2 block",
///                                             schema(), factory),
///           // Any further component names itself, usually with the library's version.
///           looplab::sdk::make_block_component("gpt_tied", looplab_plugin.version,
///                                             "GPT-2 block, tied weights", tied_schema(),
///                                             tied_factory)};
/// }
/// @endcode

#include <looplab/sdk/abi.h>
#include <looplab/sdk/analysis.h>
#include <looplab/sdk/baseline.h>
#include <looplab/sdk/block.h>
#include <looplab/sdk/params.h>
#include <looplab/sdk/task.h>

#include <torch/version.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace looplab::sdk {

/// The four kinds of component (Baseline since SDK 1.1; the order is the factory variant's).
enum class ComponentKind { Block, Task, Analysis, Baseline };

/// "block", "task", "analysis" or "baseline".
const char* kind_name(ComponentKind kind);

/// Keys the host owns in a component's TOML table, which a plugin's schema must not declare:
/// `type` for every kind, `repeat` for blocks, `n_dims` and `n_points` for tasks (the
/// conformance suite's `reserved_keys` check refuses a schema that does).
inline std::vector<std::string> reserved_keys(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Block: return {"type", "repeat"};
    case ComponentKind::Task: return {"type", "n_dims", "n_points"};
    default: return {"type"};
  }
}

/// Factories are called more than once (the validation dry run, the real build, the
/// conformance checks) and must be pure: build from their arguments alone, keep no state
/// between calls, touch no file. An exception they throw is reported with the component's
/// kind and name in front ("block 'gla': ..."), so its message need not name the plugin.
///
/// Builds a block from validated parameters.
using BlockFactory = std::function<std::shared_ptr<Block>(const Params&, const BlockContext&)>;
/// Builds a task from validated parameters.
using TaskFactory = std::function<std::shared_ptr<Task>(const Params&, const TaskContext&)>;
/// Builds an analysis from validated parameters.
using AnalysisFactory = std::function<std::shared_ptr<Analysis>(const Params&)>;
/// Builds a baseline from validated parameters (since SDK 1.1).
using BaselineFactory = std::function<std::shared_ptr<Baseline>(const Params&, const BaselineContext&)>;

/// One named component of a plugin library.
struct Component {
  std::string name;     ///< Unique across all loaded plugins of the same kind, e.g. "gpt".
  std::string version;  ///< Component version.
  std::string summary;  ///< One line for `looplab plugins list`.
  ParamSchema params;   ///< Declared parameters; the host validates TOML against them.
  /// Typed factory. New kinds are appended, so a 1.0 plugin's components read the same.
  std::variant<BlockFactory, TaskFactory, AnalysisFactory, BaselineFactory> factory;

  /// Kind, derived from the factory's type.
  ComponentKind kind() const { return static_cast<ComponentKind>(factory.index()); }
};

/// A plugin library's name and version as LOOPLAB_PLUGIN(NAME, VERSION) states them, once.
/// The macro defines `looplab_plugin`, one of these, for the code in its braces.
struct PluginInfo {
  const char* name;     ///< Library-level name, e.g. "gpt" (the descriptor's plugin_name).
  const char* version;  ///< Library-level version, e.g. "0.1.0" (the descriptor's plugin_version).
};

/// A block component.
Component make_block_component(std::string name, std::string version, std::string summary, ParamSchema params,
                               BlockFactory factory);
/// A task component.
Component make_task_component(std::string name, std::string version, std::string summary, ParamSchema params,
                              TaskFactory factory);
/// An analysis component.
Component make_analysis_component(std::string name, std::string version, std::string summary, ParamSchema params,
                                  AnalysisFactory factory);

/// A baseline component (since SDK 1.1).
Component make_baseline_component(std::string name, std::string version, std::string summary, ParamSchema params,
                                  BaselineFactory factory);

/// A block component named like its library, with the library's version:
/// `make_block_component(looplab_plugin, summary, schema, factory)`. Inline, so a plugin that
/// uses it needs no symbol a 1.0 host's SDK library lacks.
inline Component make_block_component(const PluginInfo& plugin, std::string summary, ParamSchema params,
                                      BlockFactory factory) {
  return make_block_component(plugin.name, plugin.version, std::move(summary), std::move(params), std::move(factory));
}
/// A task component named like its library, with the library's version.
inline Component make_task_component(const PluginInfo& plugin, std::string summary, ParamSchema params,
                                     TaskFactory factory) {
  return make_task_component(plugin.name, plugin.version, std::move(summary), std::move(params), std::move(factory));
}
/// An analysis component named like its library, with the library's version.
inline Component make_analysis_component(const PluginInfo& plugin, std::string summary, ParamSchema params,
                                         AnalysisFactory factory) {
  return make_analysis_component(plugin.name, plugin.version, std::move(summary), std::move(params),
                                 std::move(factory));
}

/// A baseline component named like its library, with the library's version (since SDK 1.1).
inline Component make_baseline_component(const PluginInfo& plugin, std::string summary, ParamSchema params,
                                         BaselineFactory factory) {
  return make_baseline_component(plugin.name, plugin.version, std::move(summary), std::move(params),
                                 std::move(factory));
}

/// The fingerprint of whatever is compiling this header.
inline constexpr looplab_fingerprint this_build() {
  return looplab_fingerprint{LOOPLAB_SDK_VERSION_MAJOR, LOOPLAB_SDK_VERSION_MINOR, TORCH_VERSION_MAJOR,
                             TORCH_VERSION_MINOR, static_cast<uint32_t>(_GLIBCXX_USE_CXX11_ABI)};
}

/// Whether a plugin built with `plugin` can be loaded by a host built with `host`: the same SDK
/// major, LibTorch major.minor and C++11 ABI, and an SDK minor no newer than the host's (a newer
/// plugin may hand over a kind of component the host does not know).
bool compatible(const looplab_fingerprint& plugin, const looplab_fingerprint& host);

/// The build a descriptor records, as one line: "SDK <major>.<minor>, ABI <major>.<minor>,
/// LibTorch <major>.<minor>, C++11 ABI <0|1>" from its fingerprint and ABI version (e.g.
/// "SDK 1.0, ABI 1.0, LibTorch 2.11, C++11 ABI 1"); whatever the descriptor holds, not this build.
std::string describe(const looplab_plugin_descriptor& descriptor);

}  // namespace looplab::sdk

/// Defines the plugin's entry point; the braces that follow return its components. NAME and
/// VERSION (string literals) are the library's; inside the braces `looplab_plugin` (a
/// looplab::sdk::PluginInfo) holds them, for make_block_component(looplab_plugin, ...) and
/// the like.
#define LOOPLAB_PLUGIN(NAME, VERSION)                                                                             \
  static constexpr ::looplab::sdk::PluginInfo looplab_plugin{NAME, VERSION};                                      \
  static std::vector<::looplab::sdk::Component> looplab_make_components();                                        \
  static const void* looplab_components() {                                                                       \
    static const std::vector<::looplab::sdk::Component> components = looplab_make_components();                   \
    return &components;                                                                                           \
  }                                                                                                               \
  extern "C" __attribute__((visibility("default"))) const looplab_plugin_descriptor* looplab_plugin_entry(void) { \
    static const looplab_plugin_descriptor descriptor{LOOPLAB_ABI_MAJOR,                                          \
                                                      LOOPLAB_ABI_MINOR,                                          \
                                                      sizeof(looplab_plugin_descriptor),                          \
                                                      ::looplab::sdk::this_build(),                               \
                                                      looplab_plugin.name,                                        \
                                                      looplab_plugin.version,                                     \
                                                      &looplab_components};                                       \
    return &descriptor;                                                                                           \
  }                                                                                                               \
  static std::vector<::looplab::sdk::Component> looplab_make_components()
