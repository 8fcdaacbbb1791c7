#include "lasso.h"

#include "predictions.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace looplab::baselines {
namespace {

/// One prompt's lasso problem in Gram form, P'(w) = ||X w - y||^2 / 2 + lambda ||w||_1 (i times
/// the lasso objective): G = X^T X [d, d] row-major, c = X^T y, yy = ||y||^2.
struct Problem {
  int64_t d;
  const double* G;
  const double* c;
  double yy;
  double lambda;
};

/// Duality gap of P' at w: with q = X^T r = c - G w, ||r||^2 = yy - 2 c.w + w.G w, and the dual
/// point theta = s r, s = min(1, lambda / ||q||_inf), D = s (yy - c.w) - s^2 ||r||^2 / 2.
double duality_gap(const Problem& pr, const double* w, std::vector<double>& q) {
  const int64_t d = pr.d;
  double cw = 0.0, wGw = 0.0, l1 = 0.0, q_max = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    double gw = 0.0;
    for (int64_t k = 0; k < d; ++k) gw += pr.G[j * d + k] * w[k];
    q[j] = pr.c[j] - gw;
    cw += pr.c[j] * w[j];
    wGw += w[j] * gw;
    l1 += std::abs(w[j]);
    q_max = std::max(q_max, std::abs(q[j]));
  }
  const double rr = std::max(0.0, pr.yy - 2.0 * cw + wGw);
  const double s = q_max > pr.lambda ? pr.lambda / q_max : 1.0;
  return (0.5 * rr + pr.lambda * l1) - (s * (pr.yy - cw) - 0.5 * s * s * rr);
}

/// Solves A u = b for a symmetric positive definite A [k, k] (row-major, overwritten) by
/// Cholesky; false when A is not numerically positive definite.
bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, int64_t k) {
  for (int64_t j = 0; j < k; ++j) {
    double diag = A[j * k + j];
    for (int64_t l = 0; l < j; ++l) diag -= A[j * k + l] * A[j * k + l];
    if (!(diag > 1e-12 * std::max(1.0, std::abs(A[j * k + j])))) return false;
    diag = std::sqrt(diag);
    A[j * k + j] = diag;
    for (int64_t r = j + 1; r < k; ++r) {
      double v = A[r * k + j];
      for (int64_t l = 0; l < j; ++l) v -= A[r * k + l] * A[j * k + l];
      A[r * k + j] = v / diag;
    }
  }
  for (int64_t r = 0; r < k; ++r) {  // L z = b
    for (int64_t l = 0; l < r; ++l) b[r] -= A[r * k + l] * b[l];
    b[r] /= A[r * k + r];
  }
  for (int64_t r = k - 1; r >= 0; --r) {  // L^T u = z
    for (int64_t l = r + 1; l < k; ++l) b[r] -= A[l * k + r] * b[l];
    b[r] /= A[r * k + r];
  }
  return true;
}

/// The exact lasso solution by homotopy (LARS with the lasso modification): follows the piecewise
/// linear path w(mu) from mu = ||c||_inf (w = 0) down to mu = lambda, adding the coordinate whose
/// correlation |q_j| reaches mu and dropping one whose weight crosses zero. w must hold zeros on
/// entry. False when a step's active Gram block is singular (rank-deficient data); w then holds
/// the last point reached, which coordinate descent polishes.
bool homotopy(const Problem& pr, double* w, std::vector<double>& q) {
  const int64_t d = pr.d;
  std::vector<int64_t> active;
  std::vector<double> sign(d, 0.0), a(d), A, u;
  std::vector<char> is_active(d, 0);
  q.assign(pr.c, pr.c + d);
  double mu = 0.0;
  int64_t first = -1;
  for (int64_t j = 0; j < d; ++j) {
    if (std::abs(q[j]) > mu) mu = std::abs(q[j]), first = j;
  }
  if (mu <= pr.lambda) return true;  // ||X^T y||_inf <= lambda: w = 0 is optimal
  active.push_back(first);
  is_active[first] = 1;
  sign[first] = q[first] > 0 ? 1.0 : -1.0;
  int64_t just_dropped = -1;
  double dropped_sign = 0.0;

  for (int64_t iter = 0; iter < 8 * d + 8; ++iter) {
    // Direction: w_A moves by gamma u_A with G_AA u_A = sign_A, so that q_A = mu sign_A stays tied.
    const int64_t k = static_cast<int64_t>(active.size());
    A.resize(k * k);
    u.resize(k);
    for (int64_t r = 0; r < k; ++r) {
      for (int64_t l = 0; l < k; ++l) A[r * k + l] = pr.G[active[r] * d + active[l]];
      u[r] = sign[active[r]];
    }
    if (!cholesky_solve(A, u, k)) return false;
    for (int64_t j = 0; j < d; ++j) {
      double v = 0.0;
      for (int64_t r = 0; r < k; ++r) v += pr.G[j * d + active[r]] * u[r];
      a[j] = v;  // q_j decreases by gamma a_j
    }

    double gamma = mu - pr.lambda;  // to the target
    int64_t join = -1, drop = -1;
    for (int64_t j = 0; j < d; ++j) {
      if (is_active[j] || pr.G[j * d + j] == 0.0) continue;
      // q_j - g a_j = +(mu - g) or -(mu - g). A coordinate dropped by the last step sits on the
      // side it left (at g = 0 up to rounding); it may only come back on the other side.
      if (1.0 - a[j] > 0.0 && !(j == just_dropped && dropped_sign > 0.0)) {
        const double g = (mu - q[j]) / (1.0 - a[j]);
        if (g > 0.0 && g < gamma) gamma = g, join = j, drop = -1;
      }
      if (1.0 + a[j] > 0.0 && !(j == just_dropped && dropped_sign < 0.0)) {
        const double g = (mu + q[j]) / (1.0 + a[j]);
        if (g > 0.0 && g < gamma) gamma = g, join = j, drop = -1;
      }
    }
    for (int64_t r = 0; r < k; ++r) {
      const int64_t j = active[r];
      if (u[r] == 0.0) continue;
      const double g = -w[j] / u[r];
      if (g > 0.0 && g < gamma) gamma = g, drop = r, join = -1;
    }

    for (int64_t r = 0; r < k; ++r) w[active[r]] += gamma * u[r];
    for (int64_t j = 0; j < d; ++j) q[j] -= gamma * a[j];
    mu -= gamma;
    just_dropped = -1;
    if (join >= 0) {
      active.push_back(join);
      is_active[join] = 1;
      sign[join] = q[join] > 0 ? 1.0 : -1.0;
    } else if (drop >= 0) {
      const int64_t j = active[drop];
      w[j] = 0.0;
      is_active[j] = 0;
      dropped_sign = sign[j];
      sign[j] = 0.0;
      active.erase(active.begin() + drop);
      just_dropped = j;
    } else {
      return true;  // reached mu = lambda
    }
  }
  return false;
}

