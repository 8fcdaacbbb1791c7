#pragma once
// One training run in its run directory: train (or resume), evaluate, figures, report.

#include "pipeline.h"

#include <atomic>
#include <string>

namespace looplab::host {

/// Files of a run directory.
struct RunDir {
  std::string path;
  std::string resolved() const { return path + "/resolved.toml"; }
  std::string status() const { return path + "/run.json"; }
  std::string train_csv() const { return path + "/train.csv"; }
  std::string eval_csv() const { return path + "/eval.csv"; }
  std::string report() const { return path + "/report.md"; }
  std::string figures() const { return path + "/figures"; }
  std::string log() const { return path + "/log.txt"; }
};

/// Creates `path` unless it exists with something in it (then throws, naming it as `what`);
/// returns its absolute path.
std::string create_empty_directory(const std::string& path, const std::string& what);

/// Creates a new run directory (refusing an existing non-empty one) and writes resolved.toml
/// and a "running" status. Throws std::runtime_error with a clear message when it cannot.
RunDir create_run_dir(const std::string& path, const PipelineConfig& cfg);

/// Writes run.json: {"status": ..., "message": ...}; "complete" only once every output exists.
void write_status(const RunDir& dir, const std::string& status, const std::string& message = "");

/// Trains (resuming from the newest checkpoint if any), evaluates, renders figures and writes
/// the report. Returns an ExitCode.
int execute_run(const PipelineConfig& cfg, const RunDir& dir, const std::atomic<bool>& stop);

/// `looplab analyze`: runs one analysis on the newest checkpoint of a finished (or
/// interrupted) run, writing into RUN_DIR/analyses/NAME/ and linking it from report.md.
int analyze_run(const PipelineConfig& cfg, const RunDir& dir, const ComponentConfig& analysis);

}  // namespace looplab::host
