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
};

/// The optimizer of [training]: Adam with its lr, betas, eps and weight decay.
std::unique_ptr<torch::optim::Adam> make_optimizer(const TrainingOptions& training, torch::nn::Module& model);

}  // namespace looplab::host
