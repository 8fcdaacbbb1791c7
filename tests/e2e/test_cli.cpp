// The looplab executable end to end: configuration errors, bad output directories, a tiny
// pipeline that learns, and resuming that reproduces an uninterrupted run.
#include "common/csv.h"
#include "common/text.h"
#include "registry/plugin_registry.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;
using test::looplab;

const std::string kTiny = test::tiny_pipeline();

// A pipeline with a problem on a known line; everything else valid.
std::string write_pipeline(const std::string& dir, const std::string& body) {
  const auto path = dir + "/pipeline.toml";
  test::write_file(path, body);
  return path;
}

const char* kValid =
    "[task]\n"                        // 1
    "type = \"linear_regression\"\n"  // 2
    "n_dims = 3\n"                    // 3
    "[model]\n"                       // 4
    "n_embd = 32\n"                   // 5
    "[[model.blocks]]\n"              // 6
    "type = \"gpt\"\n"                // 7
    "n_head = 2\n";                   // 8

TEST(Cli, ValidPipelineValidates) {
  const auto dir = test::temp_dir("cli-valid");
  int rc;
  auto out = looplab("validate " + write_pipeline(dir, kValid), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, ": ok (linear_regression, standard model, 1 block(s)")) << out;
}

TEST(Cli, UnknownKeyIsReportedAtItsLineWithASuggestion) {
  const auto dir = test::temp_dir("cli-unknown");
  const auto path = write_pipeline(dir, std::string(kValid) + "n_haed = 2\n");
  int rc;
  auto out = looplab("validate " + path, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out, path + ":9:1: error: unknown parameter 'n_haed' for block 'gpt' (did you mean 'n_head'?)\n");
}

TEST(Cli, EveryErrorIsReportedAtOnceInFileOrder) {
  const auto dir = test::temp_dir("cli-many");
  const auto path = write_pipeline(dir,
                                   "[task]\n"
                                   "type = \"linear_regresion\"\n"
                                   "[model]\n"
                                   "n_embd = \"wide\"\n"
                                   "[[model.blocks]]\n"
                                   "type = \"gpt\"\n"
                                   "n_head = 0\n"
                                   "[trainig]\n"
                                   "steps = 10\n");
  int rc;
  auto out = looplab("validate " + path, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out, path +
                     ":2:8: error: unknown task 'linear_regresion' (did you mean 'linear_regression'?); available: "
                     "decision_tree, linear_regression, noisy_linear_regression, relu_2nn_regression, sparse_linear_regression\n" +
                     path + ":2:8: note: searched the plugin directories " + host::join(host::plugin_directories({}, {})) +
                     "; add a directory with --plugin-path DIR, LOOPLAB_PLUGIN_PATH or a pipeline's [run] plugin_paths\n" +
                     path + ":4:10: error: parameter 'n_embd' for section [model] must be int, got string\n" + path +
                     ":7:10: error: parameter 'n_head' for block 'gpt': value 0 is out of range [1, 1024]\n" + path +
                     ":8:1: error: unknown section 'trainig' (did you mean 'training'?)\n");
}

