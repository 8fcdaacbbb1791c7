// TrainStep: one eager step is exactly sample -> loss -> backward -> (clip) -> Adam, and (on a
// GPU) a step replayed from a CUDA graph gives the same parameters as the eager step. The
// learning-rate schedule, gradient clipping, loss_last and train.csv as TrainLog writes it.

#include "training/train_step.h"

#include "common/csv.h"
#include "common/devices.h"
#include "common/run_dir.h"
#include "test_support.h"
#include "training/fused_adam.h"
#include "training/train_log.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <memory>
#include <filesystem>

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
    auto lb = b->window_loss(prompts.xs, prompts.ys, 4, 2);
    opt_b.zero_grad();
    lb.loss.backward();
    opt_b.step();
    EXPECT_TRUE(torch::equal(loss_a, lb.loss.detach()));
    EXPECT_FALSE(loss_a.requires_grad());
    // The MSE after the 4th iteration alone, from the same forward pass.
    EXPECT_TRUE(torch::equal(step.last_iteration_loss(), lb.last));
    EXPECT_FALSE(step.last_iteration_loss().requires_grad());
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

// A task whose `poisoned`-th sample (0-based) has a NaN target: that step's loss is NaN.
class PoisonedTask : public sdk::Task {
 public:
  PoisonedTask(std::shared_ptr<sdk::Task> inner, int poisoned) : inner_(std::move(inner)), poisoned_(poisoned) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t dims, at::Generator& gen,
                      const c10::Device& device) const override {
    auto p = inner_->sample(batch, points, dims, gen, device);
    if (calls_++ == poisoned_) p.ys.index_put_({0, 0}, std::nan(""));
    return p;
  }
  double y_second_moment(int64_t dims) const override { return inner_->y_second_moment(dims); }
  std::vector<std::string> baselines() const override { return inner_->baselines(); }

 private:
  std::shared_ptr<sdk::Task> inner_;
  int poisoned_;
  mutable int calls_ = 0;
};

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

TEST(TrainStep, SkipNonfiniteDropsExactlyThePoisonedUpdate) {
  torch::manual_seed(0);
  auto model = tiny_model();
  auto poisoned = std::make_shared<PoisonedTask>(task(), /*poisoned=*/2);
  for (bool fused : {true, false}) {  // the kernel's device-side flag, and the plain step's host check
    torch::manual_seed(0);
    model = tiny_model();
    poisoned = std::make_shared<PoisonedTask>(task(), 2);
    std::unique_ptr<torch::optim::Adam> opt =
        fused ? std::make_unique<FusedAdam>(model->parameters(), torch::optim::AdamOptions(1e-3))
              : std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
    TrainStep step(model, poisoned, *opt, c10::Device(c10::kCPU), kBatch, 2, false, nullptr,
                   StepGuards{0.0, /*skip_nonfinite=*/true});
    auto gen = make_generator(c10::Device(c10::kCPU), 5);
    for (int i = 0; i < 5; ++i) {
      const auto before = copies(model->parameters());
      auto loss = step(4, kDims, kPoints, gen);
      const bool bad = i == 2;
      EXPECT_EQ(std::isfinite(loss.item<double>()), !bad) << "step " << i;
      EXPECT_EQ(step.skipped().item<float>(), bad ? 1.0f : 0.0f) << "step " << i;
      EXPECT_EQ(same(before, model->parameters()), bad) << "step " << i << (fused ? " fused" : " plain");
    }
    for (const auto& p : model->parameters()) EXPECT_TRUE(p.isfinite().all().item<bool>());
  }
}

TEST(TrainStep, WithoutSkipANonfiniteStepPoisonsTheWeights) {
  // The reason skip_step exists (and why "stop" never checkpoints such weights).
  torch::manual_seed(0);
  auto model = tiny_model();
  FusedAdam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  TrainStep step(model, std::make_shared<PoisonedTask>(task(), 0), opt, c10::Device(c10::kCPU), kBatch, 2, false,
                 nullptr);
  auto gen = make_generator(c10::Device(c10::kCPU), 5);
  step(4, kDims, kPoints, gen);
  EXPECT_FALSE(step.skipped().defined());
  bool any_nan = false;
  for (const auto& p : model->parameters()) any_nan |= !p.isfinite().all().item<bool>();
  EXPECT_TRUE(any_nan);
}

