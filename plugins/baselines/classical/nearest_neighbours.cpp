#include "nearest_neighbours.h"

#include "predictions.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <string>

namespace looplab::baselines {

torch::Tensor nearest_neighbour_predictions(const torch::Tensor& xs, const torch::Tensor& ys, int64_t k) {
  check_prompts("nearest_neighbour_predictions", xs, ys);
  if (k < 1) {
    throw std::invalid_argument("nearest_neighbour_predictions: k must be >= 1, got " + std::to_string(k));
  }
  const int64_t N = xs.size(0), n = xs.size(1);
  if (N == 0 || n == 0) return zero_predictions(xs);
  const torch::Tensor x = as_double(xs);
  const torch::Tensor y = as_double(ys);
  const auto opts = x.options();

  // Direct differences (no |a|^2 + |b|^2 - 2ab expansion), so near ties rank as they truly are.
  torch::Tensor dist = torch::cdist(x, x, 2.0, /*compute_mode=*/2);
  const torch::Tensor not_yet_seen = torch::ones({n, n}, opts.dtype(torch::kBool)).triu();  // j >= i
  dist.masked_fill_(not_yet_seen, std::numeric_limits<double>::infinity());

  const int64_t kk = std::min(k, n);
  const torch::Tensor nearest = std::get<1>(dist.topk(kk, -1, /*largest=*/false, /*sorted=*/true));
  const torch::Tensor y_nearest = y.unsqueeze(1).expand({N, n, n}).gather(2, nearest);
  // Row i has exactly i seen points, sorted first; only the first min(k, i) count.
  const torch::Tensor pos = torch::arange(n, opts).unsqueeze(1);
  const torch::Tensor valid = (torch::arange(kk, opts).unsqueeze(0) < pos).to(opts.dtype());
  const torch::Tensor count = pos.clamp(1.0, static_cast<double>(k)).squeeze(1);
  return ((y_nearest * valid).sum(-1) / count).to(torch::kFloat);
}

}  // namespace looplab::baselines
