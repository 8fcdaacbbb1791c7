#pragma once
// The lr-looped input injection (docs/model.md#lr-looped-injection): Y_{t-1} + lr * E + P with
// one learnable scalar lr shared by every iteration. Plain LibTorch module: usable without the
// looplab SDK.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace looplab::blocks {

struct LrInjectionOptions {
  /// Initial value of lr (the study drew it from U[0, 1) unseeded; here it is explicit).
  TORCH_ARG(double, lr_init) = 1.0;
  /// Whether lr is trained; a frozen lr = 1 is the classic looped model.
  TORCH_ARG(bool, trainable) = true;
};

class LrInjectionImpl : public torch::nn::Module {
 public:
  explicit LrInjectionImpl(const LrInjectionOptions& options = {});
  /// y + lr * e + p; `p` may be undefined (no positional table). Shapes broadcast.
  torch::Tensor forward(const torch::Tensor& y, const torch::Tensor& e, const torch::Tensor& p);
  /// Sets lr back to lr_init.
  void reset_parameters();

  LrInjectionOptions options;
  torch::Tensor lr;  ///< 0-dim learnable scale of the embedded prompt.
};
TORCH_MODULE(LrInjection);

}  // namespace looplab::blocks
