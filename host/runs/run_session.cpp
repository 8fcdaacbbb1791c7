#include "runs/run_session.h"

#include "common/csv.h"
#include "common/devices.h"
#include "common/errors.h"
#include "common/exit_code.h"
#include "common/files.h"
#include "common/run_lock.h"
#include "common/seeds.h"
#include "common/text.h"
#include "config/config_loader.h"
#include "evaluation/evaluation.h"
#include "model/model_factory.h"
#include "reporting/report.h"
#include "reporting/run_events.h"
#include "reporting/run_figures.h"
#include "runs/analysis_runner.h"
#include "tensorboard/event_file.h"
#include "training/checkpoint.h"
#include "training/trainer.h"

#include <torch/torch.h>
#include "run_logger.h"

#include <filesystem>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// "looped, L = 1, D = 64, b = 10, T = 5": the model as the log and the report name it.
std::string model_text(const PipelineConfig& cfg) {
  return std::string(cfg.model.looped ? "looped" : "standard") + ", L = " + std::to_string(cfg.depth()) +
         ", D = " + std::to_string(cfg.model.n_embd) +
         (cfg.model.looped
              ? ", b = " + std::to_string(cfg.trained_loops()) + ", T = " + std::to_string(cfg.model.window)
              : "");
}

ReportInputs report_inputs(const PipelineConfig& cfg, SequenceModel& model, const TrainResult& result,
                           const std::string& device_text) {
  ReportInputs in;
  in.title = cfg.run.name;
  in.n_dims = cfg.n_dims;
  in.n_points = cfg.n_points;
  in.trained_loops = cfg.model.looped ? cfg.trained_loops() : 1;
  in.facts = {{"pipeline", cfg.file},
              {"task", cfg.task.type},
              {"model", model_text(cfg)},
              {"parameters", std::to_string(parameter_count(*model))},
              {"steps", std::to_string(result.steps_done)},
              {"final training loss", std::to_string(result.last_loss)},
              {"training time", format_duration(result.elapsed_s)},
              {"device", device_text}};
  return in;
}

// status "failed"; when even run.json cannot be written (a full disk), the log and stderr say so.
void record_failure(const RunDir& dir, const std::string& why, sdk::Logger& log) {
  try {
    write_status(dir, "failed", why);
  } catch (const std::exception& e) {
    log.error("cannot record the failure in run.json: " + error_text(e));
  }
}

}  // namespace

RunDir create_run_dir(const std::string& path, const PipelineConfig& cfg) {
  RunDir dir{create_empty_directory(path, "run directory")};
  try {
    write_toml(dir.resolved(), cfg.resolved);
    RunStatus status;
    status.status = "running";
    status.trained_loops = cfg.model.looped ? cfg.trained_loops() : 1;
    write_run_status(dir, status);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot write to run directory " + path + ": " + e.what());
  }
  return dir;
}

