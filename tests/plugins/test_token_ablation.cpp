// Token ablation (E4): the index bookkeeping of the analysis module, the three ways the model
// can be evaluated on part of a prompt (state mask, dropped tokens, key mask), and key masks in
// the GPT block (every query still sees itself; a block without attention refuses clearly).

#include "model/sequence_model.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

// The analysis module (linked: looplab_analysis_token_ablation_module), checked without the plugin loader.
#include "token_ablation.h"

namespace looplab {
namespace {

constexpr int64_t kWidth = 16, kDims = 3, kPoints = 6;

// A double-precision model of `depth` gpt blocks (2 heads), as the host assembles one.
host::SequenceModel gpt_model(int64_t depth) {
  const auto* gpt = test::bundled_registry().find(sdk::ComponentKind::Block, "gpt");
  if (gpt == nullptr) throw std::runtime_error("gpt block plugin not found");
  auto params = sdk::Params::defaults(gpt->component->params);
  params.set("n_head", int64_t{2});
  std::vector<std::shared_ptr<sdk::Block>> blocks;
  for (int64_t i = 0; i < depth; ++i)
    blocks.push_back(std::get<sdk::BlockFactory>(gpt->component->factory)(params, {kWidth, depth, i, 2 * kPoints}));
  host::SequenceModel model(host::SequenceModelOptions(kDims, kWidth, kPoints), blocks);
  model->to(torch::kDouble);
  return model;
}

// A causal block without attention (a running mean): it cannot hide keys.
class PrefixMean : public sdk::Block {
 public:
  torch::Tensor forward(const torch::Tensor& h) override {
    auto counts = torch::arange(1, h.size(1) + 1, h.options()).view({1, -1, 1});
    return h + h.cumsum(1) / counts;
  }
};

// One GPT block (double precision, seeded), evaluated without autograd.
class KeyMask : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    model_ = gpt_model(1);
    block = model_->blocks().front().get();
  }
  host::SequenceModel model_{nullptr};
  sdk::Block* block = nullptr;
  torch::NoGradGuard no_grad_;
};

TEST_F(KeyMask, AllVisibleEqualsThePlainBlock) {
  ASSERT_TRUE(block->supports_key_mask());
  const auto h = torch::randn({2, 9, kWidth}, torch::kDouble);
  EXPECT_TRUE(torch::allclose(block->forward_masked(h, torch::ones({1, 9})), block->forward(h), 1e-12, 1e-12));
}

TEST_F(KeyMask, HiddenKeysDoNotReachOtherQueriesButVisibleOnesDo) {
  const int64_t S = 8;
  auto mask = torch::ones({2, S});
  mask[0][2] = 0;  // prompt 0 hides position 2, prompt 1 hides position 5
  mask[1][5] = 0;
  const auto h = torch::randn({2, S, kWidth}, torch::kDouble);
  const auto out = block->forward_masked(h, mask);
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t hidden = b == 0 ? 2 : 5, shown = b == 0 ? 4 : 1;
    auto changed = h.clone();
    changed[b][hidden].add_(torch::randn({kWidth}, torch::kDouble));
    auto out2 = block->forward_masked(changed, mask);
    for (int64_t s = 0; s < S; ++s) {
      const double diff = (out2[b][s] - out[b][s]).abs().max().item<double>();
      if (s == hidden)
        EXPECT_GT(diff, 1e-3) << "position " << s << " must still see itself";
      else
        EXPECT_LE(diff, 1e-12) << "prompt " << b << ": position " << s << " saw hidden position " << hidden;
    }
    changed = h.clone();
    changed[b][shown].add_(torch::randn({kWidth}, torch::kDouble));
    out2 = block->forward_masked(changed, mask);
    EXPECT_GT((out2[b][S - 1] - out[b][S - 1]).abs().max().item<double>(), 1e-4) << "a visible key was ignored";
  }
}

TEST_F(KeyMask, AQueryWithEveryKeyHiddenSeesOnlyItself) {
  const int64_t S = 5;
  const auto h = torch::randn({1, S, kWidth}, torch::kDouble);
  const auto out = block->forward_masked(h, torch::zeros({1, S}));
  ASSERT_TRUE(torch::isfinite(out).all().item<bool>());
  // Attending to itself alone, each position equals the block applied to it as a 1-token sequence.
  for (int64_t s = 0; s < S; ++s)
    EXPECT_TRUE(torch::allclose(out.narrow(1, s, 1), block->forward(h.narrow(1, s, 1)), 1e-12, 1e-12)) << s;
}

