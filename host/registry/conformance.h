#pragma once
// The plugin conformance suite: behavioural checks every block and task must pass, run by the
// test suite over every discovered plugin and by `looplab plugins check FILE.so`.

#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include <string>
#include <vector>

namespace looplab::host {

/// Outcome of one check on one component.
struct CheckResult {
  std::string component;  ///< Component name, e.g. "gpt".
  std::string check;      ///< Check name, e.g. "causality".
  bool passed = false;    ///< Whether the component behaved as required.
  bool skipped = false;   ///< The check could not run (e.g. a required parameter); passed is false.
  std::string detail;     ///< Why it failed or was skipped; empty on a pass.
};

/// Names of the checks that apply to `component`, in run order: the block or task checks,
/// {"parameters"} when its schema has a required parameter (the checker builds components
/// from schema defaults only), and none for analyses (they are checked by running them on a
/// trained model, not here).
std::vector<std::string> applicable_checks(const sdk::Component& component);

/// Runs one named check. Never throws: an exception from the plugin, or an unknown check
/// name, becomes a failed result carrying the message. Reseeds LibTorch's global generator.
///
/// Block checks build the component from its schema defaults with BlockContext{n_embd = 32,
/// depth = 1, index = 0, max_tokens = 32}, on the CPU in float32:
/// - `shape`: the output of [2, 10, 32] has the same shape;
/// - `causality`: perturbing position s leaves outputs before s unchanged (1e-5) and changes s;
/// - `finite_gradients`: every parameter gets a finite gradient, at least one nonzero;
/// - `determinism`: the same seed gives identical parameters and outputs;
/// - `save_load`: parameters saved to an archive and loaded into an instance built from another
///   seed give identical outputs;
/// - `unique_parameters`: parameters() lists no tensor twice;
/// - `works_looped`: inside a SequenceModel looped 3 times the loss and gradients are finite
///   and the predictions after iterations 1 and 3 differ.
///
/// Task checks build from schema defaults with TaskContext{n_dims = 5}:
/// - `shapes_and_dtype`: xs [B, n, d] and ys [B, n], float32, finite, on the CPU;
/// - `determinism`: equal seeds give equal prompts, different seeds different ones;
/// - `second_moment`: the sample mean of y^2 is within 5 standard errors of y_second_moment(d);
/// - `active_dims`: with 2 active dimensions x[..., 2:] is exactly 0 and y_second_moment(2)
///   matches the sample;
/// - `baselines`: baselines() names only baselines the evaluator knows.
///
/// Nested block parameters (a wrapper such as lr_looped) are resolved through `blocks`; without
/// it such a component fails with a message saying its nested block was not resolved.
CheckResult run_check(const sdk::Component& component, const std::string& check,
                      const PluginRegistry* blocks = nullptr);

/// Runs every check that applies to the component (see applicable_checks); empty for an
/// analysis. Never throws. `blocks` as for run_check.
std::vector<CheckResult> check_component(const sdk::Component& component, const PluginRegistry* blocks = nullptr);

}  // namespace looplab::host
