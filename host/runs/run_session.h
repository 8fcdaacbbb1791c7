#pragma once
/// @file run_session.h
/// One training run in its run directory: train (or resume), evaluate, figures, report.

#include "common/run_dir.h"
#include "config/pipeline.h"

#include <atomic>
#include <string>

namespace looplab::host {

/// Creates a new run directory (refusing an existing non-empty one) and writes resolved.toml
/// and a "running" status that records the trained b. Throws std::runtime_error with a clear
/// message when it cannot.
RunDir create_run_dir(const std::string& path, const PipelineConfig& cfg);

/// Trains (resuming from the newest checkpoint if any), evaluates, renders figures, runs the
/// pipeline's analyses and writes the report. Returns an ExitCode.
int execute_run(const PipelineConfig& cfg, const RunDir& dir, const std::atomic<bool>& stop);

/// `looplab analyze`: runs one analysis on the newest checkpoint of a finished (or
/// interrupted) run, writing into RUN_DIR/analyses/NAME/ and linking it from report.md.
int analyze_run(const PipelineConfig& cfg, const RunDir& dir, const ComponentConfig& analysis);

}  // namespace looplab::host
