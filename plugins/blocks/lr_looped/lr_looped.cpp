#include "lr_looped.h"

#include <torch/types.h>

namespace looplab::blocks {

LrInjectionImpl::LrInjectionImpl(const LrInjectionOptions& options_) : options(options_) {
  lr = register_parameter("lr", torch::empty({}), options.trainable());
  reset_parameters();
}

void LrInjectionImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  lr.fill_(options.lr_init());
}

torch::Tensor LrInjectionImpl::forward(const torch::Tensor& y, const torch::Tensor& e, const torch::Tensor& p) {
  // P is not scaled: lr weighs only what the prompt contributes to each iteration.
  auto h = torch::addcmul(y, lr, e);
  return p.defined() ? h + p : h;
}

}  // namespace looplab::blocks
