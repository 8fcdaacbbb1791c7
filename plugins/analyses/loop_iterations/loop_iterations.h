#pragma once
// Error of a looped model as a function of the number of loop iterations k = 1..K
// (STUDY.md section 5, "loop-iteration curve"). Plain LibTorch: usable without the SDK.

#include <torch/types.h>

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

}  // namespace looplab::analyses
