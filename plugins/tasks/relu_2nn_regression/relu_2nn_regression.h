#pragma once
// Two-layer ReLU network regression prompts (docs/model.md#two-layer-relu-network-regression):
// x ~ N(0, I_d), per prompt W1 [d, h] and W2 [h] with N(0, 1) entries,
// y = sqrt(2/h) sum_k W2_k ReLU(x . W1_k). Plain LibTorch: usable without the looplab SDK.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace looplab::tasks {

/// Parameters of the two-layer ReLU network regression task.
struct Relu2nnRegressionOptions {
  /// Options for inputs of dimension `n_dims`.
  explicit Relu2nnRegressionOptions(int64_t n_dims) : n_dims_(n_dims) {}
  /// Dimension d of x.
  TORCH_ARG(int64_t, n_dims);
  /// Width h of the hidden layer; >= 1.
  TORCH_ARG(int64_t, hidden) = 100;
};

/// One batch of ReLU-network prompts together with the networks that made them.
struct Relu2nnRegressionSample {
  torch::Tensor xs;  ///< Inputs [B, n, d]; coordinates >= active_dims are zero.
  torch::Tensor ys;  ///< Targets [B, n] = relu2nn_forward(xs, w1, w2).
  torch::Tensor w1;  ///< First-layer weights [B, d, h]; column k is W1_k.
  torch::Tensor w2;  ///< Second-layer weights [B, h].
};

/// y = sqrt(2/h) sum_k w2[b, k] ReLU(xs[b, j] . w1[b, :, k]) for xs [B, n, d], w1 [B, d, h],
/// w2 [B, h] (h = w1.size(2)); returns [B, n] in the dtype of the inputs.
torch::Tensor relu2nn_forward(const torch::Tensor& xs, const torch::Tensor& w1, const torch::Tensor& w2);

/// Draws two-layer ReLU network prompts; every draw comes from the given generator.
class Relu2nnRegression {
 public:
  /// Throws std::invalid_argument when n_dims or hidden is below 1.
  explicit Relu2nnRegression(const Relu2nnRegressionOptions& options);
  /// xs [B, n, d] with coordinates >= active_dims zeroed, ys [B, n]; float32 on `device`.
  /// Throws std::invalid_argument for active_dims outside [1, d].
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                                 const torch::Device& device) const;
  /// The same draw as sample() (equal generator state, equal xs and ys), with the weights.
  /// Order of draws: all x [B, n, d], then W1 [B, d, h], then W2 [B, h].
  Relu2nnRegressionSample sample_with_weights(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                              const torch::Device& device) const;
  /// E[y^2] = active_dims (= E||x||^2; see relu_2nn_regression.cpp for the derivation).
  double y_second_moment(int64_t active_dims) const;
  /// The options this task was built with.
  const Relu2nnRegressionOptions& options() const { return options_; }

 private:
  Relu2nnRegressionOptions options_;
};

}  // namespace looplab::tasks
