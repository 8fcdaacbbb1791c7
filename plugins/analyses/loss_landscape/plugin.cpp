// SDK glue for the loss landscape (E8): the training loss on a fixed prompt set over a 1-D or
// 2-D grid around the trained weights, along filter-normalized random directions or the top
// Hessian eigenvectors; a CSV grid, a contour map and a 3-D surface.
#include "landscape.h"

#include <looplab/sdk/plugin.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <sstream>

namespace {

using namespace looplab;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Seconds and milliseconds for the log: two decimals.
std::string rounded(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

struct Settings {
  std::string directions;  // filter | hessian
  bool include_1d = false;
  int64_t seed = 0, dims = 2, resolution = 41, prompts = 256, batch = 256, hessian_iterations = 100;
  double range = 1.0, hessian_tol = 1e-4;
  bool log_scale = true;
};

// Fused attention kernels have no second derivative; the math kernel does. Restores the
// process-wide choice when it goes out of scope.
class MathAttentionOnly {
 public:
  MathAttentionOnly()
      : flash_(ctx().userEnabledFlashSDP()), mem_(ctx().userEnabledMemEfficientSDP()), cudnn_(ctx().userEnabledCuDNNSDP()) {
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

class LossLandscape : public sdk::Analysis {
 public:
  explicit LossLandscape(Settings s) : s_(std::move(s)) {}

  void run(sdk::AnalysisContext& ctx) override {
    auto& model = ctx.model();
    auto all = ctx.eval_prompts();
    const int64_t N = std::min(s_.prompts, all.xs.size(0));
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
      for (int64_t s = 0; s < N; s += s_.batch) {
        const int64_t len = std::min(s_.batch, N - s);
        total += model.training_loss(xs.narrow(0, s, len), ys.narrow(0, s, len)).item<double>() * static_cast<double>(len);
      }
      return total / static_cast<double>(N);
    };
    const double center = loss();

    auto started = Clock::now();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(s_.seed));
    analyses::Direction d1, d2;
    std::vector<analyses::Eigenpair> eigen;
    if (s_.directions == "filter") {
      d1 = analyses::filter_normalized_direction(params, gen, s_.include_1d);
      if (s_.dims == 2) d2 = analyses::filter_normalized_direction(params, gen, s_.include_1d);
    } else {
      MathAttentionOnly math_attention;
      auto graph_loss = model.training_loss(xs, ys);
      eigen = analyses::top_hessian_eigenpairs(graph_loss, params, s_.dims, gen, s_.hessian_iterations, s_.hessian_tol);
      d1 = eigen[0].vector;
      if (s_.dims == 2) d2 = eigen[1].vector;
    }
    const double direction_seconds = seconds_since(started);

    const auto alphas = analyses::grid_axis(s_.range, s_.resolution);
    const std::vector<double> betas = s_.dims == 2 ? alphas : std::vector<double>{0.0};
    started = Clock::now();
    const auto grid = analyses::loss_grid(params, d1, d2, alphas, betas, loss);
    const double grid_seconds = seconds_since(started);

    write_grid(ctx, grid, alphas, betas);
    write_directions(ctx, names, params, d1, d2);
    add_figures(ctx);

    const int64_t points = grid.numel();
    const int64_t argmin = grid.argmin().item<int64_t>();
    std::ostringstream note;
    note << "Training loss (MSE over the last min(b, T) of b = " << model.trained_loops() << " iterations, as in training) on the first "
         << N << " evaluation prompts, at trained + alpha d1" << (s_.dims == 2 ? " + beta d2" : "") << ", "
         << (s_.dims == 2 ? "alpha, beta" : "alpha") << " in [-" << s_.range << ", " << s_.range << "], " << s_.resolution
         << " values each. " << describe_directions(eigen) << " Loss at the trained weights: " << sdk::Table::num(center)
         << "; lowest on the grid: " << sdk::Table::num(grid.min().item<double>()) << " at alpha = "
         << sdk::Table::num(alphas[argmin / betas.size()])
         << (s_.dims == 2 ? ", beta = " + sdk::Table::num(betas[argmin % betas.size()]) : std::string()) << "; highest: "
         << sdk::Table::num(grid.max().item<double>()) << ". Directions took " << rounded(direction_seconds)
         << " s, the " << points << " grid points " << rounded(grid_seconds) << " s (" << rounded(1000 * grid_seconds / points)
         << " ms each). Reproduce with `looplab analyze RUN --analysis loss_landscape --set directions=\"" << s_.directions
         << "\" --set seed=" << s_.seed << "`.";
    ctx.output().add_note(note.str());
    ctx.logger().info("loss_landscape: " + s_.directions + " directions (seed " + std::to_string(s_.seed) + ") in " +
                      rounded(direction_seconds) + " s; " + std::to_string(points) + " grid points in " +
                      rounded(grid_seconds) + " s (" + rounded(1000 * grid_seconds / points) + " ms each); loss at the trained weights " +
                      sdk::Table::num(center));
  }

 private:
  std::string describe_directions(const std::vector<analyses::Eigenpair>& eigen) const {
    std::ostringstream out;
    if (s_.directions == "filter") {
      out << "Directions: Gaussian, filter-normalized (Li et al. 2018: each row of every weight of >= 2 dimensions "
             "scaled to that row's norm; 1-D parameters "
          << (s_.include_1d ? "scaled to their norm" : "zero") << "), drawn from seed " << s_.seed << ".";
      return out.str();
    }
    out << "Directions: the top " << eigen.size() << " Hessian eigenvectors (unit norm over all parameters; power iteration "
        << "on Hessian-vector products, seed " << s_.seed << ")";
    for (size_t k = 0; k < eigen.size(); ++k)
      out << (k ? ", " : ": ") << "lambda_" << k + 1 << " = " << sdk::Table::num(eigen[k].value) << " after "
          << eigen[k].iterations << " steps" << (eigen[k].converged ? "" : " (not converged)");
    out << ".";
    return out.str();
  }

  void write_grid(sdk::AnalysisContext& ctx, const torch::Tensor& grid, const std::vector<double>& alphas,
                  const std::vector<double>& betas) const {
    sdk::Table table{s_.dims == 2 ? std::vector<std::string>{"alpha", "beta", "loss"} : std::vector<std::string>{"alpha", "loss"}, {}};
    auto acc = grid.accessor<double, 2>();
    for (size_t i = 0; i < alphas.size(); ++i)
      for (size_t j = 0; j < betas.size(); ++j) {
        std::vector<std::string> row{sdk::Table::num(alphas[i])};
        if (s_.dims == 2) row.push_back(sdk::Table::num(betas[j]));
        row.push_back(sdk::Table::num(acc[i][j]));
        table.rows.push_back(std::move(row));
      }
    ctx.output().write_table("loss_landscape", table);
  }

  // Per parameter: its norm and its directions' norms, and the settings that reproduce them.
  void write_directions(sdk::AnalysisContext& ctx, const std::vector<std::string>& names,
                        const std::vector<torch::Tensor>& params, const analyses::Direction& d1,
                        const analyses::Direction& d2) const {
    sdk::Table table{{"parameter", "numel", "norm", "norm_d1", "norm_d2", "directions", "seed"}, {}};
    for (size_t i = 0; i < params.size(); ++i)
      table.rows.push_back({names[i], std::to_string(params[i].numel()), sdk::Table::num(params[i].norm().item<double>()),
                            sdk::Table::num(d1[i].norm().item<double>()),
                            d2.empty() ? "" : sdk::Table::num(d2[i].norm().item<double>()), s_.directions,
                            std::to_string(s_.seed)});
    ctx.output().write_table("loss_landscape_directions", table);
  }

  void add_figures(sdk::AnalysisContext& ctx) const {
    const std::string what = s_.directions == "filter" ? "filter-normalized random directions, seed " + std::to_string(s_.seed)
                                                       : "top Hessian eigenvectors";
    sdk::FigureSpec f;
    f.title = "training loss around the trained weights (" + what + ")";
    f.xlabel = "alpha (direction 1)";
    if (s_.dims == 1) {
      f.name = "loss_landscape_1d";
      f.ylabel = "training loss";
      f.log_y = s_.log_scale;
      f.series = {{"loss", "loss_landscape", "alpha", "loss", "", "", "", ""}};
      ctx.output().add_figure(f);
      return;
    }
    f.ylabel = "beta (direction 2)";
    f.series = {{"loss", "loss_landscape", "alpha", "beta", "", "", "", ""}};
    f.z = "loss";
    f.zlabel = "training loss";
    f.log_z = s_.log_scale;
    f.name = "loss_landscape_contour";
    f.kind = sdk::FigureKind::Contour;
    ctx.output().add_figure(f);
    f.name = "loss_landscape_surface";
    f.kind = sdk::FigureKind::Surface;
    ctx.output().add_figure(f);
  }

  Settings s_;
};

}  // namespace

LOOPLAB_PLUGIN("loss_landscape", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::string_param("directions", "filter",
                        "filter: Gaussian, filter-normalized (Li et al. 2018); hessian: top Hessian eigenvectors")
          .one_of({"filter", "hessian"}),
      sdk::bool_param("include_1d", false, "filter: give 1-D parameters (biases, norm weights) a direction too"),
      sdk::int_param("seed", 0, "seed of the random directions (and of the power iteration's start)").at_least(0),
      sdk::int_param("dims", 2, "1: a curve along d1; 2: a surface over d1 and d2").at_least(1).at_most(2),
      sdk::float_param("range", 1.0, "grid coordinates run over [-range, range]").at_least(0.0),
      sdk::int_param("resolution", 41, "grid values per axis").at_least(1).at_most(1001),
      sdk::int_param("prompts", 256, "evaluation prompts the loss is averaged over (the first of the run's set)").at_least(1),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
      sdk::int_param("hessian_iterations", 100, "hessian: most power-iteration steps per eigenvector").at_least(1),
      sdk::float_param("hessian_tol", 1e-4, "hessian: stop when the eigenvalue changes by <= tol * |value|").at_least(0.0),
      sdk::bool_param("log_scale", true, "logarithmic loss axis and colours"),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    Settings s;
    s.directions = p.get_string("directions");
    s.include_1d = p.get_bool("include_1d");
    s.seed = p.get_int("seed");
    s.dims = p.get_int("dims");
    s.range = p.get_float("range");
    s.resolution = p.get_int("resolution");
    s.prompts = p.get_int("prompts");
    s.batch = p.get_int("batch_size");
    s.hessian_iterations = p.get_int("hessian_iterations");
    s.hessian_tol = p.get_float("hessian_tol");
    s.log_scale = p.get_bool("log_scale");
    return std::make_shared<LossLandscape>(s);
  };
  return {sdk::make_analysis_component(
      "loss_landscape", "0.1.0",
      "training loss on a 1-D or 2-D grid around the trained weights along filter-normalized random directions or the "
      "top Hessian eigenvectors (CSV, contour, 3-D surface)",
      std::move(schema), factory)};
}
