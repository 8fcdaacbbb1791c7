// `looplab compare`: labels from what differs, and the figures and table it writes.
#include "common/csv.h"
#include "reporting/compare.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace looplab::host {
namespace {

using Settings = std::map<std::string, std::string>;
using test::contains;

TEST(CompareLabels, NameOnlyWhatDiffersByItsShortestUnambiguousSuffix) {
  const std::vector<Settings> runs = {
      {{"run.name", "a"}, {"model.loops", "5"}, {"model.n_embd", "32"}, {"training.steps", "100"}},
      {{"run.name", "b"}, {"model.loops", "10"}, {"model.n_embd", "32"}, {"training.steps", "100"}},
  };
  EXPECT_EQ(difference_labels(runs, {"x", "y"}), (std::vector<std::string>{"loops=5", "loops=10"}));
}

TEST(CompareLabels, CurriculumFieldsKeepTheCurriculumName) {
  const std::vector<Settings> runs = {
      {{"model.loops", "5"}, {"training.curriculum.loops.end", "5"}, {"training.curriculum.loops.start", "5"}},
      {{"model.loops", "6"}, {"training.curriculum.loops.end", "15"}, {"training.curriculum.loops.start", "5"}},
  };
  EXPECT_EQ(difference_labels(runs, {"x", "y"}),
            (std::vector<std::string>{"loops=5, loops.end=5", "loops=6, loops.end=15"}));
}

TEST(CompareLabels, AmbiguousLastSegmentsKeepTheirParents) {
  const std::vector<Settings> runs = {
      {{"model.blocks.0.n_head", "2"}, {"model.blocks.1.n_head", "2"}},
      {{"model.blocks.0.n_head", "4"}, {"model.blocks.1.n_head", "8"}},
  };
  EXPECT_EQ(difference_labels(runs, {"x", "y"}),
            (std::vector<std::string>{"0.n_head=2, 1.n_head=2", "0.n_head=4, 1.n_head=8"}));
}

TEST(CompareLabels, BookkeepingNeverCountsAndIdenticalRunsKeepTheirNames) {
  const std::vector<Settings> runs = {
      {{"run.name", "a"}, {"run.threads", "1"}, {"run.device", "cpu"}, {"model.loops", "5"}},
      {{"run.name", "b"}, {"run.threads", "2"}, {"run.device", "cuda"}, {"model.loops", "5"}},
  };
  EXPECT_EQ(difference_labels(runs, {"first", "second"}), (std::vector<std::string>{"first", "second"}));
}

TEST(CompareLabels, KeysMissingFromSomeRunsOnlyBreakTies) {
  // A plain block against a wrapper: the type differs everywhere; the wrapper's own keys are
  // not needed to tell the runs apart, so they stay out of the labels.
  const std::vector<Settings> runs = {
      {{"model.blocks.0.type", "gpt"}, {"model.blocks.0.n_head", "2"}, {"model.loops", "5"}},
      {{"model.blocks.0.type", "lr_looped"}, {"model.blocks.0.inner.n_head", "2"}, {"model.loops", "5"}},
  };
  EXPECT_EQ(difference_labels(runs, {"x", "y"}), (std::vector<std::string>{"type=gpt", "type=lr_looped"}));
  // Two runs equal in every shared key are told apart by the keys only one of them has.
  const std::vector<Settings> tied = {
      {{"model.loops", "5"}, {"model.blocks.0.n_head", "2"}},
      {{"model.loops", "5"}, {"model.blocks.0.n_embd_inner", "8"}},
  };
  EXPECT_EQ(difference_labels(tied, {"x", "y"}), (std::vector<std::string>{"n_head=2", "n_embd_inner=8"}));
}

TEST(CompareLabels, FlattenIndexesArraysOfTablesAndUnquotesStrings) {
  auto doc = toml::parse(
      "[model]\nloops = 3\n[[model.blocks]]\ntype = \"gpt\"\n[model.blocks.inner]\nk = 1\n"
      "[evaluation]\niterations = [20, 40]\n");
  const auto flat = flatten_settings(doc);
  EXPECT_EQ(flat.at("model.loops"), "3");
  EXPECT_EQ(flat.at("model.blocks.0.type"), "gpt");
  EXPECT_EQ(flat.at("model.blocks.0.inner.k"), "1");
  EXPECT_TRUE(contains(flat.at("evaluation.iterations"), "20")) << flat.at("evaluation.iterations");
}

// A finished run directory with hand-written metrics: model error = scale / (examples + 1).
// With `with_last`, train.csv has loss_last and loss_last_norm (= loss_norm / 2); without, it is an
// older run's.
std::string fake_run(const std::string& root, const std::string& name, int loops, double scale, bool with_lr,
                     bool with_last = false) {
  const auto dir = root + "/" + name;
  test::write_file(dir + "/resolved.toml", "[run]\nname = \"" + name +
                                               "\"\n[task]\nn_dims = 2\n[model]\nlooped = true\n"
                                               "loops = " +
                                               std::to_string(loops) + "\n[outputs]\nmoving_average = 2\n");
  std::string train = std::string("step,loss,loss_norm,") + (with_last ? "loss_last,loss_last_norm," : "") +
                      "loops,dims,points,elapsed_s" + (with_lr ? ",lr" : "") + "\n";
  for (int s = 0; s < 4; ++s)
    train += std::to_string(s) + ",1," + std::to_string(scale * (4 - s)) + "," +
             (with_last ? "0.5," + std::to_string(scale * (4 - s) / 2) + "," : "") + std::to_string(loops) + ",2,4,0" +
             (with_lr ? ",0.5" : "") + "\n";
  test::write_file(dir + "/train.csv", train);
  std::string eval = "predictor,iterations,examples,err_mean,err_lo,err_hi\n";
  for (int i = 0; i < 4; ++i) {
    const auto e = std::to_string(scale / (i + 1));
    eval += "model," + std::to_string(loops) + "," + std::to_string(i) + "," + e + "," + e + "," + e + "\n";
    eval += "model," + std::to_string(4 * loops) + "," + std::to_string(i) + "," + e + "," + e + "," + e + "\n";
    eval += "averaging,0," + std::to_string(i) + ",0.9,0.8,1\n";
  }
  test::write_file(dir + "/eval.csv", eval);
  test::write_file(dir + "/run.json", "{\"status\": \"complete\", \"trained_loops\": " + std::to_string(loops) + "}\n");
  return dir;
}

TEST(Compare, WritesOverlayFiguresAndATableOfFinalNumbers) {
  const auto root = test::temp_dir("compare");
  const auto a = fake_run(root, "a", 5, 0.2, false);
  const auto b = fake_run(root, "b", 10, 0.1, true, /*with_last=*/true);
  const auto md_path = compare_runs({a, b}, root + "/out");
  for (const auto* f : {"train_loss.png", "error_vs_iterations.png", "error_vs_examples.png", "train_loss.csv"})
    EXPECT_TRUE(fs::exists(root + "/out/" + f)) << f;
  const auto md = test::read_file(md_path);
  // Labels from the one setting that differs; b, the losses' moving averages (loss_last: "–" for
  // the older run without it), the error at i = d = 2 and i = last = 3, lr.
  EXPECT_TRUE(contains(md, "| loss (MA) | loss_last (MA) |")) << md;
  EXPECT_TRUE(contains(md, "| loops=5 | 5 | 3 | 0.3 | – | 0.0667 | 0.05 |")) << md;
  EXPECT_TRUE(contains(md, "| loops=10 | 10 | 3 | 0.15 | 0.075 | 0.0333 | 0.025 |")) << md;
  // loss_last is not taken for a learned scalar.
  EXPECT_FALSE(contains(md, "final loss_last")) << md;
  EXPECT_TRUE(contains(md, "final lr |")) << md;
  EXPECT_TRUE(contains(md, "| 0.5 |")) << md;
  // The iteration curve comes from eval.csv here: errors at k = b and k = 4b.
  const auto loops = read_csv(root + "/out/error_vs_iterations.csv");
  ASSERT_EQ(loops.rows.size(), 4u);
  EXPECT_EQ(loops.rows[0], (std::vector<std::string>{"loops=5", "5", "0.05"}));
  EXPECT_EQ(loops.rows[1], (std::vector<std::string>{"loops=5", "20", "0.05"}));
}

TEST(Compare, OneRunIsLabelledByItsDirectoryAlsoWithATrailingSlash) {
  const auto root = test::temp_dir("compare_one");
  const auto a = fake_run(root, "relu-16k", 5, 0.2, false);
  const auto md = test::read_file(compare_runs({a + "/"}, root + "/out"));
  EXPECT_TRUE(contains(md, "| relu-16k | 5 | 3 |")) << md;
  const auto examples = read_csv(root + "/out/error_vs_examples.csv");
  ASSERT_FALSE(examples.rows.empty());
  for (const auto& row : examples.rows) EXPECT_FALSE(row[0].empty()) << "a legend label is empty";
  EXPECT_TRUE(std::any_of(examples.rows.begin(), examples.rows.end(),
                          [](const auto& row) { return row[0] == "relu-16k"; }));
}

TEST(Compare, TakesTheTrainedBFromWhatTheRunRecorded) {
  const auto root = test::temp_dir("compare_b");
  const auto a = fake_run(root, "a", 5, 0.2, false);
  const auto b = fake_run(root, "b", 10, 0.1, false);
  // A staircase that stopped short of its end trains at another b than the settings say.
  test::write_file(a + "/run.json", "{\"status\": \"complete\", \"trained_loops\": 20}\n");
  const auto md = test::read_file(compare_runs({a, b}, root + "/out"));
  EXPECT_TRUE(contains(md, "| loops=5 | 20 | 3 |")) << md;
  test::write_file(a + "/run.json", "{\"status\": \"complete\"}\n");
  try {
    compare_runs({a, b}, root + "/out2");
    ADD_FAILURE() << "compared a run that does not record its b";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), a + "/run.json")) << e.what();
  }
}

