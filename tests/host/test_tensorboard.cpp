// TensorBoard event files: the TFRecord framing against published CRC-32C check values and a
// frame computed by TensorBoard's own Python implementation, events read back as written, the
// cut a resume makes, and what training and the evaluation put into a run's event file.

#include "common/run_dir.h"
#include "reporting/run_events.h"
#include "tensorboard/event_file.h"
#include "tensorboard/record_file.h"
#include "test_support.h"
#include "training/train_events.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;
using namespace looplab::host;
using namespace looplab::host::tensorboard;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The values of `tag` in `events`, as (step, value).
std::vector<std::pair<int64_t, double>> series(const std::vector<Event>& events, const std::string& tag) {
  std::vector<std::pair<int64_t, double>> out;
  for (const auto& e : events)
    for (const auto& v : e.values)
      if (v.tag == tag && !v.is_text) out.emplace_back(e.step, v.scalar);
  return out;
}

std::vector<Event> read_all(const std::string& dir) {
  std::vector<Event> all;
  for (const auto& file : event_files(dir)) {
    auto events = read_event_file(file);
    all.insert(all.end(), events.begin(), events.end());
  }
  return all;
}

}  // namespace

TEST(RecordFile, Crc32cMatchesPublishedCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value of CRC-32C
  EXPECT_EQ(crc32c(""), 0u);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, ascending 0..31 and descending 31..0.
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string up, down;
  for (int i = 0; i < 32; ++i) {
    up.push_back(static_cast<char>(i));
    down.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down), 0x113FDB5Cu);
}

TEST(RecordFile, MaskedCrcAndFrameMatchTensorBoardsOwn) {
  // Computed with tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c.
  EXPECT_EQ(masked_crc32c("123456789"), 0xC78AB0E5u);
  EXPECT_EQ(masked_crc32c(""), 0xA282EAD8u);
  // "abc": its length 3 as uint64, masked CRC of those 8 bytes 0x0E4999B0, the data, masked CRC
  // 0x21F1576E; all little-endian.
  const std::string expected(
      "\x03\0\0\0\0\0\0\0"
      "\xb0\x99\x49\x0e"
      "abc"
      "\x6e\x57\xf1\x21",
      19);
  EXPECT_EQ(frame_record("abc"), expected);
}

TEST(RecordFile, ReadsBackRecordsAndToleratesOnlyATruncatedTail) {
  const auto dir = looplab::test::temp_dir("tfrecord");
  const std::string path = dir + "/records";
  const std::string big(100000, 'x');
  const std::string both = frame_record("first") + frame_record("") + frame_record(big);
  write_bytes(path, both);
  auto read = read_records(path);
  EXPECT_TRUE(read.complete);
  ASSERT_EQ(read.records.size(), 3u);
  EXPECT_EQ(read.records[0], "first");
  EXPECT_EQ(read.records[1], "");
  EXPECT_EQ(read.records[2], big);

  // A writer killed mid-record: the whole records stay, the partial one is reported.
  write_bytes(path, both.substr(0, both.size() - 7));
  read = read_records(path);
  EXPECT_FALSE(read.complete);
  EXPECT_EQ(read.records.size(), 2u);

  // A flipped data byte or length byte is an error naming the file, never a silent skip.
  std::string bad = both;
  bad[14] ^= 0x01;  // inside "first"
  write_bytes(path, bad);
  EXPECT_THROW(read_records(path), std::runtime_error);
  bad = both;
  bad[0] ^= 0x01;  // the first length
  write_bytes(path, bad);
  try {
    read_records(path);
    FAIL() << "no error for a corrupted length";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(looplab::test::contains(e.what(), path)) << e.what();
  }
}

