#pragma once
/// @file baselines.h
/// In-context baselines: classical regressors refitted on every prefix of every prompt, the
/// reference curves a model's normalized pointwise error is compared against.
///
/// Every function takes xs [N, n, d] and ys [N, n] (N prompts of n points, any float dtype, any
/// device) and returns predictions [N, n] float32 on the inputs' device, where column i is the
/// prediction for y_i from the prefix (x_0, y_0, ..., x_{i-1}, y_{i-1}) and x_i alone. Column 0
/// is 0: with no examples every baseline predicts 0. Arithmetic is float64 and batched over
/// prompts; the only loop is over the prefix length. Shape mismatches throw
/// std::invalid_argument.

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace looplab::host {

/// Minimum-norm least squares, w_i = pinv(X_{<i}) y_{<i}: for i < d the interpolant of smallest
/// norm (a QR/gels solve would pick an arbitrary one), for i >= d the ordinary fit. Inactive
/// (all-zero) input coordinates and other rank deficiency are handled like a pseudo-inverse.
torch::Tensor least_squares_predictions(const torch::Tensor& xs, const torch::Tensor& ys);

/// Ridge regression, w_i = (X^T X + lambda I)^{-1} X^T y over the prefix; with lambda =
/// sigma^2 and w ~ N(0, I) it is the Bayes-optimal predictor for noisy linear regression.
/// lambda = 0 gives min-norm least squares (the ridge limit); lambda < 0 throws
/// std::invalid_argument.
torch::Tensor ridge_predictions(const torch::Tensor& xs, const torch::Tensor& ys, double lambda);

/// Averaging estimator, w_i = mean_{j<i} y_j x_j (unbiased for w when x ~ N(0, I)).
torch::Tensor averaging_predictions(const torch::Tensor& xs, const torch::Tensor& ys);

/// k-nearest neighbours: the mean of y_j over the min(k, i) prefix points closest to x_i in
/// Euclidean distance. k < 1 throws std::invalid_argument.
torch::Tensor nearest_neighbour_predictions(const torch::Tensor& xs, const torch::Tensor& ys, int64_t k = 3);

/// Dispatches by name: "least_squares", "ridge" (lambda = noise_variance), "averaging",
/// "nearest_neighbours" (k = 3). Throws std::invalid_argument naming an unknown baseline.
torch::Tensor baseline_predictions(const std::string& name, const torch::Tensor& xs, const torch::Tensor& ys,
                                   double noise_variance);

}  // namespace looplab::host
