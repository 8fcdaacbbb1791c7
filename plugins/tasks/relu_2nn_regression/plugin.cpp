// SDK glue for the two-layer ReLU network regression task
// (docs/model.md#two-layer-relu-network-regression).
#include "relu_2nn_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

/// Its baselines: a two-layer ReLU network trained by gradient descent on the prefix, next to
/// the linear and local learners.
const std::vector<std::string> kBaselines{"least_squares", "nearest_neighbours", "averaging", "nn_gd"};

}  // namespace

LOOPLAB_PLUGIN("relu_2nn_regression", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("hidden", 100, "width h of the hidden layer of the random two-layer ReLU network").at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<sdk::ModuleTask<tasks::Relu2nnRegression>>(
        tasks::Relu2nnRegression(tasks::Relu2nnRegressionOptions(ctx.n_dims).hidden(p.get_int("hidden"))),
        kBaselines);
  };
  return {sdk::make_task_component(looplab_plugin,
                                   "y = sqrt(2/h) sum_k W2_k ReLU(x.W1_k), W1, W2 ~ N(0, 1) drawn per prompt",
                                   std::move(schema), factory)};
}
