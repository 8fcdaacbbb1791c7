#include "training/trainer.h"

#include "common/devices.h"
#include "common/seeds.h"
#include "common/text.h"
#include "training/checkpoint.h"
#include "training/fused_adam.h"
#include "training/train_log.h"
#include "training/train_step.h"

#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
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

}  // namespace

Trainer::Trainer(const PipelineConfig& cfg, SequenceModel model, std::shared_ptr<sdk::Task> task, c10::Device device,
                 RunDir run_dir, std::shared_ptr<sdk::Logger> log)
    : cfg_(cfg),
      model_(std::move(model)),
      task_(std::move(task)),
      device_(device),
      run_dir_(std::move(run_dir)),
      log_(std::move(log)) {}

TrainResult Trainer::train(const std::atomic<bool>& stop) {
  model_->to(device_);
  model_->train();
  auto optimizer = make_optimizer(cfg_.training, *model_);
  auto& opt = *optimizer;
  // Data has its own generator so that resuming restores exactly the prompts to come.
  at::Generator gen = make_generator(device_, seeds::training_data(cfg_.run.seed));
  const auto ckpt_dir = run_dir_.checkpoints();
  fs::create_directories(ckpt_dir);

  TrainResult result;
  double elapsed_before = 0;
  if (auto latest = Checkpoint::latest(ckpt_dir); !latest.empty()) {
    const auto resumed = Checkpoint::load(latest, model_, &opt, device_);
    gen.set_state(resumed.data_rng.cpu());
    result.steps_done = resumed.step;
    elapsed_before = resumed.elapsed_s;
    log_->info("resuming from " + latest + " (step " + std::to_string(result.steps_done) + ")");
  }
  auto scalars = model_->traced_scalars();
  std::vector<std::string> scalar_names;
  for (const auto& [name, value] : scalars) scalar_names.push_back(name);
  TrainLog train_log(run_dir_.train_csv(), scalar_names, result.steps_done);

  if (!train_log.has_loss_last())
    log_->warn("train.csv was started by an older looplab without loss_last; continuing with its columns");
  TrainStep step(model_, task_, opt, device_, cfg_.training.batch_size, cfg_.model.window, cfg_.training.cuda_graphs,
                 log_, cfg_.training.grad_clip);
  const auto t0 = Clock::now();
  auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  const int64_t start_step = result.steps_done;
  auto flush = [&] {
    if (!train_log.flush()) return;
    result.last_loss = train_log.last_loss();
    const double rate = (train_log.last().step - start_step) / std::max(1e-9, elapsed() - elapsed_before);
    log_->info(progress_line(train_log, cfg_.training.steps, rate));
  };
  auto checkpoint = [&] {
    flush();
    Checkpoint{result.steps_done, elapsed(), gen.get_state()}.save(ckpt_dir, model_, opt);
    Checkpoint::prune(ckpt_dir, cfg_.outputs.keep_checkpoints);
  };

  while (result.steps_done < cfg_.training.steps) {
    if (stop.load()) {
      checkpoint();
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
    train_log.add({result.steps_done, b, dims, pts, elapsed(), task_->y_second_moment(dims)}, loss,
                  step.last_iteration_loss(), traced);
    if (result.steps_done % cfg_.training.log_every == 0) flush();
    if (cfg_.training.checkpoint_every > 0 && result.steps_done % cfg_.training.checkpoint_every == 0 &&
        result.steps_done < cfg_.training.steps)
      checkpoint();
  }
  checkpoint();
  result.completed = true;
  result.elapsed_s = elapsed();
  return result;
}

}  // namespace looplab::host
