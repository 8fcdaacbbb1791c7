#pragma once
// Which baselines a pipeline evaluates: the task's own list, changed by [evaluation]
// (docs/plugins.md#baselines).

#include "config/pipeline.h"

#include <looplab/sdk/params.h>

#include <string>
#include <vector>

namespace looplab::host {

/// The baselines a pipeline evaluates: the task's (`task_specs`, from Task::baselines(), each
/// a name or a TOML inline table `{ type = "lasso", alpha = 0.1 }`, validated against the
/// registry; problems are reported at the [task] table), replaced by [evaluation] baselines
/// when that is set, then [evaluation] extra_baselines: an entry whose type is already listed
/// replaces it (a new parameter value), any other is added. A predictor id that would appear
/// twice is an error.
std::vector<ComponentConfig> pipeline_baselines(const PipelineConfig& cfg, const std::vector<std::string>& task_specs,
                                                const PluginRegistry& registry, Diagnostics& diags);

/// The baseline's predictor id in eval.csv: its type, followed by every parameter that differs
/// from its default: "lasso", "lasso(alpha=0.1)", "gradient_boosting(max_depth=6,n_estimators=100)".
std::string baseline_id(const ComponentConfig& baseline);

/// The baselines as [evaluation] baselines writes them (resolved.toml): a name where every
/// parameter has its default, an inline table otherwise.
toml::array baselines_toml(const std::vector<ComponentConfig>& baselines);

}  // namespace looplab::host
