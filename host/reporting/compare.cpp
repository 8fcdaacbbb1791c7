#include "reporting/compare.h"

#include "common/csv.h"
#include "common/files.h"
#include "common/run_dir.h"
#include "evaluation/eval_table.h"
#include "reporting/figures.h"
#include "reporting/run_figures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

const std::set<std::string> kBookkeeping = {"run.name", "run.threads", "run.device", "run.plugin_paths"};
const std::set<std::string> kStaircaseFields = {"start", "end", "inc", "interval"};

void flatten_into(const toml::node& node, const std::string& key, std::map<std::string, std::string>& out) {
  if (const auto* t = node.as_table()) {
    for (auto&& [k, v] : *t)
      flatten_into(v, key.empty() ? std::string(k.str()) : key + "." + std::string(k.str()), out);
  } else if (const auto* a = node.as_array()) {
    const bool of_tables = !a->empty() && a->is_array_of_tables();
    if (!of_tables) {
      std::ostringstream text;
      text << *a;
      out[key] = text.str();
      return;
    }
    for (size_t i = 0; i < a->size(); ++i) flatten_into(*a->get(i), key + "." + std::to_string(i), out);
  } else if (auto s = node.value<std::string>()) {
    out[key] = *s;
  } else {
    std::ostringstream text;
    if (auto d = node.value_exact<double>())
      text << sdk::Table::num(*d);  // 0.003, not 0.0030000000000000001
    else
      node.visit([&text](const auto& v) { text << v; });
    out[key] = text.str();
  }
}

std::vector<std::string> segments(const std::string& key) {
  std::vector<std::string> out;
  std::stringstream in(key);
  for (std::string s; std::getline(in, s, '.');) out.push_back(s);
  return out;
}

std::string suffix(const std::vector<std::string>& segs, size_t n) {
  std::string out;
  for (size_t i = segs.size() - n; i < segs.size(); ++i) out += (out.empty() ? "" : ".") + segs[i];
  return out;
}

// Shortest dotted suffix of each key that no other key shares.
std::map<std::string, std::string> short_names(const std::vector<std::string>& keys) {
  std::map<std::string, std::string> out;
  for (const auto& key : keys) {
    const auto segs = segments(key);
    size_t n = kStaircaseFields.count(segs.back()) && segs.size() > 1 ? 2 : 1;
    for (; n < segs.size(); ++n) {
      const auto candidate = suffix(segs, n);
      bool clash = false;
      for (const auto& other : keys) {
        if (other == key) continue;
        const auto o = segments(other);
        clash = clash || (o.size() >= n && suffix(o, n) == candidate);
      }
      if (!clash) break;
    }
    out[key] = suffix(segs, n);
  }
  return out;
}

struct Run {
  RunDir dir;
  std::string label;
  std::map<std::string, std::string> settings;
  sdk::Table train;
  std::vector<EvalRow> eval;
  int64_t trained_loops = 1, n_dims = 0;
  std::vector<std::pair<std::string, std::string>> labels;  ///< Baselines' legend labels (run.json).
};

