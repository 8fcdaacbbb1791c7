// SDK glue for the loss landscape (E8): the training loss on a fixed prompt set over a 1-D or
// 2-D grid around the trained weights, along filter-normalized random directions or the top
// Hessian eigenvectors; a CSV grid, a contour map and a 3-D surface (analyses::run_loss_landscape).
#include "loss_landscape.h"

#include <looplab/sdk/plugin.h>

#include <utility>

namespace {

using namespace looplab;

class LossLandscape : public sdk::Analysis {
 public:
  explicit LossLandscape(analyses::LossLandscapeSettings settings) : settings_(std::move(settings)) {}
  void run(sdk::AnalysisContext& ctx) override { analyses::run_loss_landscape(ctx, settings_); }

 private:
  analyses::LossLandscapeSettings settings_;
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
      sdk::int_param("prompts", 256, "evaluation prompts the loss is averaged over (the first of the run's set)")
          .at_least(1),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
      sdk::int_param("hessian_iterations", 100, "hessian: most power-iteration steps per eigenvector").at_least(1),
      sdk::float_param("hessian_tol", 1e-4, "hessian: stop when the eigenvalue changes by <= tol * |value|")
          .at_least(0.0),
      sdk::bool_param("log_scale", true, "logarithmic loss axis and colours"),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    analyses::LossLandscapeSettings s;
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
      looplab_plugin,
      "training loss on a 1-D or 2-D grid around the trained weights along filter-normalized random directions or the "
      "top Hessian eigenvectors (CSV, contour, 3-D surface)",
      std::move(schema), factory)};
}
