// `looplab bench` and `looplab doctor` end to end (function only: speed targets live in the
// benchmark, never in tests), and the [run] tf32 / [training] cuda_graphs keys.
#include "test_support.h"

#include <looplab/sdk/cpu_isa.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include <gtest/gtest.h>

namespace looplab {
namespace {

using test::contains;
using test::looplab;

TEST(BenchCli, TinyRowIsOneJsonLineWithTimings) {
  int rc = -1;
  auto out = looplab("bench --config tiny --reps 2 --warmup 1 --threads 1 --json", &rc);
  EXPECT_EQ(rc, 0) << out;
  // One line, one JSON object with the keys bench/pytorch_reference.py prints too.
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  const auto row = nlohmann::json::parse(out);
  EXPECT_EQ(row.at("config"), "tiny");
  EXPECT_EQ(row.at("impl"), "looplab");
  EXPECT_GT(row.at("ms_per_step").get<double>(), 0.0) << out;
  EXPECT_GT(row.at("peak_mb").get<double>(), 0.0) << out;
  EXPECT_EQ(row.at("reps"), 2);
}

TEST(BenchCli, UnknownSizeIsBadInput) {
  int rc = -1;
  auto out = looplab("bench --config huge", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(contains(out, "unknown bench size 'huge'")) << out;
}

TEST(DoctorCli, PrintsLibTorchBlasThreadsAndCpu) {
  int rc = -1;
  auto out = looplab("doctor --threads 1", &rc);
  EXPECT_EQ(rc, 0) << out;
  for (const char* part : {"LibTorch", "CUDA", "threads", "intra-op 1", "BLAS", "CPU"})
    EXPECT_TRUE(contains(out, part)) << part << "\n" << out;
}

TEST(DoctorCli, SaysWhichCopyOfThePluginKernelsRuns) {
  int rc = -1;
  auto out = looplab("doctor --threads 1", &rc);
  EXPECT_EQ(rc, 0) << out;
  // The child inherits this process's environment, LOOPLAB_CPU_ISA included.
  EXPECT_TRUE(contains(out, std::string("plugin kernels   ") + sdk::cpu_isa_name(sdk::cpu_isa()) + " (")) << out;
  rc = test::run_command("LOOPLAB_CPU_ISA=baseline " + test::looplab_exe() + " doctor --threads 1", &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "plugin kernels   baseline (")) << out;
  EXPECT_TRUE(contains(out, "LOOPLAB_CPU_ISA=baseline, this CPU has")) << out;
  test::run_command("LOOPLAB_CPU_ISA=avx9 " + test::looplab_exe() + " doctor --threads 1", &out);
  EXPECT_TRUE(contains(out, "warning: LOOPLAB_CPU_ISA=avx9 is none of avx512, avx2, baseline")) << out;
}

TEST(PipelineKeys, Tf32AndCudaGraphsValidate) {
  const auto dir = test::temp_dir("cuda-keys");
  const auto file = dir + "/p.toml";
  test::write_file(file, std::string("extends = \"") + LOOPLAB_SOURCE_DIR +
                             "/tests/e2e/data/tiny.toml\"\n[run]\ntf32 = false\n[training]\ncuda_graphs = true\n");
  int rc = -1;
  auto out = looplab("validate " + file, &rc);
  EXPECT_EQ(rc, 0) << out;
  out = looplab("validate " + file + " --set training.cuda_graphs=3", &rc);
  EXPECT_EQ(rc, 2) << out;
}

}  // namespace
}  // namespace looplab
