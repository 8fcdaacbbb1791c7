// Two-layer ReLU network regression (docs/model.md#two-layer-relu-network-regression).
#include "relu_2nn_regression.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace looplab::tasks {

torch::Tensor relu2nn_forward(const torch::Tensor& xs, const torch::Tensor& w1, const torch::Tensor& w2) {
  const double scale = std::sqrt(2.0 / static_cast<double>(w1.size(2)));
  return torch::relu(torch::bmm(xs, w1)).bmm(w2.unsqueeze(-1)).squeeze(-1).mul_(scale);
}

Relu2nnRegression::Relu2nnRegression(const Relu2nnRegressionOptions& options) : options_(options) {
  if (options_.n_dims() < 1)
    throw std::invalid_argument("relu_2nn_regression: n_dims " + std::to_string(options_.n_dims()) + " < 1");
  if (options_.hidden() < 1)
    throw std::invalid_argument("relu_2nn_regression: hidden " + std::to_string(options_.hidden()) + " < 1");
}

Relu2nnRegressionSample Relu2nnRegression::sample_with_weights(int64_t batch, int64_t points, int64_t active_dims,
                                                               at::Generator& gen, const torch::Device& device) const {
  const int64_t d = options_.n_dims(), h = options_.hidden();
  if (active_dims < 1 || active_dims > d)
    throw std::invalid_argument("relu_2nn_regression: active_dims " + std::to_string(active_dims) + " outside [1, " +
                                std::to_string(d) + "]");
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = torch::randn({batch, points, d}, gen, opts);
  auto w1 = torch::randn({batch, d, h}, gen, opts);
  auto w2 = torch::randn({batch, h}, gen, opts);
  if (active_dims < d) xs.narrow(2, active_dims, d - active_dims).zero_();
  auto ys = relu2nn_forward(xs, w1, w2);
  return {xs, ys, w1, w2};
}

std::pair<torch::Tensor, torch::Tensor> Relu2nnRegression::sample(int64_t batch, int64_t points, int64_t active_dims,
                                                                  at::Generator& gen,
                                                                  const torch::Device& device) const {
  auto s = sample_with_weights(batch, points, active_dims, gen, device);
  return {s.xs, s.ys};
}

// Given x, the pre-activations z_k = x . W1_k are independent N(0, ||x||^2) (W1_k ~ N(0, I_d)),
// and W2 is independent of them with E[W2_k] = 0, E[W2_k^2] = 1, so the cross terms vanish:
//   E[y^2 | x] = (2/h) sum_k E[W2_k^2] E[ReLU(z_k)^2] = (2/h) h ||x||^2 / 2 = ||x||^2,
// using E[ReLU(z)^2] = E[z^2] / 2 for a symmetric z. Hence E[y^2] = E||x||^2 = active_dims.
double Relu2nnRegression::y_second_moment(int64_t active_dims) const { return static_cast<double>(active_dims); }

}  // namespace looplab::tasks
