#pragma once
// Error of a looped model as a function of the number of loop iterations k = 1..K
// (docs/model.md#loop-iteration-curve). The curve is plain LibTorch; the analysis that runs a
// trained model for k = 1..K and reports the curve works through the SDK's analysis types.

#include <looplab/sdk/analysis.h>

#include <torch/types.h>

#include <cstdint>

namespace looplab::analyses {

/// Per-iteration summaries, each a float64 CPU tensor of shape [K].
struct LoopIterationCurve {
  torch::Tensor err_last;     ///< Mean normalized error at the last position (n - 1 examples).
  torch::Tensor err_last_lo;  ///< Lower edge of its normal-approximation 90% interval.
  torch::Tensor err_last_hi;  ///< Upper edge.
  torch::Tensor err_mean;     ///< Normalized error averaged over all positions and prompts.
};

/// Summarises normalized errors err [K, N, n] (iteration, prompt, position).
LoopIterationCurve loop_iteration_curve(const torch::Tensor& err);

/// The analysis' parameters.
struct LoopIterationsSettings {
  int64_t max_iterations = 0;  ///< Largest k evaluated; 0 = max(4b, 20).
  int64_t batch = 256;         ///< Prompts per forward pass.
};

/// The loop_iterations analysis: runs the trained looped model for k = 1..K iterations on the
/// evaluation prompts and writes the table `loop_iterations`, its figure and a note. Throws
/// std::invalid_argument when the model is not looped.
void run_loop_iterations(sdk::AnalysisContext& ctx, const LoopIterationsSettings& settings);

}  // namespace looplab::analyses
