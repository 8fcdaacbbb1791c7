// SDK glue for the sparse linear-regression task (docs/model.md#sparse-linear-regression).
#include "sparse_linear_regression.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class SparseLinearRegressionTask : public sdk::Task {
 public:
  explicit SparseLinearRegressionTask(const tasks::SparseLinearRegressionOptions& options) : task_(options) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  std::vector<std::string> baselines() const override {
    return {"least_squares", "averaging", "nearest_neighbours", "lasso"};
  }

 private:
  tasks::SparseLinearRegression task_;
};

}  // namespace

LOOPLAB_PLUGIN("sparse_linear_regression", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("sparsity", 3, "number of nonzero coordinates of w, chosen uniformly among the active ones")
          .at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<SparseLinearRegressionTask>(
        tasks::SparseLinearRegressionOptions(ctx.n_dims).sparsity(p.get_int("sparsity")));
  };
  return {sdk::make_task_component(looplab_plugin, "y = x.w, x ~ N(0, I_d), w ~ N(0, I_d) with s nonzero coordinates",
                                   std::move(schema), factory)};
}
