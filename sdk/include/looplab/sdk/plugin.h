#pragma once
/// @file plugin.h
/// Components a plugin library provides, and the macro that writes its entry point.
///
/// @code
/// LOOPLAB_PLUGIN("gpt", "1.0.0") {
///   return {looplab::sdk::make_block_component("gpt", "1.0.0", "pre-LN GPT-2 block",
///                                             schema(), factory)};
/// }
/// @endcode

#include <looplab/sdk/abi.h>
#include <looplab/sdk/analysis.h>
#include <looplab/sdk/block.h>
#include <looplab/sdk/params.h>
#include <looplab/sdk/task.h>

#include <torch/version.h>

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace looplab::sdk {

/// The three kinds of component.
enum class ComponentKind { Block, Task, Analysis };

/// "block", "task" or "analysis".
const char* kind_name(ComponentKind kind);

/// Builds a block from validated parameters.
using BlockFactory = std::function<std::shared_ptr<Block>(const Params&, const BlockContext&)>;
/// Builds a task from validated parameters.
using TaskFactory = std::function<std::shared_ptr<Task>(const Params&, const TaskContext&)>;
/// Builds an analysis from validated parameters.
using AnalysisFactory = std::function<std::shared_ptr<Analysis>(const Params&)>;

/// One named component of a plugin library.
struct Component {
  std::string name;     ///< Unique across all loaded plugins of the same kind, e.g. "gpt".
  std::string version;  ///< Component version.
  std::string summary;  ///< One line for `looplab plugins list`.
  ParamSchema params;   ///< Declared parameters; the host validates TOML against them.
  std::variant<BlockFactory, TaskFactory, AnalysisFactory> factory;  ///< Typed factory.

  /// Kind, derived from the factory's type.
  ComponentKind kind() const { return static_cast<ComponentKind>(factory.index()); }
};

/// A block component.
Component make_block_component(std::string name, std::string version, std::string summary,
                               ParamSchema params, BlockFactory factory);
/// A task component.
Component make_task_component(std::string name, std::string version, std::string summary,
                              ParamSchema params, TaskFactory factory);
/// An analysis component.
Component make_analysis_component(std::string name, std::string version, std::string summary,
                                  ParamSchema params, AnalysisFactory factory);

/// The fingerprint of whatever is compiling this header.
inline constexpr looplab_fingerprint this_build() {
  return looplab_fingerprint{LOOPLAB_SDK_VERSION_MAJOR, LOOPLAB_SDK_VERSION_MINOR,
                             TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                             static_cast<uint32_t>(_GLIBCXX_USE_CXX11_ABI)};
}

/// Whether a plugin built with `plugin` can be loaded by a host built with `host`.
bool compatible(const looplab_fingerprint& plugin, const looplab_fingerprint& host);

/// "SDK 0.1, ABI 1.0, LibTorch 2.11, C++11 ABI 1".
std::string describe(const looplab_plugin_descriptor& descriptor);

}  // namespace looplab::sdk

/// Defines the plugin's entry point; the braces that follow return its components.
#define LOOPLAB_PLUGIN(NAME, VERSION)                                                      \
  static std::vector<::looplab::sdk::Component> looplab_make_components();                \
  static const void* looplab_components() {                                              \
    static const std::vector<::looplab::sdk::Component> components = looplab_make_components(); \
    return &components;                                                                    \
  }                                                                                        \
  extern "C" __attribute__((visibility("default"))) const looplab_plugin_descriptor*      \
  looplab_plugin_entry(void) {                                                             \
    static const looplab_plugin_descriptor descriptor{                                    \
        LOOPLAB_ABI_MAJOR, LOOPLAB_ABI_MINOR, sizeof(looplab_plugin_descriptor),          \
        ::looplab::sdk::this_build(), NAME, VERSION, &looplab_components};                 \
    return &descriptor;                                                                    \
  }                                                                                        \
  static std::vector<::looplab::sdk::Component> looplab_make_components()