int64_t setting_int(const Run& r, const std::string& key, int64_t fallback) {
  auto it = r.settings.find(key);
  if (it == r.settings.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

Run load_run(const std::string& path) {
  Run r;
  r.dir = RunDir{absolute_path(path)};
  const auto resolved = r.dir.resolved();
  if (!fs::exists(resolved)) throw std::runtime_error(path + " is not a run directory (no resolved.toml)");
  try {
    r.settings = flatten_settings(toml::parse_file(resolved));
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(resolved + ": " + std::string(e.description()));
  }
  r.train = read_csv(r.dir.train_csv());
  r.eval = read_eval_csv(r.dir.eval_csv());
  // The b the run itself recorded; the evaluation's model rows hold it too.
  const auto status = read_run_status(r.dir);
  r.trained_loops = status.trained_loops;
  r.labels = status.labels;
  if (r.trained_loops <= 0)
    throw std::runtime_error(r.dir.status() + " does not record trained_loops (a run from an older looplab: rerun it)");
  r.n_dims = setting_int(r, "task.n_dims", 0);
  return r;
}

std::string num(double v) { return sdk::Table::num(v); }

std::string fixed(double v) {
  std::ostringstream out;
  out << std::setprecision(3) << (std::fabs(v) < 1e-3 && v != 0 ? std::scientific : std::defaultfloat) << v;
  return out.str();
}

// Error of `predictor` at (iterations, examples) in eval.csv, NaN when absent.
double eval_error(const Run& r, const std::string& predictor, int64_t iterations, int64_t examples) {
  for (const auto& row : r.eval)
    if (row.predictor == predictor && row.iterations == iterations && row.examples == examples) return row.err_mean;
  return std::nan("");
}

int64_t last_examples(const Run& r) {
  int64_t out = 0;
  for (const auto& row : r.eval) out = std::max<int64_t>(out, row.examples);
  return out;
}

// (iterations, error at the last position): the loop_iterations analysis if present, else eval.csv.
std::vector<std::pair<int64_t, double>> loop_curve(const Run& r) {
  std::vector<std::pair<int64_t, double>> out;
  const auto analysis = r.dir.analysis("loop_iterations") + "/loop_iterations.csv";
  if (fs::exists(analysis)) {
    auto t = read_csv(analysis);
    const size_t k = column_index(t, "iterations", analysis), e = column_index(t, "err_last", analysis);
    for (const auto& row : t.rows) out.emplace_back(std::stoll(row[k]), std::stod(row[e]));
    return out;
  }
  const auto last = last_examples(r);
  for (const auto& row : r.eval)
    if (row.predictor == kModelPredictor && row.examples == last) out.emplace_back(row.iterations, row.err_mean);
  std::sort(out.begin(), out.end());
  return out;
}

// The moving average of a train.csv column; empty when the run's train.csv lacks `column`
// unless it is required (loss_last_norm is missing from runs of an older looplab).
std::vector<double> smoothed_loss(const Run& r, int64_t window, const char* column = train_columns::kLossNorm,
                                  bool required = true) {
  if (!required && std::find(r.train.columns.begin(), r.train.columns.end(), column) == r.train.columns.end())
    return {};
  const size_t c = column_index(r.train, column, r.dir.train_csv());
  std::vector<double> values;
  for (const auto& row : r.train.rows) values.push_back(std::stod(row[c]));
  return moving_average(values, window);
}

int64_t moving_average_window(const Run& r) { return setting_int(r, "outputs.moving_average", 100); }

void write_loss_figure(const std::vector<Run>& runs, const std::string& out) {
  sdk::Table loss{{"label", "step", "loss_norm_ma"}, {}};
  for (const auto& r : runs) {
    const auto ma = smoothed_loss(r, moving_average_window(r));
    const size_t step = column_index(r.train, train_columns::kStep, r.dir.train_csv());
    for (size_t i = 0; i < ma.size(); ++i) loss.rows.push_back({r.label, r.train.rows[i][step], num(ma[i])});
  }
  write_csv(out + "/train_loss.csv", loss);
  sdk::FigureSpec fig{
      "train_loss", "training loss / E[y^2] (moving average)", "step", "loss / E[y^2]", false, true, {}};
  for (const auto& r : runs) fig.series.push_back({r.label, "loss", "step", "loss_norm_ma", "label", r.label, "", ""});
  render_figure(fig, {{"loss", out + "/train_loss.csv"}}, out);
}

void write_loop_figure(const std::vector<Run>& runs, const std::string& out) {
  sdk::Table loops{{"label", "iterations", "err_last"}, {}};
  for (const auto& r : runs)
    for (const auto& [k, e] : loop_curve(r)) loops.rows.push_back({r.label, std::to_string(k), num(e)});
  write_csv(out + "/error_vs_iterations.csv", loops);
  sdk::FigureSpec fig{"error_vs_iterations",
                      "error at the last position vs loop iterations",
                      "loop iterations",
                      "normalized squared error",
                      false,
                      true,
                      {}};
  for (const auto& r : runs)
    fig.series.push_back({r.label, "loops", "iterations", "err_last", "label", r.label, "", ""});
  render_figure(fig, {{"loops", out + "/error_vs_iterations.csv"}}, out);
}

/// A baseline of the first run: its id in eval.csv and its legend label.
struct Baseline {
  std::string id, label;
};

// Each model at its trained b, with the first run's baselines under their labels; returns them.
std::vector<Baseline> write_examples_figure(const std::vector<Run>& runs, const std::string& out) {
  sdk::Table examples{{"label", "examples", "err_mean", "err_lo", "err_hi"}, {}};
  std::vector<Baseline> baselines;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    for (const auto& row : r.eval) {
      const bool model = row.predictor == kModelPredictor && row.iterations == r.trained_loops;
      const bool baseline = i == 0 && row.predictor != kModelPredictor;
      if (!model && !baseline) continue;
      const auto label = model ? r.label : predictor_label(row.predictor, r.labels);
      if (baseline && std::none_of(baselines.begin(), baselines.end(),
                                   [&](const Baseline& b) { return b.id == row.predictor; }))
        baselines.push_back({row.predictor, label});
      examples.rows.push_back(
          {label, std::to_string(row.examples), num(row.err_mean), num(row.err_lo), num(row.err_hi)});
    }
  }
  write_csv(out + "/error_vs_examples.csv", examples);
  sdk::FigureSpec fig{"error_vs_examples",
                      "normalized error vs in-context examples (models at their trained b)",
                      "in-context examples",
                      "normalized squared error",
                      false,
                      true,
                      {}};
  for (const auto& r : runs)
    fig.series.push_back({r.label, "ex", "examples", "err_mean", "label", r.label, "err_lo", "err_hi"});
  for (const auto& b : baselines)
    fig.series.push_back({b.label, "ex", "examples", "err_mean", "label", b.label, "", ""});
  LineStyle style;
  style.floor_below = kExactError;
  style.y_max = kErrorAxisMax;  // exact least squares would stretch the axis over 16 decades
  render_figure(fig, {{"ex", out + "/error_vs_examples.csv"}}, out, style);
  return baselines;
}

// One table row per run: b, steps, smoothed losses, errors, learned scalars at the last step.
void write_run_row(std::ostream& md, const Run& r, const std::vector<std::string>& scalars) {
  const auto ma = smoothed_loss(r, moving_average_window(r));
  const auto ma_last = smoothed_loss(r, moving_average_window(r), train_columns::kLossLastNorm, false);
  const auto curve = loop_curve(r);
  auto best =
      std::min_element(curve.begin(), curve.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  const auto& last_row = r.train.rows.back();
  md << "| " << r.label << " | " << r.trained_loops << " | "
     << last_row[column_index(r.train, train_columns::kStep, r.dir.train_csv())] << " | "
     << (ma.empty() ? "-" : fixed(ma.back())) << " | " << (ma_last.empty() ? "–" : fixed(ma_last.back())) << " | "
     << fixed(eval_error(r, kModelPredictor, r.trained_loops, r.n_dims)) << " | "
     << fixed(eval_error(r, kModelPredictor, r.trained_loops, last_examples(r))) << " | "
     << (best == curve.end() ? "-" : fixed(best->second) + " (" + std::to_string(best->first) + ")") << " |";
  for (const auto& s : scalars) {
    auto c = std::find(r.train.columns.begin(), r.train.columns.end(), s);
    md << " " << (c == r.train.columns.end() ? "-" : fixed(std::stod(last_row[c - r.train.columns.begin()]))) << " |";
  }
  md << "\n";
}

std::string write_compare_md(const std::vector<Run>& runs, const std::vector<Baseline>& baselines,
                             const std::string& out) {
  // Columns of train.csv past the fixed ones are learned scalars (e.g. lr).
  const auto& fixed_columns = train_columns::all();
  std::set<std::string> scalar_set;
  for (const auto& r : runs)
    for (const auto& c : r.train.columns)
      if (std::find(fixed_columns.begin(), fixed_columns.end(), c) == fixed_columns.end() &&
          c != train_columns::kSkipped)
        scalar_set.insert(c);
  const std::vector<std::string> scalars(scalar_set.begin(), scalar_set.end());
  std::ostringstream md;
  md << "# Comparison of " << runs.size() << " runs\n\n"
     << "Normalized squared error (1 = predicting 0) of each model at its trained b, over the fixed evaluation "
        "prompts; i = number of in-context examples. Loss: training loss / E[y^2], moving average at the last step; "
        "loss_last: the same for the loss after the last (b-th) iteration alone (– where train.csv lacks it).\n\n"
     << "| run | b | steps | loss (MA) | loss_last (MA) | err i = d | err i = last | best err (k) |";
  for (const auto& s : scalars) md << " final " << s << " |";
  md << "\n|---|---|---|---|---|---|---|---|";
  for (size_t i = 0; i < scalars.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& r : runs) write_run_row(md, r, scalars);
  const auto& first = runs.front();
  md << "\nBaselines of the first run at i = last (" << last_examples(first) << "):";
  for (const auto& b : baselines)
    md << " " << b.label << " " << fixed(eval_error(first, b.id, 0, last_examples(first))) << ";";
  md << "\n\nRuns:\n";
  for (const auto& r : runs) md << "- " << r.label << ": `" << r.dir.path << "`\n";
  md << "\n![training loss](train_loss.png)\n\n![error vs loop iterations](error_vs_iterations.png)\n\n"
     << "![error vs examples](error_vs_examples.png)\n";
  const auto path = out + "/compare.md";
  write_file_atomic(path, md.str());
  return path;
}

}  // namespace

std::map<std::string, std::string> flatten_settings(const toml::table& table) {
  std::map<std::string, std::string> out;
  flatten_into(table, "", out);
  return out;
}

std::vector<std::string> difference_labels(const std::vector<std::map<std::string, std::string>>& settings,
                                           const std::vector<std::string>& fallback) {
  std::set<std::string> keys;
  for (const auto& s : settings)
    for (const auto& [k, v] : s)
      if (!kBookkeeping.count(k)) keys.insert(k);
  std::vector<std::string> everywhere, somewhere;
  for (const auto& key : keys) {
    bool in_all = true, differs = false;
    const std::string* first = nullptr;
    for (const auto& s : settings) {
      auto it = s.find(key);
      if (it == s.end()) {
        in_all = false;
        continue;
      }
      if (first && *first != it->second) differs = true;
      if (!first) first = &it->second;
    }
    if (in_all && differs) everywhere.push_back(key);
    if (!in_all) somewhere.push_back(key);
  }
  auto label_with = [&](const std::vector<std::string>& used) {
    const auto names = short_names(used);
    std::vector<std::string> out;
    for (const auto& s : settings) {
      std::string label;
      for (const auto& key : used)
        if (auto it = s.find(key); it != s.end())
          label += (label.empty() ? "" : ", ") + names.at(key) + "=" + it->second;
      out.push_back(label);
    }
    return out;
  };
  auto labels = label_with(everywhere);
  const bool tied = std::set<std::string>(labels.begin(), labels.end()).size() != labels.size() ||
                    std::find(labels.begin(), labels.end(), "") != labels.end();
  if (tied) {
    auto used = everywhere;
    used.insert(used.end(), somewhere.begin(), somewhere.end());
    labels = label_with(used);
  }
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i].empty()) labels[i] = fallback[i];
  return labels;
}

namespace {

/// The last name in a run directory's path, also where the path ends in a separator (as a
/// shell's completion writes it): the legend's fallback label, never empty.
std::string dir_name(const std::string& path) {
  auto p = fs::path(path);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().empty() ? path : p.filename().string();
}

}  // namespace

std::string compare_runs(const std::vector<std::string>& run_dirs, const std::string& out_dir) {
  if (run_dirs.empty()) throw std::runtime_error("nothing to compare");
  std::vector<Run> runs;
  for (const auto& d : run_dirs) runs.push_back(load_run(d));
  std::vector<std::map<std::string, std::string>> settings;
  std::vector<std::string> names;
  for (const auto& r : runs) {
    settings.push_back(r.settings);
    names.push_back(dir_name(r.dir.path));
  }
  const auto labels = difference_labels(settings, names);
  for (size_t i = 0; i < runs.size(); ++i) runs[i].label = labels[i];
  fs::create_directories(out_dir);
  const auto out = absolute_path(out_dir);
  write_loss_figure(runs, out);
  write_loop_figure(runs, out);
  const auto baselines = write_examples_figure(runs, out);
  return write_compare_md(runs, baselines, out);
}

}  // namespace looplab::host
