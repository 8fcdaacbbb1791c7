#pragma once
// Turns a validated pipeline into live objects through the plugins' factories.

#include "config/pipeline.h"
#include "model/sequence_model.h"

#include <looplab/sdk/baseline.h>
#include <looplab/sdk/task.h>

#include <memory>

namespace looplab::host {

/// The task of [task].
std::shared_ptr<sdk::Task> make_task(const PipelineConfig& cfg);
/// One copy of a [[model.blocks]] entry placed at `index` among the iteration's blocks.
std::shared_ptr<sdk::Block> make_block(const PipelineConfig& cfg, const ComponentConfig& block, int64_t index);
/// The model: every block (repeats expanded) wrapped by read-in, positions, LN_f and read-out.
/// Initialisation draws from the global LibTorch generator: seed it first.
SequenceModel make_model(const PipelineConfig& cfg);

/// One of cfg.baselines, for prompts of `task` with n_dims coordinates.
std::shared_ptr<sdk::Baseline> make_baseline(const ComponentConfig& baseline, const sdk::Task& task, int64_t n_dims);

/// The PipelineCheck of every command that loads a pipeline: builds the task, every block and
/// every baseline once on the CPU and reports a factory's exception at the table that
/// configured it; fills in cfg.baselines from the task's list (config/baselines.h).
void check_factories(PipelineConfig& cfg, const PluginRegistry& registry, Diagnostics& diags);

}  // namespace looplab::host
