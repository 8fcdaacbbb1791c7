// SDK glue for the decision-tree task (docs/model.md#decision-trees).
#include "decision_tree.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class DecisionTreeTask : public sdk::Task {
 public:
  explicit DecisionTreeTask(const tasks::DecisionTreeOptions& options) : task_(options) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  std::vector<std::string> baselines() const override {
    return {"nearest_neighbours", "greedy_tree", "gradient_boosting", "least_squares", "averaging"};
  }

 private:
  tasks::DecisionTree task_;
};

}  // namespace

LOOPLAB_PLUGIN("decision_tree", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("depth", 4, "depth D of the random full binary tree (2^D leaves with N(0, 1) values)")
          .at_least(1)
          .at_most(30),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<DecisionTreeTask>(tasks::DecisionTreeOptions(ctx.n_dims).depth(p.get_int("depth")));
  };
  return {sdk::make_task_component(looplab_plugin,
                                   "y = the leaf value x reaches in a random depth-D tree splitting on signs of x_c",
                                   std::move(schema), factory)};
}