TEST(Cli, MalformedTomlIsAPositionedError) {
  const auto dir = test::temp_dir("cli-syntax");
  const auto path = write_pipeline(dir, "[task]\ntype = \"linear_regression\nn_dims = 3\n");
  int rc;
  auto out = looplab("validate " + path, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(contains(out, path + ":2:")) << out;
  EXPECT_TRUE(contains(out, ": error: ")) << out;
}

TEST(Cli, FactoryComplaintsPointAtTheBlockTable) {
  const auto dir = test::temp_dir("cli-factory");
  const auto path = write_pipeline(dir, std::string(kValid) + "[[model.blocks]]\ntype = \"gpt\"\nn_head = 5\n");
  int rc;
  auto out = looplab("validate " + path, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out, path + ":9:1: error: block 'gpt': gpt: n_head (5) must divide n_embd (32)\n");
}

TEST(Cli, MissingExtendsAndUnknownPluginAreConfigErrors) {
  const auto dir = test::temp_dir("cli-extends");
  const auto path = write_pipeline(dir, std::string("extends = [\"nope.toml\"]\n") + kValid);
  int rc;
  auto out = looplab("validate " + path, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(contains(out, path + ":1:")) << out;
  EXPECT_TRUE(contains(out, "nope.toml")) << out;

  out = looplab("validate " + write_pipeline(dir, kValid) + " --set model.blocks.0.type=gtp", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(contains(out, "--set:1:")) << out;
  EXPECT_TRUE(contains(out, "unknown block 'gtp' (did you mean 'gpt'?)")) << out;
}

TEST(Cli, BadOutputDirectoriesAreRefusedBeforeAnythingRuns) {
  const auto dir = test::temp_dir("cli-out");
  const auto path = write_pipeline(dir, kValid);
  test::write_file(dir + "/a-file", "x");
  int rc;
  auto out = looplab("run " + path + " --out " + dir + "/a-file/run", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out, "cannot create run directory " + dir + "/a-file/run")) << out;

  test::write_file(dir + "/taken/something", "x");
  out = looplab("run " + path + " --out " + dir + "/taken", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(contains(out, "exists and is not empty")) << out;
  EXPECT_FALSE(fs::exists(dir + "/taken/resolved.toml"));

  // A configuration error never creates the run directory at all.
  out = looplab("run " + path + " --set model.n_embd=0 --out " + dir + "/never", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_FALSE(fs::exists(dir + "/never"));
}

std::map<std::string, double> errors_at(const std::string& eval_csv, int64_t examples) {
  auto table = host::read_csv(eval_csv);
  std::map<std::string, double> out;
  for (const auto& row : table.rows)
    if (std::stoll(row[2]) == examples) out[row[0] + "@" + row[1]] = std::stod(row[3]);
  return out;
}

TEST(Cli, TinyPipelineLearnsAndWritesEveryOutput) {
  const auto dir = test::temp_dir("cli-tiny");
  int rc;
  auto out = looplab("run " + kTiny + " --out " + dir + "/run", &rc);
  ASSERT_EQ(rc, 0) << out;
  for (const auto* f : {"resolved.toml", "train.csv", "eval.csv", "report.md", "log.txt",
                        "figures/error_vs_examples.png", "figures/train_loss.png", "checkpoints/step_0002000.pt"})
    EXPECT_TRUE(fs::exists(dir + "/run/" + f)) << f;
  EXPECT_TRUE(contains(test::read_file(dir + "/run/run.json"), "\"complete\""));

  // i = 2d = 6 examples: the looped model must beat averaging by 2x at its trained b.
  auto err = errors_at(dir + "/run/eval.csv", 6);
  ASSERT_TRUE(err.count("model@4") && err.count("averaging@0") && err.count("least_squares@0"));
  EXPECT_LE(err["model@4"], 0.5 * err["averaging@0"])
      << "model " << err["model@4"] << " averaging " << err["averaging@0"];
  EXPECT_LT(err["least_squares@0"], 1e-6);

  // The resolved config is itself a valid pipeline that names every default.
  const auto resolved = test::read_file(dir + "/run/resolved.toml");
  EXPECT_TRUE(contains(resolved, "beta2 = 0.999")) << resolved;
  out = looplab("validate " + dir + "/run/resolved.toml", &rc);
  EXPECT_EQ(rc, 0) << out;
}

std::map<std::string, torch::Tensor> checkpoint_weights(const std::string& path) {
  torch::serialize::InputArchive archive, model;
  archive.load_from(path);
  archive.read("model", model);
  std::map<std::string, torch::Tensor> out;
  for (const auto& key : model.keys()) {
    torch::Tensor t;
    if (model.try_read(key, t)) out[key] = t;
  }
  return out;
}

TEST(Cli, ResumeEndsWithTheSameWeightsAndMetrics) {
  const auto dir = test::temp_dir("cli-resume");
  const std::string args =
      kTiny + " --set training.steps=40 --set training.checkpoint_every=20 --set outputs.figures=false";
  int rc;
  auto out = looplab("run " + args + " --out " + dir + "/full", &rc);
  ASSERT_EQ(rc, 0) << out;

  // Make a copy look like a run stopped right after its step-20 checkpoint, then resume it.
  ASSERT_EQ(test::run_command("cp -r " + dir + "/full " + dir + "/cut", nullptr), 0);
  for (const auto* f : {"checkpoints/step_0000040.pt", "eval.csv", "report.md"}) fs::remove(dir + "/cut/" + f);
  out = looplab("run --resume " + dir + "/cut", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "resuming from")) << out;

  auto a = checkpoint_weights(dir + "/full/checkpoints/step_0000040.pt");
  auto b = checkpoint_weights(dir + "/cut/checkpoints/step_0000040.pt");
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;

  auto losses = [](const std::string& csv) {
    std::vector<std::string> out;
    for (const auto& row : host::read_csv(csv).rows) out.push_back(row[0] + ":" + row[1]);
    return out;
  };
  EXPECT_EQ(losses(dir + "/full/train.csv"), losses(dir + "/cut/train.csv"));
  EXPECT_EQ(test::read_file(dir + "/full/eval.csv"), test::read_file(dir + "/cut/eval.csv"));
}

TEST(Cli, InterruptCheckpointsAndMarksTheRunResumable) {
  const auto dir = test::temp_dir("cli-interrupt");
  // Long enough that it cannot finish before the signal arrives.
  const std::string cmd = test::looplab_exe() + " run " + kTiny + " --set training.steps=1000000 --out " + dir +
                          "/run > " + dir + "/out.txt 2>&1 & pid=$!; sleep 4; kill -INT $pid; wait $pid";
  const int rc = test::run_command(cmd, nullptr);
  EXPECT_EQ(rc, 130) << test::read_file(dir + "/out.txt");
  EXPECT_TRUE(contains(test::read_file(dir + "/run/run.json"), "\"interrupted\""));
  bool has_checkpoint = false;
  for (const auto& e : fs::directory_iterator(dir + "/run/checkpoints"))
    has_checkpoint |= e.path().extension() == ".pt";
  EXPECT_TRUE(has_checkpoint);
  EXPECT_FALSE(fs::exists(dir + "/run/report.md"));
  EXPECT_TRUE(contains(test::read_file(dir + "/out.txt"), "resume with: looplab run --resume"))
      << test::read_file(dir + "/out.txt");
}

}  // namespace
}  // namespace looplab
