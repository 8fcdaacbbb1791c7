#pragma once
/// @file task.h
/// The Task interface: a distribution over functions f, sampled as prompts of (x, f(x)) pairs.

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace looplab::sdk {

/// What the host tells a task factory.
struct TaskContext {
  int64_t n_dims = 0;  ///< Dimension d of x (the [task] n_dims key).
};

/// A batch of prompts: xs [B, n, d] and ys [B, n], float32 on the requested device.
struct Prompts {
  torch::Tensor xs;  ///< Inputs; coordinates >= the active dimensions are zero.
  torch::Tensor ys;  ///< Targets y_i = f(x_i) (+ noise for noisy tasks).
};

/// Names of the bundled baselines SDK 1.0 knew (plugin "classical"; any loaded baseline
/// component's name is valid in Task::baselines()).
namespace baseline {
inline constexpr const char* kLeastSquares = "least_squares";            ///< min-norm least squares
inline constexpr const char* kRidge = "ridge";                           ///< ridge, lambda = noise variance
inline constexpr const char* kAveraging = "averaging";                   ///< w = mean of y_j x_j
inline constexpr const char* kNearestNeighbours = "nearest_neighbours";  ///< 3-NN average
}  // namespace baseline

/// A family of functions to learn in context. Fresh functions are drawn for every prompt.
class Task {
 public:
  virtual ~Task();

  /// Draws `batch` prompts of `points` points from `gen` (a generator of `device`'s type).
  /// Only the first `active_dims` coordinates of each x are nonzero (curriculum).
  virtual Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                         const torch::Device& device) const = 0;

  /// E[y^2] for `active_dims` active coordinates: the normaliser of every reported error
  /// (a zero predictor scores ~1).
  virtual double y_second_moment(int64_t active_dims) const = 0;

  /// Variance of the label noise (0 for noiseless tasks); baselines receive it
  /// (sdk::BaselineContext), ridge uses it as its default lambda.
  virtual double noise_variance() const { return 0.0; }

  /// Baselines that suit this task, evaluated next to the model unless the pipeline's
  /// [evaluation] says otherwise. Each entry is a baseline component's name ("lasso") or the
  /// same with parameters as a TOML inline table ("{ type = \"lasso\", alpha = 0.1 }"), exactly
  /// as an [evaluation] baselines entry is written.
  virtual std::vector<std::string> baselines() const = 0;
};

/// The SDK glue of a task whose work a plain LibTorch module does (a plugin's module/glue
/// split): Module has `sample(batch, points, active_dims, gen, device)` returning (xs, ys) as a
/// pair or tuple, and `y_second_moment(active_dims)`. The glue adds the baselines and, for a
/// noisy task, the noise variance. Header-only: nothing of it is in the SDK library.
template <typename Module>
class ModuleTask : public Task {
 public:
  /// The task `module` with `baselines` (Task::baselines()) and label-noise variance `noise_variance`.
  ModuleTask(Module module, std::vector<std::string> baselines, double noise_variance = 0.0)
      : module_(std::move(module)), baselines_(std::move(baselines)), noise_variance_(noise_variance) {}

  Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                 const torch::Device& device) const override {
    auto [xs, ys] = module_.sample(batch, points, active_dims, gen, device);
    return {std::move(xs), std::move(ys)};
  }
  double y_second_moment(int64_t active_dims) const override { return module_.y_second_moment(active_dims); }
  double noise_variance() const override { return noise_variance_; }
  std::vector<std::string> baselines() const override { return baselines_; }

  /// The module itself.
  const Module& module() const { return module_; }

 private:
  Module module_;
  std::vector<std::string> baselines_;
  double noise_variance_;
};

}  // namespace looplab::sdk
