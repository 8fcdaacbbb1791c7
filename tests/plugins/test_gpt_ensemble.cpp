// GptEnsembleBlock: K members trained as one equal K GptBlocks trained apart, in values and
// gradients, and no member's rows see another's weights or rows.
#include "gpt_ensemble_block.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace looplab {
namespace {

using blocks::GptBlock;
using blocks::GptBlockOptions;
using blocks::GptEnsembleBlock;

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item<double>();
}

struct Twins {
  GptEnsembleBlock ensemble{nullptr};
  std::vector<GptBlock> singles;
};

/// K single blocks from seeds 100 + k and an ensemble holding their weights, in `dtype`.
Twins twins(int64_t K, const GptBlockOptions& options, torch::Dtype dtype) {
  Twins t;
  torch::manual_seed(99);
  t.ensemble = GptEnsembleBlock(options, K);
  for (int64_t k = 0; k < K; ++k) {
    torch::manual_seed(100 + k);
    t.singles.emplace_back(options);
    t.ensemble->set_member(k, *t.singles.back());
    t.singles.back()->to(dtype);
  }
  t.ensemble->to(dtype);
  return t;
}

void expect_members_match_singles(torch::Dtype dtype, double tol) {
  const int64_t K = 3, B = 2, S = 9, D = 16;
  auto t = twins(K, GptBlockOptions(D, 4).depth(2), dtype);
  torch::manual_seed(5);
  const auto h = torch::randn({K * B, S, D}, dtype).requires_grad_();
  const auto w = torch::randn({K * B, S, D}, dtype);
  const auto out = t.ensemble->forward(h);
  (out * w).sum().backward();
  const auto params = t.ensemble->named_parameters();
  for (int64_t k = 0; k < K; ++k) {
    SCOPED_TRACE(k);
    const auto hk = h.detach().narrow(0, k * B, B).clone().requires_grad_();
    const auto outk = t.singles[k]->forward(hk);
    (outk * w.narrow(0, k * B, B)).sum().backward();
    EXPECT_LE(rel_diff(out.detach().narrow(0, k * B, B), outk.detach()), tol);
    EXPECT_LE(rel_diff(h.grad().narrow(0, k * B, B), hk.grad()), tol);
    for (const auto& p : t.singles[k]->named_parameters()) {
      ASSERT_TRUE(params[p.key()].grad().defined()) << p.key();
      EXPECT_LE(rel_diff(params[p.key()].grad()[k], p.value().grad()), tol) << p.key();
    }
  }
}

TEST(GptEnsemble, MembersMatchSingleBlocksInDouble) { expect_members_match_singles(torch::kDouble, 1e-12); }

TEST(GptEnsemble, MembersMatchSingleBlocksInFloat) { expect_members_match_singles(torch::kFloat, 1e-5); }

TEST(GptEnsemble, MemberRowsSeeOnlyTheirMember) {
  const int64_t K = 3, B = 2, S = 7, D = 8;
  auto t = twins(K, GptBlockOptions(D, 2), torch::kFloat);
  torch::NoGradGuard no_grad;
  const auto h = torch::randn({K * B, S, D});
  const auto before = t.ensemble->forward(h);
  // Member 1's weights and rows changed: members 0 and 2 give bit-identical outputs.
  t.ensemble->c_fc->weight[1].add_(1.0);
  auto h2 = h.clone();
  h2.narrow(0, B, B).add_(torch::randn({B, S, D}));
  const auto after = t.ensemble->forward(h2);
  EXPECT_TRUE(torch::equal(before.narrow(0, 0, B), after.narrow(0, 0, B)));
  EXPECT_TRUE(torch::equal(before.narrow(0, 2 * B, B), after.narrow(0, 2 * B, B)));
  EXPECT_FALSE(torch::equal(before.narrow(0, B, B), after.narrow(0, B, B)));
}

TEST(GptEnsemble, MembersRoundTripAndAreDrawnLikeSingleBlocks) {
  const GptBlockOptions options(16, 4);
  torch::manual_seed(7);
  GptEnsembleBlock ensemble(options, 2);
  // The constructor draws member 0, then member 1, as two GptBlocks would be drawn.
  torch::manual_seed(7);
  GptBlock first(options), second(options);
  GptBlock back(options);
  for (const auto& [k, single] : {std::pair{int64_t{0}, &first}, std::pair{int64_t{1}, &second}}) {
    ensemble->get_member(k, *back);
    const auto a = back->named_parameters(), b = (*single)->named_parameters();
    for (const auto& p : b) EXPECT_TRUE(torch::equal(a[p.key()], p.value())) << k << " " << p.key();
  }
}

TEST(GptEnsemble, RefusesABatchThatIsNotWholeMembers) {
  GptEnsembleBlock ensemble(GptBlockOptions(8, 2), 3);
  EXPECT_THROW(ensemble->forward(torch::randn({4, 5, 8})), std::invalid_argument);
  EXPECT_THROW(GptEnsembleBlock(GptBlockOptions(8, 2), 0), std::invalid_argument);
}

}  // namespace
}  // namespace looplab
