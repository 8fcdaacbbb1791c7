// The loss-landscape and token-ablation analyses end to end: in a pipeline, through
// `looplab analyze`, against the run's own evaluation, and dropped into a host that was
// built and installed without them.
#include "common/csv.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

// A short tiny run (tiny.toml: d 3, P 7, b 4 = T) whose pipeline runs the landscape and then
// the loop-iteration analysis in the same process.
class LandscapeAndAblation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::temp_dir("landscape-ablation"));
    int rc;
    *log_ = test::train_tiny(*dir_,
                             "[[analyses]]\ntype = \"loss_landscape\"\nresolution = 5\nprompts = 64\n"
                             "[[analyses]]\ntype = \"loop_iterations\"\nmax_iterations = 4\n",
                             &rc);
    rc_ = rc;
  }
  static std::string run() { return *dir_ + "/run"; }
  // eval.csv's model error at the trained b = 4, by number of examples 0..6.
  static std::map<int, double> evaluated() {
    std::map<int, double> out;
    for (const auto& row : host::read_csv(run() + "/eval.csv").rows)
      if (row[0] == "model" && row[1] == "4") out[std::stoi(row[2])] = std::stod(row[3]);
    return out;
  }
  static std::string* dir_;
  static std::string* log_;
  static int rc_;
};
std::string* LandscapeAndAblation::dir_ = nullptr;
std::string* LandscapeAndAblation::log_ = new std::string;
int LandscapeAndAblation::rc_ = -1;

TEST_F(LandscapeAndAblation, LandscapeWritesGridFiguresAndLeavesTheWeightsAsTrained) {
  ASSERT_EQ(rc_, 0) << *log_;
  const auto dir = run() + "/analyses/loss_landscape/";
  const auto grid = host::read_csv(dir + "loss_landscape.csv");
  ASSERT_EQ(grid.columns, (std::vector<std::string>{"alpha", "beta", "loss"}));
  ASSERT_EQ(grid.rows.size(), 25u);
  EXPECT_EQ(grid.rows[12][0], "0");
  EXPECT_EQ(grid.rows[12][1], "0");
  for (const auto* name : {"loss_landscape_contour", "loss_landscape_surface"}) {
    EXPECT_TRUE(fs::exists(dir + name + ".png")) << name;
    EXPECT_TRUE(
        contains(test::read_file(run() + "/report.md"), std::string("(analyses/loss_landscape/") + name + ".png)"));
  }
  const auto directions = host::read_csv(dir + "loss_landscape_directions.csv");
  EXPECT_EQ(directions.rows.front().back(), "0") << "the seed is recorded";
  // The next analysis in the same process sees the trained weights: its error at k = b is the evaluator's.
  double after = NAN;
  for (const auto& row : host::read_csv(run() + "/analyses/loop_iterations/loop_iterations.csv").rows)
    if (row[0] == "4") after = std::stod(row[1]);
  EXPECT_NEAR(after, evaluated().at(6), 1e-6 * evaluated().at(6));
}

TEST_F(LandscapeAndAblation, HessianDirectionsAreUnitEigenvectorsThroughAttention) {
  ASSERT_EQ(rc_, 0) << *log_;
  const auto fresh = test::temp_dir("hessian-run");
  std::string out;
  ASSERT_EQ(test::run_command("cp -r " + run() + " " + fresh + "/run && rm -r " + fresh + "/run/analyses", &out), 0)
      << out;
  int rc;
  out = looplab("analyze " + fresh +
                    "/run --analysis loss_landscape --set 'directions=\"hessian\"' --set resolution=3 "
                    "--set prompts=32 --set hessian_iterations=30",
                &rc);
  ASSERT_EQ(rc, 0) << out;
  // Unit norm over all parameters: the squared per-parameter norms add up to 1.
  double d1 = 0, d2 = 0;
  for (const auto& row : host::read_csv(fresh + "/run/analyses/loss_landscape/loss_landscape_directions.csv").rows) {
    d1 += std::pow(std::stod(row[3]), 2);
    d2 += std::pow(std::stod(row[4]), 2);
  }
  EXPECT_NEAR(d1, 1.0, 1e-4);
  EXPECT_NEAR(d2, 1.0, 1e-4);
  const auto report = test::read_file(fresh + "/run/report.md");
  EXPECT_TRUE(contains(report, "lambda_1 = ") && contains(report, "lambda_2 = ")) << report;
  EXPECT_EQ(host::read_csv(fresh + "/run/analyses/loss_landscape/loss_landscape.csv").rows.size(), 9u);
}

