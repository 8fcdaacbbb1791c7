// CSV tables, gnuplot figures and report.md.
#include "common/csv.h"
#include "reporting/figures.h"
#include "reporting/report.h"
#include "reporting/run_figures.h"

#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// The numeric rows of each index block of a gnuplot .dat file (comments skipped).
std::vector<std::vector<std::vector<double>>> dat_blocks(const fs::path& path) {
  std::vector<std::vector<std::vector<double>>> blocks(1);
  std::istringstream in(slurp(path));
  std::string line;
  int blank = 0;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (++blank == 2) blocks.emplace_back();
      continue;
    }
    blank = 0;
    if (line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<double> row;
    double v = 0;
    while (fields >> v) row.push_back(v);
    blocks.back().push_back(row);
  }
  return blocks;
}

bool gnuplot_on_path() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

/// Message of the std::runtime_error `f` throws ("" when it does not throw).
template <typename F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

class FiguresReportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("figures"); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  /// Writes an eval-like table: 3 predictors x examples 0..4, err = (p + 1) * 10^-i; the
  /// baseline's i = 2 row is NaN and its i = 3 row is 0.
  std::string write_eval_csv() {
    sdk::Table t;
    t.columns = {"predictor", "examples", "err_mean", "err_lo", "err_hi"};
    const char* names[] = {"model", "least_squares", "averaging"};
    for (int p = 0; p < 3; ++p) {
      for (int i = 0; i < 5; ++i) {
        double err = (p + 1) * std::pow(10.0, -i);
        if (p == 1 && i == 2) err = std::numeric_limits<double>::quiet_NaN();
        if (p == 1 && i == 3) err = 0.0;
        t.rows.push_back(
            {names[p], std::to_string(i), sdk::Table::num(err), sdk::Table::num(err * 0.5), sdk::Table::num(err * 2)});
      }
    }
    const std::string csv = path("eval.csv");
    write_csv(csv, t);
    return csv;
  }

  fs::path dir_;
};

using CsvIo = FiguresReportTest;
using RenderFigure = FiguresReportTest;
using ReportMd = FiguresReportTest;

TEST_F(CsvIo, RoundTripKeepsCommasQuotesAndLineBreaks) {
  sdk::Table t;
  t.columns = {"name", "value, with comma", "note"};
  t.rows = {{"plain", "1.5", ""}, {"a,b", "say \"hi\"", "two\nlines"}, {"\"quoted\"", "-inf", "x"}};
  write_csv(path("t.csv"), t);
  EXPECT_EQ(slurp(path("t.csv")),
            "name,\"value, with comma\",note\n"
            "plain,1.5,\n"
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
            "\"\"\"quoted\"\"\",-inf,x\n");
  const sdk::Table back = read_csv(path("t.csv"));
  EXPECT_EQ(back.columns, t.columns);
  EXPECT_EQ(back.rows, t.rows);
}

TEST_F(CsvIo, HeaderOnlyTableRoundTrips) {
  sdk::Table t;
  t.columns = {"a", "b"};
  write_csv(path("h.csv"), t);
  const sdk::Table back = read_csv(path("h.csv"));
  EXPECT_EQ(back.columns, t.columns);
  EXPECT_TRUE(back.rows.empty());
}

TEST_F(CsvIo, ErrorsNameThePath) {
  sdk::Table ragged;
  ragged.columns = {"a", "b"};
  ragged.rows = {{"1"}};
  EXPECT_NE(thrown_message([&] { write_csv(path("r.csv"), ragged); }).find(path("r.csv")), std::string::npos);
  const std::string missing = path("missing.csv");
  EXPECT_NE(thrown_message([&] { read_csv(missing); }).find(missing), std::string::npos);
  const std::string unwritable = path("no/such/dir/t.csv");
  EXPECT_NE(thrown_message([&] { write_csv(unwritable, ragged); }).find(unwritable), std::string::npos);
  std::ofstream(path("bad.csv")) << "a,b\n1,2,3\n";
  EXPECT_NE(thrown_message([&] { read_csv(path("bad.csv")); }).find(path("bad.csv")), std::string::npos);
}

