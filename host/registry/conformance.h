#pragma once
// The plugin conformance suite: behavioural checks every block, task and baseline must pass, run
// by the test suite over every discovered plugin and by `looplab plugins check FILE.so`.

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

/// Names of the checks that apply to `component`, in run order: its kind's checks (an analysis
/// only `reserved_keys`: analyses are checked by running them on a trained model, not here), or
/// {"parameters"} when its schema has a required parameter (the checker builds components
/// from schema defaults only).
std::vector<std::string> applicable_checks(const sdk::Component& component);

/// Runs one named check. Never throws: an exception from the plugin, or an unknown check
/// name, becomes a failed result carrying the message. Reseeds LibTorch's global generator.
///
/// Block checks build the component from its schema defaults with BlockContext{n_embd = 32,
/// depth = 1, index = 0, max_tokens = 32}, on the CPU in float32:
/// - `shape`: the output of [2, 10, 32] has the same shape;
/// - `causality`: perturbing position s leaves outputs before s unchanged (1e-5) and changes s;
/// - `key_mask` (a block whose supports_key_mask() is true; others pass it untested):
///   forward_masked with an all-true [1, S] mask equals forward; for each key j < S - 1, a
///   float [B, S] mask hiding j in row 0 only leaves row 1 and row 0's positions <= j unchanged
///   (1e-5) and changes some position > j of row 0; an all-false mask gives finite outputs and
///   an unchanged position 0;
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
/// - `baselines`: baselines() is not empty and every entry names a baseline of `registry` with
///   valid parameters (fails without a registry).
///
/// Baseline checks build from schema defaults with BaselineContext{n_dims = 5, noise_variance =
/// 0.25} and predict on 3 noisy linear prompts of 8 points from a seeded CPU generator:
/// - `shape`: [3, 8] float32, finite, column 0 exactly 0, a non-empty label();
/// - `causality`: for j = 1, 4, 7, adding 3 to y_j changes no column <= j and then changing x_j
///   no column < j (1e-5);
/// - `determinism`: two instances given equal generator seeds predict identically.
///
/// Every kind: `reserved_keys`, the schema declares none of sdk::reserved_keys(kind).
///
/// Nested block parameters (a wrapper such as lr_looped) and a task's baselines are resolved
/// through `registry`; without it such a component fails with a message saying so.
CheckResult run_check(const sdk::Component& component, const std::string& check,
                      const PluginRegistry* registry = nullptr);

/// Runs every check that applies to the component (see applicable_checks). Never throws.
/// `registry` as for run_check.
std::vector<CheckResult> check_component(const sdk::Component& component, const PluginRegistry* registry = nullptr);

}  // namespace looplab::host
