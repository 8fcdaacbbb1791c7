// The lr_looped block: a wrapped block's schema is validated as its own, a frozen lr = 1 is the
// classic looped model, and the learned lr gets gradients and is logged.
#include "common/csv.h"
#include "config/config_loader.h"
#include "config/pipeline.h"
#include "model/model_factory.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>
#include <string>

namespace looplab {
namespace {

using test::contains;

const std::string kHead =
    "[task]\n"                        // 1
    "type = \"linear_regression\"\n"  // 2
    "n_dims = 3\n"                    // 3
    "n_points = 5\n"                  // 4
    "[model]\n"                       // 5
    "n_embd = 16\n"                   // 6
    "looped = true\n"                 // 7
    "loops = 3\n"                     // 8
    "window = 2\n"                    // 9
    "[training]\n"                    // 10
    "steps = 20\n";                   // 11

const std::string kPlain = "[[model.blocks]]\ntype = \"gpt\"\nn_head = 2\n";
std::string lr_block(const std::string& extra) {
  return "[[model.blocks]]\ntype = \"lr_looped\"\n" + extra + "[model.blocks.inner]\ntype = \"gpt\"\nn_head = 2\n";
}

class LrLooped : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("lr_looped"); }

  std::string file(const std::string& blocks, const std::string& name = "p.toml") {
    const auto path = dir_ + "/" + name;
    test::write_file(path, kHead + blocks);
    return path;
  }
  host::PipelineConfig pipeline(const std::string& path) {
    return host::build_pipeline(host::load_config(path, {}), path, test::bundled_registry(), host::check_factories);
  }
  std::string errors(const std::string& path) {
    try {
      pipeline(path);
    } catch (const host::ConfigError& e) {
      return e.diagnostics().render();
    }
    return "";
  }
  host::SequenceModel model(const std::string& path, uint64_t seed) {
    torch::manual_seed(seed);
    return host::make_model(pipeline(path));
  }

  std::string dir_;
};

TEST_F(LrLooped, TheInnerBlockIsValidatedAgainstItsOwnSchema) {
  const auto path = file("[[model.blocks]]\ntype = \"lr_looped\"\n[model.blocks.inner]\ntype = \"gpt\"\nn_hed = 2\n");
  EXPECT_EQ(errors(path), path +
                              ":16:1: error: unknown parameter 'n_hed' for block 'gpt' (parameter 'inner' for block "
                              "'lr_looped') (did you mean 'n_head'?)\n");
  const auto typo = file("[[model.blocks]]\ntype = \"lr_looped\"\ninner = { type = \"gtp\" }\n", "typo.toml");
  EXPECT_TRUE(contains(errors(typo), typo + ":14:18: error: parameter 'inner' for block 'lr_looped': unknown block "
                                            "'gtp' (did you mean 'gpt'?)"))
      << errors(typo);
  // The inner block's factory complaint surfaces at the wrapper's table.
  const auto heads = file("[[model.blocks]]\ntype = \"lr_looped\"\ninner = { type = \"gpt\", n_head = 3 }\n", "h.toml");
  EXPECT_TRUE(
      contains(errors(heads), heads + ":12:1: error: block 'lr_looped': gpt: n_head (3) must divide n_embd (16)"))
      << errors(heads);
}

TEST_F(LrLooped, DefaultsAndResolvedTomlSpellOutTheInnerBlock) {
  const auto cfg = pipeline(file("[[model.blocks]]\ntype = \"lr_looped\"\n"));
  const auto& inner = cfg.blocks.at(0).params.get_block("inner");
  EXPECT_EQ(inner.type, "gpt");
  EXPECT_EQ(inner.params.get_int("n_head"), 4);
  EXPECT_EQ(cfg.resolved.at_path("model.blocks[0].inner.type").value<std::string>(), "gpt");
  EXPECT_EQ(cfg.resolved.at_path("model.blocks[0].inner.n_head").value<int64_t>(), 4);
  EXPECT_EQ(cfg.resolved.at_path("model.blocks[0].lr_init").value<double>(), 1.0);
}

