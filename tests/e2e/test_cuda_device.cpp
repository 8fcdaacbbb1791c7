// Device correctness on a GPU (every test skips without one): the tiny pipeline trained on CUDA
// reaches the CPU's error, CUDA-graph and eager training give the same losses step by step, the
// evaluation prompts do not depend on the device, and every bundled analysis runs on CUDA.
// Figures are off throughout: they are gnuplot's work on the CPU, and the GPU check's machine
// has no gnuplot (scripts/gpu-check.sh).
#include "common/csv.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

const std::string kTiny = test::tiny_pipeline();

// Trains tiny.toml with `extra` TOML appended into dir/NAME; returns the host's output.
std::string train(const std::string& dir, const std::string& name, const std::string& extra, int* rc) {
  const auto pipeline = dir + "/" + name + ".toml";
  test::write_file(pipeline, "extends = [\"" + kTiny + "\"]\n[outputs]\nfigures = false\n" + extra);
  return looplab("run " + pipeline + " --out " + dir + "/" + name, rc);
}

std::string device_run(const std::string& device) { return "[run]\ndevice = \"" + device + "\"\n"; }

// eval.csv rows by "predictor@iterations@examples".
std::map<std::string, std::vector<std::string>> eval_rows(const std::string& run) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& row : host::read_csv(run + "/eval.csv").rows) out[row[0] + "@" + row[1] + "@" + row[2]] = row;
  return out;
}

// The model's mean error at its trained b = 4 over the positions with at least d = 3 examples.
double model_error(const std::string& run) {
  double sum = 0;
  int n = 0;
  for (const auto& row : host::read_csv(run + "/eval.csv").rows)
    if (row[0] == "model" && row[1] == "4" && std::stoi(row[2]) >= 3) sum += std::stod(row[3]), ++n;
  return n > 0 ? sum / n : NAN;
}

// The same pipeline trained on the CPU and on the GPU, shared by the tests that compare them.
class CudaDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
  static void train_both() {
    if (dir_ != nullptr) return;
    dir_ = new std::string(test::temp_dir("cuda-device"));
    for (const std::string device : {"cpu", "cuda"}) {
      int rc;
      logs_[device] = train(*dir_, device, device_run(device), &rc);
      rcs_[device] = rc;
    }
  }
  static std::string run(const std::string& device) { return *dir_ + "/" + device; }
  static std::string* dir_;
  static std::map<std::string, std::string> logs_;
  static std::map<std::string, int> rcs_;
};
std::string* CudaDevice::dir_ = nullptr;
std::map<std::string, std::string> CudaDevice::logs_;
std::map<std::string, int> CudaDevice::rcs_;

TEST_F(CudaDevice, TinyPipelineReachesTheCpuError) {
  train_both();
  ASSERT_EQ(rcs_["cpu"], 0) << logs_["cpu"];
  ASSERT_EQ(rcs_["cuda"], 0) << logs_["cuda"];
  EXPECT_TRUE(contains(test::read_file(run("cuda") + "/resolved.toml"), "device = \"cuda\""));
  // Training prompts come from each device's own generator, so the two runs see different
  // prompts from the same initial weights: equal within a factor of 2 (seed-to-seed spread of
  // this pipeline), and both learned (at most half the error of averaging the examples).
  const double cpu = model_error(run("cpu")), cuda = model_error(run("cuda"));
  ASSERT_TRUE(std::isfinite(cpu) && std::isfinite(cuda)) << cpu << " " << cuda;
  EXPECT_LT(cuda, 2.0 * cpu) << "cuda " << cuda << " cpu " << cpu;
  EXPECT_GT(cuda, 0.5 * cpu) << "cuda " << cuda << " cpu " << cpu;
  const auto rows = eval_rows(run("cuda"));
  ASSERT_TRUE(rows.count("model@4@6") && rows.count("averaging@0@6"));
  EXPECT_LE(std::stod(rows.at("model@4@6")[3]), 0.5 * std::stod(rows.at("averaging@0@6")[3]));
}

TEST_F(CudaDevice, EvaluationPromptsAreTheSameOnBothDevices) {
  train_both();
  ASSERT_EQ(rcs_["cpu"], 0) << logs_["cpu"];
  ASSERT_EQ(rcs_["cuda"], 0) << logs_["cuda"];
  // The baselines are fitted on the CPU in float64 to the fixed evaluation prompts: the same
  // prompts give the same rows to the last digit, whatever device trained the model.
  const auto cpu = eval_rows(run("cpu")), cuda = eval_rows(run("cuda"));
  size_t baselines = 0;
  for (const auto& [key, row] : cpu) {
    if (row[1] != "0") continue;  // a baseline row
    ++baselines;
    ASSERT_TRUE(cuda.count(key)) << key;
    EXPECT_EQ(cuda.at(key), row) << key;
  }
  EXPECT_GE(baselines, 3u * 7u);  // least squares, averaging, 3-NN at i = 0..6
}

