// The GPT block plugin (docs/model.md#gpt-block), built through the registry as the host builds it.

#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace looplab {
namespace {

/// A gpt block of width D in an iteration of L blocks, schema defaults plus `n_head`.
std::shared_ptr<sdk::Block> make_gpt(int64_t D, int64_t L, int64_t n_head = 4) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Block, "gpt");
  if (loaded == nullptr) throw std::runtime_error("gpt block plugin not found");
  auto params = sdk::Params::defaults(loaded->component->params);
  params.set("n_head", n_head);
  sdk::BlockContext ctx;
  ctx.n_embd = D;
  ctx.depth = L;
  ctx.index = 0;
  ctx.max_tokens = 64;
  return std::get<sdk::BlockFactory>(loaded->component->factory)(params, ctx);
}

std::map<std::string, torch::Tensor> params_by_name(const std::shared_ptr<sdk::Block>& block) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : block->named_parameters()) out[p.key()] = p.value();
  return out;
}

TEST(GptBlockPlugin, IsRegisteredWithDefaultSchema) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Block, "gpt");
  ASSERT_NE(loaded, nullptr);
  const auto params = sdk::Params::defaults(loaded->component->params);
  EXPECT_EQ(params.get_int("n_head"), 4);
  EXPECT_DOUBLE_EQ(params.get_float("init_std"), 0.02);
  EXPECT_DOUBLE_EQ(params.get_float("ln_eps"), 1e-5);
}

TEST(GptBlockPlugin, OutputShapeEqualsInputShape) {
  torch::manual_seed(0);
  auto block = make_gpt(32, 1);
  const auto h = torch::randn({3, 7, 32});
  const auto out = block->forward(h);
  EXPECT_EQ(out.sizes(), h.sizes());
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  // A residual block with nonzero weights changes its input.
  EXPECT_GT((out - h).abs().max().item<double>(), 1e-4);
}

TEST(GptBlockPlugin, IsCausal) {
  torch::manual_seed(1);
  auto block = make_gpt(32, 2);
  torch::NoGradGuard no_grad;
  const int64_t S = 9;
  const auto h = torch::randn({2, S, 32});
  const auto out = block->forward(h);
  for (int64_t s : {int64_t{0}, int64_t{4}, S - 1}) {
    auto perturbed = h.clone();
    perturbed.select(1, s).add_(torch::randn({2, 32}));
    const auto out2 = block->forward(perturbed);
    if (s > 0) {
      const double before = (out2.narrow(1, 0, s) - out.narrow(1, 0, s)).abs().max().item<double>();
      EXPECT_LE(before, 1e-6) << "positions before " << s << " saw token " << s;
    }
    EXPECT_GT((out2.select(1, s) - out.select(1, s)).abs().max().item<double>(), 1e-3)
        << "position " << s << " ignores its own token";
    if (s < S - 1) {
      // Later positions attend to token s.
      EXPECT_GT((out2.select(1, s + 1) - out.select(1, s + 1)).abs().max().item<double>(), 1e-6);
    }
  }
}

/// Mean ~0 and std ~expected_std, with tolerances from the sampling error of n draws.
void expect_normal_init(const std::string& name, const torch::Tensor& w, double expected_std) {
  const auto x = w.detach().to(torch::kDouble).flatten();
  const double n = static_cast<double>(x.numel());
  const double mean = x.mean().item<double>();
  const double std = x.std().item<double>();
  // Standard errors: mean sigma/sqrt(n), std sigma/sqrt(2n); allow 6 of them.
  EXPECT_NEAR(mean, 0.0, 6.0 * expected_std / std::sqrt(n)) << name;
  EXPECT_NEAR(std, expected_std, 6.0 * expected_std / std::sqrt(2.0 * n)) << name;
}

void check_init(int64_t L) {
  const int64_t D = 128;
  auto block = make_gpt(D, L);
  const auto params = params_by_name(block);
  const double base = 0.02, proj = 0.02 / std::sqrt(2.0 * static_cast<double>(L));
  const std::map<std::string, double> weight_std{{"block.c_attn.weight", base},
                                                 {"block.c_fc.weight", base},
                                                 {"block.attn_proj.weight", proj},
                                                 {"block.mlp_proj.weight", proj}};
  for (const auto& [name, std] : weight_std) {
    ASSERT_TRUE(params.count(name)) << name;
    expect_normal_init(name + " (L = " + std::to_string(L) + ")", params.at(name), std);
  }
  EXPECT_EQ(params.at("block.c_attn.weight").sizes(), (std::vector<int64_t>{3 * D, D}));
  EXPECT_EQ(params.at("block.c_fc.weight").sizes(), (std::vector<int64_t>{4 * D, D}));
  EXPECT_EQ(params.at("block.mlp_proj.weight").sizes(), (std::vector<int64_t>{D, 4 * D}));
  EXPECT_EQ(params.at("block.attn_proj.weight").sizes(), (std::vector<int64_t>{D, D}));
  for (const char* layer : {"c_attn", "attn_proj", "c_fc", "mlp_proj"}) {
    const std::string name = std::string("block.") + layer + ".bias";
    ASSERT_TRUE(params.count(name)) << name;
    EXPECT_EQ(params.at(name).abs().max().item<float>(), 0.0f) << name;
  }
  for (const char* ln : {"ln_1", "ln_2"}) {
    const std::string w = std::string("block.") + ln + ".weight", b = std::string("block.") + ln + ".bias";
    ASSERT_TRUE(params.count(w) && params.count(b)) << ln;
    EXPECT_TRUE(torch::equal(params.at(w), torch::ones({D}))) << w;
    EXPECT_TRUE(torch::equal(params.at(b), torch::zeros({D}))) << b;
  }
  // Nothing else: four Linears and two LayerNorms, weight and bias each.
  EXPECT_EQ(params.size(), 12u);
}

TEST(GptBlockPlugin, InitStatisticsOneLayer) {
  torch::manual_seed(2);
  check_init(1);
}

TEST(GptBlockPlugin, InitStatisticsFourLayersScaleOutputProjections) {
  torch::manual_seed(3);
  check_init(4);
}

TEST(GptBlockPlugin, HeadsNotDividingWidthThrowNamingBoth) {
  torch::manual_seed(4);
  try {
    make_gpt(30, 1, 7);
    FAIL() << "n_head = 7 with n_embd = 30 was accepted";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("30"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(make_gpt(30, 1, 5));
}

TEST(GptBlockPlugin, SameSeedGivesIdenticalParameters) {
  torch::manual_seed(42);
  const auto a = params_by_name(make_gpt(32, 2));
  torch::manual_seed(42);
  const auto b = params_by_name(make_gpt(32, 2));
  torch::manual_seed(43);
  const auto c = params_by_name(make_gpt(32, 2));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  }
  EXPECT_FALSE(torch::equal(a.at("block.c_attn.weight"), c.at("block.c_attn.weight")));
}

}  // namespace
}  // namespace looplab
