#pragma once
// Turns a validated pipeline into live objects through the plugins' factories.

#include "config/pipeline.h"
#include "model/sequence_model.h"

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

/// The PipelineCheck of every command that loads a pipeline: builds the task and every block
/// once on the CPU and reports a factory's exception at the table that configured it.
void check_factories(const PipelineConfig& cfg, Diagnostics& diags);

}  // namespace looplab::host