TEST(EventFile, WritesWhatItReadsBackUnderTheNameTensorBoardGlobs) {
  const auto dir = looplab::test::temp_dir("events") + "/tb";
  std::string path;
  {
    EventWriter writer(dir);
    path = writer.path();
    writer.scalars(7, {{"train/loss", 0.25}, {"train/lr", 1.0 / 3.0}}, 1.5e9);
    writer.text("pipeline/resolved.toml", 0, "[run]\nname = 'x'\n");
    writer.session_start(8);
    writer.flush();
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_TRUE(std::regex_match(fs::path(path).filename().string(),
                               std::regex("events\\.out\\.tfevents\\.[0-9]{10}\\." + std::string(host))))
      << path;
  const auto events = read_event_file(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[1].step, 7);
  EXPECT_DOUBLE_EQ(events[1].wall_time, 1.5e9);
  ASSERT_EQ(events[1].values.size(), 2u);
  EXPECT_EQ(events[1].values[0].tag, "train/loss");
  EXPECT_EQ(events[1].values[0].scalar, 0.25);
  EXPECT_EQ(events[1].values[1].scalar, static_cast<double>(1.0f / 3.0f));  // stored as float32
  ASSERT_EQ(events[2].values.size(), 1u);
  EXPECT_TRUE(events[2].values[0].is_text);
  EXPECT_EQ(events[2].values[0].text, "[run]\nname = 'x'\n");
  EXPECT_TRUE(events[3].session_start);
  EXPECT_EQ(events[3].step, 8);
}

TEST(EventFile, ANewWriterInTheSameSecondTakesTheNextName) {
  const auto dir = looplab::test::temp_dir("events-names");
  EventWriter first(dir), second(dir);
  EXPECT_NE(first.path(), second.path());
  const auto files = event_files(dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], first.path());  // TensorBoard's (name) order is the order of the sessions
}

TEST(EventFile, CutKeepsOnlyTheChosenValuesAndLeavesTheExceptedFile) {
  const auto dir = looplab::test::temp_dir("events-cut");
  std::string old_path, own_path;
  {
    EventWriter old(dir);
    old_path = old.path();
    for (int64_t step = 1; step <= 5; ++step) old.scalars(step, {{"train/loss", 1.0 * step}, {"other", 0.0}});
    old.text("pipeline", 0, "text");
  }
  // A partial record at the end, as a killed writer leaves it, goes too.
  {
    std::ofstream out(old_path, std::ios::binary | std::ios::app);
    out << frame_record("partial").substr(0, 9);
  }
  write_bytes(dir + "/.cut.12345.tmp", "left by a cut killed midway");
  EventWriter own(dir);
  own_path = own.path();
  own.scalars(9, {{"train/loss", 9.0}});
  own.flush();
  cut_event_files(dir, own_path, [](const std::string& tag, int64_t step) { return tag == "train/loss" && step <= 3; });
  const auto cut = read_event_file(old_path);
  EXPECT_EQ(cut.front().file_version, "brain.Event:2");
  EXPECT_EQ(series(cut, "train/loss"), (std::vector<std::pair<int64_t, double>>{{1, 1.0}, {2, 2.0}, {3, 3.0}}));
  EXPECT_TRUE(series(cut, "other").empty());
  EXPECT_EQ(cut.size(), 4u);  // file_version and three steps: no text, no empty events
  EXPECT_TRUE(read_records(old_path).complete);
  EXPECT_EQ(series(read_event_file(own_path), "train/loss"), (std::vector<std::pair<int64_t, double>>{{9, 9.0}}));
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary left behind, nor the stale one
    EXPECT_NE(entry.path().filename().string().rfind(".cut.", 0), 0u) << entry.path();
}

