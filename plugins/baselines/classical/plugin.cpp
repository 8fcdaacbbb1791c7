// SDK glue of the classical baselines: one component per learner over the module's functions
// (predictions.h states their shared convention).
#include "gradient_boosting.h"
#include "greedy_tree.h"
#include "lasso.h"
#include "linear.h"
#include "nearest_neighbours.h"
#include "nn_gd.h"

#include <looplab/sdk/plugin.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using namespace looplab;

using Predict = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, at::Generator&)>;

/// A baseline over one prediction function, with its legend label.
class FunctionBaseline : public sdk::Baseline {
 public:
  FunctionBaseline(std::string label, Predict predict) : label_(std::move(label)), predict_(std::move(predict)) {}
  torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, at::Generator& gen) const override {
    return predict_(xs, ys, gen);
  }
  std::string label() const override { return label_; }

 private:
  std::string label_;
  Predict predict_;
};

std::shared_ptr<sdk::Baseline> make(std::string label, Predict predict) {
  return std::make_shared<FunctionBaseline>(std::move(label), std::move(predict));
}

/// A number as a legend writes it: 0.01, 1e-05, 100.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

sdk::Component least_squares(const char* version) {
  auto factory = [](const sdk::Params&, const sdk::BaselineContext&) {
    return make("least squares", [](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
      return baselines::least_squares_predictions(xs, ys);
    });
  };
  return sdk::make_baseline_component("least_squares", version, "minimum-norm least squares on the prefix", {},
                                      factory);
}

sdk::Component ridge(const char* version) {
  sdk::ParamSchema schema{sdk::float_param("lambda", -1.0,
                                           "penalty; negative (the default): the task's noise variance sigma^2, "
                                           "Bayes-optimal for w ~ N(0, I)")};
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext& ctx) {
    const double set = p.get_float("lambda");
    const double lambda = set < 0.0 ? ctx.noise_variance : set;
    return make("ridge lambda = " + num(lambda),
                [lambda](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
                  return baselines::ridge_predictions(xs, ys, lambda);
                });
  };
  return sdk::make_baseline_component("ridge", version, "ridge regression (X^T X + lambda I)^-1 X^T y on the prefix",
                                      std::move(schema), factory);
}

sdk::Component averaging(const char* version) {
  auto factory = [](const sdk::Params&, const sdk::BaselineContext&) {
    return make("averaging", [](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
      return baselines::averaging_predictions(xs, ys);
    });
  };
  return sdk::make_baseline_component("averaging", version, "w = mean of y_j x_j over the prefix", {}, factory);
}

sdk::Component nearest_neighbours(const char* version) {
  sdk::ParamSchema schema{sdk::int_param("k", 3, "neighbours averaged").at_least(1)};
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext&) {
    const int64_t k = p.get_int("k");
    return make(std::to_string(k) + "-NN", [k](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
      return baselines::nearest_neighbour_predictions(xs, ys, k);
    });
  };
  return sdk::make_baseline_component("nearest_neighbours", version,
                                      "mean y of the k prefix points nearest to x (Euclidean)", std::move(schema),
                                      factory);
}

sdk::Component lasso(const char* version) {
  sdk::ParamSchema schema{
      sdk::float_param("alpha", 0.01, "L1 penalty of (1/2i)||Xw - y||^2 + alpha ||w||_1, > 0").at_least(0.0),
      sdk::float_param("tol", baselines::LassoOptions().tol(), "accepted duality gap, relative to the objective at w = 0").at_least(0.0),
      sdk::int_param("max_iter", baselines::LassoOptions().max_iter(), "coordinate-descent sweeps at most, where the homotopy path misses tol").at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext&) {
    const auto options =
        baselines::LassoOptions().alpha(p.get_float("alpha")).tol(p.get_float("tol")).max_iter(p.get_int("max_iter"));
    // Refused here, where the pipeline is validated, rather than after training.
    if (!(options.alpha() > 0.0)) throw std::invalid_argument("alpha must be > 0 (alpha = 0 is least squares)");
    return make("lasso alpha = " + num(options.alpha()),
                [options](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
                  return baselines::lasso_predictions(xs, ys, options);
                });
  };
  return sdk::make_baseline_component("lasso", version, "L1-penalised least squares (homotopy path, duality-gap checked)",
                                      std::move(schema), factory);
}

sdk::Component greedy_tree(const char* version) {
  sdk::ParamSchema schema{sdk::int_param("max_depth", 0, "depth limit; 0: grown until pure").at_least(0)};
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext&) {
    const auto options = baselines::GreedyTreeOptions().max_depth(p.get_int("max_depth"));
    const std::string depth = options.max_depth() > 0 ? ", depth " + std::to_string(options.max_depth()) : "";
    return make("greedy tree" + depth, [options](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
      return baselines::greedy_tree_predictions(xs, ys, options);
    });
  };
  return sdk::make_baseline_component("greedy_tree", version, "CART regression tree (squared error) on the prefix",
                                      std::move(schema), factory);
}

sdk::Component gradient_boosting(const char* version) {
  const baselines::GradientBoostingOptions d;
  sdk::ParamSchema schema{
      sdk::int_param("max_depth", d.max_depth(), "depth of each tree").at_least(1),
      sdk::int_param("n_estimators", d.n_estimators(), "boosting rounds").at_least(1),
      sdk::float_param("learning_rate", d.learning_rate(), "shrinkage of each tree").at_least(0.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext&) {
    const auto options = baselines::GradientBoostingOptions()
                             .max_depth(p.get_int("max_depth"))
                             .n_estimators(p.get_int("n_estimators"))
                             .learning_rate(p.get_float("learning_rate"));
    return make("XGBoost", [options](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator&) {
      return baselines::gradient_boosting_predictions(xs, ys, options);
    });
  };
  return sdk::make_baseline_component("gradient_boosting", version, "gradient-boosted trees (XGBoost) on the prefix",
                                      std::move(schema), factory);
}

sdk::Component nn_gd(const char* version) {
  const baselines::NnGdOptions d;
  sdk::ParamSchema schema{
      sdk::int_param("hidden", d.hidden(), "ReLU units").at_least(1),
      sdk::float_param("lr", d.lr(), "Adam learning rate").at_least(0.0),
      sdk::int_param("steps", d.steps(), "Adam steps per prefix").at_least(1),
      sdk::int_param("batch", d.batch(), "prefix points drawn per step (with replacement)").at_least(1),
  };
  auto factory = [](const sdk::Params& p, const sdk::BaselineContext&) {
    const auto options = baselines::NnGdOptions()
                             .hidden(p.get_int("hidden"))
                             .lr(p.get_float("lr"))
                             .steps(p.get_int("steps"))
                             .batch(p.get_int("batch"));
    return make("2-layer NN, GD", [options](const torch::Tensor& xs, const torch::Tensor& ys, at::Generator& gen) {
      return baselines::nn_gd_predictions(xs, ys, options, gen);
    });
  };
  return sdk::make_baseline_component("nn_gd", version, "a fresh 2-layer ReLU network trained by Adam on the prefix",
                                      std::move(schema), factory);
}

}  // namespace

LOOPLAB_PLUGIN("classical", "0.1.0") {
  const char* v = looplab_plugin.version;
  return {least_squares(v), ridge(v),       averaging(v),         nearest_neighbours(v),
          lasso(v),         greedy_tree(v), gradient_boosting(v), nn_gd(v)};
}
