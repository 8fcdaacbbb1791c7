// SDK glue for the decision-tree task (docs/model.md#decision-trees).
#include "decision_tree.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

/// Its baselines: the tree learners (CART, XGBoost), 3-NN and the linear ones.
const std::vector<std::string> kBaselines{"nearest_neighbours", "greedy_tree", "gradient_boosting", "least_squares",
                                          "averaging"};

}  // namespace

LOOPLAB_PLUGIN("decision_tree", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("depth", 4, "depth D of the random full binary tree (2^D leaves with N(0, 1) values)")
          .at_least(1)
          .at_most(30),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<sdk::ModuleTask<tasks::DecisionTree>>(
        tasks::DecisionTree(tasks::DecisionTreeOptions(ctx.n_dims).depth(p.get_int("depth"))), kBaselines);
  };
  return {sdk::make_task_component(looplab_plugin,
                                   "y = the leaf value x reaches in a random depth-D tree splitting on signs of x_c",
                                   std::move(schema), factory)};
}