TEST(Compare, WritesBaselinesUnderTheLabelsTheRunRecorded) {
  const auto root = test::temp_dir("compare_labels");
  const auto a = fake_run(root, "a", 5, 0.2, false);
  const auto b = fake_run(root, "b", 10, 0.1, false);
  // Labels as the run's plugins gave them; an id without one reads with spaces for underscores.
  test::write_file(a + "/run.json",
                   "{\"status\": \"complete\", \"trained_loops\": 5, \"labels\": {\"averaging\": \"mean of y x\"}}\n");
  auto md = test::read_file(compare_runs({a, b}, root + "/out"));
  EXPECT_TRUE(contains(md, "at i = last (3): mean of y x 0.9;")) << md;
  const auto examples = read_csv(root + "/out/error_vs_examples.csv");
  EXPECT_TRUE(std::any_of(examples.rows.begin(), examples.rows.end(),
                          [](const auto& row) { return row[0] == "mean of y x"; }));
  test::write_file(a + "/run.json", "{\"status\": \"complete\", \"trained_loops\": 5}\n");
  md = test::read_file(compare_runs({a, b}, root + "/out2"));
  EXPECT_TRUE(contains(md, "at i = last (3): averaging 0.9;")) << md;
}

TEST(Compare, RefusesADirectoryThatIsNotARun) {
  const auto root = test::temp_dir("compare_bad");
  EXPECT_THROW(compare_runs({root}, root + "/out"), std::runtime_error);
}

}  // namespace
}  // namespace looplab::host
