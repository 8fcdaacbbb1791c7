// Analyses end to end: [[analyses]] in a pipeline, `looplab analyze` on a finished run, and an
// analysis library dropped into a fresh plugin directory with no rebuild of the host.
#include "common/csv.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

// One short tiny run, with the loop-iteration analysis in its pipeline, shared by the tests.
class Analyses : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::temp_dir("analyses"));
    int rc;
    *log_ = test::train_tiny(*dir_, "[[analyses]]\ntype = \"loop_iterations\"\nmax_iterations = 10\n", &rc);
    rc_ = rc;
  }
  static std::string run() { return *dir_ + "/run"; }
  static std::string* dir_;
  static std::string* log_;
  static int rc_;
};
std::string* Analyses::dir_ = nullptr;
std::string* Analyses::log_ = new std::string;
int Analyses::rc_ = -1;

TEST_F(Analyses, PipelineRunsLoopIterationsAndLinksItFromTheReport) {
  ASSERT_EQ(rc_, 0) << *log_;
  const auto table = host::read_csv(run() + "/analyses/loop_iterations/loop_iterations.csv");
  ASSERT_EQ(table.rows.size(), 10u);
  EXPECT_TRUE(fs::exists(run() + "/analyses/loop_iterations/loop_iterations.png"));
  const auto report = test::read_file(run() + "/report.md");
  EXPECT_TRUE(contains(report, "## Analysis: loop_iterations")) << report;
  EXPECT_TRUE(contains(report, "(analyses/loop_iterations/loop_iterations.png)")) << report;
  EXPECT_TRUE(contains(test::read_file(run() + "/resolved.toml"), "[[analyses]]"));
}

TEST_F(Analyses, LoopIterationsAtTrainedLoopsEqualsTheEvaluator) {
  ASSERT_EQ(rc_, 0) << *log_;
  // tiny.toml: b = 4, n_points = 7, so the last position has 6 examples.
  double from_eval = NAN, from_analysis = NAN;
  for (const auto& row : host::read_csv(run() + "/eval.csv").rows)
    if (row[0] == "model" && row[1] == "4" && row[2] == "6") from_eval = std::stod(row[3]);
  for (const auto& row : host::read_csv(run() + "/analyses/loop_iterations/loop_iterations.csv").rows)
    if (row[0] == "4") from_analysis = std::stod(row[1]);
  ASSERT_TRUE(std::isfinite(from_eval) && std::isfinite(from_analysis));
  EXPECT_NEAR(from_analysis, from_eval, 1e-6 * from_eval);
}

TEST_F(Analyses, DroppedInLibraryRunsWithoutRebuildingTheHost) {
  ASSERT_EQ(rc_, 0) << *log_;
  int rc;
  // Not installed: the host does not know it.
  auto out = looplab("analyze " + run() + " --analysis last_point_error", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out, "unknown analysis 'last_point_error'")) << out;

  // Copy the library into a fresh directory: now it is listed and runs.
  const auto plugins = test::temp_dir("dropin-plugins");
  ASSERT_EQ(test::run_command(
                "cp " + std::string(LOOPLAB_TEST_PLUGIN_DIR) + "/dropin/liblooplab_analysis_dropin.so " + plugins + "/",
                nullptr),
            0);
  out = looplab("plugins list --plugin-path " + plugins, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "analysis  last_point_error")) << out;

  out = looplab("analyze " + run() + " --analysis last_point_error --set label=copied --plugin-path " + plugins, &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto table = host::read_csv(run() + "/analyses/last_point_error/last_point.csv");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0][0], "copied");
  EXPECT_TRUE(contains(test::read_file(run() + "/report.md"), "## Analysis: last_point_error"));
}

// An analysis' generator derives from the run's seed and the analysis' type, not from its
// place in [[analyses]]: `looplab analyze` hands it the generator the pipeline handed it.
TEST(AnalysisSeeds, AnalyzeDrawsWhatThePipelineDrew) {
  const auto dir = test::temp_dir("analysis-seeds");
  const auto plugins = std::string(LOOPLAB_TEST_PLUGIN_DIR) + "/dropin";
  test::write_file(dir + "/p.toml", test::read_file(test::tiny_pipeline()) +
                                        "\n[[analyses]]\ntype = \"loop_iterations\"\nmax_iterations = 2\n"
                                        "[[analyses]]\ntype = \"last_point_error\"\n");
  int rc = -1;
  auto out = looplab("run " + dir + "/p.toml --set training.steps=20 --out " + dir + "/run --plugin-path " + plugins, &rc);
  ASSERT_EQ(rc, 0) << out;
  out = looplab("analyze " + dir + "/run --analysis last_point_error --plugin-path " + plugins, &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto in_pipeline = host::read_csv(dir + "/run/analyses/last_point_error/draws.csv");
  const auto analyzed = host::read_csv(dir + "/run/analyses/last_point_error-2/draws.csv");
  ASSERT_EQ(in_pipeline.rows.size(), 3u);
  EXPECT_EQ(analyzed.rows, in_pipeline.rows);
  EXPECT_NE(in_pipeline.rows[0], in_pipeline.rows[1]);  // real draws, not a constant
}

TEST_F(Analyses, AnalyzeRefusesBadParametersAndMissingRuns) {
  ASSERT_EQ(rc_, 0) << *log_;
  int rc;
  auto out = looplab("analyze " + run() + " --analysis loop_iterations --set max_iteration=5", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out,
                       "unknown parameter 'max_iteration' for analysis 'loop_iterations' (did you mean "
                       "'max_iterations'?)"))
      << out;
  out = looplab("analyze " + *dir_ + "/nowhere --analysis loop_iterations", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out, "not a run directory")) << out;
}

TEST_F(Analyses, LoopIterationsRefusesAStandardModel) {
  const auto dir = test::temp_dir("analyses-standard");
  const auto pipeline = dir + "/pipeline.toml";
  test::write_file(pipeline, "extends = [\"" + std::string(LOOPLAB_SOURCE_DIR) +
                                 "/tests/e2e/data/tiny.toml\"]\n"
                                 "[model]\nlooped = false\nloops = 1\nwindow = 0\n"
                                 "[training]\nsteps = 5\n[outputs]\nfigures = false\n");
  int rc;
  auto out = looplab("run " + pipeline + " --out " + dir + "/run", &rc);
  ASSERT_EQ(rc, 0) << out;
  out = looplab("analyze " + dir + "/run --analysis loop_iterations", &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_TRUE(contains(out, "analysis 'loop_iterations' failed: needs a looped model")) << out;
}

}  // namespace
}  // namespace looplab
