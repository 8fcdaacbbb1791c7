#include "reporting/run_figures.h"

#include "common/csv.h"
#include "reporting/figures.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace looplab::host {

std::string predictor_label(const std::string& predictor,
                            const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const auto& [id, label] : labels)
    if (id == predictor && !label.empty()) return label;
  std::string out = predictor;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

namespace {

std::string relative_png(const std::string& png, const RunDir& dir) { return fs::relative(png, dir.path).string(); }

std::pair<std::string, std::string> error_figure(const RunDir& dir, const std::vector<EvalRow>& rows,
                                                 const RunFigureInputs& in) {
  sdk::Table curves{{"label", "examples", "err_mean", "err_lo", "err_hi"}, {}};
  std::vector<std::pair<std::string, bool>> labels;  // legend label, whether a model curve
  for (const auto& r : rows) {
    const bool model = r.predictor == kModelPredictor;
    std::string label = predictor_label(r.predictor, in.labels);
    if (model) label = in.looped ? "model, " + std::to_string(r.iterations) + " iterations" : "model";
    if (labels.empty() || labels.back().first != label) labels.emplace_back(label, model);
    curves.rows.push_back({label, std::to_string(r.examples), sdk::Table::num(r.err_mean), sdk::Table::num(r.err_lo),
                           sdk::Table::num(r.err_hi)});
  }
  const auto curves_csv = dir.figures() + "/error_curves.csv";
  write_csv(curves_csv, curves);
  sdk::FigureSpec err{"error_vs_examples",
                      "normalized error vs in-context examples (d = " + std::to_string(in.n_dims) + ")",
                      "in-context examples",
                      "normalized squared error",
                      false,
                      true,
                      {}};
  for (const auto& [label, model] : labels) {
    sdk::Series s{label, "curves", "examples", "err_mean", "label", label, "", ""};
    if (model) s.band_lo = "err_lo", s.band_hi = "err_hi";
    err.series.push_back(s);
  }
  LineStyle style;
  style.floor_below = kExactError;
  style.y_max = kErrorAxisMax;
  return {"Normalized error vs in-context examples (90% bootstrap band)",
          relative_png(render_figure(err, {{"curves", curves_csv}}, dir.figures(), style), dir)};
}

std::pair<std::string, std::string> loss_figure(const RunDir& dir, const RunFigureInputs& in) {
  const auto train = read_csv(dir.train_csv());
  const size_t step_col = column_index(train, train_columns::kStep, dir.train_csv());
  const size_t norm_col = column_index(train, train_columns::kLossNorm, dir.train_csv());
  std::vector<double> norm;
  for (const auto& row : train.rows) norm.push_back(std::stod(row[norm_col]));
  auto ma = moving_average(norm, in.moving_average);
  sdk::Table loss{{"step", "loss_norm", "loss_norm_ma"}, {}};
  for (size_t i = 0; i < train.rows.size(); ++i)
    loss.rows.push_back({train.rows[i][step_col], train.rows[i][norm_col], sdk::Table::num(ma[i])});
  const auto loss_csv = dir.figures() + "/train_loss.csv";
  write_csv(loss_csv, loss);
  sdk::FigureSpec lf{
      "train_loss",
      "training loss / E[y^2]",
      "step",
      "loss / E[y^2]",
      false,
      true,
      {{"raw", "loss", "step", "loss_norm", "", "", "", ""},
       {"moving average (" + std::to_string(in.moving_average) + ")", "loss", "step", "loss_norm_ma", "", "", "", ""}}};
  LineStyle style;
  style.faint = {0};  // the raw loss, under its moving average
  return {"Training loss, raw and moving average",
          relative_png(render_figure(lf, {{"loss", loss_csv}}, dir.figures(), style), dir)};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> render_run_figures(const RunDir& dir, const std::vector<EvalRow>& rows,
                                                                    const RunFigureInputs& in) {
  fs::create_directories(dir.figures());
  return {error_figure(dir, rows, in), loss_figure(dir, in)};
}

}  // namespace looplab::host