TEST(TrainStep, NonfiniteGradientsAreFoundOnTheDevice) {
  auto a = torch::ones({3}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  (a.sum() + b.sum()).backward();
  EXPECT_FALSE(nonfinite_gradients({a, b}).item<bool>());
  b.mutable_grad().index_put_({1}, std::numeric_limits<float>::infinity());
  EXPECT_TRUE(nonfinite_gradients({a, b}).item<bool>());
  b.mutable_grad().index_put_({1}, std::nan(""));
  EXPECT_TRUE(nonfinite_gradients({a, b}).item<bool>());
  EXPECT_FALSE(nonfinite_gradients({torch::ones({2})}).defined());  // no gradient at all
}

TEST(TrainStep, LossLastIsTheLossWhenTheWindowHoldsOneIteration) {
  torch::manual_seed(0);
  auto model = tiny_model();
  auto t = task();
  auto gen = make_generator(c10::Device(c10::kCPU), 3);
  auto prompts = t->sample(kBatch, kPoints, kDims, gen, c10::Device(c10::kCPU));
  for (auto [loops, window] : {std::pair<int64_t, int64_t>{1, 0}, {4, 1}}) {  // standard; looped with T = 1
    auto l = model->window_loss(prompts.xs, prompts.ys, loops, window);
    EXPECT_TRUE(torch::equal(l.loss.detach(), l.last)) << loops << " " << window;
    EXPECT_TRUE(torch::equal(l.loss, model->loss(prompts.xs, prompts.ys, loops, window)));
  }
  auto windowed = model->window_loss(prompts.xs, prompts.ys, 4, 3);
  EXPECT_FALSE(torch::equal(windowed.loss.detach(), windowed.last));  // the mean of iterations 2..4 is not the 4th
}

TEST(TrainStep, ClippedStepIsBackwardClipAdam) {
  torch::manual_seed(0);
  auto a = tiny_model();
  torch::manual_seed(0);
  auto b = tiny_model();
  auto t = task();
  FusedAdam opt_a(a->parameters(), torch::optim::AdamOptions(1e-3));
  FusedAdam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  TrainStep step(a, t, opt_a, c10::Device(c10::kCPU), kBatch, 2, false, nullptr, StepGuards{/*clip_grad_norm=*/0.05});
  auto gen_a = make_generator(c10::Device(c10::kCPU), 5), gen_b = make_generator(c10::Device(c10::kCPU), 5);
  for (int i = 0; i < 3; ++i) {
    step(4, kDims, kPoints, gen_a);
    auto prompts = t->sample(kBatch, kPoints, kDims, gen_b, c10::Device(c10::kCPU));
    opt_b.zero_grad();
    b->loss(prompts.xs, prompts.ys, 4, 2).backward();
    auto norm = clip_grad_norm(b->parameters(), 0.05);
    EXPECT_GT(norm.item<double>(), 0.05);  // the bound acts
    opt_b.step();
  }
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

// Global L2 norm of the gradients.
double grad_norm(const std::vector<torch::Tensor>& params) {
  double sum = 0;
  for (const auto& p : params) sum += p.grad().to(torch::kFloat64).square().sum().item<double>();
  return std::sqrt(sum);
}

TEST(ClipGradNorm, ScalesToTheBoundAboveItAndLeavesGradientsBelowIt) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> params = {torch::randn({4, 3}).requires_grad_(), torch::randn({5}).requires_grad_(),
                                       torch::randn({2}).requires_grad_()};
  params[0].mutable_grad() = torch::randn({4, 3}) * 3;
  params[1].mutable_grad() = torch::randn({5});
  // params[2] has no gradient: skipped.
  const double before =
      std::sqrt(params[0].grad().square().sum().item<double>() + params[1].grad().square().sum().item<double>());
  const auto g0 = params[0].grad().clone(), g1 = params[1].grad().clone();
  // Below the bound: exactly unchanged.
  for (double bound : {before * 2, before * 1.001}) {
    auto norm = clip_grad_norm(params, bound);
    EXPECT_NEAR(norm.item<double>(), before, 1e-6 * before);
    EXPECT_TRUE(torch::equal(params[0].grad(), g0));
    EXPECT_TRUE(torch::equal(params[1].grad(), g1));
  }
  // Above it: one factor for every gradient, the global norm becomes the bound.
  clip_grad_norm(params, 0.5);
  EXPECT_NEAR(grad_norm({params[0], params[1]}), 0.5, 1e-6);
  EXPECT_TRUE(torch::allclose(params[0].grad() / g0, torch::full_like(g0, 0.5 / before), 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(params[1].grad() / g1, torch::full_like(g1, 0.5 / before), 1e-5, 1e-7));
  EXPECT_FALSE(params[2].grad().defined());
  // All-zero gradients stay zero (no 0/0).
  params[0].mutable_grad().zero_();
  params[1].mutable_grad().zero_();
  clip_grad_norm(params, 0.5);
  EXPECT_EQ(params[0].grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(torch::isnan(params[1].grad()).any().item<bool>());
}

TrainingOptions default_training() {
  return TrainingOptions::section().read(sdk::Params::defaults(TrainingOptions::section().schema()));
}

TEST(LearningRate, DefaultsKeepTheRateConstant) {
  auto o = default_training();
  EXPECT_EQ(o.warmup_steps, 0);
  EXPECT_EQ(o.decay, "none");
  EXPECT_EQ(o.min_lr_ratio, 0.0);
  EXPECT_EQ(o.clip_grad_norm, 0.0);
  o.lr = 3e-4;
  for (int64_t k = 0; k < o.steps; ++k) ASSERT_EQ(learning_rate(o, k), 3e-4) << k;
}

TEST(LearningRate, LinearWarmupThenDecayToTheFloorAtTheLastStep) {
  auto o = default_training();
  o.lr = 1e-2;
  o.steps = 111;  // decay over steps 10..110: p = (k - 10) / 100
  o.warmup_steps = 10;
  o.min_lr_ratio = 0.1;
  const double lr = 1e-2, m = 1e-3;
  for (const char* decay : {"none", "linear", "cosine"}) {
    o.decay = decay;
    EXPECT_DOUBLE_EQ(learning_rate(o, 0), 1e-3) << decay;  // lr * 1 / 10
    EXPECT_DOUBLE_EQ(learning_rate(o, 4), 5e-3) << decay;
    EXPECT_DOUBLE_EQ(learning_rate(o, 9), lr) << decay;
    EXPECT_DOUBLE_EQ(learning_rate(o, 10), lr) << decay;  // p = 0
  }
  o.decay = "none";
  EXPECT_EQ(learning_rate(o, 110), lr);
  o.decay = "linear";
  EXPECT_DOUBLE_EQ(learning_rate(o, 35), m + (lr - m) * 0.75);
  EXPECT_DOUBLE_EQ(learning_rate(o, 60), m + (lr - m) * 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(o, 110), m);
  o.decay = "cosine";
  EXPECT_DOUBLE_EQ(learning_rate(o, 35), m + (lr - m) * 0.5 * (1 + std::cos(M_PI / 4)));
  EXPECT_NEAR(learning_rate(o, 60), m + (lr - m) * 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate(o, 110), m);
  // Decay without warm-up starts at lr at step 0; min_lr_ratio 0 ends at 0.
  o.warmup_steps = 0;
  o.min_lr_ratio = 0;
  o.steps = 101;
  EXPECT_EQ(learning_rate(o, 0), lr);
  EXPECT_NEAR(learning_rate(o, 100), 0.0, 1e-18);
  // Monotone non-increasing after warm-up.
  for (int64_t k = 1; k < o.steps; ++k) EXPECT_LE(learning_rate(o, k), learning_rate(o, k - 1)) << k;
}

TEST(LearningRate, SetsEveryParameterGroup) {
  auto model = tiny_model();
  auto opt = make_optimizer(default_training(), *model);
  set_learning_rate(*opt, 0.125);
  for (auto& group : opt->param_groups())
    EXPECT_EQ(static_cast<torch::optim::AdamOptions&>(group.options()).lr(), 0.125);
}

TEST(TrainLog, WritesLossLastAfterLossNorm) {
  const auto path = test::temp_dir("train_log") + "/train.csv";
  {
    TrainLog log(path, {"lr"}, 0);
    EXPECT_TRUE(log.has_loss_last());
    log.add({1, 4, 3, 7, 0.5, 2.0}, torch::tensor(3.0f), torch::tensor(1.0f), {torch::tensor(0.25f)});
    log.add({2, 4, 3, 7, 0.75, 2.0}, torch::tensor(2.0f), torch::tensor(0.5f), {torch::tensor(0.5f)});
    ASSERT_TRUE(log.flush());
    EXPECT_EQ(log.last_loss(), 2.0);
  }
  const auto t = read_csv(path);
  auto columns = train_columns::all();
  columns.push_back("lr");
  EXPECT_EQ(t.columns, columns);
  EXPECT_EQ(t.columns[3], "loss_last");
  EXPECT_EQ(t.columns[4], "loss_last_norm");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", "3", "1.5", "1", "0.5", "4", "3", "7", "0.5", "0.25"}));
}

TEST(TrainLog, ResumingAnOlderTrainCsvKeepsItsColumns) {
  const auto path = test::temp_dir("train_log_old") + "/train.csv";
  test::write_file(path,
                   "step,loss,loss_norm,loops,dims,points,elapsed_s,lr\n"
                   "1,3,1.5,4,3,7,0.5,0.25\n2,2,1,4,3,7,0.75,0.5\n3,9,9,9,9,9,9,9\n");
  {
    TrainLog log(path, {"lr"}, 2);  // resumed from the step-2 checkpoint: step 3 is taken again
    EXPECT_FALSE(log.has_loss_last());
    log.add({3, 4, 3, 7, 1.0, 2.0}, torch::tensor(1.0f), torch::tensor(0.5f), {torch::tensor(0.75f)});
    log.flush();
  }
  const auto t = read_csv(path);
  EXPECT_EQ(t.columns,
            (std::vector<std::string>{"step", "loss", "loss_norm", "loops", "dims", "points", "elapsed_s", "lr"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"3", "1", "0.5", "4", "3", "7", "1", "0.75"}));
}

// Trains tests/e2e/data/tiny.toml for 40 steps with warm-up, cosine decay and clipping, then
// resumes a copy cut back to its step-20 checkpoint: the schedule must continue exactly.
TEST(LearningRate, ResumedRunContinuesTheSchedule) {
  const auto dir = test::temp_dir("lr-resume");
  const std::string args = std::string(LOOPLAB_SOURCE_DIR) +
                           "/tests/e2e/data/tiny.toml --set training.steps=40 --set training.checkpoint_every=20 "
                           "--set outputs.figures=false --set training.warmup_steps=15 --set training.decay=cosine "
                           "--set training.min_lr_ratio=0.1 --set training.clip_grad_norm=0.5";
  int rc = 0;
  auto out = test::looplab("run " + args + " --out " + dir + "/full", &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_EQ(test::run_command("cp -r " + dir + "/full " + dir + "/cut", nullptr), 0);
  for (const auto* f : {"checkpoints/step_0000040.pt", "eval.csv", "report.md"})
    std::filesystem::remove(dir + "/cut/" + f);
  out = test::looplab("run --resume " + dir + "/cut", &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(test::contains(out, "resuming from")) << out;
  auto losses = [](const std::string& csv) {
    const auto t = read_csv(csv);
    const auto loss = column_index(t, "loss", csv), last = column_index(t, "loss_last", csv);
    std::vector<std::string> out;
    for (const auto& row : t.rows) out.push_back(row[0] + ":" + row[loss] + ":" + row[last]);
    return out;
  };
  const auto full = losses(dir + "/full/train.csv");
  EXPECT_EQ(full.size(), 40u);
  EXPECT_EQ(full, losses(dir + "/cut/train.csv"));
  EXPECT_EQ(test::read_file(dir + "/full/eval.csv"), test::read_file(dir + "/cut/eval.csv"));
}

}  // namespace
}  // namespace looplab::host
