#include "loop_iterations.h"

#include <cmath>

namespace looplab::analyses {

LoopIterationCurve loop_iteration_curve(const torch::Tensor& err) {
  auto e = err.to(torch::kCPU, torch::kFloat64);
  auto last = e.select(2, e.size(2) - 1);  // [K, N]
  const double n = static_cast<double>(last.size(1));
  auto mean = last.mean(1);
  // 1.645 standard errors: the two-sided 90% normal interval of a mean over N prompts.
  auto half = n > 1 ? last.std(1) * (1.6448536269514722 / std::sqrt(n)) : torch::zeros_like(mean);
  return {mean, mean - half, mean + half, e.mean({1, 2})};
}

}  // namespace looplab::analyses
