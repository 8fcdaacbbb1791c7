// SDK glue for the noiseless linear-regression task.
#include "linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class LinearRegressionTask : public sdk::Task {
 public:
  explicit LinearRegressionTask(int64_t n_dims) : task_(tasks::LinearRegressionOptions(n_dims)) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  std::vector<std::string> baselines() const override {
    return {sdk::baseline::kLeastSquares, sdk::baseline::kAveraging, sdk::baseline::kNearestNeighbours};
  }

 private:
  tasks::LinearRegression task_;
};

}  // namespace

LOOPLAB_PLUGIN("linear_regression", "0.1.0") {
  auto factory = [](const sdk::Params&, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<LinearRegressionTask>(ctx.n_dims);
  };
  return {sdk::make_task_component("linear_regression", "0.1.0",
                                   "y = x.w, x and w ~ N(0, I_d) drawn per prompt", {}, factory)};
}