int execute_run(const PipelineConfig& cfg, const RunDir& dir, const std::atomic<bool>& stop) {
  auto log = make_logger(dir.log());
  try {
    const auto device = resolve_device(cfg.run.device);
    // A resume keeps the thread count the run started with: another count changes the numbers.
    auto status = read_run_status(dir);
    auto choice = configure_threads(cfg.run.threads > 0 ? cfg.run.threads : status.threads);
    if (cfg.run.threads == 0 && status.threads > 0) choice.reason = "as the run started (--threads N changes it)";
    const auto threads = choice.threads;
    if (status.threads != threads) {
      status.threads = threads;
      write_run_status(dir, status);
    }
    configure_tf32(cfg.run.tf32);
    if (auto warning = thread_warning(threads); !warning.empty()) log->warn(warning);
    torch::manual_seed(static_cast<uint64_t>(cfg.run.seed));
    auto task = make_task(cfg);
    auto model = make_model(cfg);
    const auto device_text = device.str() + " (" + std::to_string(threads) + " threads)";
    log->info("run " + cfg.run.name + " -> " + dir.path);
    log->info("device " + device.str() + " | " + std::to_string(threads) + (threads == 1 ? " thread (" : " threads (") +
              choice.reason + ") | " +
              std::to_string(parameter_count(*model)) + " parameters | " + model_text(cfg));

    // A new event file per session; a resume's trainer cuts the earlier ones back.
    std::unique_ptr<tensorboard::EventWriter> events;
    if (cfg.outputs.tensorboard) {
      events = std::make_unique<tensorboard::EventWriter>(dir.tensorboard());
      write_pipeline_event(*events, read_file(dir.resolved()));
      events->flush();
    }
    Trainer trainer(cfg, model, task, device, dir, log, events.get());
    auto result = trainer.train(stop);
    if (!result.diverged.empty()) {
      log->error("diverged: " + result.diverged);
      write_status(dir, "diverged", result.diverged);
      return kDiverged;
    }
    if (!result.completed) {
      write_status(dir, "interrupted", "resume with: looplab run --resume " + dir.path);
      return kInterrupted;
    }
    log->info("trained " + std::to_string(result.steps_done) + " steps in " + format_duration(result.elapsed_s));

    auto evaluation = evaluate(model, *task, cfg, device, log.get());
    const auto& rows = evaluation.rows;
    write_eval_csv(dir.eval_csv(), rows);
    auto report = report_inputs(cfg, model, result, device_text);
    report.eval = rows;
    report.labels = evaluation.labels;
    if (events) write_evaluation_events(*events, report, result.steps_done);
    if (cfg.outputs.figures)
      report.figures =
          render_run_figures(dir, rows, {cfg.n_dims, cfg.model.looped, cfg.outputs.moving_average, evaluation.labels});
    for (const auto& analysis : cfg.analyses) {
      log->info("analysis " + analysis.type);
      auto outcome = run_analysis(cfg, analysis, model, *task, device, dir.path,
                                  seeds::analysis(cfg.run.seed, analysis.type), *log);
      report.sections.emplace_back("Analysis: " + outcome.name, outcome.markdown);
    }
    if (cfg.outputs.report) write_report(dir.report(), report);
    auto done = read_run_status(dir);
    done.status = "complete";
    done.message.clear();
    done.labels = evaluation.labels;  // for compare, which loads no plugins
    write_run_status(dir, done);
    log->info("done: " + (cfg.outputs.report ? dir.report() : dir.eval_csv()));
    return kOk;
  } catch (const std::exception& e) {
    log->error(error_text(e));
    record_failure(dir, error_text(e), *log);
    return kFailure;
  }
}

int analyze_run(const PipelineConfig& cfg, const RunDir& dir, const ComponentConfig& analysis) {
  std::unique_ptr<RunLock> lock;  // analyses write into the run directory: not while it trains
  try {
    lock = std::make_unique<RunLock>(dir.path);
  } catch (const std::exception& e) {
    std::cerr << "error: " << error_text(e) << "\n";
    return kBadInput;
  }
  auto log = make_logger(dir.log());
  try {
    const auto checkpoint = Checkpoint::latest(dir.checkpoints());
    if (checkpoint.empty()) throw std::runtime_error(dir.path + " has no checkpoint to analyze");
    const auto device = resolve_device(cfg.run.device);
    configure_threads(cfg.run.threads > 0 ? cfg.run.threads : read_run_status(dir).threads);
    auto task = make_task(cfg);
    auto model = make_model(cfg);
    model->to(device);
    Checkpoint::load(checkpoint, model, nullptr, device);
    log->info("analysis " + analysis.type + " on " + checkpoint);
    auto outcome =
        run_analysis(cfg, analysis, model, *task, device, dir.path, seeds::analysis(cfg.run.seed, analysis.type), *log);
    if (fs::exists(dir.report())) append_report_section(dir.report(), "Analysis: " + outcome.name, outcome.markdown);
    log->info("done: " + outcome.directory);
    return kOk;
  } catch (const std::exception& e) {
    log->error(error_text(e));
    return kFailure;
  }
}

}  // namespace looplab::host
