#pragma once
// A pipeline file, validated against the host's sections and every plugin's schema.

#include "config/diagnostics.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/params.h>

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
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

/// A [task] or [[model.blocks]] entry: plugin, validated parameters, where it was written.
struct ComponentConfig {
  std::string type;                          ///< Component name.
  sdk::Params params;                        ///< Plugin parameters, defaults filled in.
  SourceLocation where;                      ///< Location of the table, for factory errors.
  const sdk::Component* component = nullptr; ///< Resolved component (its library is never unloaded).
  std::string file;                          ///< Library the component came from.
  int64_t repeat = 1;                        ///< Blocks only: consecutive copies.
};

/// Everything a run needs, typed and checked.
struct PipelineConfig {
  std::string file;  ///< The pipeline file as given.
  // [run]
  std::string name;
  int64_t seed = 0;
  std::string device = "auto";
  int64_t threads = 0;  ///< 0: all cores.
  bool tf32 = false;    ///< Allow TF32 in CUDA matmuls and convolutions.
  std::vector<std::string> plugin_paths;
  // [task]
  ComponentConfig task;
  int64_t n_dims = 0, n_points = 0;
  // [model]
  int64_t n_embd = 0;
  bool looped = false;
  int64_t window = 0;          ///< T; 0 = every iteration in the loss.
  std::string positions;       ///< auto | on | off
  std::vector<ComponentConfig> blocks;
  // [training]
  int64_t steps = 0, batch_size = 0, log_every = 0, checkpoint_every = 0;
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  Staircase dims, points, loops;
  bool cuda_graphs = false;  ///< Replay each curriculum stage's step from a CUDA graph.
  // [evaluation]
  int64_t eval_prompts = 0, eval_seed = 0, eval_batch = 0, bootstrap = 0;
  std::vector<int64_t> eval_iterations;  ///< Extra iteration counts beyond the trained b.
  // [[analyses]]
  std::vector<ComponentConfig> analyses;
  // [outputs]
  bool figures = true, report = true;
  int64_t moving_average = 0, keep_checkpoints = 0;

  /// The fully resolved document (every default written out).
  toml::table resolved;

  /// Iterations b at the last training step.
  int64_t trained_loops() const { return loops.at(steps - 1); }
  /// Blocks per iteration, repeats expanded (L).
  int64_t depth() const;
};

/// [run].plugin_paths (read before validation, since validation needs the plugins); relative
/// entries are resolved against the directory of the file that wrote them.
std::vector<std::string> raw_plugin_paths(const toml::table& doc);

/// Validates one analysis table (`type` plus the plugin's parameters) against the registry;
/// errors go to `diags`. Used for [[analyses]] entries and for `looplab analyze --set`.
ComponentConfig build_analysis(const toml::table& table, const PluginRegistry& registry, Diagnostics& diags,
                               const SourceLocation& fallback);

/// A component's schema defaults with nested block parameters resolved through `registry`
/// (what a factory gets for an empty table). Throws ConfigError when a default names a block
/// the registry lacks.
sdk::Params default_params(const sdk::Component& component, const PluginRegistry& registry);

/// A check of a pipeline that validated, run before it is returned; it reports problems to the
/// Diagnostics. The model side supplies one that builds the task and every block once
/// (check_factories in model/model_factory.h), so that a factory's complaint is reported at
/// the table that configured it; config/ itself never builds anything.
using PipelineCheck = std::function<void(const PipelineConfig&, Diagnostics&)>;

/// Validates a loaded document (see config_loader.h) against the host's sections and the
/// registry's plugins, then runs `check` (when given). Throws ConfigError with every problem
/// found.
PipelineConfig build_pipeline(const toml::table& doc, const std::string& file, const PluginRegistry& registry,
                              const PipelineCheck& check);

}  // namespace looplab::host
