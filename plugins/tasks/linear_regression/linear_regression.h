#pragma once
// Linear regression prompts (docs/model.md#linear-regression): x ~ N(0, I_d), w ~ N(0, I_d) per
// prompt, y = x.w (+ e, e ~ N(0, noise_std^2)). Plain LibTorch: usable without the looplab SDK.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <utility>

namespace looplab::tasks {

struct LinearRegressionOptions {
  explicit LinearRegressionOptions(int64_t n_dims) : n_dims_(n_dims) {}
  /// Dimension d of x and w.
  TORCH_ARG(int64_t, n_dims);
  /// Standard deviation of the additive label noise (0: noiseless).
  TORCH_ARG(double, noise_std) = 0.0;
};

class LinearRegression {
 public:
  explicit LinearRegression(const LinearRegressionOptions& options) : options_(options) {}
  /// xs [B, n, d] with coordinates >= active_dims zeroed, ys [B, n]; float32 on `device`.
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                                 const torch::Device& device) const;
  /// E[y^2] = active_dims + noise_std^2.
  double y_second_moment(int64_t active_dims) const;
  const LinearRegressionOptions& options() const { return options_; }

 private:
  LinearRegressionOptions options_;
};

}  // namespace looplab::tasks
