#pragma once
// Pieces shared by the Mamba-1 and Mamba-2 blocks: RMSNorm, the causal depthwise
// convolution over time and Mamba's initialisation of the step size dt.

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace looplab::blocks {

/// RMSNorm over the last (feature) dimension: x * rsqrt(mean(x^2) + eps) * weight.
class RmsNormImpl : public torch::nn::Module {
 public:
  /// `dim` features, weight initialised to ones.
  RmsNormImpl(int64_t dim, double eps);
  /// [..., dim] -> [..., dim].
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RmsNorm);

/// Depthwise convolution over time that only looks back: output t sees inputs t-K+1..t
/// (zeros before the start, so every call starts from a zero state).
class CausalConv1dImpl : public torch::nn::Module {
 public:
  /// `channels` independent filters of `kernel` taps with a bias (LibTorch's default init).
  CausalConv1dImpl(int64_t channels, int64_t kernel);
  /// [B, S, channels] -> [B, S, channels].
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv1d conv{nullptr};
};
TORCH_MODULE(CausalConv1d);

/// Mamba's step-size init: `n` values dt drawn log-uniform in [dt_min, dt_max], returned
/// through the inverse of softplus, so softplus(bias) = dt when the bias is added before it.
torch::Tensor inverse_softplus_dt(int64_t n, double dt_min, double dt_max, const torch::TensorOptions& options);

}  // namespace looplab::blocks
