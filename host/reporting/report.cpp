#include "reporting/report.h"

#include "common/files.h"
#include "reporting/run_figures.h"

#include <looplab/sdk/task.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace looplab::host {
namespace fs = std::filesystem;
namespace {

// Errors span many decades (least squares reaches ~1e-6), so significant digits, not decimals.
std::string fmt(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", value);
  return buf;
}

std::string fmt_ratio(double ratio) {
  char buf[32];
  // Least squares reaches ~1e-12 once i >= d, so ratios can be huge.
  std::snprintf(buf, sizeof buf, ratio < 10 ? "%.1f" : (ratio < 1000 ? "%.0f" : "%.1e"), ratio);
  return buf;
}

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// A link destination with spaces or parentheses must be wrapped in <>.
std::string link_target(const std::string& path) {
  return path.find_first_of(" ()<>") == std::string::npos ? path : "<" + path + ">";
}

std::string alt_text(const std::string& caption) {
  std::string out;
  for (char c : caption) {
    if (c == '[' || c == ']' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

// A baseline's label in the table, else its eval.csv id as it is.
std::string table_name(const std::string& predictor, const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const auto& [id, label] : labels)
    if (id == predictor && !label.empty()) return label;
  return predictor;
}

struct KeyPoint {
  int64_t examples;
  std::string name;  // "d/2", "d", "2d"
};

using Key = std::tuple<std::string, int64_t, int64_t>;  // predictor, iterations, examples

class EvalIndex {
 public:
  explicit EvalIndex(const std::vector<EvalRow>& rows) {
    for (const auto& r : rows) by_key_[{r.predictor, r.iterations, r.examples}] = &r;
  }
  const EvalRow* find(const std::string& predictor, int64_t iterations, int64_t examples) const {
    auto it = by_key_.find({predictor, iterations, examples});
    return it == by_key_.end() ? nullptr : it->second;
  }

 private:
  std::map<Key, const EvalRow*> by_key_;
};

// Rows of the key-number table: the model at its trained b first, its other iteration counts
// ascending, then every baseline in the order the evaluation listed it.
std::vector<std::pair<std::string, int64_t>> table_rows(const ReportInputs& in) {
  std::set<int64_t> model_iterations;
  std::vector<std::pair<std::string, int64_t>> baselines;
  for (const auto& r : in.eval) {
    if (r.predictor == kModelPredictor) {
      model_iterations.insert(r.iterations);
    } else if (std::find(baselines.begin(), baselines.end(), std::make_pair(r.predictor, r.iterations)) ==
               baselines.end()) {
      baselines.emplace_back(r.predictor, r.iterations);
    }
  }
  std::vector<std::pair<std::string, int64_t>> rows;
  if (model_iterations.count(in.trained_loops)) rows.emplace_back(kModelPredictor, in.trained_loops);
  for (int64_t it : model_iterations) {
    if (it != in.trained_loops) rows.emplace_back(kModelPredictor, it);
  }
  rows.insert(rows.end(), baselines.begin(), baselines.end());
  return rows;
}

std::vector<KeyPoint> key_points(const ReportInputs& in) {
  std::vector<KeyPoint> points;
  if (in.n_dims <= 0) return points;
  const KeyPoint candidates[] = {{in.n_dims / 2, "d/2"}, {in.n_dims, "d"}, {2 * in.n_dims, "2d"}};
  for (const auto& kp : candidates) {
    const bool in_prompt = in.n_points <= 0 || kp.examples < in.n_points;  // 0 = unknown
    const bool duplicate = !points.empty() && points.back().examples == kp.examples;
    if (in_prompt && !duplicate) points.push_back(kp);
  }
  return points;
}

// "1.8× higher than least squares (0.0001)", or without a ratio when it is undefined.
std::string relation(double model, double other, const std::string& label) {
  const std::string tail = label + " (" + fmt(other) + ")";
  if (!std::isfinite(model) || !std::isfinite(other) || other <= 0.0 || model <= 0.0) {
    return "compared with " + tail;
  }
  const double ratio = model / other;
  if (ratio > 0.95 && ratio < 1.05) return "about the same as " + tail;
  if (ratio > 1.0) return fmt_ratio(ratio) + "× higher than " + tail;
  return fmt_ratio(1.0 / ratio) + "× lower than " + tail;
}

std::string comparison(const ReportInputs& in, const EvalIndex& index,
                       const std::vector<std::pair<std::string, int64_t>>& rows, const std::vector<KeyPoint>& points) {
  if (points.empty()) return "";
  const KeyPoint& at = points.back();
  std::ostringstream out;
  out << "At i = " << at.examples << " examples (" << at.name;
  if (at.name != "2d") out << "; 2d = " << 2 * in.n_dims << " is beyond the prompt";
  out << "), ";
  const std::string model_name =
      in.trained_loops > 1 ? "the model after " + std::to_string(in.trained_loops) + " iterations (its trained b)"
                           : "the model";
  const EvalRow* model = index.find(kModelPredictor, in.trained_loops, at.examples);
  if (model == nullptr) {
    out << model_name << " was not evaluated.";
    return out.str();
  }
  out << model_name << " has normalized error " << fmt(model->err_mean);
  const std::string ls_name = sdk::baseline::kLeastSquares;
  std::vector<std::string> parts;
  const EvalRow* best = nullptr;
  bool ls_found = false;
  std::string ls_exact;
  for (const auto& [predictor, iterations] : rows) {
    if (predictor == kModelPredictor) continue;
    const EvalRow* r = index.find(predictor, iterations, at.examples);
    if (r == nullptr) continue;
    if (predictor == ls_name) {
      // Once i >= d on noiseless data least squares is exact up to rounding; a ratio to
      // rounding noise says nothing.
      if (!ls_found) {
        if (r->err_mean < 1e-9)
          ls_exact = "; least squares is exact here (" + fmt(r->err_mean) + ")";
        else
          parts.push_back(relation(model->err_mean, r->err_mean, predictor_label(predictor, in.labels)));
      }
      ls_found = true;
    } else if (best == nullptr || r->err_mean < best->err_mean) {
      best = r;
    }
  }
  if (best != nullptr) {
    parts.push_back(relation(model->err_mean, best->err_mean, predictor_label(best->predictor, in.labels)) +
                    ", the best other baseline");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    out << (i == 0 ? ", " : (i + 1 == parts.size() ? " and " : ", ")) << parts[i];
  }
  out << ls_exact << '.';
  if (!ls_found) out << " Least squares was not evaluated at this i.";
  return out.str();
}

void write_key_numbers_table(std::ostream& out, const ReportInputs& in) {
  const auto points = key_points(in);
  const auto rows = table_rows(in);
  if (points.empty() || rows.empty()) {
    out << "No evaluation results to summarize.\n\n";
    return;
  }
  const EvalIndex index(in.eval);
  out << "Normalized squared error after i in-context examples (mean over the evaluation "
         "prompts, 90% bootstrap band in brackets; the zero predictor scores about 1).\n\n";
  out << "| predictor | iterations |";
  for (const auto& kp : points) out << " i = " << kp.examples << " (" << kp.name << ") |";
  out << "\n|---|---|";
  for (size_t k = 0; k < points.size(); ++k) out << "---|";
  out << '\n';
  for (const auto& [predictor, iterations] : rows) {
    std::string its = predictor != kModelPredictor && iterations == 0 ? "–" : std::to_string(iterations);
    if (predictor == kModelPredictor && iterations == in.trained_loops) its += " (trained)";
    out << "| " << cell(table_name(predictor, in.labels)) << " | " << its << " |";
    for (const auto& kp : points) {
      const EvalRow* r = index.find(predictor, iterations, kp.examples);
      if (r == nullptr) {
        out << " n/a |";
      } else {
        out << ' ' << fmt(r->err_mean) << " [" << fmt(r->err_lo) << ", " << fmt(r->err_hi) << "] |";
      }
    }
    out << '\n';
  }
  out << '\n';
  const std::string sentence = comparison(in, index, rows, points);
  if (!sentence.empty()) out << sentence << "\n\n";
}

void write_key_numbers(std::ostream& out, const ReportInputs& in) {
  out << "## Key numbers\n\n";
  write_key_numbers_table(out, in);
}

void write_section(std::ostream& md, const std::string& heading, const std::string& body) {
  md << "## " << cell(heading) << "\n\n" << body;
  if (body.empty() || body.back() != '\n') md << '\n';
  md << '\n';
}

}  // namespace

std::string key_numbers_markdown(const ReportInputs& inputs) {
  std::ostringstream md;
  write_key_numbers_table(md, inputs);
  return md.str();
}

void write_report(const std::string& path, const ReportInputs& inputs) {
  std::ostringstream md;
  md << "# " << (inputs.title.empty() ? std::string("Run report") : cell(inputs.title)) << "\n\n";

  md << "| fact | value |\n|---|---|\n";
  md << "| dimension d | " << inputs.n_dims << " |\n";
  md << "| points per prompt | " << inputs.n_points << " |\n";
  md << "| trained loop iterations b | " << inputs.trained_loops << " |\n";
  for (const auto& [label, value] : inputs.facts) md << "| " << cell(label) << " | " << cell(value) << " |\n";
  md << '\n';

  write_key_numbers(md, inputs);

  if (!inputs.figures.empty()) {
    md << "## Figures\n\n";
    for (const auto& [caption, png] : inputs.figures) {
      md << "**" << cell(caption) << "**\n\n![" << alt_text(caption) << "](" << link_target(png) << ")\n\n";
    }
  }
  for (const auto& [heading, body] : inputs.sections) write_section(md, heading, body);
  write_file_atomic(path, md.str());
}

void append_report_section(const std::string& path, const std::string& heading, const std::string& body) {
  std::ostringstream md;
  md << read_file(path);
  write_section(md, heading, body);
  write_file_atomic(path, md.str());
}

}  // namespace looplab::host
