// The conformance suite over every discovered plugin: the bundled plugin directory plus every
// directory in LOOPLAB_PLUGIN_PATH, so a new plugin is checked by pointing that variable at it.
// Also proves the checker can fail, and drives `looplab plugins check`.

#include "registry/conformance.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace looplab {
namespace {

const std::string kBundledDir = std::string(LOOPLAB_BUILD_DIR) + "/lib/looplab/plugins";

/// One (component, check) pair.
struct Case {
  const sdk::Component* component = nullptr;
  std::string file;
  std::string check;
  std::string test_name;  ///< e.g. gpt_causality
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.test_name << " (" << c.file << ")"; }

std::string sanitize(const std::string& text) {
  std::string out;
  for (char ch : text) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

std::vector<Case> discovered_cases() {
  std::vector<Case> cases;
  std::set<std::string> names;
  for (const auto* lc : test::discovered_registry().all())
    for (const auto& check : host::applicable_checks(*lc->component)) {
      Case c{lc->component, lc->file, check, sanitize(lc->component->name + "_" + check)};
      // A block and a task may share a name; the kind keeps their tests apart.
      if (!names.insert(c.test_name).second) {
        c.test_name = sanitize(std::string(sdk::kind_name(lc->component->kind())) + "_" + c.test_name);
        names.insert(c.test_name);
      }
      cases.push_back(std::move(c));
    }
  return cases;
}

class Conformance : public testing::TestWithParam<Case> {};

TEST_P(Conformance, Check) {
  const Case& c = GetParam();
  const auto result = host::run_check(*c.component, c.check, &test::discovered_registry());
  if (result.skipped) GTEST_SKIP() << result.detail;
  EXPECT_TRUE(result.passed) << c.file << ": " << sdk::kind_name(c.component->kind()) << " '" << c.component->name
                             << "' fails " << c.check << ": " << result.detail;
}

INSTANTIATE_TEST_SUITE_P(Plugins, Conformance, testing::ValuesIn(discovered_cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.test_name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

TEST(ConformanceDiscovery, PluginDirectoriesLoadWithoutProblems) {
  const auto& registry = test::discovered_registry();
  for (const auto& problem : registry.problems()) ADD_FAILURE() << problem;
  EXPECT_NE(registry.find(sdk::ComponentKind::Block, "gpt"), nullptr);
  EXPECT_NE(registry.find(sdk::ComponentKind::Task, "linear_regression"), nullptr);
}

// ---- the checker can fail -------------------------------------------------------------------

host::CheckResult find_result(const std::vector<host::CheckResult>& results, const std::string& check) {
  for (const auto& r : results)
    if (r.check == check) return r;
  throw std::runtime_error("no result for check " + check);
}

/// Adds a projection of the mean over all positions: every output sees the future.
class PeekingBlock : public sdk::Block {
 public:
  explicit PeekingBlock(int64_t width) : proj_(register_module("proj", torch::nn::Linear(width, width))) {}
  torch::Tensor forward(const torch::Tensor& h) override {
    return h + proj_->forward(h.mean(1, /*keepdim=*/true)).expand_as(h);
  }

 private:
  torch::nn::Linear proj_;
};

TEST(ConformanceCatches, NonCausalBlock) {
  const auto component =
      sdk::make_block_component("peeking", "0.0.0", "sees the future", {},
                                [](const sdk::Params&, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
                                  return std::make_shared<PeekingBlock>(ctx.n_embd);
                                });
  const auto results = host::check_component(component);
  const auto causality = find_result(results, "causality");
  EXPECT_FALSE(causality.passed);
  EXPECT_FALSE(causality.skipped);
  EXPECT_NE(causality.detail.find("changed the outputs at earlier positions"), std::string::npos) << causality.detail;
  EXPECT_NE(causality.detail.find("sees the future"), std::string::npos) << causality.detail;
  // The other checks still judge it on their own merits.
  EXPECT_TRUE(find_result(results, "shape").passed) << find_result(results, "shape").detail;
  EXPECT_TRUE(find_result(results, "unique_parameters").passed);
}

/// h + W (mean of h over the visible keys k <= q, the query always among them): a block that
/// claims key masks, with the flaws the key_mask check exists to catch.
class MaskedMeanBlock : public sdk::Block {
 public:
  enum class Flaw { None, Zeros, IgnoresTheMask, HidesTheQueryToo, FirstRowForAll };
  MaskedMeanBlock(int64_t width, Flaw flaw)
      : proj_(register_module("proj", torch::nn::Linear(width, width))), flaw_(flaw) {}
  torch::Tensor forward(const torch::Tensor& h) override { return mix(h, torch::ones({1, h.size(1)}, torch::kBool)); }
  bool supports_key_mask() const override { return true; }
  torch::Tensor forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask) override {
    switch (flaw_) {
      case Flaw::Zeros: return torch::zeros_like(h);
      case Flaw::IgnoresTheMask: return forward(h);
      case Flaw::FirstRowForAll: return mix(h, key_mask.narrow(0, 0, 1).ne(0));
      default: return mix(h, key_mask.ne(0));
    }
  }

 private:
  torch::Tensor mix(const torch::Tensor& h, const torch::Tensor& visible) {
    const auto s = h.size(1);
    auto allowed = torch::ones({s, s}, torch::kBool).tril() & visible.unsqueeze(1);  // [B or 1, S, S]
    if (flaw_ != Flaw::HidesTheQueryToo) allowed = allowed | torch::eye(s, torch::kBool);
    const auto w = allowed.to(h.scalar_type());
    return h + proj_->forward(torch::matmul(w / w.sum(-1, /*keepdim=*/true), h));
  }

  torch::nn::Linear proj_;
  Flaw flaw_;
};

sdk::Component masked_mean(MaskedMeanBlock::Flaw flaw) {
  return sdk::make_block_component(
      "masked_mean", "0.0.0", "a mean over visible keys", {},
      [flaw](const sdk::Params&, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
        return std::make_shared<MaskedMeanBlock>(ctx.n_embd, flaw);
      });
}

TEST(ConformanceCatches, KeyMasksThatBreakTheContractOfForwardMasked) {
  using Flaw = MaskedMeanBlock::Flaw;
  for (const auto& r : host::check_component(masked_mean(Flaw::None)))
    EXPECT_TRUE(r.passed) << r.check << ": " << r.detail;
  const std::vector<std::pair<Flaw, std::string>> flawed = {
      {Flaw::Zeros, "with every key visible forward_masked() differs from forward()"},
      {Flaw::IgnoresTheMask, "hiding key 0 in batch row 0 changed no output after position 0"},
      {Flaw::HidesTheQueryToo, "hiding key 0 in batch row 0 changed the outputs at positions <= 0"},
      {Flaw::FirstRowForAll, "hiding key 0 in batch row 0 changed row 1, whose mask hides nothing"},
  };
  for (const auto& [flaw, why] : flawed) {
    const auto results = host::check_component(masked_mean(flaw));
    const auto key_mask = find_result(results, "key_mask");
    EXPECT_FALSE(key_mask.passed) << why;
    EXPECT_FALSE(key_mask.skipped) << why;
    EXPECT_NE(key_mask.detail.find(why), std::string::npos) << key_mask.detail;
    EXPECT_TRUE(find_result(results, "causality").passed) << find_result(results, "causality").detail;
  }
}

/// Linear regression that claims E[y^2] = 2 * active_dims (the truth is active_dims).
class OverstatedMomentTask : public sdk::Task {
 public:
  explicit OverstatedMomentTask(int64_t n_dims) : n_dims_(n_dims) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto xs = at::randn({batch, points, n_dims_}, gen, torch::TensorOptions().device(device));
    if (active_dims < n_dims_) xs.narrow(2, active_dims, n_dims_ - active_dims).zero_();
    const auto w = at::randn({batch, n_dims_, 1}, gen, torch::TensorOptions().device(device));
    return {xs, xs.bmm(w).squeeze(-1)};
  }
  double y_second_moment(int64_t active_dims) const override { return 2.0 * static_cast<double>(active_dims); }
  std::vector<std::string> baselines() const override { return {sdk::baseline::kLeastSquares, "magic"}; }

 private:
  int64_t n_dims_;
};

TEST(ConformanceCatches, WrongSecondMomentAndUnknownBaseline) {
  const auto component =
      sdk::make_task_component("overstated", "0.0.0", "wrong E[y^2]", {},
                               [](const sdk::Params&, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
                                 return std::make_shared<OverstatedMomentTask>(ctx.n_dims);
                               });
  const auto results = host::check_component(component, &test::bundled_registry());
  const auto moment = find_result(results, "second_moment");
  EXPECT_FALSE(moment.passed);
  EXPECT_NE(moment.detail.find("y_second_moment(5) = 10"), std::string::npos) << moment.detail;
  EXPECT_NE(moment.detail.find("standard error"), std::string::npos) << moment.detail;
  EXPECT_FALSE(find_result(results, "active_dims").passed);
  const auto baselines = find_result(results, "baselines");
  EXPECT_FALSE(baselines.passed);
  EXPECT_NE(baselines.detail.find("'magic'"), std::string::npos) << baselines.detail;
  // Sampling itself is fine.
  EXPECT_TRUE(find_result(results, "shapes_and_dtype").passed) << find_result(results, "shapes_and_dtype").detail;
  EXPECT_TRUE(find_result(results, "determinism").passed) << find_result(results, "determinism").detail;
}

/// A baseline that predicts y_i from the prefix and y_i itself (or noise from the global
/// generator): what the baseline checks exist to catch.
class FlawedBaseline : public sdk::Baseline {
 public:
  enum class Flaw { None, SeesItsTarget, SeesTheFuture, IgnoresTheGenerator };
  explicit FlawedBaseline(Flaw flaw) : flaw_(flaw) {}
  torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, at::Generator& gen) const override {
    // Prefix mean of y: column i averages y_0..y_{i-1} (0 at i = 0).
    const auto n = ys.size(1);
    const auto count = torch::arange(n, ys.options()).clamp_min(1.0);
    auto pred = (ys.cumsum(1) - ys) / count;
    switch (flaw_) {
      case Flaw::None: pred = pred + 0.0 * at::randn(ys.sizes(), gen); break;
      case Flaw::SeesItsTarget: pred = pred + 0.5 * ys; break;
      case Flaw::SeesTheFuture: pred = pred + xs.sum({1, 2}).unsqueeze(1) * 0.01; break;
      case Flaw::IgnoresTheGenerator: pred = pred + torch::randn(ys.sizes()); break;
    }
    return pred.index_put_({torch::indexing::Slice(), 0}, 0.0);
  }
  std::string label() const override { return "flawed"; }

 private:
  Flaw flaw_;
};

sdk::Component flawed_baseline(FlawedBaseline::Flaw flaw) {
  return sdk::make_baseline_component("flawed", "0.0.0", "a baseline with a flaw", {},
                                      [flaw](const sdk::Params&, const sdk::BaselineContext&) {
                                        return std::make_shared<FlawedBaseline>(flaw);
                                      });
}

TEST(ConformanceCatches, BaselinesThatSeeTheirTargetOrTheFutureOrIgnoreTheGenerator) {
  using Flaw = FlawedBaseline::Flaw;
  for (const auto& r : host::check_component(flawed_baseline(Flaw::None)))
    EXPECT_TRUE(r.passed) << r.check << ": " << r.detail;

  const auto target = find_result(host::check_component(flawed_baseline(Flaw::SeesItsTarget)), "causality");
  EXPECT_FALSE(target.passed);
  EXPECT_NE(target.detail.find("changing y_1 changed a prediction for a position <= 1"), std::string::npos)
      << target.detail;

  const auto future = find_result(host::check_component(flawed_baseline(Flaw::SeesTheFuture)), "causality");
  EXPECT_FALSE(future.passed);
  EXPECT_NE(future.detail.find("changed a prediction for a position < "), std::string::npos) << future.detail;

  const auto results = host::check_component(flawed_baseline(Flaw::IgnoresTheGenerator));
  EXPECT_FALSE(find_result(results, "determinism").passed);
  EXPECT_TRUE(find_result(results, "shape").passed) << find_result(results, "shape").detail;
}

TEST(ConformanceCatches, ThrowingFactoryFailsEveryCheckWithoutCrashing) {
  const auto component =
      sdk::make_block_component("broken", "0.0.0", "factory throws", {},
                                [](const sdk::Params&, const sdk::BlockContext&) -> std::shared_ptr<sdk::Block> {
                                  throw std::runtime_error("n_embd 32 is not supported");
                                });
  const auto results = host::check_component(component);
  ASSERT_EQ(results.size(), host::applicable_checks(component).size());
  for (const auto& r : results) {
    if (r.check == "reserved_keys") {  // reads the schema only, builds nothing
      EXPECT_TRUE(r.passed) << r.detail;
      continue;
    }
    EXPECT_FALSE(r.passed) << r.check;
    EXPECT_EQ(r.detail, "threw: n_embd 32 is not supported") << r.check;
  }
}

TEST(ConformanceCatches, ASchemaThatDeclaresAHostKey) {
  const auto component =
      sdk::make_block_component("greedy", "0.0.0", "declares repeat", {sdk::int_param("repeat", 2, "copies")},
                                [](const sdk::Params&, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
                                  return std::make_shared<PeekingBlock>(ctx.n_embd);
                                });
  const auto reserved = find_result(host::check_component(component), "reserved_keys");
  EXPECT_FALSE(reserved.passed);
  EXPECT_NE(reserved.detail.find("declares 'repeat', which the host owns (type, repeat for a block)"),
            std::string::npos)
      << reserved.detail;
}

TEST(ConformanceCatches, RequiredParameterIsReportedOnceAsSkipped) {
  const auto component = sdk::make_task_component(
      "needs_path", "0.0.0", "required key", {sdk::required_param("path", sdk::ParamType::String, "data file")},
      [](const sdk::Params&, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
        return std::make_shared<OverstatedMomentTask>(ctx.n_dims);
      });
  const auto results = host::check_component(component);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].passed);
  EXPECT_TRUE(results[0].skipped);
  EXPECT_NE(results[0].detail.find("path"), std::string::npos) << results[0].detail;
}

// ---- looplab plugins check ------------------------------------------------------------------

TEST(PluginsCheckCommand, PassesTheBundledGptBlock) {
  std::string out;
  const int rc =
      test::run_command(test::looplab_exe() + " plugins check " + kBundledDir + "/liblooplab_block_gpt.so", &out);
  EXPECT_EQ(rc, 0) << out;
  for (const char* line : {"PASS gpt: shape\n", "PASS gpt: causality\n", "PASS gpt: key_mask\n",
                           "PASS gpt: works_looped\n", "PASS gpt: reserved_keys\n", "9 passed, 0 failed\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << " missing from:\n" << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
}

TEST(PluginsCheckCommand, RefusedLibraryExitsTwoWithTheRegistryLine) {
  const auto dir = test::temp_dir("plugins-check");
  const auto junk = dir + "/libjunk.so";
  test::write_file(junk, "not a library\n");
  std::string out;
  const int rc = test::run_command(test::looplab_exe() + " plugins check " + junk, &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(junk + ": error: not a shared library"), std::string::npos) << out;
  EXPECT_EQ(out.find("passed"), std::string::npos) << out;
}

}  // namespace
}  // namespace looplab
