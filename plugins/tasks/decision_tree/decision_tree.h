#pragma once
// Decision-tree prompts (docs/model.md#decision-trees): x ~ N(0, I_d), per prompt a full binary
// tree of depth D whose internal nodes split on a uniformly drawn active coordinate (x_c <= 0
// left, > 0 right) and whose 2^D leaves hold N(0, 1) values; y = the leaf x reaches.
// Plain LibTorch: usable without the looplab SDK.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace looplab::tasks {

/// Parameters of the decision-tree task.
struct DecisionTreeOptions {
  /// Options for inputs of dimension `n_dims`.
  explicit DecisionTreeOptions(int64_t n_dims) : n_dims_(n_dims) {}
  /// Dimension d of x.
  TORCH_ARG(int64_t, n_dims);
  /// Depth D of the tree: 2^D - 1 internal nodes, 2^D leaves; in [1, 30].
  TORCH_ARG(int64_t, depth) = 4;
};

/// One batch of decision-tree prompts together with the trees that made them.
struct DecisionTreeSample {
  torch::Tensor xs;      ///< Inputs [B, n, d]; coordinates >= active_dims are zero.
  torch::Tensor ys;      ///< Targets [B, n] = decision_tree_forward(xs, splits, leaves).
  torch::Tensor splits;  ///< Split coordinates [B, 2^D - 1] (int64, each < active_dims), heap order.
  torch::Tensor leaves;  ///< Leaf values [B, 2^D], left to right.
};

/// Evaluates one tree per prompt on xs [B, n, d]. `splits` [B, 2^D - 1] (int64) holds the
/// coordinate each internal node tests, in heap order (node i has children 2i + 1 and 2i + 2,
/// the root is 0); `leaves` [B, 2^D] the leaf values left to right. From the root, x goes to
/// the left child when x_c <= 0 and to the right one when x_c > 0 (c = the node's coordinate);
/// after D steps it reaches leaf l = node - (2^D - 1), and y = leaves[b, l]. Returns [B, n] in
/// the dtype of `leaves`. One gather per level, no per-prompt loop. Throws
/// std::invalid_argument for shapes that do not fit together.
torch::Tensor decision_tree_forward(const torch::Tensor& xs, const torch::Tensor& splits, const torch::Tensor& leaves);

/// Draws decision-tree prompts; every draw comes from the given generator.
class DecisionTree {
 public:
  /// Throws std::invalid_argument when n_dims is below 1 or depth outside [1, 30].
  explicit DecisionTree(const DecisionTreeOptions& options);
  /// xs [B, n, d] with coordinates >= active_dims zeroed, ys [B, n]; float32 on `device`.
  /// Throws std::invalid_argument for active_dims outside [1, d].
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                                 const torch::Device& device) const;
  /// The same draw as sample() (equal generator state, equal xs and ys), with the trees.
  /// Order of draws: all x [B, n, d], then the split coordinates [B, 2^D - 1] (uniform
  /// integers in [0, active_dims)), then the leaf values [B, 2^D].
  DecisionTreeSample sample_with_trees(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                                       const torch::Device& device) const;
  /// E[y^2] = 1: whichever leaf x reaches, its value is N(0, 1) and independent of x.
  double y_second_moment(int64_t active_dims) const;
  /// The options this task was built with.
  const DecisionTreeOptions& options() const { return options_; }

 private:
  DecisionTreeOptions options_;
};

}  // namespace looplab::tasks