TEST(MovingAverage, TrailingWindowMeans) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};
  const std::vector<double> w3 = moving_average(v, 3);
  const std::vector<double> expected = {1, 1.5, 2, 3, 4, 5};
  ASSERT_EQ(w3.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_DOUBLE_EQ(w3[i], expected[i]) << i;
  EXPECT_EQ(moving_average(v, 1), v);
  const std::vector<double> wide = moving_average(v, 100);
  EXPECT_DOUBLE_EQ(wide.back(), 3.5);
  EXPECT_DOUBLE_EQ(wide[1], 1.5);
  EXPECT_TRUE(moving_average({}, 4).empty());
  EXPECT_THROW(moving_average(v, 0), std::invalid_argument);
}

TEST(MovingAverage, NonFiniteValueOnlyAffectsWindowsContainingIt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> out = moving_average({1, nan, 3, 5, 7, 9}, 2);
  EXPECT_DOUBLE_EQ(out[0], 1);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_DOUBLE_EQ(out[3], 4);
  EXPECT_DOUBLE_EQ(out[4], 6);
  EXPECT_DOUBLE_EQ(out[5], 8);
}

TEST_F(RenderFigure, WritesPngScriptAndDataWithBand) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "error";
  fig.title = "Error vs examples";
  fig.xlabel = "in-context examples";
  fig.ylabel = "normalized squared error";
  fig.log_y = true;
  fig.series.push_back({"model", "eval", "examples", "err_mean", "predictor", "model", "err_lo", "err_hi"});
  fig.series.push_back({"averaging", "eval", "examples", "err_mean", "predictor", "averaging", "", ""});
  const std::string out_dir = path("figs");
  const std::string png = render_figure(fig, {{"eval", csv}}, out_dir);
  EXPECT_EQ(png, (fs::path(out_dir) / "error.png").string());
  const std::string bytes = slurp(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string gp = slurp(fs::path(out_dir) / "error.gp");
  EXPECT_NE(gp.find("filledcurves"), std::string::npos);
  EXPECT_NE(gp.find("set logscale y"), std::string::npos);
  EXPECT_NE(gp.find("'error.dat' index 1"), std::string::npos);
  const auto blocks = dat_blocks(fs::path(out_dir) / "error.dat");
  ASSERT_EQ(blocks.size(), 2u);
  ASSERT_EQ(blocks[0].size(), 5u);
  EXPECT_EQ(blocks[0][2], (std::vector<double>{2, 0.01, 0.005, 0.02}));  // x y lo hi
  ASSERT_EQ(blocks[1].size(), 5u);
  EXPECT_EQ(blocks[1][0], (std::vector<double>{0, 3}));
  // Rendering again replaces the files rather than failing on them.
  EXPECT_EQ(render_figure(fig, {{"eval", csv}}, out_dir), png);
}

// Width and height from a PNG's IHDR chunk (big-endian, bytes 16-23).
std::pair<uint32_t, uint32_t> png_size(const std::string& bytes) {
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes.at(at + i));
    return v;
  };
  return {be32(16), be32(20)};
}

TEST_F(RenderFigure, LongLabelsGoUnderThePlotOnATallerCanvas) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "short";
  fig.series.push_back({"model", "eval", "examples", "err_mean", "predictor", "model", "", ""});
  fig.series.push_back({"averaging", "eval", "examples", "err_mean", "predictor", "averaging", "", ""});
  const std::string png = render_figure(fig, {{"eval", csv}}, path("figs"));
  EXPECT_NE(slurp(fs::path(path("figs")) / "short.gp").find("set key outside right top"), std::string::npos);
  EXPECT_EQ(png_size(slurp(png)), std::make_pair(900u, 600u));
  // compare's labels list every setting that differs between runs.
  fig.name = "long";
  fig.series[0].label = "iterations=[ 20, 40 ], repeat=1, type=gpt, looped=true, loops=10";
  fig.series[1].label = "iterations=[], repeat=12, type=mamba, looped=false, loops=1";
  const std::string long_png = render_figure(fig, {{"eval", csv}}, path("figs"));
  EXPECT_NE(slurp(fs::path(path("figs")) / "long.gp").find("set key bmargin"), std::string::npos);
  EXPECT_EQ(png_size(slurp(long_png)), std::make_pair(900u, 640u));  // 20 px per series
}

