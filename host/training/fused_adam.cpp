#include "training/fused_adam.h"

#include <ATen/ops/_fused_adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace looplab::host {

namespace {

// Whether every group can go through the fused kernel: no amsgrad, dense gradients, and one
// device and dtype per group.
bool fusable(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& group : groups) {
    if (static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()) return false;
    const torch::Tensor* first = nullptr;
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (p.grad().is_sparse()) return false;
      if (first && (p.device() != first->device() || p.dtype() != first->dtype())) return false;
      if (!first) first = &p;
    }
  }
  return true;
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  const auto found_inf = std::exchange(found_inf_, torch::Tensor());
  if (!fusable(param_groups_)) {
    if (found_inf.defined() && found_inf.item<float>() != 0) return {};
    return torch::optim::Adam::step(std::move(closure));
  }
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  torch::NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    std::map<int64_t, torch::Tensor> step_tensors;  // usually one: all parameters share the count
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      // State as torch::optim::Adam keeps it, so checkpoints are interchangeable.
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*slot);
      state.step(state.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(state.exp_avg());
      exp_avg_sqs.push_back(state.exp_avg_sq());
      auto& t = step_tensors[state.step()];
      if (!t.defined()) t = torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat));
      steps.push_back(t);
    }
    if (params.empty()) continue;
    at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, options.lr(),
                     std::get<0>(options.betas()), std::get<1>(options.betas()), options.weight_decay(), options.eps(),
                     /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt,
                     found_inf.defined() ? std::optional<torch::Tensor>(found_inf) : std::nullopt);
  }
  return loss;
}

std::unique_ptr<torch::optim::Adam> make_optimizer(const TrainingOptions& training, torch::nn::Module& model) {
  return std::make_unique<FusedAdam>(model.parameters(), torch::optim::AdamOptions(training.lr)
                                                             .betas({training.beta1, training.beta2})
                                                             .eps(training.eps)
                                                             .weight_decay(training.weight_decay));
}

double learning_rate(const TrainingOptions& training, int64_t step) {
  const double lr = training.lr;
  const int64_t warmup = training.warmup_steps;
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (training.decay == "none") return lr;
  const int64_t span = training.steps - 1 - warmup;
  const double p = span > 0 ? std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(span)) : 1.0;
  const double floor = training.min_lr_ratio * lr;
  if (training.decay == "linear") return floor + (lr - floor) * (1.0 - p);
  if (training.decay == "cosine") return floor + (lr - floor) * 0.5 * (1.0 + std::cos(M_PI * p));
  throw std::invalid_argument("unknown learning-rate decay '" + training.decay + "'");
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace looplab::host
