#include "loss_landscape.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/autograd.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>

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
      if (include_1d)
        d.mul_(p.norm() / d.norm());
      else
        d.zero_();
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
  for (size_t i = 0; i < a.size(); ++i)
    total += (a[i].to(torch::kFloat64) * b[i].to(torch::kFloat64)).sum().item<double>();
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

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Seconds and milliseconds for the log: two decimals.
std::string rounded(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

// Fused attention kernels have no second derivative; the math kernel does. Restores the
// process-wide choice when it goes out of scope.
class MathAttentionOnly {
 public:
  MathAttentionOnly()
      : flash_(ctx().userEnabledFlashSDP()),
        mem_(ctx().userEnabledMemEfficientSDP()),
        cudnn_(ctx().userEnabledCuDNNSDP()) {
    ctx().setSDPUseFlash(false);
    ctx().setSDPUseMemEfficient(false);
    ctx().setSDPUseCuDNN(false);
  }
  ~MathAttentionOnly() {
    ctx().setSDPUseFlash(flash_);
    ctx().setSDPUseMemEfficient(mem_);
    ctx().setSDPUseCuDNN(cudnn_);
  }

 private:
  static at::Context& ctx() { return at::globalContext(); }
  bool flash_, mem_, cudnn_;
};

std::string describe_directions(const LossLandscapeSettings& settings, const std::vector<Eigenpair>& eigen) {
  std::ostringstream out;
  if (settings.directions == "filter") {
    out << "Directions: Gaussian, filter-normalized (Li et al. 2018: each row of every weight of >= 2 dimensions "
           "scaled to that row's norm; 1-D parameters "
        << (settings.include_1d ? "scaled to their norm" : "zero") << "), drawn from seed " << settings.seed << ".";
    return out.str();
  }
  out << "Directions: the top " << eigen.size()
      << " Hessian eigenvectors (unit norm over all parameters; power iteration "
      << "on Hessian-vector products, seed " << settings.seed << ")";
  for (size_t k = 0; k < eigen.size(); ++k)
    out << (k ? ", " : ": ") << "lambda_" << k + 1 << " = " << sdk::Table::num(eigen[k].value) << " after "
        << eigen[k].iterations << " steps" << (eigen[k].converged ? "" : " (not converged)");
  out << ".";
  return out.str();
}

void write_grid(const LossLandscapeSettings& settings, sdk::AnalysisContext& ctx, const torch::Tensor& grid,
                const std::vector<double>& alphas, const std::vector<double>& betas) {
  sdk::Table table{settings.dims == 2 ? std::vector<std::string>{"alpha", "beta", "loss"}
                                      : std::vector<std::string>{"alpha", "loss"},
                   {}};
  auto acc = grid.accessor<double, 2>();
  for (size_t i = 0; i < alphas.size(); ++i)
    for (size_t j = 0; j < betas.size(); ++j) {
      std::vector<std::string> row{sdk::Table::num(alphas[i])};
      if (settings.dims == 2) row.push_back(sdk::Table::num(betas[j]));
      row.push_back(sdk::Table::num(acc[i][j]));
      table.rows.push_back(std::move(row));
    }
  ctx.output().write_table("loss_landscape", table);
}

// Per parameter: its norm and its directions' norms, and the settings that reproduce them.
void write_directions(const LossLandscapeSettings& settings, sdk::AnalysisContext& ctx,
                      const std::vector<std::string>& names, const std::vector<torch::Tensor>& params,
                      const Direction& d1, const Direction& d2) {
  sdk::Table table{{"parameter", "numel", "norm", "norm_d1", "norm_d2", "directions", "seed"}, {}};
  for (size_t i = 0; i < params.size(); ++i)
    table.rows.push_back({names[i], std::to_string(params[i].numel()), sdk::Table::num(params[i].norm().item<double>()),
                          sdk::Table::num(d1[i].norm().item<double>()),
                          d2.empty() ? "" : sdk::Table::num(d2[i].norm().item<double>()), settings.directions,
                          std::to_string(settings.seed)});
  ctx.output().write_table("loss_landscape_directions", table);
}

void add_figures(const LossLandscapeSettings& settings, sdk::AnalysisContext& ctx) {
  const std::string what = settings.directions == "filter"
                               ? "filter-normalized random directions, seed " + std::to_string(settings.seed)
                               : "top Hessian eigenvectors";
  sdk::FigureSpec f;
  f.title = "training loss around the trained weights (" + what + ")";
  f.xlabel = "alpha (direction 1)";
  if (settings.dims == 1) {
    f.name = "loss_landscape_1d";
    f.ylabel = "training loss";
    f.log_y = settings.log_scale;
    f.series = {{"loss", "loss_landscape", "alpha", "loss", "", "", "", ""}};
    ctx.output().add_figure(f);
    return;
  }
  f.ylabel = "beta (direction 2)";
  f.series = {{"loss", "loss_landscape", "alpha", "beta", "", "", "", ""}};
  f.z = "loss";
  f.zlabel = "training loss";
  f.log_z = settings.log_scale;
  f.name = "loss_landscape_contour";
  f.kind = sdk::FigureKind::Contour;
  ctx.output().add_figure(f);
  f.name = "loss_landscape_surface";
  f.kind = sdk::FigureKind::Surface;
  ctx.output().add_figure(f);
}

}  // namespace

