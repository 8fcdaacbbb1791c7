#pragma once
// The lasso in-context baseline (conventions in predictions.h), as in Garg et al.'s sparse linear
// regression study.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>

namespace looplab::baselines {

struct LassoOptions {
  /// L1 weight alpha of the objective below; must be > 0.
  TORCH_ARG(double, alpha) = 0.01;
  /// Tolerance on the duality gap: a prompt's fit w on a prefix of length i is accepted once
  /// P(w) - D(theta) <= tol * P(0), with P the objective below, D its dual at the scaled residual
  /// theta, and P(0) = ||y||^2 / (2i). The gap bounds the suboptimality P(w) - min P, so an
  /// accepted w is within tol * P(0) of the minimum in objective. Must be >= 0; below about 1e-13
  /// the gap is rounding noise, so coordinate descent runs all max_iter sweeps.
  TORCH_ARG(double, tol) = 1e-8;
  /// Cap on coordinate-descent sweeps (one sweep updates every coordinate once) per prompt and
  /// prefix when the homotopy result misses tol; must be >= 1. A fit that reaches it keeps its
  /// last iterate.
  TORCH_ARG(int64_t, max_iter) = 10000;
};

/// Lasso without intercept: for each prefix of length i >= 1, w_i = argmin_w (1/(2i)) ||X w - y||^2
/// + alpha ||w||_1 over the rows x_0..x_{i-1} (scikit-learn's Lasso(alpha, fit_intercept=False)),
/// and column i is x_i . w_i. Each prompt and prefix is solved exactly on the Gram matrix X^T X by
/// the homotopy (LARS-lasso) path from w = 0 at alpha_max = ||X^T y||_inf / i down to alpha, then
/// checked by its duality gap; if that exceeds tol (rank-deficient data, where a path step's
/// active Gram block is singular), cyclic coordinate descent continues from there until the gap
/// is below tol or max_iter sweeps. (Coordinate descent alone needs thousands of sweeps on the
/// underdetermined prefixes i < d at small alpha.) A coordinate whose column is all zero (an
/// inactive dimension) stays at w = 0. Plain float64 C++, parallel over prompts (the inputs are
/// copied to the CPU). Invalid options throw std::invalid_argument.
torch::Tensor lasso_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const LassoOptions& options = {});

}  // namespace looplab::baselines