TEST_F(LrLooped, MustBeTheFirstBlockOfAnIteration) {
  const auto path = file(kPlain + lr_block(""));
  EXPECT_TRUE(contains(errors(path), "block 'lr_looped': must be the first block of an iteration (it is block 1)"))
      << errors(path);
}

TEST_F(LrLooped, FrozenAtOneItIsTheClassicLoopedModel) {
  auto plain = model(file(kPlain), 3);
  auto wrapped = model(file(lr_block("trainable = false\n"), "w.toml"), 3);
  // Same seed, same draws: the wrapper adds one frozen scalar and nothing else.
  auto p = plain->parameters(), w = wrapped->parameters();
  ASSERT_EQ(w.size(), p.size() + 1);
  int64_t frozen = 0;
  for (const auto& t : w) frozen += t.requires_grad() ? 0 : 1;
  EXPECT_EQ(frozen, 1);

  torch::manual_seed(11);
  auto xs = torch::randn({4, 5, 3}), ys = torch::randn({4, 5});
  auto a = plain->run(xs, ys, 6, {1, 3, 6});
  auto b = wrapped->run(xs, ys, 6, {1, 3, 6});
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "iteration report " << i;
  auto la = plain->loss(xs, ys, 3, 2), lb = wrapped->loss(xs, ys, 3, 2);
  EXPECT_EQ(la.item<double>(), lb.item<double>());
}

TEST_F(LrLooped, TheLearnedLrScalesOnlyThePromptAndGetsAGradient) {
  auto m = model(file(lr_block("lr_init = 0.5\n")), 5);
  const auto& block = m->blocks().front();
  auto y = torch::randn({2, 4, 16}), e = torch::randn({2, 4, 16}), p = torch::randn({1, 4, 16});
  EXPECT_TRUE(torch::allclose(block->inject(y, e, p), y + 0.5 * e + p));
  EXPECT_TRUE(torch::allclose(block->inject(y, e, torch::Tensor()), y + 0.5 * e));
  auto scalars = m->traced_scalars();
  ASSERT_EQ(scalars.size(), 1u);
  EXPECT_EQ(scalars[0].first, "lr");

  torch::manual_seed(2);
  m->loss(torch::randn({8, 5, 3}), torch::randn({8, 5}), 3, 2).backward();
  const auto grad = scalars[0].second.grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_TRUE(std::isfinite(grad.item<double>()));
  EXPECT_NE(grad.item<double>(), 0.0);
}

TEST_F(LrLooped, ForwardsKeyMasksToTheInnerBlock) {
  auto m = model(file(lr_block("")), 5);
  const auto& block = m->blocks().front();
  ASSERT_TRUE(block->supports_key_mask());
  auto h = torch::randn({2, 6, 16});
  auto all = torch::ones({1, 6}, torch::kBool);
  EXPECT_TRUE(torch::allclose(block->forward_masked(h, all), block->forward(h), 1e-6, 1e-6));
  auto hide = all.clone();
  hide[0][1] = false;
  EXPECT_FALSE(torch::allclose(block->forward_masked(h, hide), block->forward(h), 1e-6, 1e-6));
}

TEST_F(LrLooped, ItsTrajectoryIsLoggedInTrainCsv) {
  const auto path = file(lr_block("") +
                             "[run]\nthreads = 1\n[evaluation]\nprompts = 32\nbootstrap = 10\n"
                             "[outputs]\nfigures = false\n",
                         "run.toml");
  int rc = 0;
  const auto out =
      test::looplab("run " + path + " --out " + dir_ + "/run --set training.log_every=5 --set training.lr=0.01", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto train = host::read_csv(dir_ + "/run/train.csv");
  ASSERT_EQ(train.columns.back(), "lr");
  ASSERT_EQ(train.rows.size(), 20u);
  // Logged after each step: Adam's first step moves lr by its learning rate, 0.01.
  EXPECT_NEAR(std::stod(train.rows.front().back()), 1.0, 0.0101);
  std::set<std::string> values;
  for (const auto& row : train.rows) values.insert(row.back());
  EXPECT_GT(values.size(), 10u);
}

}  // namespace
}  // namespace looplab
