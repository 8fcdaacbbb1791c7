#include "linear_regression.h"

#include <stdexcept>
#include <string>

namespace looplab::tasks {

std::pair<torch::Tensor, torch::Tensor> LinearRegression::sample(int64_t batch, int64_t points, int64_t active_dims,
                                                                 at::Generator& gen,
                                                                 const torch::Device& device) const {
  const int64_t d = options_.n_dims();
  if (active_dims < 1 || active_dims > d)
    throw std::invalid_argument("linear_regression: active_dims " + std::to_string(active_dims) + " outside [1, " +
                                std::to_string(d) + "]");
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = torch::randn({batch, points, d}, gen, opts);
  auto w = torch::randn({batch, d, 1}, gen, opts);
  if (active_dims < d) xs.narrow(2, active_dims, d - active_dims).zero_();
  auto ys = torch::bmm(xs, w).squeeze(-1);
  if (options_.noise_std() > 0.0) ys.add_(torch::randn({batch, points}, gen, opts), options_.noise_std());
  return {xs, ys};
}

double LinearRegression::y_second_moment(int64_t active_dims) const {
  return static_cast<double>(active_dims) + options_.noise_std() * options_.noise_std();
}

}  // namespace looplab::tasks
