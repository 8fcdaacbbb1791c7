// TrainStep: one eager step is exactly sample -> loss -> backward -> Adam, and (on a GPU) a
// step replayed from a CUDA graph gives the same parameters as the eager step.

#include "training/train_step.h"

#include "common/devices.h"
#include "test_support.h"
#include "training/fused_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace looplab::host {
namespace {

constexpr int64_t kD = 32, kDims = 3, kPoints = 6, kBatch = 8;

SequenceModel tiny_model() {
  const auto* gpt = test::bundled_registry().find(sdk::ComponentKind::Block, "gpt");
  if (gpt == nullptr) throw std::runtime_error("gpt block plugin not found");
  sdk::BlockContext ctx;
  ctx.n_embd = kD;
  ctx.max_tokens = 2 * kPoints;
  auto params = sdk::Params::defaults(gpt->component->params);
  params.set("n_head", int64_t{2});
  std::vector<std::shared_ptr<sdk::Block>> blocks{std::get<sdk::BlockFactory>(gpt->component->factory)(params, ctx)};
  return SequenceModel(SequenceModelOptions(kDims, kD, kPoints), blocks);
}

std::shared_ptr<sdk::Task> task() {
  const auto* lr = test::bundled_registry().find(sdk::ComponentKind::Task, "linear_regression");
  if (lr == nullptr) throw std::runtime_error("linear_regression task plugin not found");
  return std::get<sdk::TaskFactory>(lr->component->factory)(sdk::Params::defaults(lr->component->params),
                                                            sdk::TaskContext{kDims});
}

TEST(TrainStep, EagerStepIsSampleLossBackwardAdam) {
  torch::manual_seed(0);
  auto a = tiny_model();
  torch::manual_seed(0);
  auto b = tiny_model();
  auto t = task();
  torch::optim::Adam opt_a(a->parameters(), torch::optim::AdamOptions(1e-3));
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  TrainStep step(a, t, opt_a, c10::Device(c10::kCPU), kBatch, /*window=*/2, /*cuda_graphs=*/true, nullptr);
  auto gen_a = make_generator(c10::Device(c10::kCPU), 5), gen_b = make_generator(c10::Device(c10::kCPU), 5);
  for (int i = 0; i < 3; ++i) {
    auto loss_a = step(/*loops=*/4, kDims, kPoints, gen_a);
    auto prompts = t->sample(kBatch, kPoints, kDims, gen_b, c10::Device(c10::kCPU));
    auto loss_b = b->loss(prompts.xs, prompts.ys, 4, 2);
    opt_b.zero_grad();
    loss_b.backward();
    opt_b.step();
    EXPECT_TRUE(torch::equal(loss_a, loss_b.detach()));
    EXPECT_FALSE(loss_a.requires_grad());
  }
  EXPECT_FALSE(step.replaying());  // CUDA graphs never apply on the CPU
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

TEST(TrainStep, CudaGraphReplayMatchesEagerSteps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  if (!cuda_graphs_compiled()) GTEST_SKIP() << "built without CUDA";
  const c10::Device cuda(c10::kCUDA, 0);
  torch::manual_seed(0);
  auto a = tiny_model();
  torch::manual_seed(0);
  auto b = tiny_model();
  a->to(cuda);
  b->to(cuda);
  auto t = task();
  FusedAdam opt_a(a->parameters(), torch::optim::AdamOptions(1e-3));
  FusedAdam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  TrainStep graphed(a, t, opt_a, cuda, kBatch, 2, /*cuda_graphs=*/true, nullptr);
  TrainStep eager(b, t, opt_b, cuda, kBatch, 2, /*cuda_graphs=*/false, nullptr);
  auto gen_a = make_generator(cuda, 5), gen_b = make_generator(cuda, 5);
  for (int i = 0; i < 5; ++i) {
    auto la = graphed(4, kDims, kPoints, gen_a), lb = eager(4, kDims, kPoints, gen_b);
    EXPECT_TRUE(torch::allclose(la, lb, 1e-4, 1e-5)) << "step " << i;
  }
  EXPECT_TRUE(graphed.replaying());
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-4, 1e-5));
}

}  // namespace
}  // namespace looplab::host
