#pragma once
// Runs analysis plugins against a trained model: the host side of sdk::AnalysisContext.

#include "config/pipeline.h"
#include "model/sequence_model.h"

#include <looplab/sdk/logger.h>
#include <looplab/sdk/task.h>

#include <string>

namespace looplab::host {

/// What an analysis left behind, for the run's report.
struct AnalysisOutcome {
  std::string name;       ///< Analysis component name.
  std::string directory;  ///< Where its tables and figures are.
  std::string markdown;   ///< Report section body: notes, figure links, table links (relative to the run dir).
};

/// Runs one configured analysis on `model` (trained weights loaded) and writes its outputs
/// into `<run_dir>/analyses/<name>/` (or `<name>-2`, ... when that exists). `seed` seeds the
/// analysis' generator. Throws std::runtime_error naming the analysis when it fails.
AnalysisOutcome run_analysis(const PipelineConfig& cfg, const ComponentConfig& analysis, SequenceModel& model,
                             const sdk::Task& task, const c10::Device& device, const std::string& run_dir,
                             uint64_t seed, sdk::Logger& log);

}  // namespace looplab::host