TEST_F(RenderFigure, WhereFilterSelectsExactlyTheMatchingRows) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  sdk::Table t;
  t.columns = {"group", "step", "loss"};
  t.rows = {{"a", "1", "5"}, {"b", "1", "50"}, {"a", "2", "4"}, {"ab", "3", "40"}, {"a", "3", "3"}};
  write_csv(path("loss.csv"), t);
  sdk::FigureSpec fig;
  fig.name = "loss";
  fig.title = "it's \"quoted\"";  // quotes must survive the gnuplot script
  fig.series.push_back({"group 'a'", "loss", "step", "loss", "group", "a", "", ""});
  const fs::path out_dir = dir_ / "a dir with spaces";  // and the shell command
  render_figure(fig, {{"loss", path("loss.csv")}}, out_dir.string());
  const auto blocks = dat_blocks(out_dir / "loss.dat");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], (std::vector<std::vector<double>>{{1, 5}, {2, 4}, {3, 3}}));
  EXPECT_GT(fs::file_size(out_dir / "loss.png"), 0u);
}

TEST_F(RenderFigure, MissingGnuplotIsReportedClearly) {
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "nogp";
  fig.series.push_back({"model", "eval", "examples", "err_mean", "", "", "", ""});
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path ? old_path : "";
  setenv("PATH", dir_.c_str(), 1);  // an empty directory: no gnuplot there
  const std::string msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  setenv("PATH", saved.c_str(), 1);
  EXPECT_NE(msg.find("gnuplot is not installed"), std::string::npos) << msg;
  // The data and script are still there for rendering by hand.
  EXPECT_TRUE(fs::exists(dir_ / "nogp.dat"));
  EXPECT_TRUE(fs::exists(dir_ / "nogp.gp"));
}

TEST_F(RenderFigure, GnuplotFailureCarriesItsStderr) {
  const std::string csv = write_eval_csv();
  const fs::path bin = dir_ / "bin";
  fs::create_directories(bin);
  {
    std::ofstream fake(bin / "gnuplot");
    fake << "#!/bin/sh\necho 'line 7: unexpected token' >&2\nexit 1\n";
  }
  fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  sdk::FigureSpec fig;
  fig.name = "broken";
  fig.series.push_back({"model", "eval", "examples", "err_mean", "", "", "", ""});
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path ? old_path : "";
  setenv("PATH", (bin.string() + ":" + saved).c_str(), 1);
  const std::string msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  setenv("PATH", saved.c_str(), 1);
  EXPECT_NE(msg.find("line 7: unexpected token"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'broken'"), std::string::npos) << msg;
}

TEST_F(RenderFigure, LogAxisDropsNonPositiveAndNonFiniteValues) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "ls";
  fig.log_y = true;
  fig.series.push_back({"least squares", "eval", "examples", "err_mean", "predictor", "least_squares", "", ""});
  render_figure(fig, {{"eval", csv}}, dir_.string());
  auto blocks = dat_blocks(dir_ / "ls.dat");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], (std::vector<std::vector<double>>{{0, 2}, {1, 0.2}, {4, 0.0002}}));
  // On a linear axis the zero stays; NaN never plots.
  fig.log_y = false;
  render_figure(fig, {{"eval", csv}}, dir_.string());
  blocks = dat_blocks(dir_ / "ls.dat");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], (std::vector<std::vector<double>>{{0, 2}, {1, 0.2}, {3, 0}, {4, 0.0002}}));
}

TEST_F(RenderFigure, FigureWithoutPlottablePointsStillRenders) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "empty";
  fig.log_y = true;
  fig.series.push_back({"nobody", "eval", "examples", "err_mean", "predictor", "nobody", "", ""});
  const std::string png = render_figure(fig, {{"eval", csv}}, dir_.string());
  EXPECT_EQ(slurp(png).substr(0, 4), "\x89PNG");
}