TEST(RunEvents, TrainRowsBecomeOneScalarPerColumnAtTheirStep) {
  const auto dir = looplab::test::temp_dir("train-events");
  EventWriter writer(dir);
  const std::vector<std::string> columns = {"step", "loss", "elapsed_s", "lr"};
  write_train_events(writer, columns, {{10, 2.5, 1.0, 0.5}, {20, 1.5, 2.0, 0.25}}, 1000.0);
  const auto events = read_event_file(writer.path());
  EXPECT_EQ(series(events, "train/loss"), (std::vector<std::pair<int64_t, double>>{{10, 2.5}, {20, 1.5}}));
  EXPECT_EQ(series(events, "train/lr"), (std::vector<std::pair<int64_t, double>>{{10, 0.5}, {20, 0.25}}));
  EXPECT_EQ(series(events, "train/elapsed_s"), (std::vector<std::pair<int64_t, double>>{{10, 1.0}, {20, 2.0}}));
  EXPECT_TRUE(series(events, "train/step").empty());  // the step is the x axis, not a series
  ASSERT_EQ(events.size(), 3u);
  EXPECT_DOUBLE_EQ(events[1].wall_time, 1001.0);  // wall_offset + elapsed_s
  EXPECT_DOUBLE_EQ(events[2].wall_time, 1002.0);
}

TEST(RunEvents, ARestartCutsTheEarlierSessionsAndMarksItsStep) {
  const auto dir = looplab::test::temp_dir("restart-events");
  {
    EventWriter first(dir);
    write_pipeline_event(first, "[run]\n");
    write_train_events(first, {"step", "loss"}, {{1, 1.0}, {2, 2.0}, {3, 3.0}}, 0);
  }
  EventWriter second(dir);
  restart_train_events(second, dir, 2);
  const auto all = read_all(dir);
  EXPECT_EQ(series(all, "train/loss"), (std::vector<std::pair<int64_t, double>>{{1, 1.0}, {2, 2.0}}));
  int texts = 0;
  for (const auto& e : all)
    for (const auto& v : e.values) texts += v.is_text;
  EXPECT_EQ(texts, 0);  // the new session writes its own
  const auto own = read_event_file(second.path());
  ASSERT_EQ(own.size(), 2u);
  EXPECT_TRUE(own[1].session_start);
  EXPECT_EQ(own[1].step, 3);

  // A first session has nothing to restart from.
  const auto fresh_dir = looplab::test::temp_dir("fresh-events");
  EventWriter fresh(fresh_dir);
  restart_train_events(fresh, fresh_dir, 0);
  EXPECT_EQ(read_event_file(fresh.path()).size(), 1u);
}

TEST(RunEvents, EvaluationIsASeriesOverTheExamplesPerPredictor) {
  const auto dir = looplab::test::temp_dir("eval-events");
  EventWriter writer(dir);
  ReportInputs in;
  in.n_dims = 2;
  in.n_points = 5;
  in.trained_loops = 4;
  for (int64_t i = 0; i < 5; ++i) {
    in.eval.push_back({"model", 4, i, 1.0 / (i + 1), 0, 2});
    in.eval.push_back({"model", 8, i, 0.5 / (i + 1), 0, 2});
    in.eval.push_back({"least_squares", 0, i, 0.125 * i, 0, 2});
  }
  write_evaluation_events(writer, in, 60);
  const auto events = read_event_file(writer.path());
  const auto b4 = series(events, tb_tags::eval_series("model", 4));
  ASSERT_EQ(b4.size(), 5u);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(b4[static_cast<size_t>(i)].first, i);
    EXPECT_FLOAT_EQ(b4[static_cast<size_t>(i)].second, 1.0 / (i + 1));
  }
  EXPECT_EQ(series(events, "eval/model_b8").size(), 5u);
  EXPECT_EQ(series(events, "eval/least_squares").size(), 5u);
  EXPECT_DOUBLE_EQ(series(events, "eval/least_squares")[2].second, 0.25);
  const Event& key = events.back();
  ASSERT_EQ(key.values.size(), 1u);
  EXPECT_EQ(key.values[0].tag, tb_tags::kKeyNumbers);
  EXPECT_EQ(key.step, 60);
  EXPECT_EQ(key.values[0].text, key_numbers_markdown(in));
  EXPECT_TRUE(looplab::test::contains(key.values[0].text, "| i = 1 (d/2) |")) << key.values[0].text;
}
