#include "mamba_layers.h"

#include <torch/nn/functional/padding.h>

#include <ATen/ops/rms_norm.h>

#include <cmath>

namespace looplab::blocks {

namespace nn = torch::nn;

RmsNormImpl::RmsNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) { return at::rms_norm(x, {weight.size(0)}, weight, eps); }

CausalConv1dImpl::CausalConv1dImpl(int64_t channels, int64_t kernel) {
  conv = register_module("conv", nn::Conv1d(nn::Conv1dOptions(channels, channels, kernel).groups(channels).bias(true)));
}

torch::Tensor CausalConv1dImpl::forward(const torch::Tensor& x) {
  const int64_t k = conv->options.kernel_size()->front();
  // Left padding of K-1 zeros: output t covers inputs t-K+1..t and there are exactly S outputs.
  auto padded = nn::functional::pad(x.transpose(1, 2), nn::functional::PadFuncOptions({k - 1, 0}));
  return conv->forward(padded).transpose(1, 2);
}

torch::Tensor inverse_softplus_dt(int64_t n, double dt_min, double dt_max, const torch::TensorOptions& options) {
  const double lo = std::log(dt_min), hi = std::log(dt_max);
  auto dt = torch::exp(torch::rand({n}, options.dtype(torch::kDouble)) * (hi - lo) + lo);
  // softplus^-1(dt) = log(exp(dt) - 1) = dt + log(1 - exp(-dt)), written without overflow.
  return (dt + torch::log(-torch::expm1(-dt))).to(options.dtype());
}

}  // namespace looplab::blocks
