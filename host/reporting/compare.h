#pragma once
// `looplab compare`: several finished runs side by side, labelled by what differs between them.

#include <toml++/toml.h>

#include <map>
#include <string>
#include <vector>

namespace looplab::host {

/// A resolved pipeline flattened to dotted keys (array elements indexed, `model.blocks.0.type`)
/// mapped to their values as TOML text (strings unquoted).
std::map<std::string, std::string> flatten_settings(const toml::table& table);

/// One label per run from the settings that differ between the runs: "loops=5, type=lr_looped".
/// Bookkeeping keys (run.name, run.threads, run.device, run.plugin_paths) never count. Keys set
/// in every run come first; keys missing from some runs are added only where labels would
/// otherwise coincide. Each key is shortened to its shortest unambiguous dotted suffix (at least
/// two segments for a curriculum's start/end/inc/interval). Runs that differ in nothing keep
/// `fallback` (their directory names).
std::vector<std::string> difference_labels(const std::vector<std::map<std::string, std::string>>& settings,
                                           const std::vector<std::string>& fallback);

/// Writes into `out_dir`: train_loss.png (training loss / E[y^2], moving average, every run),
/// error_vs_iterations.png (error at the last position vs loop iterations: the loop_iterations
/// analysis where a run has it, else the evaluated iteration counts), error_vs_examples.png (the
/// model at its trained b, with the first run's baselines), the CSVs behind them, and
/// compare.md (a table of final numbers per run: the moving averages of loss_norm and of
/// loss_last_norm, "–" where a run's train.csv lacks loss_last, errors, learned scalars such as lr).
/// Returns the path of compare.md. Throws std::runtime_error naming a run that cannot be read.
std::string compare_runs(const std::vector<std::string>& run_dirs, const std::string& out_dir);

}  // namespace looplab::host
