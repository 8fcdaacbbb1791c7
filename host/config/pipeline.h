#pragma once
// A pipeline file, validated against the host's sections and every plugin's schema.

#include "config/diagnostics.h"
#include "config/options.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/params.h>

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace looplab::host {

/// Value at step i: min(start + floor(i / interval) * inc, end) (docs/model.md#curriculum-staircase).
struct Staircase {
  int64_t start = 1, end = 1, inc = 0, interval = 1;
  /// A constant schedule.
  static Staircase fixed(int64_t value) { return {value, value, 0, 1}; }
  /// The value at 0-based step `step`.
  int64_t at(int64_t step) const;
};

/// A [task], [[model.blocks]], [[analyses]] or baseline entry: plugin, validated parameters,
/// where it was written.
struct ComponentConfig {
  std::string type;                           ///< Component name.
  sdk::Params params;                         ///< Plugin parameters, defaults filled in.
  SourceLocation where;                       ///< Location of the table, for factory errors.
  const sdk::Component* component = nullptr;  ///< Resolved component (its library is never unloaded).
  std::string file;                           ///< Library the component came from.
  int64_t repeat = 1;                         ///< Blocks only: consecutive copies.
};

/// Everything a run needs, typed and checked: the host's sections as typed options
/// (config/options.h), the plugins' components with their validated parameters.
struct PipelineConfig {
  std::string file;                       ///< The pipeline file as given.
  RunOptions run;                         ///< [run]
  ComponentConfig task;                   ///< [task]: the task plugin and its parameters.
  int64_t n_dims = 0;                     ///< [task] n_dims: dimension d of x.
  int64_t n_points = 0;                   ///< [task] n_points: points per prompt.
  ModelOptions model;                     ///< [model]
  std::vector<ComponentConfig> blocks;    ///< [[model.blocks]], in iteration order.
  TrainingOptions training;               ///< [training]
  Staircase dims, points, loops;          ///< [training.curriculum.*]: per-step schedules.
  EvaluationOptions evaluation;           ///< [evaluation]
  /// [evaluation] baselines: when set, evaluated instead of the task's own list.
  std::optional<std::vector<ComponentConfig>> configured_baselines;
  std::vector<ComponentConfig> extra_baselines;  ///< [evaluation] extra_baselines
  /// The baselines evaluated (config/baselines.h): only the built task knows its own list, so
  /// the PipelineCheck fills this in; without one it holds the configured lists alone.
  std::vector<ComponentConfig> baselines;
  std::vector<ComponentConfig> analyses;  ///< [[analyses]]
  OutputOptions outputs;                  ///< [outputs]

  /// The fully resolved document (every default written out).
  toml::table resolved;

  /// Iterations b at the last training step.
  int64_t trained_loops() const { return loops.at(training.steps - 1); }
  /// Blocks per iteration, repeats expanded (L).
  int64_t depth() const;
};

/// [run].plugin_paths (read before validation, since validation needs the plugins); relative
/// entries are resolved against the directory of the file that wrote them.
std::vector<std::string> raw_plugin_paths(const toml::table& doc);

/// Puts `directories` (made absolute, in order) in front of cfg.run.plugin_paths, in the typed
/// options and in cfg.resolved: the command line's --plugin-path directories, so that
/// resolved.toml finds the plugins the run was validated with (`run --resume` names none).
void record_plugin_paths(PipelineConfig& cfg, const std::vector<std::string>& directories);

/// Validates one analysis table (`type` plus the plugin's parameters) against the registry;
/// errors go to `diags`. Used for [[analyses]] entries and for `looplab analyze --set`.
ComponentConfig build_analysis(const toml::table& table, const PluginRegistry& registry, Diagnostics& diags,
                               const SourceLocation& fallback);

/// Validates one baseline entry, a name ("lasso") or a table ({ type = "lasso", alpha = 0.1 }),
/// against the registry; errors go to `diags`.
ComponentConfig build_baseline(const toml::node& entry, const PluginRegistry& registry, Diagnostics& diags,
                               const SourceLocation& fallback);

/// A component's schema defaults with nested block parameters resolved through `registry`
/// (what a factory gets for an empty table). Throws ConfigError when a default names a block
/// the registry lacks.
sdk::Params default_params(const sdk::Component& component, const PluginRegistry& registry);

/// A check of a pipeline that validated, run before it is returned; it reports problems to the
/// Diagnostics and fills in what only built components know (the task's baselines). The model
/// side supplies one that builds the task, every block and every baseline once
/// (check_factories in model/model_factory.h), so that a factory's complaint is reported at
/// the table that configured it; config/ itself never builds anything.
using PipelineCheck = std::function<void(PipelineConfig&, const PluginRegistry&, Diagnostics&)>;

/// Validates a loaded document (see config_loader.h) against the host's sections and the
/// registry's plugins, then runs `check` (when given). Throws ConfigError with every problem
/// found.
PipelineConfig build_pipeline(const toml::table& doc, const std::string& file, const PluginRegistry& registry,
                              const PipelineCheck& check);

}  // namespace looplab::host
