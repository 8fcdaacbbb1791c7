#pragma once
/// @file run_events.h
/// What a run's TensorBoard event file (tb/) holds besides the training rows: the pipeline and
/// the final evaluation (common/run_dir.h tb_tags names them).

#include "reporting/report.h"
#include "tensorboard/event_file.h"

#include <cstdint>
#include <string>

namespace looplab::host {

/// resolved.toml's text as "pipeline/resolved.toml" at step 0, a TOML code block in the Text tab.
void write_pipeline_event(tensorboard::EventWriter& events, const std::string& resolved_toml);

/// The final evaluation, then a flush: every predictor of `inputs.eval` (the model at each
/// iteration count, each baseline) as the series eval/<predictor> of its err_mean over the
/// examples i (the step), and report.md's key-number table as text at step `trained_steps`.
void write_evaluation_events(tensorboard::EventWriter& events, const ReportInputs& inputs, int64_t trained_steps);

}  // namespace looplab::host
