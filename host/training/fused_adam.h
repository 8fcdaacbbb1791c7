#pragma once
// Adam with one fused kernel call per step instead of eight tensor operations per parameter.

#include "config/options.h"

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <memory>

namespace looplab::host {

/// torch::optim::Adam whose step() updates every parameter of a group in one call to ATen's
/// fused Adam kernel (the kernel PyTorch's `Adam(fused=True)` uses): the same update rule
/// (L2 weight decay, bias-corrected moments, eps outside the square root) to within rounding,
/// the same state and the same checkpoint format, but ~8 x parameters fewer operator calls,
/// which is what a small model's optimizer step costs. Falls back to the plain step for
/// amsgrad, sparse gradients, or parameters of one group on different devices or dtypes.
class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Makes the next step() a no-op for the weights and moments when `found_inf` (a 0-dim float
  /// tensor on the parameters' device) is 1: the kernel reads it on the device, as for PyTorch's
  /// GradScaler. Adam's step count still advances (its bias correction then runs one step
  /// ahead). The plain fallback step reads the flag on the host.
  void skip_if(torch::Tensor found_inf) { found_inf_ = std::move(found_inf); }

 private:
  torch::Tensor found_inf_;
};

/// The optimizer of [training]: Adam with its lr, betas, eps and weight decay.
std::unique_ptr<torch::optim::Adam> make_optimizer(const TrainingOptions& training, torch::nn::Module& model);

/// The learning rate of 0-based step k (docs/model.md#optimiser): with W = warmup_steps,
/// S = steps and m = min_lr_ratio * lr, lr * (k + 1) / W for k < W; then with
/// p = (k - W) / (S - 1 - W) (p = 1 when S - 1 - W <= 0), lr for decay "none",
/// m + (lr - m)(1 - p) for "linear", m + (lr - m)(1 + cos(pi p)) / 2 for "cosine". A function of
/// k alone, so a resumed run continues the schedule exactly; the defaults give lr at every step.
double learning_rate(const TrainingOptions& training, int64_t step);

/// Sets the learning rate of every parameter group of `optimizer`.
void set_learning_rate(torch::optim::Adam& optimizer, double lr);

}  // namespace looplab::host