TEST_F(RenderFigure, UnknownTableOrColumnThrowsNamingIt) {
  const std::string csv = write_eval_csv();
  sdk::FigureSpec fig;
  fig.name = "bad";
  fig.series.push_back({"s", "evaluation", "examples", "err_mean", "", "", "", ""});
  std::string msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  EXPECT_NE(msg.find("'evaluation'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'bad'"), std::string::npos) << msg;

  fig.series[0] = {"s", "eval", "examples", "err_median", "", "", "", ""};
  msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  EXPECT_NE(msg.find("'err_median'"), std::string::npos) << msg;

  fig.series[0] = {"s", "eval", "examples", "err_mean", "split", "a", "", ""};
  msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  EXPECT_NE(msg.find("'split'"), std::string::npos) << msg;

  fig.series[0] = {"s", "eval", "examples", "err_mean", "", "", "err_lo", "err_top"};
  msg = thrown_message([&] { render_figure(fig, {{"eval", csv}}, dir_.string()); });
  EXPECT_NE(msg.find("'err_top'"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir_ / "bad.png"));
}

// model: 1, 0.5, 0.2, 0.1, 0.05 (band x0.5 .. x2); least squares exact from i = 2 on (0 at i = 4).
std::string write_exact_csv(const std::string& path) {
  sdk::Table t{{"predictor", "examples", "err_mean", "err_lo", "err_hi"}, {}};
  const double model[] = {1, 0.5, 0.2, 0.1, 0.05}, ls[] = {1, 0.5, 1e-15, 3e-16, 0};
  for (int i = 0; i < 5; ++i) {
    t.rows.push_back({"model", std::to_string(i), sdk::Table::num(model[i]), sdk::Table::num(model[i] / 2),
                      sdk::Table::num(model[i] * 2)});
    t.rows.push_back(
        {"least_squares", std::to_string(i), sdk::Table::num(ls[i]), sdk::Table::num(ls[i]), sdk::Table::num(ls[i])});
  }
  write_csv(path, t);
  return path;
}

