#pragma once
// Linear in-context baselines: least squares, ridge and averaging, refitted on every prefix of
// every prompt (conventions in predictions.h). Arithmetic is float64 and batched over prompts;
// the only loop is over the prefix length.

#include <torch/types.h>

namespace looplab::baselines {

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

}  // namespace looplab::baselines
