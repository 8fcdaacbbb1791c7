// Sparse linear regression (docs/model.md#sparse-linear-regression).
#include "sparse_linear_regression.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace looplab::tasks {

SparseLinearRegression::SparseLinearRegression(const SparseLinearRegressionOptions& options) : options_(options) {
  if (options_.n_dims() < 1)
    throw std::invalid_argument("sparse_linear_regression: n_dims " + std::to_string(options_.n_dims()) + " < 1");
  if (options_.sparsity() < 1)
    throw std::invalid_argument("sparse_linear_regression: sparsity " + std::to_string(options_.sparsity()) + " < 1");
}

SparseLinearRegressionSample SparseLinearRegression::sample_with_weights(int64_t batch, int64_t points,
                                                                         int64_t active_dims, at::Generator& gen,
                                                                         const torch::Device& device) const {
  const int64_t d = options_.n_dims();
  if (active_dims < 1 || active_dims > d)
    throw std::invalid_argument("sparse_linear_regression: active_dims " + std::to_string(active_dims) +
                                " outside [1, " + std::to_string(d) + "]");
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = torch::randn({batch, points, d}, gen, opts);
  auto w = torch::randn({batch, d}, gen, opts);
  // Uniform scores; inactive coordinates get 2 (above any uniform), so the k lowest scores
  // are a uniformly random k-subset of the active coordinates, without replacement.
  auto scores = torch::rand({batch, d}, gen, opts);
  if (active_dims < d) {
    xs.narrow(2, active_dims, d - active_dims).zero_();
    scores.narrow(1, active_dims, d - active_dims).fill_(2.0);
  }
  const int64_t kept = std::min(options_.sparsity(), active_dims);
  const auto idx = std::get<1>(scores.topk(kept, /*dim=*/1, /*largest=*/false, /*sorted=*/false));
  auto mask = torch::zeros({batch, d}, opts).scatter_(1, idx, 1.0);
  w.mul_(mask);
  auto ys = torch::bmm(xs, w.unsqueeze(-1)).squeeze(-1);
  return {xs, ys, w};
}

std::pair<torch::Tensor, torch::Tensor> SparseLinearRegression::sample(int64_t batch, int64_t points,
                                                                       int64_t active_dims, at::Generator& gen,
                                                                       const torch::Device& device) const {
  auto s = sample_with_weights(batch, points, active_dims, gen, device);
  return {s.xs, s.ys};
}

double SparseLinearRegression::y_second_moment(int64_t active_dims) const {
  return static_cast<double>(std::min(options_.sparsity(), active_dims));
}

}  // namespace looplab::tasks