TEST_F(RenderFigure, ExactValuesAreDrawnAtAFloorUnderTheInformativeCurves) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  const auto csv = write_exact_csv(path("exact.csv"));
  sdk::FigureSpec fig;
  fig.name = "exact";
  fig.log_y = true;
  fig.series.push_back({"model", "eval", "examples", "err_mean", "predictor", "model", "err_lo", "err_hi"});
  fig.series.push_back({"least squares", "eval", "examples", "err_mean", "predictor", "least_squares", "", ""});
  // Without the style: the axis spans whatever is there, no floor.
  render_figure(fig, {{"eval", csv}}, path("plain"));
  EXPECT_EQ(slurp(fs::path(path("plain")) / "exact.gp").find("yrange"), std::string::npos);
  LineStyle style;
  style.floor_below = 1e-8;
  render_figure(fig, {{"eval", csv}}, path("floor"), style);
  const auto gp = slurp(fs::path(path("floor")) / "exact.gp");
  // The smallest informative value is the model's band edge 0.025: the floor is a decade under
  // it, drawn as a labelled dashed line, and the axis starts at half the floor.
  const std::string floor = sdk::Table::num(0.025 / 10);
  EXPECT_NE(gp.find("set yrange [" + sdk::Table::num(0.025 / 10 / 2) + ":*]"), std::string::npos) << gp;
  EXPECT_NE(gp.find("set arrow 1 from graph 0, first " + floor + " to graph 1, first " + floor), std::string::npos)
      << gp;
  EXPECT_NE(gp.find("'below 1e-8: drawn at this floor'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("index 1 using 1:($2 < 1e-08 ? " + floor + " : $2) with linespoints"), std::string::npos) << gp;
  EXPECT_NE(gp.find("title 'least squares (< 1e-8 from x = 2)'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("title 'model'"), std::string::npos) << gp;  // nothing of the model is below
  // The data keep the exact values, the zero included.
  const auto blocks = dat_blocks(fs::path(path("floor")) / "exact.dat");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1], (std::vector<std::vector<double>>{{0, 1}, {1, 0.5}, {2, 1e-15}, {3, 3e-16}, {4, 0}}));
  EXPECT_GT(fs::file_size(fs::path(path("floor")) / "exact.png"), 0u);
  // On a linear axis the style changes nothing.
  fig.log_y = false;
  render_figure(fig, {{"eval", csv}}, path("linear"), style);
  EXPECT_EQ(slurp(fs::path(path("linear")) / "exact.gp").find("yrange"), std::string::npos);
  fig.log_y = true;
  // Exact values that do not run to the end are counted instead.
  sdk::Table dip{{"examples", "err"}, {{"0", "1"}, {"1", "1e-12"}, {"2", "0.5"}, {"3", "0"}, {"4", "0.3"}}};
  write_csv(path("dip.csv"), dip);
  fig.series = {{"dip", "dip", "examples", "err", "", "", "", ""}};
  render_figure(fig, {{"dip", path("dip.csv")}}, path("floor"), style);
  const auto dip_gp = slurp(fs::path(path("floor")) / "exact.gp");
  EXPECT_NE(dip_gp.find("'dip (< 1e-8 at 2 points)'"), std::string::npos) << dip_gp;
  EXPECT_NE(dip_gp.find("set yrange [" + sdk::Table::num(0.3 / 10 / 2) + ":*]"), std::string::npos) << dip_gp;
  // A cap bounds the autoscaled top, with or without a floor.
  style.y_max = 10;
  render_figure(fig, {{"dip", path("dip.csv")}}, path("capped"), style);
  EXPECT_NE(slurp(fs::path(path("capped")) / "exact.gp").find("set yrange [" + sdk::Table::num(0.3 / 10 / 2) + ":*<10]"),
            std::string::npos);
  style.floor_below = 0;
  render_figure(fig, {{"dip", path("dip.csv")}}, path("capped"), style);
  EXPECT_NE(slurp(fs::path(path("capped")) / "exact.gp").find("set yrange [*:*<10]"), std::string::npos);
}

TEST_F(RenderFigure, FaintSeriesAreThinGreyAndDrawnFirst) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  sdk::Table t{{"step", "raw", "ma"}, {}};
  for (int i = 1; i <= 50; ++i) t.rows.push_back({std::to_string(i), std::to_string(1.0 / i), std::to_string(1.5 / i)});
  write_csv(path("loss.csv"), t);
  sdk::FigureSpec fig;
  fig.name = "loss";
  fig.series.push_back({"moving average", "loss", "step", "ma", "", "", "", ""});
  fig.series.push_back({"raw", "loss", "step", "raw", "", "", "", ""});
  LineStyle style;
  style.faint = {1};
  render_figure(fig, {{"loss", path("loss.csv")}}, dir_.string(), style);
  const auto gp = slurp(dir_ / "loss.gp");
  const auto raw = gp.find("index 1 using 1:2 with lines linewidth 1 linecolor rgb '#c0c0c0' title 'raw'");
  const auto ma = gp.find("index 0 using 1:2 with lines linewidth 2");
  ASSERT_NE(raw, std::string::npos) << gp;
  ASSERT_NE(ma, std::string::npos) << gp;
  EXPECT_LT(raw, ma) << gp;  // under the moving average
}

TEST_F(RenderFigure, RunFiguresUseTheBaselinesLabelsAndTheFloor) {
  if (!gnuplot_on_path()) GTEST_SKIP() << "gnuplot is not installed";
  RunDir run{dir_.string()};
  std::string train = "step,loss,loss_norm,loss_last,loss_last_norm,loops,dims,points,elapsed_s\n";
  for (int s = 1; s <= 60; ++s) train += std::to_string(s) + ",1,0.5,1,0.5,4,3,7,0\n";
  test::write_file(run.train_csv(), train);
  std::vector<EvalRow> rows;
  for (int64_t i = 0; i < 6; ++i) {
    const double x = static_cast<double>(i);
    rows.push_back({"model", 4, i, 0.5 / (x + 1), 0.4 / (x + 1), 0.6 / (x + 1)});
    rows.push_back({"least_squares", 0, i, i < 3 ? 1.0 : 1e-15, i < 3 ? 0.9 : 1e-15, i < 3 ? 1.1 : 1e-15});
    rows.push_back({"nearest_neighbours", 0, i, 0.7, 0.6, 0.8});
    rows.push_back({"ridge_fit", 0, i, 0.3, 0.2, 0.4});  // no label: underscores become spaces
  }
  RunFigureInputs in;
  in.n_dims = 3;
  in.looped = true;
  in.moving_average = 10;
  in.labels = {{"least_squares", "least squares"}, {"nearest_neighbours", "3-NN"}};
  const auto figures = render_run_figures(run, rows, in);
  ASSERT_EQ(figures.size(), 2u);
  const auto curves = read_csv(run.figures() + "/error_curves.csv");
  std::vector<std::string> labels;
  for (const auto& r : curves.rows)
    if (std::find(labels.begin(), labels.end(), r[0]) == labels.end()) labels.push_back(r[0]);
  EXPECT_EQ(labels, (std::vector<std::string>{"model, 4 iterations", "least squares", "3-NN", "ridge fit"}));
  const auto gp = slurp(run.figures() + "/error_vs_examples.gp");
  EXPECT_NE(gp.find("title 'least squares (< 1e-8 from x = 3)'"), std::string::npos) << gp;
  EXPECT_NE(gp.find("title '3-NN'"), std::string::npos) << gp;
  // The floor a decade under the model's band edge 0.4 / 6; the axis starts at half of it.
  // The top is autoscaled but capped at ten times the zero predictor's error.
  EXPECT_NE(gp.find("set yrange [" + sdk::Table::num(0.4 / 6 / 10 / 2) + ":*<10]"), std::string::npos) << gp;
  const auto loss_gp = slurp(run.figures() + "/train_loss.gp");
  EXPECT_NE(loss_gp.find("'#c0c0c0' title 'raw'"), std::string::npos) << loss_gp;
  EXPECT_EQ(predictor_label("lasso", {{"lasso", "lasso alpha = 0.01"}}), "lasso alpha = 0.01");
  EXPECT_EQ(predictor_label("least_squares", {}), "least squares");
}

