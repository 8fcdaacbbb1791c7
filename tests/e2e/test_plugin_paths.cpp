// Runs that use a block found only through --plugin-path record that directory in
// resolved.toml, so that the resume command the host prints after Ctrl-C (which names no
// --plugin-path) finds the block again; sweeps do the same for every member.
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

namespace looplab {
namespace {

using test::contains;

const std::string kPluginDir = std::string(LOOPLAB_TEST_PLUGIN_DIR) + "/outside_mixer";

// A tiny looped model whose only block is the out-of-tree one.
std::string pipeline(const std::string& dir, const std::string& extra = "") {
  const auto path = dir + "/outside.toml";
  test::write_file(path,
                   "[run]\nname = \"outside\"\nthreads = 1\n"
                   "[task]\ntype = \"linear_regression\"\nn_dims = 2\nn_points = 4\n"
                   "[model]\nn_embd = 16\nlooped = true\nloops = 2\n"
                   "[[model.blocks]]\ntype = \"outside_mixer\"\n"
                   "[training]\nsteps = 3000\nlog_every = 500\ncheckpoint_every = 1000\n"
                   "[evaluation]\nprompts = 32\nbootstrap = 10\n"
                   "[outputs]\nfigures = false\n" +
                       extra);
  return path;
}

TEST(PluginPaths, AnInterruptedRunResumesWithThePrintedCommandAlone) {
  const auto dir = test::temp_dir("plugin-path-resume");
  const auto run = dir + "/run";
  // SIGINT as soon as the run directory exists, long before 3000 steps (about 3 s) are done:
  // the next step sees the stop, checkpoints and exits 130.
  const std::string cmd = test::looplab_exe() + " run " + pipeline(dir) + " --plugin-path " + kPluginDir + " --out " +
                          run + " > " + dir + "/out.txt 2>&1 & pid=$!; " + "while [ ! -e " + run +
                          "/run.json ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done; kill -INT $pid; wait $pid";
  const int rc = test::run_command(cmd, nullptr);
  const auto out = test::read_file(dir + "/out.txt");
  ASSERT_EQ(rc, 130) << out;
  EXPECT_TRUE(contains(test::read_file(run + "/resolved.toml"), kPluginDir)) << test::read_file(run + "/resolved.toml");
  std::smatch printed;
  ASSERT_TRUE(std::regex_search(out, printed, std::regex("resume with: looplab (run --resume \\S+)"))) << out;
  std::string resumed;
  ASSERT_EQ(test::run_command(test::looplab_exe() + " " + printed[1].str(), &resumed), 0) << resumed;
  EXPECT_TRUE(contains(test::read_file(run + "/run.json"), "\"complete\"")) << resumed;
}

TEST(PluginPaths, EverySweepMemberRecordsThePluginPath) {
  const auto dir = test::temp_dir("plugin-path-sweep");
  const auto sweep = dir + "/s";
  int rc = -1;
  // Member 0 only; the sweep directory gets every member's resolved.toml.
  const auto out =
      test::looplab("run " + pipeline(dir, "[sweep.grid]\n\"model.loops\" = [1, 2]\n") +
                        " --set training.steps=10 --sweep-index 0 --plugin-path " + kPluginDir + " --out " + sweep,
                    &rc);
  ASSERT_EQ(rc, 0) << out;
  int members = 0;
  for (const auto& e : std::filesystem::directory_iterator(sweep))
    if (std::filesystem::exists(e.path() / "resolved.toml")) {
      ++members;
      EXPECT_TRUE(contains(test::read_file((e.path() / "resolved.toml").string()), kPluginDir)) << e.path();
    }
  EXPECT_EQ(members, 2);
  // The resume names no --plugin-path and runs member 1, which finds the block on its own.
  const auto rest = test::looplab("run --resume " + sweep, &rc);
  EXPECT_EQ(rc, 0) << rest;
  EXPECT_FALSE(contains(rest, "unknown block")) << rest;
}

}  // namespace
}  // namespace looplab
