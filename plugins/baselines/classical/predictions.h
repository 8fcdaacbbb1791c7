#pragma once
// What every baseline function here shares: the prompt convention and its input checks.
//
// A baseline function takes xs [N, n, d] and ys [N, n] (N prompts of n points, any float
// dtype, any device) and returns predictions [N, n] float32 on the inputs' device, where
// column i is the prediction for y_i from the prefix (x_0, y_0, ..., x_{i-1}, y_{i-1}) and
// x_i alone. Column 0 is 0: with no examples every baseline predicts 0. Shape mismatches and
// out-of-range options throw std::invalid_argument.

#include <c10/util/StringUtil.h>
#include <torch/types.h>

#include <stdexcept>
#include <string>

namespace looplab::baselines {

/// Throws std::invalid_argument naming `fn` unless xs is [N, n, d] and ys [N, n], floating point.
inline void check_prompts(const char* fn, const torch::Tensor& xs, const torch::Tensor& ys) {
  if (xs.dim() != 3 || ys.dim() != 2 || xs.size(0) != ys.size(0) || xs.size(1) != ys.size(1)) {
    throw std::invalid_argument(std::string(fn) + ": expected xs [N, n, d] and ys [N, n], got xs " +
                                c10::str(xs.sizes()) + " and ys " + c10::str(ys.sizes()));
  }
  if (!xs.is_floating_point() || !ys.is_floating_point()) {
    throw std::invalid_argument(std::string(fn) + ": xs and ys must be floating point");
  }
}

/// A detached, contiguous float64 copy (all arithmetic here is float64).
inline torch::Tensor as_double(const torch::Tensor& t) { return t.detach().to(torch::kDouble).contiguous(); }

/// Predictions [N, n] of zeros, float32 on xs' device.
inline torch::Tensor zero_predictions(const torch::Tensor& xs) {
  return torch::zeros({xs.size(0), xs.size(1)}, xs.options().dtype(torch::kFloat));
}

}  // namespace looplab::baselines