// Per-step losses in train.csv (a row for every step).
std::vector<double> losses(const std::string& run) {
  const auto table = host::read_csv(run + "/train.csv");
  const auto col = host::column_index(table, "loss", run + "/train.csv");
  std::vector<double> out;
  for (const auto& row : table.rows) out.push_back(std::stod(row[col]));
  return out;
}

TEST_F(CudaDevice, CudaGraphTrainingGivesTheEagerLossesOver100Steps) {
  const auto dir = test::temp_dir("cuda-graphs");
  // Three curriculum stages of b (2, 3, 4): a graph is captured for each shape.
  const auto pipeline = [](bool graphs) {
    return device_run("cuda") + "[training]\nsteps = 100\nlog_every = 10\ncheckpoint_every = 50\ncuda_graphs = " +
           (graphs ? "true" : "false") + "\n[training.curriculum.loops]\nstart = 2\nend = 4\ninc = 1\ninterval = 40\n";
  };
  int rc;
  const auto eager = train(dir, "eager", pipeline(false), &rc);
  ASSERT_EQ(rc, 0) << eager;
  const auto graphs = train(dir, "graphs", pipeline(true), &rc);
  ASSERT_EQ(rc, 0) << graphs;
  const auto log = test::read_file(dir + "/graphs/log.txt");
  EXPECT_FALSE(contains(log, "capture failed")) << log;
  for (const std::string b : {"2", "3", "4"}) EXPECT_TRUE(contains(log, "captured the step for b " + b + ",")) << log;
  const auto a = losses(dir + "/eager"), g = losses(dir + "/graphs");
  ASSERT_EQ(a.size(), 100u);
  ASSERT_EQ(g.size(), 100u);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(g[i], a[i], 1e-5 * std::max(1.0, std::abs(a[i]))) << "step " << i + 1;
}

// Every cell of every CSV an analysis wrote that is a number is finite; returns the rows read.
size_t finite_rows(const fs::path& dir) {
  size_t rows = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".csv") continue;
    const auto table = host::read_csv(entry.path().string());
    rows += table.rows.size();
    for (const auto& row : table.rows)
      for (const auto& cell : row) {
        char* end = nullptr;
        const double v = std::strtod(cell.c_str(), &end);
        if (end != cell.c_str() && *end == '\0') {
          EXPECT_TRUE(std::isfinite(v)) << entry.path() << ": " << cell;
        }
      }
  }
  return rows;
}

TEST_F(CudaDevice, EveryBundledAnalysisRunsOnCuda) {
  // Cheap settings for the bundled ones; an analysis added later runs with its defaults.
  const std::map<std::string, std::string> cheap = {
      {"loop_iterations", "max_iterations = 8\n"},
      {"token_ablation", "n_step = 7\nmultipliers = [1, 2]\n"},
      {"loss_landscape", "resolution = 3\nprompts = 64\n"},
  };
  std::string tables;
  const auto names = test::bundled_registry().names(sdk::ComponentKind::Analysis);
  ASSERT_FALSE(names.empty());
  for (const auto& name : names)
    tables += "[[analyses]]\ntype = \"" + name + "\"\n" + (cheap.count(name) ? cheap.at(name) : "");
  const auto dir = test::temp_dir("cuda-analyses");
  int rc;
  auto out = train(dir, "run", device_run("cuda") + "[training]\nsteps = 50\n" + tables, &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto report = test::read_file(dir + "/run/report.md");
  for (const auto& name : names) {
    EXPECT_TRUE(contains(report, "## Analysis: " + name)) << name;
    ASSERT_TRUE(fs::is_directory(dir + "/run/analyses/" + name)) << name;
    EXPECT_GT(finite_rows(dir + "/run/analyses/" + name), 0u) << name;
  }
  // The other code paths: tokens removed or hidden from attention, and Hessian directions
  // (double backward through attention on the GPU).
  for (const std::string args : {"--analysis token_ablation --set 'mode=\"drop\"' --set n_step=7",
                                 "--analysis token_ablation --set 'mode=\"keys\"' --set n_step=7",
                                 "--analysis loss_landscape --set 'directions=\"hessian\"' --set resolution=3 "
                                 "--set prompts=32 --set hessian_iterations=5"}) {
    out = looplab("analyze " + dir + "/run " + args, &rc);
    ASSERT_EQ(rc, 0) << args << "\n" << out;
  }
  for (const auto& entry : fs::directory_iterator(dir + "/run/analyses"))
    EXPECT_GT(finite_rows(entry.path()), 0u) << entry.path();
}

}  // namespace
}  // namespace looplab
