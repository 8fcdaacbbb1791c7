#include "landscape.h"

#include <torch/autograd.h>

#include <cmath>
#include <stdexcept>

namespace looplab::analyses {

namespace {

void axpy(Direction& y, double a, const Direction& x) {  // y += a x
  for (size_t i = 0; i < y.size(); ++i) y[i].add_(x[i], a);
}

void scale(Direction& v, double a) {
  for (auto& t : v) t.mul_(a);
}

Direction random_direction(const std::vector<torch::Tensor>& params, at::Generator& gen) {
  Direction out;
  for (const auto& p : params)
    out.push_back(torch::randn(p.sizes(), gen, torch::kFloat64).to(p.device(), p.scalar_type()));
  return out;
}

}  // namespace

Direction filter_normalized_direction(const std::vector<torch::Tensor>& params, at::Generator& gen, bool include_1d) {
  torch::NoGradGuard no_grad;
  Direction out;
  for (const auto& param : params) {
    auto p = param.detach();
    // The draw is taken for every parameter, so including 1-D ones never changes the others.
    auto d = torch::randn(p.sizes(), gen, torch::kFloat64).to(p.device(), p.scalar_type());
    if (p.dim() <= 1) {
      if (include_1d) d.mul_(p.norm() / d.norm());
      else d.zero_();
    } else {
      // Norms of the slices along dim 0, broadcast back over the remaining dimensions.
      std::vector<int64_t> rest;
      for (int64_t k = 1; k < p.dim(); ++k) rest.push_back(k);
      d.mul_(p.norm(2, rest, /*keepdim=*/true) / d.norm(2, rest, /*keepdim=*/true));
    }
    out.push_back(d);
  }
  return out;
}

double dot(const Direction& a, const Direction& b) {
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += (a[i].to(torch::kFloat64) * b[i].to(torch::kFloat64)).sum().item<double>();
  return total;
}

Direction hessian_vector_product(const std::vector<torch::Tensor>& grads, const std::vector<torch::Tensor>& params,
                                 const Direction& v) {
  auto gv = (grads.front() * v.front()).sum();
  for (size_t i = 1; i < grads.size(); ++i) gv = gv + (grads[i] * v[i]).sum();
  auto hv = torch::autograd::grad({gv}, params, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                  /*allow_unused=*/true);
  for (size_t i = 0; i < hv.size(); ++i)
    if (!hv[i].defined()) hv[i] = torch::zeros_like(params[i]);
  return hv;
}

std::vector<Eigenpair> top_hessian_eigenpairs(const torch::Tensor& loss, const std::vector<torch::Tensor>& params,
                                              int64_t count, at::Generator& gen, int64_t max_iterations, double tol) {
  if (params.empty()) throw std::invalid_argument("no parameters to take a Hessian over");
  // One graph for the gradient, reused by every Hessian-vector product.
  auto grads = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                     /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = torch::zeros_like(params[i]);  // no path: no curvature either
  std::vector<Eigenpair> found;
  for (int64_t k = 0; k < count; ++k) {
    auto v = random_direction(params, gen);
    Eigenpair pair;
    double previous = NAN;
    for (int64_t it = 1; it <= max_iterations; ++it) {
      for (const auto& e : found) axpy(v, -dot(e.vector, v), e.vector);  // stay orthogonal to the found ones
      scale(v, 1.0 / std::sqrt(dot(v, v)));
      auto hv = hessian_vector_product(grads, params, v);
      for (const auto& e : found) axpy(hv, -e.value * dot(e.vector, v), e.vector);  // deflation
      pair.value = dot(v, hv);
      pair.vector = v;
      pair.iterations = it;
      const double norm = std::sqrt(dot(hv, hv));
      if (std::isfinite(previous) && std::abs(pair.value - previous) <= tol * std::abs(pair.value)) {
        pair.converged = true;
        break;
      }
      previous = pair.value;
      if (norm == 0.0) break;  // v spans the null space: H v = 0
      v = hv;
    }
    for (auto& t : pair.vector) t = t.detach();
    found.push_back(std::move(pair));
  }
  return found;
}

torch::Tensor loss_grid(const std::vector<torch::Tensor>& params, const Direction& d1, const Direction& d2,
                        const std::vector<double>& alphas, const std::vector<double>& betas,
                        const std::function<double()>& loss) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> trained;
  for (const auto& p : params) trained.push_back(p.detach().clone());
  // Restores the trained values bit-exactly however the loop ends.
  struct Restore {
    const std::vector<torch::Tensor>& params;
    const std::vector<torch::Tensor>& trained;
    ~Restore() {
      torch::NoGradGuard guard;
      for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(trained[i]);
    }
  } restore{params, trained};
  auto out = torch::empty({static_cast<int64_t>(alphas.size()), static_cast<int64_t>(betas.size())}, torch::kFloat64);
  auto acc = out.accessor<double, 2>();
  for (size_t i = 0; i < alphas.size(); ++i) {
    for (size_t j = 0; j < betas.size(); ++j) {
      for (size_t k = 0; k < params.size(); ++k) {
        // From the trained values every time: no drift accumulates over the grid.
        auto w = trained[k] + alphas[i] * d1[k];
        if (!d2.empty()) w = w + betas[j] * d2[k];
        params[k].detach().copy_(w);
      }
      acc[i][j] = loss();
    }
  }
  return out;
}

std::vector<double> grid_axis(double range, int64_t resolution) {
  if (resolution < 1) throw std::invalid_argument("grid resolution must be >= 1");
  if (resolution == 1) return {0.0};
  std::vector<double> out;
  for (int64_t i = 0; i < resolution; ++i)
    // Symmetric numerator: the middle value of an odd resolution is exactly 0.
    out.push_back(range * static_cast<double>(2 * i - (resolution - 1)) / static_cast<double>(resolution - 1));
  return out;
}

}  // namespace looplab::analyses
