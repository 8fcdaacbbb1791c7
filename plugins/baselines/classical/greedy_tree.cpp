#include "greedy_tree.h"

#include "predictions.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace looplab::baselines {
namespace {

/// Sorted feature values closer than this are not separated (scikit-learn's FEATURE_THRESHOLD).
constexpr double kFeatureThreshold = 1e-7;

/// Scratch space of one worker, reused across prompts and prefixes.
struct Scratch {
  std::vector<int64_t> node;    // the samples of the current node
  std::vector<int64_t> sorted;  // the same, sorted by one feature
};

/// The prediction at `query` of the tree grown on rows 0..count-1 of x ([n, d] row-major) and y:
/// only the nodes on the query's path are split (see greedy_tree.h for the rules).
double predict_one(const double* x, const double* y, int64_t count, int64_t d, const double* query, int64_t max_depth,
                   Scratch& s) {
  s.node.resize(count);
  std::iota(s.node.begin(), s.node.end(), int64_t{0});
  for (int64_t depth = 0;; ++depth) {
    const int64_t m = static_cast<int64_t>(s.node.size());
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t k : s.node) {
      sum += y[k];
      sum_sq += y[k] * y[k];
    }
    const double mean = sum / static_cast<double>(m);
    const double impurity = sum_sq / static_cast<double>(m) - mean * mean;
    if (m < 2 || impurity <= DBL_EPSILON || (max_depth > 0 && depth >= max_depth)) return mean;

    double best = -std::numeric_limits<double>::infinity();
    int64_t best_feature = -1;
    double best_threshold = 0.0;
    for (int64_t f = 0; f < d; ++f) {
      s.sorted = s.node;
      std::sort(s.sorted.begin(), s.sorted.end(), [&](int64_t a, int64_t b) { return x[a * d + f] < x[b * d + f]; });
      double left = 0.0;
      for (int64_t p = 1; p < m; ++p) {  // the first p sorted samples go left
        left += y[s.sorted[p - 1]];
        const double lo = x[s.sorted[p - 1] * d + f], hi = x[s.sorted[p] * d + f];
        if (hi <= lo + kFeatureThreshold) continue;
        const double right = sum - left;
        const double proxy = left * left / static_cast<double>(p) + right * right / static_cast<double>(m - p);
        if (proxy > best) {  // strict: ties keep the lower feature, then the lower position
          best = proxy;
          best_feature = f;
          best_threshold = lo / 2.0 + hi / 2.0;
          if (best_threshold == hi || std::isinf(best_threshold)) best_threshold = lo;
        }
      }
    }
    if (best_feature < 0) return mean;  // no feature separates the samples

    const bool go_left = query[best_feature] <= best_threshold;
    const auto wrong_side = [&](int64_t k) { return (x[k * d + best_feature] <= best_threshold) != go_left; };
    s.node.erase(std::remove_if(s.node.begin(), s.node.end(), wrong_side), s.node.end());
  }
}

}  // namespace

torch::Tensor greedy_tree_predictions(const torch::Tensor& xs, const torch::Tensor& ys,
                                      const GreedyTreeOptions& options) {
  check_prompts("greedy_tree_predictions", xs, ys);
  if (options.max_depth() < 0) {
    throw std::invalid_argument("greedy_tree_predictions: max_depth must be >= 0 (0: unlimited), got " +
                                std::to_string(options.max_depth()));
  }
  const int64_t N = xs.size(0), n = xs.size(1), d = xs.size(2);
  if (N == 0 || n == 0) return zero_predictions(xs);
  const torch::Tensor x = as_double(xs).cpu();
  const torch::Tensor y = as_double(ys).cpu();
  torch::Tensor out = torch::zeros({N, n}, x.options());
  const double* xp = x.data_ptr<double>();
  const double* yp = y.data_ptr<double>();
  double* op = out.data_ptr<double>();
  const int64_t max_depth = options.max_depth();

  at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
    Scratch scratch;
    for (int64_t p = begin; p < end; ++p) {
      const double* px = xp + p * n * d;
      const double* py = yp + p * n;
      for (int64_t i = 1; i < n; ++i) op[p * n + i] = predict_one(px, py, i, d, px + i * d, max_depth, scratch);
    }
  });
  return out.to(xs.device(), torch::kFloat);
}

}  // namespace looplab::baselines
