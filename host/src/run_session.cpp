#include "run_session.h"

#include "analysis_runner.h"
#include "commands.h"
#include "config_loader.h"
#include "csv.h"
#include "devices.h"
#include "evaluation.h"
#include "figures.h"
#include "model_factory.h"
#include "report.h"
#include "trainer.h"

#include "run_logger.h"
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string duration_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return buf;
}

// Tables for the two standard figures, written next to their PNGs.
void render_standard_figures(const PipelineConfig& cfg, const RunDir& dir, const std::vector<EvalRow>& rows,
                             std::vector<std::pair<std::string, std::string>>& figures) {
  fs::create_directories(dir.figures());
  sdk::Table curves{{"label", "examples", "err_mean", "err_lo", "err_hi"}, {}};
  std::vector<std::string> labels;
  for (const auto& r : rows) {
    std::string label = r.predictor;
    if (r.predictor == "model")
      label = cfg.looped ? "model, " + std::to_string(r.iterations) + " iterations" : "model";
    if (labels.empty() || labels.back() != label) labels.push_back(label);
    curves.rows.push_back({label, std::to_string(r.examples), sdk::Table::num(r.err_mean), sdk::Table::num(r.err_lo),
                           sdk::Table::num(r.err_hi)});
  }
  const auto curves_csv = dir.figures() + "/error_curves.csv";
  write_csv(curves_csv, curves);
  sdk::FigureSpec err{"error_vs_examples", "normalized error vs in-context examples (d = " + std::to_string(cfg.n_dims) + ")",
                      "in-context examples", "normalized squared error", false, true, {}};
  for (const auto& label : labels) {
    sdk::Series s{label, "curves", "examples", "err_mean", "label", label, "", ""};
    if (label.rfind("model", 0) == 0) s.band_lo = "err_lo", s.band_hi = "err_hi";
    err.series.push_back(s);
  }
  figures.emplace_back("Normalized error vs in-context examples (90% bootstrap band)",
                       fs::relative(render_figure(err, {{"curves", curves_csv}}, dir.figures()), dir.path).string());

  auto train = read_csv(dir.train_csv());
  size_t step_col = 0, norm_col = 2;
  std::vector<double> norm;
  for (const auto& row : train.rows) norm.push_back(std::stod(row[norm_col]));
  auto ma = moving_average(norm, cfg.moving_average);
  sdk::Table loss{{"step", "loss_norm", "loss_norm_ma"}, {}};
  for (size_t i = 0; i < train.rows.size(); ++i)
    loss.rows.push_back({train.rows[i][step_col], train.rows[i][norm_col], sdk::Table::num(ma[i])});
  const auto loss_csv = dir.figures() + "/train_loss.csv";
  write_csv(loss_csv, loss);
  sdk::FigureSpec lf{"train_loss", "training loss / E[y^2]", "step", "loss / E[y^2]", false, true,
                     {{"raw", "loss", "step", "loss_norm", "", "", "", ""},
                      {"moving average (" + std::to_string(cfg.moving_average) + ")", "loss", "step", "loss_norm_ma", "", "", "", ""}}};
  figures.emplace_back("Training loss, raw and moving average",
                       fs::relative(render_figure(lf, {{"loss", loss_csv}}, dir.figures()), dir.path).string());
}

}  // namespace

std::string create_empty_directory(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_empty(path, ec))
    throw std::runtime_error(what + " " + path + " exists and is not empty (choose another --out, or --resume it)");
  fs::create_directories(path, ec);
  if (ec) throw std::runtime_error("cannot create " + what + " " + path + ": " + ec.message());
  return fs::absolute(path).lexically_normal().string();
}

RunDir create_run_dir(const std::string& path, const PipelineConfig& cfg) {
  RunDir dir{create_empty_directory(path, "run directory")};
  try {
    write_toml(dir.resolved(), cfg.resolved);
    write_status(dir, "running");
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot write to run directory " + path + ": " + e.what());
  }
  return dir;
}

void write_status(const RunDir& dir, const std::string& status, const std::string& message) {
  const auto tmp = dir.status() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"status\": \"" << status << "\"";
    if (!message.empty()) out << ", \"message\": \"" << json_escape(message) << "\"";
    out << "}\n";
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, dir.status());
}

