// FusedAdam: the same update as torch::optim::Adam (to rounding), the same state and
// checkpoint format, and the plain fallback where the fused kernel does not apply.

#include "training/fused_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace looplab::host {
namespace {

// Runs `steps` Adam steps on a small MLP-like parameter set with a fixed gradient sequence.
std::vector<torch::Tensor> trained(torch::optim::Adam& opt, std::vector<torch::Tensor>& params, int steps) {
  torch::manual_seed(7);
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    torch::Tensor loss = torch::zeros({});
    for (auto& p : params) loss = loss + (p * torch::randn_like(p)).sum() + p.square().sum();
    loss.backward();
    opt.step();
  }
  std::vector<torch::Tensor> out;
  for (auto& p : params) out.push_back(p.detach().clone());
  return out;
}

std::vector<torch::Tensor> fresh_params() {
  torch::manual_seed(3);
  return {torch::randn({8, 5}).requires_grad_(), torch::randn({5}).requires_grad_(), torch::randn({}).requires_grad_()};
}

TEST(FusedAdam, MatchesTorchAdamToRounding) {
  for (double wd : {0.0, 0.01}) {
    auto options = torch::optim::AdamOptions(1e-2).betas({0.9, 0.999}).eps(1e-8).weight_decay(wd);
    auto a = fresh_params(), b = fresh_params();
    torch::optim::Adam plain(a, options);
    FusedAdam fused(b, options);
    auto pa = trained(plain, a, 20), pb = trained(fused, b, 20);
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-5, 1e-6)) << "param " << i;
  }
}

TEST(FusedAdam, CheckpointsInterchangeWithTorchAdam) {
  auto options = torch::optim::AdamOptions(1e-2);
  auto a = fresh_params();
  FusedAdam fused(a, options);
  trained(fused, a, 3);
  torch::serialize::OutputArchive out;
  fused.save(out);
  std::stringstream buffer;
  out.save_to(buffer);

  auto b = a;  // same tensors: the state is keyed by parameter
  torch::optim::Adam plain(b, options);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  plain.load(in);
  const auto& state = static_cast<torch::optim::AdamParamState&>(*plain.state().at(b[0].unsafeGetTensorImpl()));
  EXPECT_EQ(state.step(), 3);
  EXPECT_TRUE(state.exp_avg().defined());
}

TEST(FusedAdam, AmsgradFallsBackToThePlainStep) {
  auto options = torch::optim::AdamOptions(1e-2).amsgrad(true);
  auto a = fresh_params(), b = fresh_params();
  torch::optim::Adam plain(a, options);
  FusedAdam fused(b, options);
  auto pa = trained(plain, a, 5), pb = trained(fused, b, 5);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

}  // namespace
}  // namespace looplab::host
