// Decision trees (docs/model.md#decision-trees).
#include "decision_tree.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace looplab::tasks {

torch::Tensor decision_tree_forward(const torch::Tensor& xs, const torch::Tensor& splits, const torch::Tensor& leaves) {
  if (xs.dim() != 3 || splits.dim() != 2 || leaves.dim() != 2 || splits.size(0) != xs.size(0) ||
      leaves.size(0) != xs.size(0) || splits.size(1) + 1 != leaves.size(1))
    throw std::invalid_argument("decision_tree_forward: expected xs [B, n, d], splits [B, 2^D - 1], leaves [B, 2^D]");
  const int64_t n_leaves = leaves.size(1);
  if (n_leaves < 2 || (n_leaves & (n_leaves - 1)) != 0)
    throw std::invalid_argument("decision_tree_forward: " + std::to_string(n_leaves) +
                                " leaves is not a power of two >= 2");
  const auto splits_long = splits.to(torch::kLong);
  auto node = torch::zeros({xs.size(0), xs.size(1)}, splits_long.options());  // [B, n], all at the root
  for (int64_t width = 1; width < n_leaves; width *= 2) {
    const auto coord = splits_long.gather(1, node);                    // [B, n]
    const auto value = xs.gather(2, coord.unsqueeze(-1)).squeeze(-1);  // x_c, [B, n]
    node = node.mul(2).add_(1).add_(value.gt(0).to(torch::kLong));     // left 2i+1, right 2i+2
  }
  return leaves.gather(1, node.sub_(n_leaves - 1));
}

DecisionTree::DecisionTree(const DecisionTreeOptions& options) : options_(options) {
  if (options_.n_dims() < 1)
    throw std::invalid_argument("decision_tree: n_dims " + std::to_string(options_.n_dims()) + " < 1");
  if (options_.depth() < 1 || options_.depth() > 30)
    throw std::invalid_argument("decision_tree: depth " + std::to_string(options_.depth()) + " outside [1, 30]");
}

DecisionTreeSample DecisionTree::sample_with_trees(int64_t batch, int64_t points, int64_t active_dims,
                                                   at::Generator& gen, const torch::Device& device) const {
  const int64_t d = options_.n_dims();
  if (active_dims < 1 || active_dims > d)
    throw std::invalid_argument("decision_tree: active_dims " + std::to_string(active_dims) + " outside [1, " +
                                std::to_string(d) + "]");
  const int64_t n_leaves = int64_t{1} << options_.depth();
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = torch::randn({batch, points, d}, gen, opts);
  if (active_dims < d) xs.narrow(2, active_dims, d - active_dims).zero_();
  auto splits = torch::randint(active_dims, {batch, n_leaves - 1}, gen, opts.dtype(torch::kLong));
  auto leaves = torch::randn({batch, n_leaves}, gen, opts);
  auto ys = decision_tree_forward(xs, splits, leaves);
  return {xs, ys, splits, leaves};
}

std::pair<torch::Tensor, torch::Tensor> DecisionTree::sample(int64_t batch, int64_t points, int64_t active_dims,
                                                             at::Generator& gen, const torch::Device& device) const {
  auto s = sample_with_trees(batch, points, active_dims, gen, device);
  return {s.xs, s.ys};
}

double DecisionTree::y_second_moment(int64_t) const { return 1.0; }

}  // namespace looplab::tasks
