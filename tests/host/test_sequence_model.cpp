// The model around the blocks (docs/model.md#standard-and-looped-model): tokens, standard and
// looped passes, the truncated loss window, causality and parameter bookkeeping.

#include "model/sequence_model.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace looplab::host {
namespace {

constexpr int64_t kD = 32, kDims = 3, kMaxPoints = 8;

/// A model with L gpt blocks per iteration (D = 32, d = 3), optionally in double precision.
SequenceModel make_model(int64_t L, bool dbl = false) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Block, "gpt");
  if (loaded == nullptr) throw std::runtime_error("gpt block plugin not found");
  const auto params = sdk::Params::defaults(loaded->component->params);
  std::vector<std::shared_ptr<sdk::Block>> blocks;
  for (int64_t i = 0; i < L; ++i) {
    sdk::BlockContext ctx;
    ctx.n_embd = kD;
    ctx.depth = L;
    ctx.index = i;
    ctx.max_tokens = 2 * kMaxPoints;
    blocks.push_back(std::get<sdk::BlockFactory>(loaded->component->factory)(params, ctx));
  }
  SequenceModel model(SequenceModelOptions(kDims, kD, kMaxPoints), blocks);
  if (dbl) model->to(torch::kDouble);
  return model;
}

torch::Tensor param(SequenceModel& model, const std::string& name) {
  auto* p = model->named_parameters().find(name);
  if (p == nullptr) throw std::runtime_error("no parameter " + name);
  return *p;
}

/// The study's definition written out from the model's parameters: Y_0 = 0,
/// Y_t = LN_f(Blocks(Y_{t-1} + E + P)), prediction_t = read_out(Y_t at even positions).
/// Iterations before `first_with_grad` run without autograd.
std::vector<torch::Tensor> by_hand(SequenceModel& model, const torch::Tensor& xs, const torch::Tensor& ys,
                                   int64_t iterations, const std::vector<int64_t>& report,
                                   int64_t first_with_grad = 1) {
  const int64_t B = xs.size(0), n = xs.size(1), d = xs.size(2);
  auto tok = torch::zeros({B, 2 * n, d}, xs.options());
  for (int64_t i = 0; i < n; ++i) {
    tok.select(1, 2 * i).copy_(xs.select(1, i));
    tok.select(1, 2 * i + 1).select(1, 0).copy_(ys.select(1, i));
  }
  const auto e = torch::linear(tok, param(model, "read_in.weight"), param(model, "read_in.bias"));
  const auto p = param(model, "wpe").narrow(0, 0, 2 * n).unsqueeze(0);
  auto y = torch::zeros_like(e);
  std::vector<torch::Tensor> out;
  for (int64_t t = 1; t <= iterations; ++t) {
    std::optional<torch::NoGradGuard> no_grad;
    if (t < first_with_grad) no_grad.emplace();
    auto h = y + e + p;
    for (const auto& block : model->blocks()) h = block->forward(h);
    y = torch::layer_norm(h, {kD}, param(model, "ln_f.weight"), param(model, "ln_f.bias"), 1e-5);
    if (std::find(report.begin(), report.end(), t) != report.end())
      out.push_back(
          torch::linear(y.slice(1, 0, 2 * n, 2), param(model, "read_out.weight"), param(model, "read_out.bias"))
              .squeeze(-1));
  }
  return out;
}

torch::Tensor mean_mse(const std::vector<torch::Tensor>& preds, const torch::Tensor& ys) {
  auto total = torch::zeros({}, ys.options());
  for (const auto& p : preds) total = total + (p - ys).square().mean();
  return total / static_cast<double>(preds.size());
}

/// Gradients of `loss` w.r.t. every model parameter (zeros where none arrived).
std::vector<torch::Tensor> gradients(SequenceModel& model, const torch::Tensor& loss) {
  model->zero_grad();
  loss.backward();
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  model->zero_grad();
  return out;
}

double max_abs_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

double max_abs(const std::vector<torch::Tensor>& a) {
  double m = 0.0;
  for (const auto& t : a) m = std::max(m, t.abs().max().item<double>());
  return m;
}

