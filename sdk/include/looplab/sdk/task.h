#pragma once
/// @file task.h
/// The Task interface: a distribution over functions f, sampled as prompts of (x, f(x)) pairs.

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
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

}  // namespace looplab::sdk