TEST_F(ReportMd, EvalTableHasTheDocumentedColumns) {
  const sdk::Table t = eval_table({{"model", 10, 3, 0.25, 0.125, 0.5}});
  EXPECT_EQ(t.columns,
            (std::vector<std::string>{"predictor", "iterations", "examples", "err_mean", "err_lo", "err_hi"}));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"model", "10", "3", "0.25", "0.125", "0.5"}));
}

/// d = 5, 12 points: key points i = 2 (d/2), 5 (d), 10 (2d); err encodes predictor and i.
ReportInputs sample_report() {
  ReportInputs in;
  in.title = "looped-b10";
  in.n_dims = 5;
  in.n_points = 12;
  in.trained_loops = 10;
  for (int64_t i = 0; i < 12; ++i) {
    const double x = static_cast<double>(i);
    in.eval.push_back({"model", 10, i, 0.01 * (x + 1), 0.005 * (x + 1), 0.02 * (x + 1)});
    in.eval.push_back({"model", 30, i, 0.03 * (x + 1), 0.02 * (x + 1), 0.04 * (x + 1)});
    in.eval.push_back({"least_squares", 0, i, 0.001 * (x + 1), 0.0005 * (x + 1), 0.002 * (x + 1)});
    in.eval.push_back({"averaging", 0, i, 0.1 * (x + 1), 0.05 * (x + 1), 0.2 * (x + 1)});
    in.eval.push_back({"nearest_neighbours", 0, i, 0.5, 0.4, 0.6});
  }
  in.figures = {{"Error vs examples", "figures/error.png"}, {"Loss", "figures/training loss.png"}};
  in.facts = {{"steps", "6000"}, {"device", "cpu (2 threads)"}};
  in.sections = {{"Loop iterations", "The error settles after 12 iterations."}};
  return in;
}

