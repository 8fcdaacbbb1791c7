// SDK glue for the two-layer ReLU network regression task
// (docs/model.md#two-layer-relu-network-regression).
#include "relu_2nn_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class Relu2nnRegressionTask : public sdk::Task {
 public:
  explicit Relu2nnRegressionTask(const tasks::Relu2nnRegressionOptions& options) : task_(options) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  std::vector<std::string> baselines() const override {
    return {"least_squares", "nearest_neighbours", "averaging", "nn_gd"};
  }

 private:
  tasks::Relu2nnRegression task_;
};

}  // namespace

LOOPLAB_PLUGIN("relu_2nn_regression", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("hidden", 100, "width h of the hidden layer of the random two-layer ReLU network").at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<Relu2nnRegressionTask>(
        tasks::Relu2nnRegressionOptions(ctx.n_dims).hidden(p.get_int("hidden")));
  };
  return {sdk::make_task_component(looplab_plugin,
                                   "y = sqrt(2/h) sum_k W2_k ReLU(x.W1_k), W1, W2 ~ N(0, 1) drawn per prompt",
                                   std::move(schema), factory)};
}
