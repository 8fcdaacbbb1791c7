// `looplab sweep sbatch` without a cluster: splitting into arrays, MaxArraySize from
// `scontrol show config`, shell quoting, the scripts written and the usage errors. The run on a
// real cluster is tests/e2e/slurm.sh.
#include "runs/slurm_array.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

TEST(SlurmArray, SplitsAtTheArrayLimit) {
  const auto parts = host::split_array(2003, 1001);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].first, 0);
  EXPECT_EQ(parts[0].count, 1001);
  EXPECT_EQ(parts[1].first, 1001);
  EXPECT_EQ(parts[2].first, 2002);
  EXPECT_EQ(parts[2].count, 1);
  EXPECT_EQ(host::split_array(3, 3).size(), 1u);
  EXPECT_TRUE(host::split_array(0, 5).empty());
}

TEST(SlurmArray, ReadsTheLimitFromShowConfig) {
  const std::string config =
      "Configuration data as of 2026-12-01T19:00:00\nMaxArraySize            = 2\n"
      "MaxJobCount             = 10000\nSchedulerParameters     = (null)\n";
  EXPECT_EQ(host::max_array_size_from_config(config), 2);
  // max_array_tasks lowers it.
  EXPECT_EQ(host::max_array_size_from_config("MaxArraySize = 100001\n"
                                             "SchedulerParameters = bf_interval=30,max_array_tasks=1000\n"),
            1000);
  EXPECT_EQ(host::max_array_size_from_config("SomethingMaxArraySize = 7\nClusterName = x\n"), std::nullopt);
}

TEST(SlurmArray, QuotesForTheShell) {
  EXPECT_EQ(host::shell_quote("/a/b-c_1.toml"), "/a/b-c_1.toml");
  EXPECT_EQ(host::shell_quote("model.loops=5"), "model.loops=5");
  EXPECT_EQ(host::shell_quote("run.name=\"a b\""), "'run.name=\"a b\"'");
  EXPECT_EQ(host::shell_quote("it's $HOME"), "'it'\\''s $HOME'");
  EXPECT_EQ(host::shell_quote(""), "''");
}

TEST(SlurmArray, ScriptRunsEachMemberAsAJobStep) {
  host::SlurmArrayOptions o;
  o.looplab = "/opt/looplab/bin/looplab";
  o.pipeline = "/p/fam.toml";
  o.sweep_dir = "/s/fam";
  o.name = "fam";
  o.sets = {"training.steps=10", "model.blocks=[{ type = \"gpt\" }]"};
  o.cpus_per_task = 4;
  o.max_parallel = 2;
  o.extra = {"#SBATCH --account=lab"};
  const auto script = host::array_script(o, {1001, 5}, 1006, 2, 2);
  for (const auto* line : {"#SBATCH --array=0-4%2\n", "#SBATCH --output=/s/fam/logs/%A_%a.out\n",
                           "#SBATCH --cpus-per-task=4\n", "#SBATCH --signal=TERM@120\n", "#SBATCH --requeue\n",
                           "#SBATCH --account=lab\n", "#SBATCH --open-mode=append\n"})
    EXPECT_TRUE(contains(script, line)) << line << "\n" << script;
  EXPECT_TRUE(contains(script,
                       "srun --ntasks=1 --cpus-per-task=4 /opt/looplab/bin/looplab run /p/fam.toml "
                       "--sweep-index \"$((SLURM_ARRAY_TASK_ID + 1001))\" --out /s/fam --threads 4 "
                       "--set training.steps=10 --set 'model.blocks=[{ type = \"gpt\" }]' &\n"))
      << script;
  // A SIGTERM to the batch shell goes to this task's steps, never to the whole array.
  EXPECT_TRUE(contains(script, "task=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\n")) << script;
  EXPECT_TRUE(contains(script, "trap 'scancel --signal=TERM \"$task\"' TERM\n")) << script;
  EXPECT_TRUE(contains(script, "    scontrol requeue \"$task\"\n")) << script;
  EXPECT_FALSE(contains(script, "--gpus-per-task")) << script;
  const auto compare = host::compare_script(o);
  EXPECT_TRUE(contains(compare, "exec /opt/looplab/bin/looplab compare /s/fam\n")) << compare;
  EXPECT_TRUE(contains(compare, "#SBATCH --account=lab\n")) << compare;
}

class SweepSbatchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("sweep_sbatch");
    file_ = dir_ + "/fam.toml";
    test::write_file(file_, "extends = [\"" + std::string(LOOPLAB_SOURCE_DIR) +
                                "/tests/e2e/data/tiny.toml\"]\n[sweep]\nseeds = [0, 1, 2]\n");
  }
  std::string dir_, file_;
};

TEST_F(SweepSbatchCli, WritesTheScriptsAndHowToSubmitThem) {
  int rc = -1;
  const auto out = looplab("sweep sbatch " + file_ + " --out " + dir_ +
                               "/s --max-array-size 2 --max-parallel 1 "
                               "--cpus-per-task 2 --set training.steps=10",
                           &rc);
  ASSERT_EQ(rc, 0) << out;
  for (const auto* f : {"/s/sweep-1.sbatch", "/s/sweep-2.sbatch", "/s/compare.sbatch", "/s/sweep.csv", "/s/logs"})
    EXPECT_TRUE(fs::exists(dir_ + f)) << f;
  EXPECT_FALSE(fs::exists(dir_ + "/s/sweep.sbatch"));
  EXPECT_TRUE(contains(out, "a2=$(sbatch --parsable --dependency=afterany:${a1%%;*} " + dir_ + "/s/sweep-2.sbatch)"))
      << out;
  EXPECT_TRUE(contains(out, "sbatch --dependency=afterany:${a1%%;*}:${a2%%;*} " + dir_ + "/s/compare.sbatch")) << out;
  const auto second = test::read_file(dir_ + "/s/sweep-2.sbatch");
  EXPECT_TRUE(contains(second, "--sweep-index \"$((SLURM_ARRAY_TASK_ID + 2))\"")) << second;
  EXPECT_TRUE(contains(second, " --threads 2 --set training.steps=10 &\n")) << second;
  EXPECT_TRUE(contains(second, test::looplab_exe() + " run " + file_)) << second;
  std::string syntax;
  EXPECT_EQ(test::run_command("bash -n " + dir_ + "/s/sweep-2.sbatch", &syntax), 0) << syntax;
  // The same sweep again (to resubmit) is fine; another one in its directory is not.
  EXPECT_EQ((looplab("sweep sbatch " + file_ + " --out " + dir_ + "/s", &rc), rc), 0);
  const auto other = looplab("sweep sbatch " + file_ + " --out " + dir_ + "/s --set 'sweep.seeds=[5]'", &rc);
  EXPECT_EQ(rc, 2) << other;
  EXPECT_TRUE(contains(other, "holds another sweep")) << other;
  const auto member = looplab("run " + file_ + " --sweep-index 0 --out " + dir_ + "/s --set 'sweep.seeds=[5]'", &rc);
  EXPECT_EQ(rc, 2) << member;
  EXPECT_TRUE(contains(member, "holds another sweep")) << member;
}

TEST_F(SweepSbatchCli, RefusesWhatWouldBreakAScript) {
  int rc = -1;
  const std::string base = "sweep sbatch " + file_ + " --out " + dir_ + "/s";
  for (const auto& args :
       {std::string("sweep sbatch " + file_), base + " --extra '--mem=1G'", base + " --cpus-per-task 0",
        "sweep sbatch " + file_ + " --out '" + dir_ + "/a b'", base + " --partition 'a b'"}) {
    const auto out = looplab(args, &rc);
    EXPECT_EQ(rc, 2) << args << "\n" << out;
    EXPECT_TRUE(contains(out, "usage: looplab sweep sbatch")) << out;
  }
  const auto single = looplab(
      "sweep sbatch " + std::string(LOOPLAB_SOURCE_DIR) + "/tests/e2e/data/tiny.toml --out " + dir_ + "/t", &rc);
  EXPECT_EQ(rc, 2) << single;
  EXPECT_TRUE(contains(single, "needs a [sweep] table")) << single;
  const auto invalid = looplab(base + " --set model.n_embd=15", &rc);
  EXPECT_EQ(rc, 2) << invalid;
  EXPECT_TRUE(contains(invalid, "n_head (2) must divide n_embd (15)")) << invalid;
  EXPECT_FALSE(fs::exists(dir_ + "/s")) << "nothing is written for a sweep that does not validate";
}

}  // namespace
}  // namespace looplab
