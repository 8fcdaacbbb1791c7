// SDK glue for the sparse linear-regression task (docs/model.md#sparse-linear-regression).
#include "sparse_linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

/// Its baselines: lasso (alpha = 0.01) for the sparsity, next to the linear-regression ones.
const std::vector<std::string> kBaselines{"least_squares", "averaging", "nearest_neighbours", "lasso"};

}  // namespace

LOOPLAB_PLUGIN("sparse_linear_regression", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("sparsity", 3, "number of nonzero coordinates of w, chosen uniformly among the active ones")
          .at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<sdk::ModuleTask<tasks::SparseLinearRegression>>(
        tasks::SparseLinearRegression(
            tasks::SparseLinearRegressionOptions(ctx.n_dims).sparsity(p.get_int("sparsity"))),
        kBaselines);
  };
  return {sdk::make_task_component(looplab_plugin, "y = x.w, x ~ N(0, I_d), w ~ N(0, I_d) with s nonzero coordinates",
                                   std::move(schema), factory)};
}
