#pragma once
// The k-nearest-neighbours in-context baseline (conventions in predictions.h).

#include <torch/types.h>

#include <cstdint>

namespace looplab::baselines {

/// k-nearest neighbours: the mean of y_j over the min(k, i) prefix points closest to x_i in
/// Euclidean distance. k < 1 throws std::invalid_argument.
torch::Tensor nearest_neighbour_predictions(const torch::Tensor& xs, const torch::Tensor& ys, int64_t k = 3);

}  // namespace looplab::baselines