TEST(SequenceModelTokens, InterleaveXAndPaddedY) {
  torch::manual_seed(0);
  auto model = make_model(1);
  const auto xs = torch::arange(2 * 3 * kDims, torch::kFloat).reshape({2, 3, kDims}) + 1;
  const auto ys = -torch::arange(2 * 3, torch::kFloat).reshape({2, 3}) - 1;
  const auto tok = model->tokens(xs, ys);
  ASSERT_EQ(tok.sizes(), (std::vector<int64_t>{2, 6, kDims}));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::equal(tok.select(1, 2 * i), xs.select(1, i))) << "x_" << i;
    EXPECT_TRUE(torch::equal(tok.select(1, 2 * i + 1).select(1, 0), ys.select(1, i))) << "y_" << i;
    EXPECT_EQ(tok.select(1, 2 * i + 1).narrow(1, 1, kDims - 1).abs().max().item<float>(), 0.0f) << i;
  }
}

TEST(SequenceModelPasses, StandardModelIsFinalNormOfBlocksOfEmbeddingPlusPositions) {
  torch::manual_seed(1);
  auto model = make_model(2);
  const auto xs = torch::randn({4, 6, kDims}), ys = torch::randn({4, 6});
  torch::NoGradGuard no_grad;
  const auto pred = model->predict(xs, ys, 1);
  ASSERT_EQ(pred.sizes(), (std::vector<int64_t>{4, 6}));
  const auto expected = by_hand(model, xs, ys, 1, {1}).front();
  EXPECT_TRUE(torch::allclose(pred, expected, 1e-5, 1e-6)) << (pred - expected).abs().max().item<float>();
}

