#include "training/trainer.h"

#include "common/devices.h"
#include "common/seeds.h"
#include "common/text.h"
#include "training/checkpoint.h"
#include "training/fused_adam.h"
#include "training/train_events.h"
#include "training/train_log.h"
#include "training/train_step.h"

#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

using Clock = std::chrono::steady_clock;

// "step 250/2000 | loss 1.2345 | loss/E[y^2] 0.4115 | b 4 | dims 3 | points 7 | 95.1 step/s | ETA 0m18s"
std::string progress_line(const TrainLog& log, int64_t steps, double rate) {
  const auto& last = log.last();
  std::ostringstream line;
  line << std::fixed << std::setprecision(4) << "step " << last.step << "/" << steps << " | loss " << log.last_loss()
       << " | loss/E[y^2] " << log.last_loss() / last.y_second_moment << " | b " << last.loops << " | dims "
       << last.dims << " | points " << last.points << std::setprecision(1) << " | " << rate << " step/s | ETA "
       << format_duration((steps - last.step) / std::max(rate, 1e-9));
  return line.str();
}

// Divergence as the log intervals show it: a NaN/inf loss (unless such steps are skipped), a
// loss that stays far above E[y^2], or an interval whose every update was skipped.
class DivergenceWatch {
 public:
  explicit DivergenceWatch(const TrainingOptions& t) : t_(t) {}
  // "" while training is fine, else why it has diverged.
  std::string check(const TrainLog::Interval& in, int64_t last_step) {
    if (in.first_nonfinite >= 0 && t_.on_nonfinite == "stop")
      return "the training loss became non-finite at step " + std::to_string(in.first_nonfinite);
    const bool all_skipped = in.finite == 0;
    const bool high = t_.max_loss_ratio > 0 && in.mean_loss_norm > t_.max_loss_ratio;
    over_ = all_skipped || high ? over_ + 1 : 0;
    if (over_ < t_.max_loss_intervals) return "";
    std::ostringstream why;
    if (all_skipped)
      why << "every update of " << over_ << " log intervals was skipped (non-finite), up to step " << last_step;
    else
      why << "loss/E[y^2] stayed above max_loss_ratio = " << t_.max_loss_ratio << " for " << over_
          << " log intervals, up to step " << last_step << " (last " << in.mean_loss_norm << ")";
    return why.str();
  }

 private:
  const TrainingOptions& t_;
  int64_t over_ = 0;
};

// One synchronisation for all parameters.
bool finite_parameters(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finite;
  for (const auto& p : model.parameters()) finite.push_back(p.isfinite().all());
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

// Loads the newest readable checkpoint; one that cannot be read (truncated by a crash or a
// full disk) is reported and the one before it is tried.
std::optional<Checkpoint> resume_latest(const std::string& dir, SequenceModel& model, torch::optim::Optimizer& opt,
                                        const c10::Device& device, sdk::Logger& log) {
  for (const auto& path : Checkpoint::all(dir)) {
    try {
      auto c = Checkpoint::load(path, model, &opt, device);
      log.info("resuming from " + path + " (step " + std::to_string(c.step) + ")");
      return c;
    } catch (const std::exception& e) {
      std::string why = e.what();
      why = why.substr(0, std::min(why.find('\n'), why.find(". ")));  // LibTorch's first sentence
      // Set aside, so that nothing (analyze, the next resume) picks it again.
      std::error_code ec;
      fs::rename(path, path + ".corrupt", ec);
      log.warn("cannot read checkpoint " + path + " (" + why + "); set aside as " +
               fs::path(path).filename().string() + ".corrupt, trying the one before it");
    }
  }
  return std::nullopt;
}

}  // namespace

Trainer::Trainer(const PipelineConfig& cfg, SequenceModel model, std::shared_ptr<sdk::Task> task, c10::Device device,
                 RunDir run_dir, std::shared_ptr<sdk::Logger> log, tensorboard::EventWriter* events)
    : cfg_(cfg),
      model_(std::move(model)),
      task_(std::move(task)),
      device_(device),
      run_dir_(std::move(run_dir)),
      log_(std::move(log)),
      events_(events) {}

