// SDK glue for linear regression with Gaussian label noise.
#include "linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class NoisyLinearRegressionTask : public sdk::Task {
 public:
  NoisyLinearRegressionTask(int64_t n_dims, double noise_std)
      : task_(tasks::LinearRegressionOptions(n_dims).noise_std(noise_std)) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  double noise_variance() const override {
    const double s = task_.options().noise_std();
    return s * s;
  }
  std::vector<std::string> baselines() const override {
    return {sdk::baseline::kLeastSquares, sdk::baseline::kRidge, sdk::baseline::kAveraging,
            sdk::baseline::kNearestNeighbours};
  }

 private:
  tasks::LinearRegression task_;
};

}  // namespace

LOOPLAB_PLUGIN("noisy_linear_regression", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::float_param("noise_std", 0.1, "standard deviation sigma of the label noise").at_least(0.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<NoisyLinearRegressionTask>(ctx.n_dims, p.get_float("noise_std"));
  };
  return {sdk::make_task_component("noisy_linear_regression", "0.1.0",
                                   "y = x.w + e, e ~ N(0, sigma^2); ridge with lambda = sigma^2 is Bayes-optimal",
                                   std::move(schema), factory)};
}