TEST(SequenceModelPasses, LoopedModelReinjectsEmbeddingAndPositionsEveryIteration) {
  torch::manual_seed(2);
  auto model = make_model(1);
  const auto xs = torch::randn({3, 5, kDims}), ys = torch::randn({3, 5});
  torch::NoGradGuard no_grad;
  const auto preds = model->run(xs, ys, 4, {1, 2, 4});
  const auto expected = by_hand(model, xs, ys, 4, {1, 2, 4});
  ASSERT_EQ(preds.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(torch::allclose(preds[k], expected[k], 1e-5, 1e-6)) << "report " << k;
  EXPECT_TRUE(torch::equal(model->predict(xs, ys, 4), preds[2]));
  // Iterations really differ, so the comparison above pins which iteration is reported.
  EXPECT_GT((preds[0] - preds[1]).abs().max().item<double>(), 1e-4);
}

TEST(SequenceModelWindow, LossIsMeanMseOfTheLastTIterations) {
  torch::manual_seed(3);
  // Double precision: an untrained loop settles fast, so late iterations differ only slightly.
  auto model = make_model(1, /*dbl=*/true);
  const auto xs = torch::randn({4, 5, kDims}, torch::kDouble), ys = torch::randn({4, 5}, torch::kDouble);
  const double loss = model->loss(xs, ys, 6, 2).item<double>();
  torch::NoGradGuard no_grad;
  const auto preds = model->run(xs, ys, 6, {1, 2, 3, 4, 5, 6});
  const double expected = mean_mse({preds[4], preds[5]}, ys).item<double>();
  EXPECT_NEAR(loss, expected, 1e-12 * expected);
  // Averaging over all six iterations, only the last, or iterations 4-5 gives another number.
  EXPECT_GT(std::abs(loss - mean_mse(preds, ys).item<double>()), 1e-9);
  EXPECT_GT(std::abs(loss - mean_mse({preds[5]}, ys).item<double>()), 1e-9);
  EXPECT_GT(std::abs(loss - mean_mse({preds[3], preds[4]}, ys).item<double>()), 1e-9);
}

TEST(SequenceModelWindow, NoGradientFlowsThroughIterationsBeforeTheWindow) {
  torch::manual_seed(4);
  auto model = make_model(1, /*dbl=*/true);
  const auto xs = torch::randn({4, 5, kDims}, torch::kDouble), ys = torch::randn({4, 5}, torch::kDouble);
  const auto g_model = gradients(model, model->loss(xs, ys, 6, 2));
  // Same two iterations in the loss, iterations 1..4 without autograd.
  const auto g_truncated = gradients(model, mean_mse(by_hand(model, xs, ys, 6, {5, 6}, 5), ys));
  // Same two iterations in the loss, autograd through all six.
  const auto g_full = gradients(model, mean_mse(by_hand(model, xs, ys, 6, {5, 6}, 1), ys));
  ASSERT_GT(max_abs(g_model), 1e-6);
  EXPECT_LE(max_abs_diff(g_model, g_truncated), 1e-10 * max_abs(g_model));
  EXPECT_GT(max_abs_diff(g_model, g_full), 1e-4 * max_abs(g_model));
  // A wider window changes the gradient.
  const auto g_wide = gradients(model, model->loss(xs, ys, 6, 6));
  EXPECT_GT(max_abs_diff(g_model, g_wide), 1e-4 * max_abs(g_model));
}

TEST(SequenceModelWindow, WindowAtLeastLoopsHasNoEffect) {
  torch::manual_seed(5);
  auto model = make_model(1);
  const auto xs = torch::randn({4, 5, kDims}), ys = torch::randn({4, 5});
  const auto l3 = model->loss(xs, ys, 3, 3);
  EXPECT_TRUE(torch::equal(model->loss(xs, ys, 3, 5), l3));
  EXPECT_TRUE(torch::equal(model->loss(xs, ys, 3, 0), l3));  // T <= 0 means T = b
  const auto g3 = gradients(model, l3);
  EXPECT_EQ(max_abs_diff(gradients(model, model->loss(xs, ys, 3, 5)), g3), 0.0);
  EXPECT_FALSE(torch::equal(model->loss(xs, ys, 3, 2), l3));
}

/// Predictions 0..i are unchanged when y_i and every later point are replaced.
void expect_causal(SequenceModel& model, int64_t iterations) {
  const int64_t n = 6;
  const auto xs = torch::randn({3, n, kDims}), ys = torch::randn({3, n});
  torch::NoGradGuard no_grad;
  const auto base = model->predict(xs, ys, iterations);
  for (int64_t i = 0; i < n; ++i) {
    auto xs2 = xs.clone(), ys2 = ys.clone();
    if (i + 1 < n) xs2.narrow(1, i + 1, n - i - 1).normal_();
    ys2.narrow(1, i, n - i).normal_();
    const auto pred = model->predict(xs2, ys2, iterations);
    EXPECT_LE((pred.narrow(1, 0, i + 1) - base.narrow(1, 0, i + 1)).abs().max().item<double>(), 1e-6)
        << "b = " << iterations << ": a prediction up to " << i << " saw y_" << i << " or a later point";
    if (i + 1 < n) {
      EXPECT_GT((pred.select(1, i + 1) - base.select(1, i + 1)).abs().max().item<double>(), 1e-6)
          << "prediction " << i + 1 << " ignores its own x or earlier labels";
    }
  }
  // A prediction does use earlier labels.
  auto ys3 = ys.clone();
  ys3.select(1, 0).add_(3.0);
  EXPECT_GT((model->predict(xs, ys3, iterations).select(1, 1) - base.select(1, 1)).abs().max().item<double>(), 1e-5);
}

TEST(SequenceModelCausality, StandardModelPredictionsSeeOnlyEarlierPoints) {
  torch::manual_seed(6);
  auto model = make_model(2);
  expect_causal(model, 1);
}

TEST(SequenceModelCausality, LoopedModelPredictionsSeeOnlyEarlierPoints) {
  torch::manual_seed(7);
  auto model = make_model(1);
  expect_causal(model, 4);
}

TEST(SequenceModelParameters, EachParameterListedOnceAndCountIndependentOfLoops) {
  torch::manual_seed(8);
  auto model = make_model(2);
  const auto params = model->parameters();
  std::set<const void*> ptrs;
  for (const auto& p : params) ptrs.insert(p.data_ptr());
  EXPECT_EQ(ptrs.size(), params.size()) << "a parameter is listed twice";
  // read-in, positions, blocks, LN_f, read-out: nothing else, nothing twice.
  int64_t expected = kDims * kD + kD + (2 * kMaxPoints + 1) * kD + 2 * kD + kD + 1;
  for (const auto& block : model->blocks()) expected += parameter_count(*block);
  EXPECT_EQ(parameter_count(*model), expected);
  const auto xs = torch::randn({2, 4, kDims}), ys = torch::randn({2, 4});
  for (int64_t b : {1, 5, 12}) {
    model->loss(xs, ys, b, 3).backward();
    EXPECT_EQ(parameter_count(*model), expected) << "b = " << b;
    EXPECT_EQ(model->parameters().size(), params.size()) << "b = " << b;
  }
}

TEST(SequenceModelParameters, PromptLongerThanPositionTableThrows) {
  torch::manual_seed(9);
  auto model = make_model(1);
  const auto xs = torch::randn({1, kMaxPoints + 1, kDims}), ys = torch::randn({1, kMaxPoints + 1});
  EXPECT_THROW(model->predict(xs, ys, 1), std::invalid_argument);
  EXPECT_NO_THROW(model->predict(xs.narrow(1, 0, kMaxPoints), ys.narrow(1, 0, kMaxPoints), 1));
}

}  // namespace
}  // namespace looplab::host