void run_loss_landscape(sdk::AnalysisContext& ctx, const LossLandscapeSettings& settings) {
  auto& model = ctx.model();
  auto all = ctx.eval_prompts();
  const int64_t N = std::min(settings.prompts, all.xs.size(0));
  const auto xs = all.xs.narrow(0, 0, N), ys = all.ys.narrow(0, 0, N);
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& item : model.module().named_parameters())
    if (item.value().requires_grad()) {
      names.push_back(item.key());
      params.push_back(item.value());
    }

  // The training loss over all N prompts: a mean of batch means weighted by batch size.
  auto loss = [&]() {
    torch::NoGradGuard no_grad;
    double total = 0;
    for (int64_t s = 0; s < N; s += settings.batch) {
      const int64_t len = std::min(settings.batch, N - s);
      total +=
          model.training_loss(xs.narrow(0, s, len), ys.narrow(0, s, len)).item<double>() * static_cast<double>(len);
    }
    return total / static_cast<double>(N);
  };
  const double center = loss();

  auto started = Clock::now();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(settings.seed));
  Direction d1, d2;
  std::vector<Eigenpair> eigen;
  if (settings.directions == "filter") {
    d1 = filter_normalized_direction(params, gen, settings.include_1d);
    if (settings.dims == 2) d2 = filter_normalized_direction(params, gen, settings.include_1d);
  } else {
    MathAttentionOnly math_attention;
    auto graph_loss = model.training_loss(xs, ys);
    eigen = top_hessian_eigenpairs(graph_loss, params, settings.dims, gen, settings.hessian_iterations,
                                   settings.hessian_tol);
    d1 = eigen[0].vector;
    if (settings.dims == 2) d2 = eigen[1].vector;
  }
  const double direction_seconds = seconds_since(started);

  const auto alphas = grid_axis(settings.range, settings.resolution);
  const std::vector<double> betas = settings.dims == 2 ? alphas : std::vector<double>{0.0};
  started = Clock::now();
  const auto grid = loss_grid(params, d1, d2, alphas, betas, loss);
  const double grid_seconds = seconds_since(started);

  write_grid(settings, ctx, grid, alphas, betas);
  write_directions(settings, ctx, names, params, d1, d2);
  add_figures(settings, ctx);

  const int64_t points = grid.numel();
  const int64_t argmin = grid.argmin().item<int64_t>();
  std::ostringstream note;
  note << "Training loss (MSE over the last min(b, T) of b = " << model.trained_loops()
       << " iterations, as in training) on the first " << N << " evaluation prompts, at trained + alpha d1"
       << (settings.dims == 2 ? " + beta d2" : "") << ", " << (settings.dims == 2 ? "alpha, beta" : "alpha") << " in [-"
       << settings.range << ", " << settings.range << "], " << settings.resolution << " values each. "
       << describe_directions(settings, eigen) << " Loss at the trained weights: " << sdk::Table::num(center)
       << "; lowest on the grid: " << sdk::Table::num(grid.min().item<double>())
       << " at alpha = " << sdk::Table::num(alphas[argmin / betas.size()])
       << (settings.dims == 2 ? ", beta = " + sdk::Table::num(betas[argmin % betas.size()]) : std::string())
       << "; highest: " << sdk::Table::num(grid.max().item<double>()) << ". Directions took "
       << rounded(direction_seconds) << " s, the " << points << " grid points " << rounded(grid_seconds) << " s ("
       << rounded(1000 * grid_seconds / points)
       << " ms each). Reproduce with `looplab analyze RUN --analysis loss_landscape --set directions=\""
       << settings.directions << "\" --set seed=" << settings.seed << "`.";
  ctx.output().add_note(note.str());
  ctx.logger().info("loss_landscape: " + settings.directions + " directions (seed " + std::to_string(settings.seed) +
                    ") in " + rounded(direction_seconds) + " s; " + std::to_string(points) + " grid points in " +
                    rounded(grid_seconds) + " s (" + rounded(1000 * grid_seconds / points) +
                    " ms each); loss at the trained weights " + sdk::Table::num(center));
}

}  // namespace looplab::analyses