int execute_run(const PipelineConfig& cfg, const RunDir& dir, const std::atomic<bool>& stop) {
  auto log = make_logger(dir.log());
  try {
    const auto device = resolve_device(cfg.device);
    const auto threads = configure_threads(cfg.threads);
    configure_tf32(cfg.tf32);
    if (auto warning = thread_warning(); !warning.empty()) log->warn(warning);
    torch::manual_seed(static_cast<uint64_t>(cfg.seed));
    auto task = make_task(cfg);
    auto model = make_model(cfg);
    log->info("run " + cfg.name + " -> " + dir.path);
    log->info("device " + device.str() + " | " + std::to_string(threads) + " threads | " +
              std::to_string(parameter_count(*model)) + " parameters | L " + std::to_string(cfg.depth()) +
              (cfg.looped ? " | b " + std::to_string(cfg.trained_loops()) + " | T " + std::to_string(cfg.window) : ""));

    Trainer trainer(cfg, model, task, device, dir.path, log);
    auto result = trainer.train(stop);
    if (!result.completed) {
      write_status(dir, "interrupted", "resume with: looplab run --resume " + dir.path);
      return kInterrupted;
    }
    log->info("trained " + std::to_string(result.steps_done) + " steps in " + duration_text(result.elapsed_s));

    auto rows = evaluate(model, *task, cfg, device);
    write_csv(dir.eval_csv(), eval_table(rows));
    std::vector<std::pair<std::string, std::string>> figures;
    if (cfg.figures) render_standard_figures(cfg, dir, rows, figures);
    std::vector<std::pair<std::string, std::string>> sections;
    for (size_t i = 0; i < cfg.analyses.size(); ++i) {
      log->info("analysis " + cfg.analyses[i].type);
      auto outcome = run_analysis(cfg, cfg.analyses[i], model, *task, device, dir.path,
                                  static_cast<uint64_t>(cfg.seed) + 1000 + i, *log);
      sections.emplace_back("Analysis: " + outcome.name, outcome.markdown);
    }
    if (cfg.report) {
      ReportInputs in;
      in.title = cfg.name;
      in.n_dims = cfg.n_dims;
      in.n_points = cfg.n_points;
      in.trained_loops = cfg.looped ? cfg.trained_loops() : 1;
      in.eval = rows;
      in.figures = figures;
      in.sections = sections;
      in.facts = {{"pipeline", cfg.file},
                  {"task", cfg.task.type},
                  {"model", std::string(cfg.looped ? "looped" : "standard") + ", L = " + std::to_string(cfg.depth()) +
                                ", D = " + std::to_string(cfg.n_embd) +
                                (cfg.looped ? ", b = " + std::to_string(cfg.trained_loops()) + ", T = " + std::to_string(cfg.window) : "")},
                  {"parameters", std::to_string(parameter_count(*model))},
                  {"steps", std::to_string(result.steps_done)},
                  {"final training loss", std::to_string(result.last_loss)},
                  {"training time", duration_text(result.elapsed_s)},
                  {"device", device.str() + " (" + std::to_string(threads) + " threads)"}};
      write_report(dir.report(), in);
    }
    write_status(dir, "complete");
    log->info("done: " + (cfg.report ? dir.report() : dir.eval_csv()));
    return kOk;
  } catch (const std::exception& e) {
    log->error(e.what());
    write_status(dir, "failed", e.what());
    return kFailure;
  }
}

int analyze_run(const PipelineConfig& cfg, const RunDir& dir, const ComponentConfig& analysis) {
  auto log = make_logger(dir.log());
  try {
    const auto checkpoint = Trainer::latest_checkpoint(dir.path);
    if (checkpoint.empty()) throw std::runtime_error(dir.path + " has no checkpoint to analyze");
    const auto device = resolve_device(cfg.device);
    configure_threads(cfg.threads);
    auto task = make_task(cfg);
    auto model = make_model(cfg);
    model->to(device);
    load_model_weights(model, checkpoint, device);
    log->info("analysis " + analysis.type + " on " + checkpoint);
    auto outcome = run_analysis(cfg, analysis, model, *task, device, dir.path, static_cast<uint64_t>(cfg.seed) + 2000, *log);
    if (fs::exists(dir.report()))
      append_report_section(dir.report(), "Analysis: " + outcome.name, outcome.markdown);
    log->info("done: " + outcome.directory);
    return kOk;
  } catch (const std::exception& e) {
    log->error(e.what());
    return kFailure;
  }
}

}  // namespace looplab::host
