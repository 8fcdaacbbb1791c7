#pragma once
// Normalized pointwise error of the model and the task's baselines on a fixed prompt set.

#include "config/pipeline.h"
#include "evaluation/eval_table.h"
#include "model/sequence_model.h"

#include <looplab/sdk/task.h>

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

/// The whole evaluation: the model at every evaluation iteration count and every baseline
/// the task names (baselines have iterations 0).
std::vector<EvalRow> evaluate(SequenceModel& model, const sdk::Task& task, const PipelineConfig& cfg,
                              const c10::Device& device);

}  // namespace looplab::host
