// Thread choice: the cores this process may use, the load of other processes, and the count a
// run with [run] threads = 0 takes from them.

#include "common/cpu_load.h"

#include <gtest/gtest.h>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace looplab::host {
namespace {

TEST(ThreadChoice, AnExplicitCountIsKept) {
  const auto c = choose_threads(3, CpuBudget{2, 0}, 2.0);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.reason, "asked for");
}

TEST(ThreadChoice, ZeroTakesTheCoresOtherProcessesLeaveFree) {
  EXPECT_EQ(choose_threads(0, CpuBudget{2, 0}, 0.1).threads, 2);
  EXPECT_EQ(choose_threads(0, CpuBudget{2, 0}, 1.0).threads, 1);
  EXPECT_EQ(choose_threads(0, CpuBudget{2, 0}, 2.0).threads, 1);  // never fewer than one
  EXPECT_EQ(choose_threads(0, CpuBudget{16, 0}, 5.4).threads, 11);
  EXPECT_NE(choose_threads(0, CpuBudget{2, 0}, 1.0).reason.find("other processes keep 1 of 2 cores busy"),
            std::string::npos);
}

TEST(ThreadChoice, ACgroupQuotaCapsTheAffinityMask) {
  EXPECT_EQ((CpuBudget{8, 2.5}).usable(), 3);
  EXPECT_EQ((CpuBudget{2, 4.0}).usable(), 2);
  EXPECT_EQ((CpuBudget{4, 0.2}).usable(), 1);
  EXPECT_EQ(choose_threads(0, CpuBudget{8, 2.0}, 0.0).threads, 2);
}

TEST(ThreadChoice, AnUnknownLoadTakesEveryUsableCore) {
  const auto c = choose_threads(0, CpuBudget{4, 0}, -1);
  EXPECT_EQ(c.threads, 4);
  EXPECT_NE(c.reason.find("unknown"), std::string::npos);
}

TEST(CpuLoad, TheBudgetIsThisProcesssAffinity) {
  const auto b = cpu_budget();
  EXPECT_GE(b.affinity, 1);
  EXPECT_GE(b.usable(), 1);
  EXPECT_LE(b.usable(), b.affinity);
}

TEST(CpuLoad, ABusyChildIsSeenAsAnotherProcesssLoad) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (volatile unsigned long i = 0;; ++i) {
    }
  }
  const double others = busy_cores_of_others(400);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // One spinning process is about one core (more if the machine is busy anyway).
  EXPECT_GE(others, 0.6);
}

}  // namespace
}  // namespace looplab::host
