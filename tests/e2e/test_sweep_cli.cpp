// Sweeps end to end: `looplab sweep count|list`, `run` of a whole family (in process and as
// parallel jobs), one member with --sweep-index, resuming, and the comparison it ends with.
#include "common/csv.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

// Two very short looped runs (b 2 and 3): enough to exercise every file a sweep writes.
const std::string kFamily =
    "[run]\nname = \"fam\"\nthreads = 1\n"
    "[task]\ntype = \"linear_regression\"\nn_dims = 2\nn_points = 4\n"
    "[model]\nn_embd = 16\nlooped = true\nloops = 2\n"
    "[[model.blocks]]\ntype = \"gpt\"\nn_head = 2\n"
    "[training]\nsteps = 30\nlog_every = 10\ncheckpoint_every = 10\n"
    "[evaluation]\nprompts = 32\nbootstrap = 10\n"
    "[outputs]\nfigures = true\n"
    "[sweep.grid]\n\"model.loops\" = [2, 3]\n";

class SweepCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("sweep_cli");
    file_ = dir_ + "/fam.toml";
    test::write_file(file_, kFamily);
  }
  std::string dir_, file_;
};

TEST_F(SweepCli, CountAndListShowTheMembers) {
  int rc = -1;
  EXPECT_EQ(looplab("sweep count " + file_, &rc), "2\n");
  EXPECT_EQ(rc, 0);
  const auto list = looplab("sweep list " + file_, &rc);
  EXPECT_EQ(rc, 0) << list;
  EXPECT_TRUE(contains(list, "0\tloops-2-")) << list;
  EXPECT_TRUE(contains(list, "\tmodel.loops=3\n")) << list;
  const auto bad = looplab("sweep list " + file_ + " --set model.n_embd=15", &rc);
  EXPECT_EQ(rc, 2) << bad;
  EXPECT_TRUE(contains(bad, "n_head (2) must divide n_embd (15)")) << bad;
  EXPECT_TRUE(contains(looplab("validate " + file_, &rc), "ok (a sweep of 2 runs, each valid)"));
}

TEST_F(SweepCli, RunsEveryMemberInParallelThenCompares) {
  int rc = -1;
  const auto out = looplab("run " + file_ + " --out " + dir_ + "/s --jobs 2", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto manifest = host::read_csv(dir_ + "/s/sweep.csv");
  ASSERT_EQ(manifest.rows.size(), 2u);
  for (const auto& row : manifest.rows) {
    const auto run = dir_ + "/s/" + row[1];
    EXPECT_TRUE(contains(test::read_file(run + "/run.json"), "\"complete\"")) << run;
    EXPECT_TRUE(fs::exists(run + "/eval.csv")) << run;
    EXPECT_TRUE(contains(test::read_file(run + "/resolved.toml"), "name = 'fam-" + row[1] + "'") ||
                contains(test::read_file(run + "/resolved.toml"), "name = \"fam-" + row[1] + "\""))
        << test::read_file(run + "/resolved.toml");
  }
  const auto md = test::read_file(dir_ + "/s/compare/compare.md");
  EXPECT_TRUE(contains(md, "| loops=2 | 2 | 30 |")) << md;
  EXPECT_TRUE(contains(md, "| loops=3 | 3 | 30 |")) << md;
  EXPECT_TRUE(fs::exists(dir_ + "/s/compare/train_loss.png"));

  // Everything is complete: resuming does nothing but compare again.
  const auto again = looplab("run --resume " + dir_ + "/s", &rc);
  EXPECT_EQ(rc, 0) << again;
  EXPECT_TRUE(contains(again, "0 of 2 runs to do")) << again;
}

TEST_F(SweepCli, SweepIndexRunsOneMemberIntoTheSharedDirectory) {
  int rc = -1;
  const auto out = looplab("run " + file_ + " --out " + dir_ + "/s --sweep-index 1", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "sweep run 1 (model.loops=3)")) << out;
  // Every member gets its directory (the others pending) and the directory its manifest.
  const auto manifest = host::read_csv(dir_ + "/s/sweep.csv");
  ASSERT_EQ(manifest.rows.size(), 2u);
  EXPECT_TRUE(contains(test::read_file(dir_ + "/s/" + manifest.rows[0][1] + "/run.json"), "\"pending\""));
  EXPECT_TRUE(contains(test::read_file(dir_ + "/s/" + manifest.rows[1][1] + "/run.json"), "\"complete\""));
  EXPECT_TRUE(contains(looplab("run " + file_ + " --out " + dir_ + "/s --sweep-index 1", &rc), "already complete"));
  // The manifest makes the directory a sweep: resuming runs the member not yet done.
  const auto rest = looplab("run --resume " + dir_ + "/s", &rc);
  EXPECT_EQ(rc, 0) << rest;
  EXPECT_TRUE(contains(rest, "1 of 2 runs to do")) << rest;
  EXPECT_TRUE(fs::exists(dir_ + "/s/compare/compare.md")) << rest;
  const auto bad = looplab("run " + file_ + " --out " + dir_ + "/s --sweep-index 2", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(contains(bad, "--sweep-index 2 is out of range (the sweep has 2 runs: 0..1)")) << bad;
}

TEST_F(SweepCli, CompareLabelsRunsByWhatDiffers) {
  int rc = -1;
  ASSERT_EQ((looplab("run " + file_ + " --out " + dir_ + "/s", &rc), rc), 0);
  const auto manifest = host::read_csv(dir_ + "/s/sweep.csv");
  const auto out = looplab("compare " + dir_ + "/s/" + manifest.rows[0][1] + " " + dir_ + "/s/" + manifest.rows[1][1] +
                               " --out " + dir_ + "/cmp",
                           &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto md = test::read_file(dir_ + "/cmp/compare.md");
  EXPECT_TRUE(contains(md, "| loops=2 |")) << md;
  EXPECT_TRUE(contains(md, "| loops=3 |")) << md;
  EXPECT_EQ((looplab("compare " + dir_ + "/nowhere", &rc), rc), 2);
}

}  // namespace
}  // namespace looplab
