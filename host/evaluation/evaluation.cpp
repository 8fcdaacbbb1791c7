#include "evaluation/evaluation.h"

#include "common/devices.h"
#include "common/seeds.h"
#include "config/baselines.h"
#include "evaluation/error_band.h"
#include "model/model_factory.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace looplab::host {

sdk::Prompts evaluation_prompts(const sdk::Task& task, const PipelineConfig& cfg) {
  auto gen = make_generator(c10::Device(c10::kCPU), seeds::evaluation_prompts(cfg.evaluation.seed));
  return task.sample(cfg.evaluation.prompts, cfg.n_points, cfg.n_dims, gen, c10::Device(c10::kCPU));
}

std::vector<int64_t> evaluation_iterations(const PipelineConfig& cfg) {
  if (!cfg.model.looped) return {1};
  std::vector<int64_t> its = cfg.evaluation.iterations;
  its.push_back(cfg.trained_loops());
  std::sort(its.begin(), its.end());
  its.erase(std::unique(its.begin(), its.end()), its.end());
  return its;
}

std::vector<torch::Tensor> model_predictions(SequenceModel& model, const sdk::Prompts& prompts,
                                             const std::vector<int64_t>& iterations, int64_t batch_size,
                                             const c10::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::vector<std::vector<torch::Tensor>> chunks(iterations.size());
  const int64_t n = prompts.xs.size(0);
  for (int64_t s = 0; s < n; s += batch_size) {
    const int64_t len = std::min(batch_size, n - s);
    auto xs = prompts.xs.narrow(0, s, len).to(device);
    auto ys = prompts.ys.narrow(0, s, len).to(device);
    auto preds = model->run(xs, ys, iterations.back(), iterations);
    for (size_t k = 0; k < preds.size(); ++k) chunks[k].push_back(preds[k].to(torch::kCPU));
  }
  model->train(was_training);
  std::vector<torch::Tensor> out;
  for (auto& c : chunks) out.push_back(torch::cat(c, 0));
  return out;
}

std::vector<EvalRow> error_rows(const std::string& predictor, int64_t iterations, const torch::Tensor& pred,
                                const torch::Tensor& ys, double y_second_moment, const EvaluationOptions& evaluation) {
  auto err = (pred.to(torch::kFloat64) - ys.to(torch::kFloat64)).square() / y_second_moment;
  auto band = error_band(err, evaluation.bootstrap, seeds::bootstrap(evaluation.seed));
  std::vector<EvalRow> rows;
  for (int64_t i = 0; i < err.size(1); ++i)
    rows.push_back(
        {predictor, iterations, i, band.mean[i].item<double>(), band.lo[i].item<double>(), band.hi[i].item<double>()});
  return rows;
}

std::vector<BaselineResult> baseline_predictions(const sdk::Task& task, const PipelineConfig& cfg,
                                                 const sdk::Prompts& prompts, sdk::Logger* log) {
  std::vector<BaselineResult> out;
  for (const auto& config : cfg.baselines) {
    BaselineResult r;
    r.id = baseline_id(config);
    const auto baseline = make_baseline(config, task, cfg.n_dims);
    r.label = baseline->label();
    auto gen = make_generator(c10::Device(c10::kCPU), seeds::baseline(cfg.evaluation.seed, r.id));
    const auto t0 = std::chrono::steady_clock::now();
    r.pred = baseline->predict(prompts.xs, prompts.ys, gen);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto expected = prompts.ys.sizes();
    if (!r.pred.defined() || r.pred.sizes() != expected)
      throw std::runtime_error("baseline " + r.id + " returned predictions of shape " +
                               (r.pred.defined() ? c10::str(r.pred.sizes()) : std::string("(none)")) + ", not " +
                               c10::str(expected));
    if (log) {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.2f s", r.seconds);
      log->info("baseline " + r.id + ": " + std::to_string(prompts.xs.size(0)) + " prompts x " +
                std::to_string(prompts.xs.size(1)) + " points in " + secs);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Evaluation evaluate(SequenceModel& model, const sdk::Task& task, const PipelineConfig& cfg, const c10::Device& device,
                    sdk::Logger* log) {
  const auto prompts = evaluation_prompts(task, cfg);
  const double norm = task.y_second_moment(cfg.n_dims);
  const auto its = evaluation_iterations(cfg);
  const auto preds = model_predictions(model, prompts, its, cfg.evaluation.batch_size, device);
  Evaluation out;
  auto append = [&](std::vector<EvalRow> r) { out.rows.insert(out.rows.end(), r.begin(), r.end()); };
  for (size_t k = 0; k < its.size(); ++k)
    append(error_rows(kModelPredictor, its[k], preds[k], prompts.ys, norm, cfg.evaluation));
  for (const auto& b : baseline_predictions(task, cfg, prompts, log)) {
    append(error_rows(b.id, 0, b.pred, prompts.ys, norm, cfg.evaluation));
    out.labels.emplace_back(b.id, b.label);
  }
  return out;
}

}  // namespace looplab::host
