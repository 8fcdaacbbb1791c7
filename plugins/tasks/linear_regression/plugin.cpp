// SDK glue for the linear-regression tasks: two components in one library over one sampler,
// "linear_regression" (noiseless) and "noisy_linear_regression" (Gaussian label noise, with
// ridge among the baselines).
#include "linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class LinearRegressionTask : public sdk::Task {
 public:
  explicit LinearRegressionTask(const tasks::LinearRegressionOptions& options) : task_(options) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  std::vector<std::string> baselines() const override {
    return {sdk::baseline::kLeastSquares, sdk::baseline::kAveraging, sdk::baseline::kNearestNeighbours};
  }

 protected:
  tasks::LinearRegression task_;
};

/// The same sampler with label noise: reports its variance and adds ridge (lambda = sigma^2).
class NoisyLinearRegressionTask : public LinearRegressionTask {
 public:
  using LinearRegressionTask::LinearRegressionTask;
  double noise_variance() const override {
    const double s = task_.options().noise_std();
    return s * s;
  }
  std::vector<std::string> baselines() const override {
    return {sdk::baseline::kLeastSquares, sdk::baseline::kRidge, sdk::baseline::kAveraging,
            sdk::baseline::kNearestNeighbours};
  }
};

sdk::Component linear_regression_component(const sdk::PluginInfo& plugin) {
  auto factory = [](const sdk::Params&, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<LinearRegressionTask>(tasks::LinearRegressionOptions(ctx.n_dims));
  };
  return sdk::make_task_component(plugin, "y = x.w, x and w ~ N(0, I_d) drawn per prompt", {}, factory);
}

sdk::Component noisy_linear_regression_component(const sdk::PluginInfo& plugin) {
  sdk::ParamSchema schema{
      sdk::float_param("noise_std", 0.1, "standard deviation sigma of the label noise").at_least(0.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<NoisyLinearRegressionTask>(
        tasks::LinearRegressionOptions(ctx.n_dims).noise_std(p.get_float("noise_std")));
  };
  return sdk::make_task_component("noisy_linear_regression", plugin.version,
                                  "y = x.w + e, e ~ N(0, sigma^2); ridge with lambda = sigma^2 is Bayes-optimal",
                                  std::move(schema), factory);
}

}  // namespace

LOOPLAB_PLUGIN("linear_regression", "0.1.0") {
  return {linear_regression_component(looplab_plugin), noisy_linear_regression_component(looplab_plugin)};
}