/// Cyclic coordinate descent from w: w_j = soft(q_j + G_jj w_j, lambda) / G_jj in turn, keeping
/// q = c - G w; stops once the duality gap is <= `stop` or after max_iter sweeps. A coordinate with
/// G_jj = 0 (an all-zero column) is set to 0.
void coordinate_descent(const Problem& pr, double* w, std::vector<double>& q, double stop, int64_t max_iter) {
  const int64_t d = pr.d;
  for (int64_t sweep = 0; sweep < max_iter; ++sweep) {
    for (int64_t j = 0; j < d; ++j) {
      const double g_jj = pr.G[j * d + j];
      double w_new = 0.0;
      if (g_jj > 0.0) {
        const double rho = q[j] + g_jj * w[j];
        w_new = std::copysign(std::max(std::abs(rho) - pr.lambda, 0.0), rho) / g_jj;
      }
      const double delta = w_new - w[j];
      if (delta == 0.0) continue;
      w[j] = w_new;
      for (int64_t k = 0; k < d; ++k) q[k] -= pr.G[j * d + k] * delta;  // G symmetric
    }
    if (duality_gap(pr, w, q) <= stop) return;
  }
}

}  // namespace

torch::Tensor lasso_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const LassoOptions& options) {
  check_prompts("lasso_predictions", xs, ys);
  if (!(options.alpha() > 0.0) || !std::isfinite(options.alpha())) {
    throw std::invalid_argument("lasso_predictions: alpha must be > 0, got " + std::to_string(options.alpha()));
  }
  if (!(options.tol() >= 0.0)) {
    throw std::invalid_argument("lasso_predictions: tol must be >= 0, got " + std::to_string(options.tol()));
  }
  if (options.max_iter() < 1) {
    throw std::invalid_argument("lasso_predictions: max_iter must be >= 1, got " + std::to_string(options.max_iter()));
  }
  const int64_t N = xs.size(0), n = xs.size(1), d = xs.size(2);
  if (N == 0 || n == 0 || d == 0) return zero_predictions(xs);
  const torch::Tensor x = as_double(xs).cpu();
  const torch::Tensor y = as_double(ys).cpu();
  torch::Tensor out = torch::zeros({N, n}, x.options());
  const double* xp = x.data_ptr<double>();
  const double* yp = y.data_ptr<double>();
  double* op = out.data_ptr<double>();

  at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> G(d * d), c(d), w(d), q(d);
    for (int64_t p = begin; p < end; ++p) {
      const double* px = xp + p * n * d;
      const double* py = yp + p * n;
      std::fill(G.begin(), G.end(), 0.0);
      std::fill(c.begin(), c.end(), 0.0);
      double yy = 0.0;
      for (int64_t i = 1; i < n; ++i) {
        const double* a = px + (i - 1) * d;  // point i - 1 joins the prefix
        const double b = py[i - 1];
        for (int64_t j = 0; j < d; ++j) {
          for (int64_t k = 0; k < d; ++k) G[j * d + k] += a[j] * a[k];
          c[j] += a[j] * b;
        }
        yy += b * b;
        const Problem pr{d, G.data(), c.data(), yy, options.alpha() * static_cast<double>(i)};
        const double stop = options.tol() * 0.5 * yy;  // tol * P'(0)
        std::fill(w.begin(), w.end(), 0.0);
        homotopy(pr, w.data(), q);
        if (duality_gap(pr, w.data(), q) > stop) coordinate_descent(pr, w.data(), q, stop, options.max_iter());
        double pred = 0.0;
        for (int64_t j = 0; j < d; ++j) pred += px[i * d + j] * w[j];
        op[p * n + i] = pred;
      }
    }
  });
  return out.to(xs.device(), torch::kFloat);
}

}  // namespace looplab::baselines