TEST_F(LandscapeAndAblation, EveryAblationModeWithAllTokensEqualsTheEvaluation) {
  ASSERT_EQ(rc_, 0) << *log_;
  const auto eval = evaluated();
  double mean = 0;
  for (const auto& [i, e] : eval) mean += e / static_cast<double>(eval.size());
  for (const std::string mode : {"state", "drop", "keys"}) {
    int rc;
    const auto out = looplab("analyze " + run() + " --analysis token_ablation --set 'mode=\"" + mode +
                                 "\"' --set n_tokens=[14] --set multipliers=[1]",
                             &rc);
    ASSERT_EQ(rc, 0) << out;
    bool found = false;
    for (const auto& entry : fs::directory_iterator(run() + "/analyses")) {
      if (entry.path().filename().string().rfind("token_ablation", 0) != 0) continue;
      for (const auto* keep : {"first", "last"}) {
        const auto table = host::read_csv(entry.path().string() + "/token_ablation_" + keep + ".csv");
        ASSERT_EQ(table.rows.size(), 1u);
        const auto& row = table.rows[0];
        if (row[0] != mode) continue;
        found = true;
        EXPECT_EQ(row[2], "4");  // iterations
        EXPECT_EQ(row[4], "7");  // last query x_7
        EXPECT_EQ(row[5], "6");  // with 6 examples before it
        EXPECT_NEAR(std::stod(row[7]), eval.at(6), 1e-5 * eval.at(6)) << mode << " " << keep;
        EXPECT_NEAR(std::stod(row[10]), mean, 1e-5 * mean) << mode << " " << keep;
      }
    }
    EXPECT_TRUE(found) << mode;
  }
  EXPECT_TRUE(contains(test::read_file(run() + "/report.md"), "(analyses/token_ablation/token_ablation_first.png)"));
}

TEST(LandscapeAndAblationDropIn, BothLibrariesDropIntoAnInstalledHostWithoutThem) {
  // A host laid out like an installation (bin/, lib/, lib/looplab/plugins/) holding only the
  // block, the task and the baselines this run needs.
  const std::string build = LOOPLAB_BUILD_DIR, root = test::temp_dir("installed-host");
  const std::string plugins = root + "/lib/looplab/plugins";
  const std::string copy = "mkdir -p " + root + "/bin " + plugins + " && cp " + build + "/bin/looplab " + root +
                           "/bin/ && cp -P " + build + "/lib/liblooplab_sdk.so* " + root + "/lib/ && cp " + build +
                           "/lib/looplab/plugins/liblooplab_block_gpt.so " + build +
                           "/lib/looplab/plugins/liblooplab_task_linear_regression.so " + build +
                           "/lib/looplab/plugins/liblooplab_baseline_classical.so " + plugins + "/";
  std::string out;
  ASSERT_EQ(test::run_command(copy, &out), 0) << out;
  const std::string host = root + "/bin/looplab";
  // A run made by that host (a few steps: the analyses need weights, not skill).
  const auto fresh = test::temp_dir("dropin-run");
  int rc = test::run_command(host + " run " + LOOPLAB_SOURCE_DIR +
                                 "/tests/e2e/data/tiny.toml --set training.steps=20 "
                                 "--set evaluation.prompts=64 --set evaluation.bootstrap=20 --out " +
                                 fresh + "/run",
                             &out);
  ASSERT_EQ(rc, 0) << out;
  rc = test::run_command(host + " analyze " + fresh + "/run --analysis token_ablation", &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out, "unknown analysis 'token_ablation'")) << out;

  const auto dropped = test::temp_dir("dropped-analyses");
  ASSERT_EQ(test::run_command("cp " + build + "/lib/looplab/plugins/liblooplab_analysis_token_ablation.so " + build +
                                  "/lib/looplab/plugins/liblooplab_analysis_loss_landscape.so " + dropped + "/",
                              &out),
            0)
      << out;
  rc = test::run_command(
      host + " analyze " + fresh + "/run --analysis token_ablation --set n_step=7 --plugin-path " + dropped, &out);
  ASSERT_EQ(rc, 0) << out;
  rc = test::run_command(host + " analyze " + fresh +
                             "/run --analysis loss_landscape --set dims=1 --set resolution=3 "
                             "--set prompts=16 --plugin-path " +
                             dropped,
                         &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(host::read_csv(fresh + "/run/analyses/token_ablation/token_ablation_last.csv").rows.size(),
            6u);  // n = 7, 14 at b, 2b, 3b
  EXPECT_EQ(host::read_csv(fresh + "/run/analyses/loss_landscape/loss_landscape.csv").rows.size(), 3u);
  const auto report = test::read_file(fresh + "/run/report.md");
  EXPECT_TRUE(contains(report, "## Analysis: token_ablation")) << report;
  EXPECT_TRUE(contains(report, "(analyses/loss_landscape/loss_landscape_1d.png)")) << report;
}

}  // namespace
}  // namespace looplab