TrainResult Trainer::train(const std::atomic<bool>& stop) {
  model_->to(device_);
  model_->train();
  auto optimizer = make_optimizer(cfg_.training, *model_);
  auto& opt = *optimizer;
  // Data has its own generator so that resuming restores exactly the prompts to come.
  at::Generator gen = make_generator(device_, seeds::training_data(cfg_.run.seed));
  const auto ckpt_dir = run_dir_.checkpoints();
  fs::create_directories(ckpt_dir);
  Checkpoint::remove_partial(ckpt_dir);

  TrainResult result;
  double elapsed_before = 0;
  if (auto resumed = resume_latest(ckpt_dir, model_, opt, device_, *log_)) {
    gen.set_state(resumed->data_rng.cpu());
    result.steps_done = resumed->step;
    elapsed_before = resumed->elapsed_s;
  }
  auto scalars = model_->traced_scalars();
  std::vector<std::string> scalar_names;
  for (const auto& [name, value] : scalars) scalar_names.push_back(name);
  const bool skip_nonfinite = cfg_.training.on_nonfinite == "skip_step";
  if (skip_nonfinite) scalar_names.push_back(train_columns::kSkipped);
  TrainLog train_log(run_dir_.train_csv(), scalar_names, result.steps_done);

  if (events_) restart_train_events(*events_, run_dir_.tensorboard(), result.steps_done);
  if (!train_log.has_loss_last())
    log_->warn("train.csv was started by an older looplab without loss_last; continuing with its columns");
  TrainStep step(model_, task_, opt, device_, cfg_.training.batch_size, cfg_.model.window, cfg_.training.cuda_graphs,
                 log_, StepGuards{cfg_.training.clip_grad_norm, skip_nonfinite});
  const auto t0 = Clock::now();
  auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  // Seconds since the epoch less the training time before this session: plus a row's elapsed_s,
  // the wall-clock time of its step, which the event file stamps it with.
  const double wall_offset =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - elapsed_before;
  const int64_t start_step = result.steps_done;
  DivergenceWatch watch(cfg_.training);
  // Writes the queued rows; returns false once the run has diverged (result.diverged says why).
  auto flush = [&] {
    if (!train_log.flush()) return true;
    if (events_) write_train_events(*events_, train_log.columns(), train_log.written(), wall_offset);
    result.last_loss = train_log.last_loss();
    const double rate = (train_log.last().step - start_step) / std::max(1e-9, elapsed() - elapsed_before);
    log_->info(progress_line(train_log, cfg_.training.steps, rate));
    result.diverged = watch.check(train_log.interval(), train_log.last().step);
    return result.diverged.empty();
  };
  // Never a checkpoint of non-finite weights: the previous one stays the latest.
  auto checkpoint = [&] {
    if (!flush()) return false;
    if (!finite_parameters(*model_)) {
      result.diverged = "the weights became non-finite by step " + std::to_string(result.steps_done);
      return false;
    }
    Checkpoint{result.steps_done, elapsed(), gen.get_state()}.save(ckpt_dir, model_, opt);
    Checkpoint::prune(ckpt_dir, cfg_.outputs.keep_checkpoints);
    return true;
  };
  auto diverged = [&] {
    const auto kept = Checkpoint::latest(ckpt_dir);
    result.diverged += kept.empty() ? "; no checkpoint was written"
                                    : "; the last finite checkpoint is " + fs::path(kept).filename().string();
    result.elapsed_s = elapsed();
    return result;
  };

  while (result.steps_done < cfg_.training.steps) {
    if (stop.load()) {
      if (!checkpoint()) return diverged();
      log_->warn("interrupted at step " + std::to_string(result.steps_done) + "; resume with: looplab run --resume " +
                 run_dir_.path);
      result.elapsed_s = elapsed();
      return result;
    }
    const int64_t i = result.steps_done;
    const int64_t b = cfg_.loops.at(i), dims = cfg_.dims.at(i), pts = cfg_.points.at(i);
    // The schedule is a function of the step index: a resumed run continues it exactly.
    set_learning_rate(opt, learning_rate(cfg_.training, i));
    auto loss = step(b, dims, pts, gen);
    ++result.steps_done;
    // A copy: the optimizer updates a learned scalar in place before the rows are flushed.
    std::vector<torch::Tensor> traced;
    for (auto& [name, value] : scalars) traced.push_back(value.detach().reshape({}).clone());
    if (skip_nonfinite) traced.push_back(step.skipped());
    train_log.add({result.steps_done, b, dims, pts, elapsed(), task_->y_second_moment(dims)}, loss,
                  step.last_iteration_loss(), traced);
    if (result.steps_done % cfg_.training.log_every == 0 && !flush()) return diverged();
    if (cfg_.training.checkpoint_every > 0 && result.steps_done % cfg_.training.checkpoint_every == 0 &&
        result.steps_done < cfg_.training.steps && !checkpoint())
      return diverged();
  }
  if (!checkpoint()) return diverged();
  result.completed = true;
  result.elapsed_s = elapsed();
  return result;
}

}  // namespace looplab::host
