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

/// Fresh prompts, the truncated-window loss, backward, gradient clipping (`grad_clip` > 0),
/// optimizer update.
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
            double grad_clip = 0.0);
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  /// Runs one step at the given curriculum values, drawing prompts from `gen`. Returns the
  /// loss as a detached 0-dim tensor on the device (no host synchronisation).
  torch::Tensor operator()(int64_t loops, int64_t dims, int64_t points, at::Generator& gen);

  /// The last step's MSE after its final (b-th) iteration alone, from the same forward pass:
  /// a detached 0-dim tensor on the device (equal to the loss when the window is one iteration).
  const torch::Tensor& last_iteration_loss() const { return last_; }

  /// Whether steps are being replayed from a CUDA graph.
  bool replaying() const;

 private:
  torch::Tensor eager(const sdk::Prompts& prompts, int64_t loops);
  void clip_gradients();

  SequenceModel model_;
  std::shared_ptr<sdk::Task> task_;
  torch::optim::Optimizer& optimizer_;
  c10::Device device_;
  int64_t batch_size_, window_;
  double grad_clip_;
  std::vector<torch::Tensor> params_;  // what clipping scales
  torch::Tensor last_;
  std::shared_ptr<sdk::Logger> log_;
  struct Graphs;  // CUDA graph state; defined only where LibTorch has CUDA
  std::unique_ptr<Graphs> graphs_;
};

/// Whether this build of looplab can capture CUDA graphs (LibTorch with CUDA at build time).
bool cuda_graphs_compiled();

/// Scales the gradients of `params` (those that have one) by min(1, max_norm / N), N their
/// global L2 norm, on the device without a host synchronisation: gradients whose norm is at
/// most max_norm are left exactly as they are. Returns N (0-dim tensor; undefined when no
/// parameter has a gradient).
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace looplab::host
