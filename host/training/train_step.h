#pragma once
// One optimizer step, shared by the trainer and `looplab bench` so that the benchmark times
// exactly what training runs.

#include "model/sequence_model.h"

#include <looplab/sdk/logger.h>
#include <looplab/sdk/task.h>

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace looplab::host {

/// What a step does about large and non-finite gradients.
struct StepGuards {
  double clip_grad_norm = 0;    ///< Clip the global gradient L2 norm to this; 0 = off.
  bool skip_nonfinite = false;  ///< Drop the update of a step whose loss or gradient is NaN/inf.
};

/// Fresh prompts, the truncated-window loss, backward, gradient clipping, the optimizer update
/// (dropped, with `skip_nonfinite`, when the loss or a gradient is not finite: decided on the
/// device, so no host synchronisation; skipped() says which steps were).
///
/// With `cuda_graphs` on a CUDA device the forward and backward pass of each fixed shape
/// (iterations b, points n: one curriculum stage) is captured once into a CUDA graph and then
/// replayed; prompts are sampled eagerly into the graph's input buffers and the optimizer
/// update runs eagerly after each replay, so the result is the same step. The first step of a
/// stage runs eagerly (lazy CUDA initialisation must not happen inside a capture). A capture
/// that fails logs one warning and every later step runs eagerly. On the CPU, or without
/// CUDA support in LibTorch, the option is ignored.
class TrainStep {
 public:
  TrainStep(SequenceModel model, std::shared_ptr<sdk::Task> task, torch::optim::Optimizer& optimizer,
            c10::Device device, int64_t batch_size, int64_t window, bool cuda_graphs, std::shared_ptr<sdk::Logger> log,
            StepGuards guards = {});
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  /// Runs one step at the given curriculum values, drawing prompts from `gen`. Returns the
  /// loss as a detached 0-dim tensor on the device (no host synchronisation).
  torch::Tensor operator()(int64_t loops, int64_t dims, int64_t points, at::Generator& gen);

  /// The last step's MSE after its final (b-th) iteration alone, from the same forward pass:
  /// a detached 0-dim tensor on the device (equal to the loss when the window is one iteration).
  const torch::Tensor& last_iteration_loss() const { return last_; }

  /// 1 when the last step's update was dropped (skip_nonfinite), else 0: a detached 0-dim
  /// float tensor on the device; undefined without skip_nonfinite.
  const torch::Tensor& skipped() const { return skipped_; }

  /// Whether steps are being replayed from a CUDA graph.
  bool replaying() const;

 private:
  torch::Tensor eager(const sdk::Prompts& prompts, int64_t loops);
  // Clipping, then the update unless the step is to be skipped.
  void update(const torch::Tensor& loss);

  SequenceModel model_;
  std::shared_ptr<sdk::Task> task_;
  torch::optim::Optimizer& optimizer_;
  c10::Device device_;
  int64_t batch_size_, window_;
  StepGuards guards_;
  std::vector<torch::Tensor> params_;  // what clipping scales
  torch::Tensor last_, skipped_;
  std::shared_ptr<sdk::Logger> log_;
  struct Graphs;  // CUDA graph state; defined only where LibTorch has CUDA
  std::unique_ptr<Graphs> graphs_;
};

/// Whether any gradient of `params` holds a NaN or inf: a 0-dim bool tensor on the device (no
/// host synchronisation); undefined when no parameter has a gradient.
torch::Tensor nonfinite_gradients(const std::vector<torch::Tensor>& params);

/// Whether this build of looplab can capture CUDA graphs (LibTorch with CUDA at build time).
bool cuda_graphs_compiled();

/// Scales the gradients of `params` (those that have one) by min(1, max_norm / N), N their
/// global L2 norm, on the device without a host synchronisation: gradients whose norm is at
/// most max_norm are left exactly as they are. Returns N (0-dim tensor; undefined when no
/// parameter has a gradient).
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace looplab::host
