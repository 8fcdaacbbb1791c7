#pragma once
// Normalized pointwise error of the model and the task's baselines on a fixed prompt set.

#include "config/pipeline.h"
#include "evaluation/eval_table.h"
#include "model/sequence_model.h"

#include <looplab/sdk/logger.h>
#include <looplab/sdk/task.h>

#include <string>
#include <vector>

namespace looplab::host {

/// The fixed evaluation prompts: cfg.evaluation.prompts prompts of n_points points at full
/// dimension, drawn on the CPU from a generator seeded with cfg.evaluation.seed (the same set on
/// every device).
sdk::Prompts evaluation_prompts(const sdk::Task& task, const PipelineConfig& cfg);

/// Iteration counts the model is evaluated at: the trained b plus the configured extra
/// counts (sorted, unique); {1} for a standard model.
std::vector<int64_t> evaluation_iterations(const PipelineConfig& cfg);

/// Model predictions [N, n] after each count in `iterations` (ascending), batched, no autograd.
std::vector<torch::Tensor> model_predictions(SequenceModel& model, const sdk::Prompts& prompts,
                                             const std::vector<int64_t>& iterations, int64_t batch_size,
                                             const c10::Device& device);

/// Rows of eval.csv for one predictor: mean and bootstrap band of (pred - y)^2 / E[y^2] at
/// every context size i = 0..n-1.
std::vector<EvalRow> error_rows(const std::string& predictor, int64_t iterations, const torch::Tensor& pred,
                                const torch::Tensor& ys, double y_second_moment, const EvaluationOptions& evaluation);

/// One baseline's predictions on the evaluation prompts and how long it took.
struct BaselineResult {
  std::string id;        ///< Predictor id in eval.csv (config/baselines.h).
  std::string label;     ///< How a legend writes it (sdk::Baseline::label()).
  torch::Tensor pred;    ///< [N, n] predictions.
  double seconds = 0.0;  ///< Wall time of predict().
};

/// Every baseline of cfg.baselines on `prompts`, each with its own seeded generator
/// (seeds::baseline); one log line per baseline with its time when `log` is given.
std::vector<BaselineResult> baseline_predictions(const sdk::Task& task, const PipelineConfig& cfg,
                                                 const sdk::Prompts& prompts, sdk::Logger* log);

/// What evaluate() returns: eval.csv's rows and each baseline's legend label by id.
struct Evaluation {
  std::vector<EvalRow> rows;                                ///< eval.csv
  std::vector<std::pair<std::string, std::string>> labels;  ///< (predictor id, label) per baseline
};

/// The whole evaluation: the model at every evaluation iteration count and every baseline
/// of cfg.baselines (baselines have iterations 0).
Evaluation evaluate(SequenceModel& model, const sdk::Task& task, const PipelineConfig& cfg, const c10::Device& device,
                    sdk::Logger* log = nullptr);

}  // namespace looplab::host