TEST_F(ReportMd, KeyNumbersAtHalfDDAndTwoD) {
  const std::string md_path = path("report.md");
  write_report(md_path, sample_report());
  EXPECT_FALSE(fs::exists(md_path + ".tmp"));
  const std::string md = slurp(md_path);
  EXPECT_EQ(md.rfind("# looped-b10\n", 0), 0u) << md;
  EXPECT_NE(md.find("| steps | 6000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| dimension d | 5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| predictor | iterations | i = 2 (d/2) | i = 5 (d) | i = 10 (2d) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| model | 10 (trained) | 0.03 [0.015, 0.06] | 0.06 [0.03, 0.12] | 0.11 [0.055, 0.22] |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| model | 30 | 0.09 [0.06, 0.12] | 0.18 [0.12, 0.24] | 0.33 [0.22, 0.44] |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| least_squares | – | 0.003 [0.0015, 0.006] | 0.006 [0.003, 0.012] | 0.011 [0.0055, 0.022] |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| averaging | – | 0.3 [0.15, 0.6] | 0.6 [0.3, 1.2] | 1.1 [0.55, 2.2] |"), std::string::npos) << md;
  EXPECT_NE(md.find("| nearest_neighbours | – | 0.5 [0.4, 0.6] | 0.5 [0.4, 0.6] | 0.5 [0.4, 0.6] |"), std::string::npos)
      << md;
  // The trained row comes before the other iteration count.
  EXPECT_LT(md.find("| model | 10 (trained)"), md.find("| model | 30 |"));
  // i = 2d: model 0.11 vs least squares 0.011 (10x) and nearest neighbours 0.5 (best other).
  EXPECT_NE(md.find("At i = 10 examples (2d), the model after 10 iterations (its trained b) has "
                    "normalized error 0.11, 10× higher than least squares (0.011) and 4.5× lower "
                    "than nearest neighbours (0.5), the best other baseline."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("![Error vs examples](figures/error.png)"), std::string::npos) << md;
  EXPECT_NE(md.find("![Loss](<figures/training loss.png>)"), std::string::npos) << md;
  EXPECT_NE(md.find("## Loop iterations\n\nThe error settles after 12 iterations.\n"), std::string::npos) << md;
  EXPECT_LT(md.find("## Key numbers"), md.find("## Figures"));
}

TEST_F(ReportMd, ExactLeastSquaresIsNamedNotDividedBy) {
  ReportInputs in = sample_report();
  for (auto& r : in.eval)
    if (r.predictor == "least_squares" && r.examples == 10) r.err_mean = 5e-15;
  const std::string md_path = path("report.md");
  write_report(md_path, in);
  const std::string md = slurp(md_path);
  EXPECT_NE(md.find("has normalized error 0.11, 4.5× lower than nearest neighbours (0.5), the best other "
                    "baseline; least squares is exact here (5e-15)."),
            std::string::npos)
      << md;
}

TEST_F(ReportMd, KeyPointsBeyondThePromptAreLeftOut) {
  ReportInputs in = sample_report();
  in.n_points = 8;  // 2d = 10 is beyond the prompt: only i = 2 and 5 are shown
  write_report(path("report.md"), in);
  const std::string md = slurp(path("report.md"));
  EXPECT_NE(md.find("| predictor | iterations | i = 2 (d/2) | i = 5 (d) |\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("i = 10"), std::string::npos) << md;
  EXPECT_NE(md.find("At i = 5 examples (d; 2d = 10 is beyond the prompt)"), std::string::npos) << md;
}

TEST_F(ReportMd, MissingResultsShowAsNotAvailable) {
  ReportInputs in = sample_report();
  in.trained_loops = 1;
  in.eval.erase(std::remove_if(in.eval.begin(), in.eval.end(),
                               [](const EvalRow& r) {
                                 return r.predictor == "least_squares" ||
                                        (r.predictor == "averaging" && r.examples == 5);
                               }),
                in.eval.end());
  write_report(path("report.md"), in);
  const std::string md = slurp(path("report.md"));
  EXPECT_NE(md.find("| averaging | – | 0.3 [0.15, 0.6] | n/a | 1.1 [0.55, 2.2] |"), std::string::npos) << md;
  EXPECT_EQ(md.find("(trained)"), std::string::npos) << md;  // no model row at b = 1
  EXPECT_NE(md.find("the model was not evaluated."), std::string::npos) << md;
}

TEST_F(ReportMd, BaselinesAppearUnderTheirLabels) {
  ReportInputs in = sample_report();
  in.labels = {{"least_squares", "least squares"}, {"nearest_neighbours", "3-NN"}};
  write_report(path("report.md"), in);
  const std::string md = slurp(path("report.md"));
  EXPECT_NE(md.find("| least squares | – | 0.003 [0.0015, 0.006] |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 3-NN | – | 0.5 [0.4, 0.6] |"), std::string::npos) << md;
  EXPECT_NE(md.find("| averaging | – |"), std::string::npos) << md;  // no label: its id
  EXPECT_NE(md.find("4.5× lower than 3-NN (0.5), the best other baseline"), std::string::npos) << md;
}

}  // namespace
}  // namespace looplab::host