TEST(KeyMaskModel, WithAllVisibleKeysEqualsThePlainRun) {
  torch::manual_seed(3);
  auto model = gpt_model(2);
  torch::NoGradGuard no_grad;
  const auto xs = torch::randn({3, kPoints, kDims}, torch::kDouble), ys = torch::randn({3, kPoints}, torch::kDouble);
  const auto plain = model->run(xs, ys, 3, {3}).front();
  const auto keyed = model->run(xs, ys, 3, {3}, 1, torch::Tensor(), torch::ones({1, 2 * kPoints})).front();
  EXPECT_TRUE(torch::allclose(keyed, plain, 1e-12, 1e-12));
}

TEST(KeyMaskModel, ABlockWithoutAttentionRefusesClearly) {
  PrefixMean block;
  EXPECT_FALSE(block.supports_key_mask());
  try {
    block.forward_masked(torch::zeros({1, 2, 4}), torch::ones({1, 2}));
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_TRUE(test::contains(e.what(), "cannot hide keys from attention")) << e.what();
  }
  host::SequenceModel model(host::SequenceModelOptions(kDims, 4, kPoints),
                            std::vector<std::shared_ptr<sdk::Block>>{std::make_shared<PrefixMean>()});
  const auto xs = torch::randn({1, kPoints, kDims}), ys = torch::randn({1, kPoints});
  EXPECT_NO_THROW(model->run(xs, ys, 2, {2}));
  try {
    model->run(xs, ys, 2, {2}, 1, torch::Tensor(), torch::ones({1, 2 * kPoints}));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(test::contains(e.what(), "block 0 cannot hide keys from attention")) << e.what();
  }
}

using analyses::Keep;

