// The shared helpers of host/common: text (lists, unknown names, durations), atomic files,
// the run directory's run.json, and eval.csv read back by column name.

#include "common/files.h"
#include "common/run_dir.h"
#include "common/seeds.h"
#include "common/text.h"
#include "evaluation/eval_table.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;
using namespace looplab;
using namespace looplab::host;

TEST(Text, JoinListsAllOrAtMostTheLimit) {
  EXPECT_EQ(join({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(join({"a", "b", "c"}, "+"), "a+b+c");
  EXPECT_EQ(join({"a", "b", "c"}, ", ", 2), "a, b, ... (3 in all)");
  EXPECT_EQ(join({}), "");
}

TEST(Text, UnknownNameWordsBothListStyles) {
  const std::vector<std::string> blocks = {"gpt", "mamba"};
  EXPECT_EQ(unknown_name("block", "gtp", blocks, NameList::kAvailable),
            "unknown block 'gtp' (did you mean 'gpt'?); available: gpt, mamba");
  EXPECT_EQ(unknown_name("block", "xyzzy", {}, NameList::kAvailable),
            "unknown block 'xyzzy'; available: none installed");
  EXPECT_EQ(unknown_name("sweep key", "gird", {"grid", "zip", "seeds"}, NameList::kValid),
            "unknown sweep key 'gird' (did you mean 'grid'?)");
  EXPECT_EQ(unknown_name("sweep key", "xyzzy", {"grid", "zip", "seeds"}, NameList::kValid),
            "unknown sweep key 'xyzzy' (valid: grid, zip, seeds)");
  EXPECT_EQ(unknown_name("parameter", "n_haed", {"n_head"}, NameList::kValid, " for block 'gpt'"),
            "unknown parameter 'n_haed' for block 'gpt' (did you mean 'n_head'?)");
}

TEST(Text, DurationsInMinutesThenHours) {
  EXPECT_EQ(format_duration(0), "0m00s");
  EXPECT_EQ(format_duration(65.4), "1m05s");
  EXPECT_EQ(format_duration(3599.6), "1h00m");
  EXPECT_EQ(format_duration(3 * 3600 + 7 * 60 + 10), "3h07m");
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemporary) {
  const auto dir = test::temp_dir("atomic");
  const auto path = dir + "/f.txt";
  write_file_atomic(path, "one");
  write_file_atomic(path, "two\n");
  EXPECT_EQ(read_file(path), "two\n");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Files, AFailedWriteNamesTheFileAndLeavesWhatWasThere) {
  // The rename cannot replace a directory (as root too): the write fails at its last step.
  const auto dir = test::temp_dir("atomic-fail");
  const auto target = dir + "/target";
  test::write_file(target + "/kept.txt", "old");
  try {
    write_file_atomic(target, "new");
    ADD_FAILURE() << "replaced a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(test::contains(e.what(), "'" + target + "'")) << e.what();
  }
  EXPECT_EQ(read_file(target + "/kept.txt"), "old");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file was left behind";
}

TEST(Files, ReadingAMissingFileNamesIt) {
  try {
    read_file("/nonexistent/looplab/f.txt");
    ADD_FAILURE() << "read a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(test::contains(e.what(), "/nonexistent/looplab/f.txt")) << e.what();
  }
}

TEST(RunStatus, RoundTripsAndKeepsTrainedLoopsAndLabelsAcrossStatusChanges) {
  const RunDir dir{test::temp_dir("status")};
  EXPECT_EQ(read_status(dir), "");  // no run.json yet
  RunStatus running;
  running.status = "running";
  running.trained_loops = 12;
  running.labels = {{"nearest_neighbours", "3-NN"}, {"lasso", "lasso alpha = 0.01"}};  // in this order
  write_run_status(dir, running);
  write_status(dir, "failed", "a \"quoted\"\nmessage");
  const auto status = read_run_status(dir);
  EXPECT_EQ(status.status, "failed");
  EXPECT_EQ(status.message, "a \"quoted\"\nmessage");
  EXPECT_EQ(status.trained_loops, 12);
  write_status(dir, "complete");
  EXPECT_EQ(read_run_status(dir).message, "");
  EXPECT_EQ(read_run_status(dir).trained_loops, 12);
  EXPECT_EQ(read_run_status(dir).labels, running.labels);
}

TEST(RunStatus, ATornFileReadsAsNoStatus) {
  const RunDir dir{test::temp_dir("status-torn")};
  test::write_file(dir.status(), "{\"status\": \"compl");
  EXPECT_EQ(read_status(dir), "");
}

TEST(EvalTable, ReadsBackWhatItWroteWhateverTheColumnOrder) {
  const auto dir = test::temp_dir("eval");
  const std::vector<EvalRow> rows = {{"model", 10, 0, 0.5, 0.4, 0.6}, {"least_squares", 0, 3, 1e-15, 0, 2e-15}};
  write_eval_csv(dir + "/eval.csv", rows);
  const auto back = read_eval_csv(dir + "/eval.csv");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].predictor, "least_squares");
  EXPECT_EQ(back[1].examples, 3);
  EXPECT_EQ(back[1].err_mean, 1e-15);  // shortest round-trip text: exact
  test::write_file(dir + "/swapped.csv",
                   "examples,err_hi,predictor,err_lo,iterations,err_mean\n4,0.3,model,0.1,5,0.2\n");
  const auto swapped = read_eval_csv(dir + "/swapped.csv");
  ASSERT_EQ(swapped.size(), 1u);
  EXPECT_EQ(swapped[0].iterations, 5);
  EXPECT_EQ(swapped[0].err_mean, 0.2);
  test::write_file(dir + "/short.csv", "predictor,iterations\nmodel,1\n");
  EXPECT_THROW(read_eval_csv(dir + "/short.csv"), std::runtime_error);
}

TEST(Seeds, AnAnalysisSeedDependsOnItsTypeNotItsPosition) {
  EXPECT_EQ(seeds::analysis(3, "loop_iterations"), seeds::analysis(3, "loop_iterations"));
  EXPECT_NE(seeds::analysis(3, "loop_iterations"), seeds::analysis(3, "token_ablation"));
  EXPECT_NE(seeds::analysis(3, "loop_iterations"), seeds::analysis(4, "loop_iterations"));
}
