#pragma once
// The gradient-boosted trees (XGBoost) in-context baseline (conventions in predictions.h), as in
// Garg et al.'s decision tree study.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>

namespace looplab::baselines {

struct GradientBoostingOptions {
  /// Maximum depth of each tree (XGBoost's max_depth); must be >= 1.
  TORCH_ARG(int64_t, max_depth) = 4;
  /// Boosting rounds, i.e. trees (XGBoost's num_boost_round, XGBRegressor's n_estimators); >= 1.
  TORCH_ARG(int64_t, n_estimators) = 50;
  /// Shrinkage eta applied to every tree (XGBoost's learning_rate); must be > 0.
  TORCH_ARG(double, learning_rate) = 0.1;
};

/// XGBoost regression through its C API: for each prompt and prefix length i >= 1 a fresh
/// booster is trained on x_0..x_{i-1} (float32, as XGBoost stores them) and predicts x_i. The
/// parameters are those xgboost.XGBRegressor(max_depth, n_estimators, learning_rate) passes in
/// XGBoost 1.7: objective reg:squarederror, base_score 0.5, booster gbtree, tree_method exact (what
/// "auto" picks for such data), lambda 1, gamma 0, min_child_weight 1, no subsampling, plus
/// nthread 1 per booster; prompts run in parallel (at::parallel_for). XGBoost errors throw
/// std::runtime_error with XGBGetLastError(); invalid options throw std::invalid_argument.
torch::Tensor gradient_boosting_predictions(const torch::Tensor& xs, const torch::Tensor& ys,
                                            const GradientBoostingOptions& options = {});

}  // namespace looplab::baselines