TEST(TokenAblation, KeptTokensAndQueries) {
  // P = 4 points: tokens x1 y1 x2 y2 x3 y3 x4 y4 (0..7).
  EXPECT_TRUE(torch::equal(analyses::kept_token_indices(Keep::First, 3, 4), torch::tensor({0, 1, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(analyses::kept_token_indices(Keep::Last, 3, 4), torch::tensor({5, 6, 7}, torch::kLong)));
  EXPECT_TRUE(
      torch::equal(analyses::token_keep_mask(Keep::Last, 3, 4), torch::tensor({{0., 0., 0., 0., 0., 1., 1., 1.}})));
  using V = std::vector<int64_t>;
  EXPECT_EQ(analyses::kept_queries(Keep::First, 1, 4), V{0});
  EXPECT_EQ(analyses::kept_queries(Keep::First, 3, 4), (V{0, 1}));  // x2 is the last kept token
  EXPECT_EQ(analyses::kept_queries(Keep::First, 4, 4), (V{0, 1}));  // y2 adds no query
  EXPECT_EQ(analyses::kept_queries(Keep::Last, 1, 4), V{});         // only y4
  EXPECT_EQ(analyses::kept_queries(Keep::Last, 2, 4), V{3});
  EXPECT_EQ(analyses::kept_queries(Keep::Last, 5, 4), (V{2, 3}));  // y2 x3 y3 x4 y4
  EXPECT_EQ(analyses::kept_queries(Keep::Last, 8, 4), (V{0, 1, 2, 3}));
  EXPECT_EQ(analyses::examples_before_last_query(Keep::First, 5, 4), 2);  // x1 y1 x2 y2 | x3
  EXPECT_EQ(analyses::examples_before_last_query(Keep::Last, 5, 4), 1);   // y2 (alone), x3 y3 | x4
  EXPECT_EQ(analyses::examples_before_last_query(Keep::Last, 2, 4), 0);
  EXPECT_THROW(analyses::kept_token_indices(Keep::First, 9, 4), std::invalid_argument);
  EXPECT_EQ(analyses::token_counts({}, 3, 8), (V{3, 6, 8}));
  EXPECT_EQ(analyses::token_counts({8, 2, 2}, 1, 8), (V{2, 8}));
  EXPECT_THROW(analyses::token_counts({0}, 1, 8), std::invalid_argument);
}

TEST(TokenAblation, ReadOutsLandAtTheirQueriesAndSummariesUseKeptOnes) {
  // Kept tokens 3..7 = y2 x3 y3 x4 y4: read-outs at columns 1 and 3 are the predictions of y3, y4.
  const auto readout = torch::tensor({{10., 11., 12., 13., 14.}});
  const auto pred = analyses::predictions_at_queries(readout, torch::arange(3, 8), 4);
  EXPECT_TRUE(std::isnan(pred[0][0].item<double>()) && std::isnan(pred[0][1].item<double>()));
  EXPECT_EQ(pred[0][2].item<double>(), 11.0);
  EXPECT_EQ(pred[0][3].item<double>(), 13.0);

  const auto err = torch::tensor({{9., 1., 2., 4.}, {9., 3., 4., 6.}});  // 2 prompts, 4 points
  const auto e = analyses::summarize_queries(err, {1, 2});
  EXPECT_DOUBLE_EQ(e.last, 3.0);                                             // point 2 (0-based), mean of 2 and 4
  EXPECT_DOUBLE_EQ(e.mean, 2.5);                                             // points 1 and 2
  const double half = 1.6448536269514722 * std::sqrt(2.0) / std::sqrt(2.0);  // std of {2, 4} is sqrt(2)
  EXPECT_NEAR(e.last_hi - e.last, half, 1e-12);
  EXPECT_NEAR(e.last - e.last_lo, half, 1e-12);
}

class TokenAblationModes : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(4);
    model_ = gpt_model(2);
    xs_ = torch::randn({3, kPoints, kDims}, torch::kDouble);
    ys_ = torch::randn({3, kPoints}, torch::kDouble);
  }
  // Predictions [B, P] after k iterations in one mode (NaN at dropped queries for drop).
  torch::Tensor predict(const std::string& mode, Keep keep, int64_t n, int64_t k, bool original = true) {
    torch::NoGradGuard no_grad;
    const auto mask = analyses::token_keep_mask(keep, n, kPoints);
    if (mode == "state") return model_->run(xs_, ys_, k, {k}, 1, mask).front();
    if (mode == "keys") return model_->run(xs_, ys_, k, {k}, 1, torch::Tensor(), mask).front();
    const auto kept = analyses::kept_token_indices(keep, n, kPoints);
    return analyses::predictions_at_queries(model_->run_kept_tokens(xs_, ys_, kept, k, original), kept, kPoints);
  }
  host::SequenceModel model_{nullptr};
  torch::Tensor xs_, ys_;
};

TEST_F(TokenAblationModes, EveryModeWithAllTokensEqualsThePlainEvaluation) {
  torch::NoGradGuard no_grad;
  for (int64_t k : {1, 3}) {
    const auto plain = model_->run(xs_, ys_, k, {k}).front();
    for (Keep keep : {Keep::First, Keep::Last}) {
      for (const std::string mode : {"state", "keys", "drop"}) {
        EXPECT_TRUE(torch::allclose(predict(mode, keep, 2 * kPoints, k), plain, 1e-10, 1e-12)) << mode << " k = " << k;
      }
      EXPECT_TRUE(torch::allclose(predict("drop", keep, 2 * kPoints, k, false), plain, 1e-10, 1e-12));
    }
  }
}

TEST_F(TokenAblationModes, DropWithTheFirstNEqualsThePrefixPrompt) {
  torch::NoGradGuard no_grad;
  for (int64_t n : {1, 4, 7}) {
    const int64_t points = (n + 1) / 2;  // the prefix prompt holding the first n tokens
    const auto prefix = model_->run(xs_.narrow(1, 0, points), ys_.narrow(1, 0, points), 3, {3}).front();
    for (bool original : {true, false}) {
      const auto dropped = predict("drop", Keep::First, n, 3, original);
      EXPECT_TRUE(torch::allclose(dropped.narrow(1, 0, points), prefix, 1e-10, 1e-12)) << "n = " << n;
      EXPECT_TRUE(torch::isnan(dropped.narrow(1, points, kPoints - points)).all().item<bool>());
    }
  }
}

TEST_F(TokenAblationModes, KeysEqualsDropWithOriginalPositionsAndStateDiffers) {
  // Hiding keys = removing the tokens when the kept ones keep their positions; zeroing the
  // state still lets the dropped inputs in at every iteration, so it must differ.
  for (int64_t n : {3, 6, 9}) {
    const auto queries = analyses::kept_queries(Keep::Last, n, kPoints);
    const auto q = torch::tensor(queries, torch::kLong);
    const auto keys = predict("keys", Keep::Last, n, 3).index_select(1, q);
    const auto drop = predict("drop", Keep::Last, n, 3).index_select(1, q);
    const auto state = predict("state", Keep::Last, n, 3).index_select(1, q);
    EXPECT_TRUE(torch::allclose(keys, drop, 1e-9, 1e-11)) << "n = " << n;
    EXPECT_GT((state - keys).abs().max().item<double>(), 1e-6) << "n = " << n;
    const auto reindexed = predict("drop", Keep::Last, n, 3, false).index_select(1, q);
    EXPECT_GT((reindexed - drop).abs().max().item<double>(), 1e-6) << "positions must matter, n = " << n;
  }
}

}  // namespace
}  // namespace looplab
