// sdk::cpu_isa(): the detected instruction set, narrowed (never widened) by LOOPLAB_CPU_ISA.

#include <looplab/sdk/cpu_isa.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace looplab {
namespace {

using sdk::CpuIsa;

int rank(CpuIsa isa) { return static_cast<int>(isa); }

TEST(CpuIsa, UnsetRunsWhatTheCpuHas) {
  const sdk::ScopedCpuIsa unset(std::nullopt);
  EXPECT_EQ(sdk::cpu_isa(), sdk::detected_cpu_isa());
}

TEST(CpuIsa, DetectionAgreesWithTheKernelsCpuFlags) {
  // /proc/cpuinfo's flags, read independently of the compiler's CPUID helper.
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string flags;
  char line[8192];
  while (std::fgets(line, sizeof line, f))
    if (std::string(line).rfind("flags", 0) == 0) {
      flags = std::string(line) + " ";
      break;
    }
  std::fclose(f);
  if (flags.empty()) GTEST_SKIP() << "/proc/cpuinfo lists no flags (not x86?)";
  const auto has = [&](const std::string& flag) { return flags.find(" " + flag + " ") != std::string::npos; };
  const bool avx2 = has("avx2") && has("fma");
  const bool avx512 = avx2 && has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl");
  EXPECT_EQ(sdk::detected_cpu_isa(), avx512 ? CpuIsa::avx512 : avx2 ? CpuIsa::avx2 : CpuIsa::baseline);
}

TEST(CpuIsa, NarrowsToTheRequestedSetAndNeverWidens) {
  const CpuIsa detected = sdk::detected_cpu_isa();
  for (const auto& [name, isa] : {std::pair{"avx512", CpuIsa::avx512}, std::pair{"avx2", CpuIsa::avx2},
                                  std::pair{"baseline", CpuIsa::baseline}}) {
    EXPECT_STREQ(sdk::cpu_isa_key(isa), name);
    const sdk::ScopedCpuIsa scope(isa);
    EXPECT_STREQ(std::getenv("LOOPLAB_CPU_ISA"), name);
    bool known = false;
    EXPECT_EQ(sdk::requested_cpu_isa(&known), isa) << name;
    EXPECT_TRUE(known) << name;
    EXPECT_EQ(rank(sdk::cpu_isa()), std::min(rank(isa), rank(detected))) << name;
  }
  const sdk::ScopedCpuIsa baseline(CpuIsa::baseline);
  EXPECT_EQ(sdk::for_cpu_isa(1, 2, 3), 3);
  EXPECT_STREQ(sdk::cpu_isa_name(sdk::cpu_isa()), "baseline");
}

TEST(CpuIsa, RunnableSetsAreTheDetectedOneAndEveryNarrowerOne) {
  const auto runnable = sdk::runnable_cpu_isas();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(runnable.front(), sdk::detected_cpu_isa());
  EXPECT_EQ(runnable.back(), CpuIsa::baseline);
  EXPECT_EQ(runnable.size(), static_cast<size_t>(rank(sdk::detected_cpu_isa()) + 1));
}

TEST(CpuIsa, TheScopeRestoresWhatWasSet) {
  const sdk::ScopedCpuIsa outer(std::nullopt);
  setenv("LOOPLAB_CPU_ISA", "avx2", 1);
  { const sdk::ScopedCpuIsa inner(CpuIsa::baseline); }
  EXPECT_STREQ(std::getenv("LOOPLAB_CPU_ISA"), "avx2");
}

TEST(CpuIsa, AnUnknownValueIsReportedAndNarrowsNothing) {
  const sdk::ScopedCpuIsa restore(std::nullopt);
  setenv("LOOPLAB_CPU_ISA", "avx1024", 1);
  bool known = true;
  sdk::requested_cpu_isa(&known);
  EXPECT_FALSE(known);
  EXPECT_EQ(sdk::cpu_isa(), sdk::detected_cpu_isa());
}

}  // namespace
}  // namespace looplab
