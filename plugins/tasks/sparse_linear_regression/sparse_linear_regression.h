#pragma once
// Sparse linear regression prompts (docs/model.md#sparse-linear-regression): x ~ N(0, I_d), per
// prompt w ~ N(0, I_d) with all but `sparsity` coordinates (chosen uniformly among the active
// ones) zeroed, y = x.w. Plain LibTorch: usable without the looplab SDK.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace looplab::tasks {

/// Parameters of the sparse linear-regression task.
struct SparseLinearRegressionOptions {
  /// Options for inputs of dimension `n_dims`.
  explicit SparseLinearRegressionOptions(int64_t n_dims) : n_dims_(n_dims) {}
  /// Dimension d of x and w.
  TORCH_ARG(int64_t, n_dims);
  /// Number s of nonzero coordinates of w (min(s, active_dims) when fewer are active); >= 1.
  TORCH_ARG(int64_t, sparsity) = 3;
};

/// One batch of sparse linear-regression prompts together with the functions that made them.
struct SparseLinearRegressionSample {
  torch::Tensor xs;  ///< Inputs [B, n, d]; coordinates >= active_dims are zero.
  torch::Tensor ys;  ///< Targets [B, n], ys[b, j] = xs[b, j] . w[b].
  torch::Tensor w;   ///< Weights [B, d]; exactly min(sparsity, active_dims) nonzero, all active.
};

/// Draws sparse linear-regression prompts; every draw comes from the given generator.
class SparseLinearRegression {
 public:
  /// Throws std::invalid_argument when n_dims or sparsity is below 1.
  explicit SparseLinearRegression(const SparseLinearRegressionOptions& options);
  /// xs [B, n, d] with coordinates >= active_dims zeroed, ys [B, n]; float32 on `device`.
  /// Throws std::invalid_argument for active_dims outside [1, d].
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                                 const torch::Device& device) const;
  /// The same draw as sample() (equal generator state, equal xs and ys), with w as well.
  /// Order of draws: all x [B, n, d], then w [B, d], then one uniform score per coordinate
  /// [B, d] (the kept coordinates are the `sparsity` active ones of lowest score), so the
  /// amount drawn does not depend on active_dims.
  SparseLinearRegressionSample sample_with_weights(int64_t batch, int64_t points, int64_t active_dims,
                                                   at::Generator& gen, const torch::Device& device) const;
  /// E[y^2] = min(sparsity, active_dims): the sum of E[x_k^2] E[w_k^2] = 1 over the kept coordinates.
  double y_second_moment(int64_t active_dims) const;
  /// The options this task was built with.
  const SparseLinearRegressionOptions& options() const { return options_; }

 private:
  SparseLinearRegressionOptions options_;
};

}  // namespace looplab::tasks
