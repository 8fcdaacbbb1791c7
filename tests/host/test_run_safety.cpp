// Run directories that survive crashes and a second writer: the run lock, checkpoints written
// atomically, found newest first, their torn temporaries removed; train.csv intervals as the
// divergence checks read them.

#include "common/run_lock.h"
#include "test_support.h"
#include "training/checkpoint.h"
#include "training/train_log.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace looplab::host {
namespace {

TEST(RunLock, ASecondHolderIsRefusedNamingTheFirst) {
  const auto dir = test::temp_dir("lock");
  {
    RunLock first(dir);
    try {
      RunLock second(dir);  // another open file description: flock refuses it even in-process
      FAIL() << "the second lock was granted";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir + " is in use by process " + std::to_string(getpid())), std::string::npos) << what;
      EXPECT_NE(what.find("looplab_tests"), std::string::npos) << what;  // its command line
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  RunLock again(dir);  // released with its holder
  SUCCEED();
}

TEST(RunLock, AnUnwritableDirectoryIsAClearError) {
  try {
    RunLock lock("/nonexistent/run");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open lock file /nonexistent/run/.lock"), std::string::npos);
  }
}

TEST(Checkpoints, AreListedNewestFirstAndTornTemporariesRemoved) {
  const auto dir = test::temp_dir("ckpt");
  for (const char* name : {"step_0000100.pt", "step_0000020.pt", "step_0001000.pt", "step_0000300.pt.tmp.123",
                           "step_0000300.pt.tmp", "notes.txt"})
    test::write_file(dir + "/" + name, "x");
  const auto all = Checkpoint::all(dir);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(fs::path(all[0]).filename(), "step_0001000.pt");
  EXPECT_EQ(fs::path(all[2]).filename(), "step_0000020.pt");
  EXPECT_EQ(Checkpoint::latest(dir), all[0]);
  Checkpoint::remove_partial(dir);
  EXPECT_FALSE(fs::exists(dir + "/step_0000300.pt.tmp.123"));
  EXPECT_FALSE(fs::exists(dir + "/step_0000300.pt.tmp"));
  EXPECT_TRUE(fs::exists(dir + "/notes.txt"));
  Checkpoint::prune(dir, 2);
  EXPECT_EQ(Checkpoint::all(dir).size(), 2u);
  EXPECT_FALSE(fs::exists(dir + "/step_0000020.pt"));
}

TEST(TrainLogInterval, NamesTheFirstNonfiniteStepAndAveragesTheFiniteLosses) {
  const auto dir = test::temp_dir("interval");
  TrainLog log(dir + "/train.csv", {}, 0);
  const double losses[] = {2.0, 4.0, std::nan(""), INFINITY};
  for (int i = 0; i < 4; ++i) {
    auto l = torch::tensor(losses[i]);
    log.add({i + 1, 1, 3, 5, 0.0, /*E[y^2]=*/2.0}, l, l, {});
  }
  ASSERT_TRUE(log.flush());
  EXPECT_EQ(log.interval().rows, 4);
  EXPECT_EQ(log.interval().finite, 2);
  EXPECT_EQ(log.interval().first_nonfinite, 3);
  EXPECT_DOUBLE_EQ(log.interval().mean_loss_norm, 1.5);  // (2/2 + 4/2) / 2
}

}  // namespace
}  // namespace looplab::host
