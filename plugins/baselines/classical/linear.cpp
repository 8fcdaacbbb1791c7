#include "linear.h"

#include "predictions.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace looplab::baselines {
namespace {

/// A new row counts as a new direction when its part outside the current row space keeps more
/// than this fraction of its squared norm (1e-9 in norm): far above rounding noise, far below
/// anything Gaussian inputs produce by chance.
constexpr double kNewDirectionTol = 1e-18;

/// Batched matrix-vector product M v for M [N, d, d], v [N, d]; cheaper than bmm for many
/// tiny matrices.
torch::Tensor matvec(const torch::Tensor& M, const torch::Tensor& v) { return (M * v.unsqueeze(1)).sum(-1); }

/// Batched outer product u v^T added to M [N, d, d] in place, scaled by `scale`.
void add_outer(torch::Tensor& M, const torch::Tensor& u, const torch::Tensor& v, double scale) {
  M.addcmul_(u.unsqueeze(2), v.unsqueeze(1), scale);
}

/// Adds the points one at a time to every prompt's fit, keeping w (the current solution) and M
/// (pinv(X^T X) for least squares, (X^T X + lambda I)^{-1} for ridge). A point whose x lies in
/// the row space of the prefix is a recursive-least-squares (Sherman-Morrison) step; one whose
/// x has a component c outside it is Greville's rank-one pseudo-inverse update, which moves w
/// along c only, so earlier points stay interpolated and w stays in the row space (min norm).
/// Both are w += b r and M += b v^T + v b^T with v = (1 + a^T M a) b / 2 - M a, differing in
/// b. With track_rank false every point is an RLS step from the given M (ridge: I / lambda).
torch::Tensor recursive_predictions(const torch::Tensor& xs, const torch::Tensor& ys, torch::Tensor M,
                                    bool track_rank) {
  const int64_t N = xs.size(0), n = xs.size(1), d = xs.size(2);
  // Position-major so that each step reads contiguous [N, d] / [N] slices.
  const torch::Tensor x = as_double(xs).transpose(0, 1).contiguous();
  const torch::Tensor y = as_double(ys).transpose(0, 1).contiguous();
  const auto opts = x.options();

  torch::Tensor w = torch::zeros({N, d}, opts);
  torch::Tensor null_proj;  // I - pinv(X) X: projector onto the directions no point has seen
  torch::Tensor rank;
  bool full_rank = !track_rank;
  if (track_rank) {
    null_proj = torch::eye(d, opts).expand({N, d, d}).clone();
    rank = torch::zeros({N}, opts.dtype(torch::kLong));
    full_rank = d == 0;
  }

  std::vector<torch::Tensor> columns;
  columns.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const torch::Tensor a = x[i];
    const torch::Tensor pred = (a * w).sum(-1);
    columns.push_back(pred);
    if (i + 1 == n) break;

    const torch::Tensor residual = y[i] - pred;
    const torch::Tensor Ma = matvec(M, a);
    const torch::Tensor s1 = 1.0 + (a * Ma).sum(-1);
    torch::Tensor b = Ma / s1.unsqueeze(1);

    if (full_rank) {
      w.addcmul_(b, residual.unsqueeze(1));
      add_outer(M, b, Ma, -1.0);  // M -= M a a^T M / (1 + a^T M a)
      continue;
    }

    // Projecting twice keeps c orthogonal to the row space despite rounding in null_proj.
    const torch::Tensor c = matvec(null_proj, matvec(null_proj, a));
    const torch::Tensor cc = (c * c).sum(-1);
    const torch::Tensor fresh = cc > kNewDirectionTol * (a * a).sum(-1);
    const torch::Tensor safe_cc = torch::where(fresh, cc, torch::ones_like(cc));
    b = torch::where(fresh.unsqueeze(1), c / safe_cc.unsqueeze(1), b);
    const torch::Tensor u = c * (fresh.to(opts.dtype()) / safe_cc.sqrt()).unsqueeze(1);
    add_outer(null_proj, u, u, -1.0);

    w.addcmul_(b, residual.unsqueeze(1));
    const torch::Tensor v = b * (0.5 * s1).unsqueeze(1) - Ma;
    add_outer(M, b, v, 1.0);
    add_outer(M, v, b, 1.0);

    rank += fresh.to(torch::kLong);
    full_rank = (rank == d).all().item<bool>();  // then the null space is empty: RLS from here on
  }
  return torch::stack(columns, 1).to(torch::kFloat);
}

}  // namespace

torch::Tensor least_squares_predictions(const torch::Tensor& xs, const torch::Tensor& ys) {
  check_prompts("least_squares_predictions", xs, ys);
  if (xs.size(0) == 0 || xs.size(1) == 0) return zero_predictions(xs);
  const int64_t d = xs.size(2);
  torch::Tensor M = torch::zeros({xs.size(0), d, d}, xs.options().dtype(torch::kDouble));
  return recursive_predictions(xs, ys, M, /*track_rank=*/true);
}

torch::Tensor ridge_predictions(const torch::Tensor& xs, const torch::Tensor& ys, double lambda) {
  check_prompts("ridge_predictions", xs, ys);
  if (!(lambda >= 0.0)) {
    throw std::invalid_argument("ridge_predictions: lambda must be >= 0, got " + std::to_string(lambda));
  }
  if (lambda == 0.0) return least_squares_predictions(xs, ys);
  if (xs.size(0) == 0 || xs.size(1) == 0) return zero_predictions(xs);
  const int64_t d = xs.size(2);
  torch::Tensor M = (torch::eye(d, xs.options().dtype(torch::kDouble)) / lambda).expand({xs.size(0), d, d}).clone();
  return recursive_predictions(xs, ys, M, /*track_rank=*/false);
}

torch::Tensor averaging_predictions(const torch::Tensor& xs, const torch::Tensor& ys) {
  check_prompts("averaging_predictions", xs, ys);
  const int64_t n = xs.size(1);
  if (xs.size(0) == 0 || n == 0) return zero_predictions(xs);
  const torch::Tensor x = as_double(xs);
  const torch::Tensor yx = as_double(ys).unsqueeze(2) * x;
  const torch::Tensor prefix_sum = yx.cumsum(1) - yx;  // sum over j < i; exactly 0 at i = 0
  const torch::Tensor count = torch::arange(n, x.options()).clamp_min(1.0);
  return ((x * prefix_sum).sum(-1) / count).to(torch::kFloat);
}

}  // namespace looplab::baselines
