// SDK glue for the linear-regression tasks: two components in one library over one sampler,
// "linear_regression" (noiseless) and "noisy_linear_regression" (Gaussian label noise, with
// ridge among the baselines).
#include "linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

sdk::Component linear_regression_component(const sdk::PluginInfo& plugin) {
  auto factory = [](const sdk::Params&, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<sdk::ModuleTask<tasks::LinearRegression>>(
        tasks::LinearRegression(tasks::LinearRegressionOptions(ctx.n_dims)),
        std::vector<std::string>{sdk::baseline::kLeastSquares, sdk::baseline::kAveraging,
                                 sdk::baseline::kNearestNeighbours});
  };
  return sdk::make_task_component(plugin, "y = x.w, x and w ~ N(0, I_d) drawn per prompt", {}, factory);
}

sdk::Component noisy_linear_regression_component(const sdk::PluginInfo& plugin) {
  sdk::ParamSchema schema{
      sdk::float_param("noise_std", 0.1, "standard deviation sigma of the label noise").at_least(0.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    // The same sampler with label noise: its variance goes to the baselines, and ridge
    // (lambda = sigma^2, Bayes-optimal here) joins them.
    const double sigma = p.get_float("noise_std");
    return std::make_shared<sdk::ModuleTask<tasks::LinearRegression>>(
        tasks::LinearRegression(tasks::LinearRegressionOptions(ctx.n_dims).noise_std(sigma)),
        std::vector<std::string>{sdk::baseline::kLeastSquares, sdk::baseline::kRidge, sdk::baseline::kAveraging,
                                 sdk::baseline::kNearestNeighbours},
        sigma * sigma);
  };
  return sdk::make_task_component("noisy_linear_regression", plugin.version,
                                  "y = x.w + e, e ~ N(0, sigma^2); ridge with lambda = sigma^2 is Bayes-optimal",
                                  std::move(schema), factory);
}

}  // namespace

LOOPLAB_PLUGIN("linear_regression", "0.1.0") {
  return {linear_regression_component(looplab_plugin), noisy_linear_regression_component(looplab_plugin)};
}
