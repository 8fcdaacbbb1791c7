#pragma once
/// @file baseline.h
/// The Baseline interface: a classical learner refitted on every prefix of every prompt, the
/// reference curve a model's error is compared against (since SDK 1.1).

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace looplab::sdk {

/// What the host tells a baseline factory about the task it is evaluated on.
struct BaselineContext {
  int64_t n_dims = 0;           ///< Dimension d of x.
  double noise_variance = 0.0;  ///< The task's label-noise variance (ridge's default lambda).
};

/// An in-context learner. Given prompts xs [N, n, d] and ys [N, n] (float32, CPU), predict()
/// returns [N, n] float32 where column i is the prediction for y_i from the prefix
/// (x_0, y_0, ..., x_{i-1}, y_{i-1}) and x_i alone; column 0 is 0 (no examples). The
/// conformance suite checks the shape, column 0, that changing point j changes no column
/// before j + 1 and no column j through y_j, and that equal generator seeds give equal output.
class Baseline {
 public:
  virtual ~Baseline();

  /// Predictions [N, n] for every prefix of every prompt. `gen` (a seeded CPU generator) is
  /// the only randomness a baseline may use.
  virtual torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, at::Generator& gen) const = 0;

  /// How people write this learner in a legend, parameters included where they matter:
  /// "least squares", "3-NN", "lasso alpha = 0.01".
  virtual std::string label() const = 0;
};

}  // namespace looplab::sdk
