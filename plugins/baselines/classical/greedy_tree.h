#pragma once
// The greedy regression tree (CART) in-context baseline (conventions in predictions.h), as in
// Garg et al.'s decision tree study.

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>

namespace looplab::baselines {

struct GreedyTreeOptions {
  /// Maximum depth of the tree (the root has depth 0); 0 means no limit: grown until every leaf
  /// is pure (a single sample, constant y, or no feature that separates its samples). Must be >= 0.
  TORCH_ARG(int64_t, max_depth) = 0;
};

/// CART regression tree with squared error, scikit-learn's DecisionTreeRegressor(max_depth)
/// fitted on each prefix x_0..x_{i-1} and evaluated at x_i (i >= 1). A node with samples S is a
/// leaf, predicting mean_{j in S} y_j, when |S| < 2, when its impurity var(y_S) <= DBL_EPSILON
/// (constant y), when depth >= max_depth (max_depth > 0), or when no feature separates S. Otherwise
/// it is split on the feature f and sorted position that maximize the impurity decrease, i.e.
/// (sum_L y)^2 / |L| + (sum_R y)^2 / |R|, over every feature and every position between
/// consecutive sorted values that differ by more than 1e-7 (scikit-learn's FEATURE_THRESHOLD);
/// the threshold is their midpoint a/2 + b/2 (a if that rounds to b), and x_f <= threshold goes
/// left. Ties in the criterion go to the lowest feature index, then to the lowest position
/// (scikit-learn breaks them by a random feature order instead). Only the path of x_i is grown,
/// which gives the same leaf as growing the whole tree. Plain float64 C++, parallel over prompts
/// (the inputs are copied to the CPU). max_depth < 0 throws std::invalid_argument.
torch::Tensor greedy_tree_predictions(const torch::Tensor& xs, const torch::Tensor& ys,
                                      const GreedyTreeOptions& options = {});

}  // namespace looplab::baselines
