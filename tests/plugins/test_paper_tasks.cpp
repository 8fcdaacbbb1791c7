// The task plugins of Garg et al. (2022) / Yang et al. (2024) beyond linear regression
// (docs/model.md#tasks): sparse linear regression, two-layer ReLU networks, decision trees.
// The modules are tested directly, the built plugins through the registry (glue, schema).

#include "common/devices.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "decision_tree.h"
#include "relu_2nn_regression.h"
#include "sparse_linear_regression.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace looplab::tasks {
namespace {

const c10::Device kCpu(c10::kCPU);

const sdk::Component& component(const std::string& name) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Task, name);
  if (loaded == nullptr) throw std::runtime_error("task plugin not found: " + name);
  return *loaded->component;
}

/// A task plugin from its schema defaults, with `overrides` set on top.
std::shared_ptr<sdk::Task> make_task(const std::string& name, int64_t n_dims,
                                     const std::map<std::string, int64_t>& overrides = {}) {
  const auto& c = component(name);
  auto params = sdk::Params::defaults(c.params);
  for (const auto& [key, value] : overrides) params.set(key, value);
  sdk::TaskContext ctx;
  ctx.n_dims = n_dims;
  return std::get<sdk::TaskFactory>(c.factory)(params, ctx);
}

sdk::Prompts draw(const sdk::Task& task, int64_t batch, int64_t points, int64_t active, uint64_t seed) {
  auto gen = host::make_generator(kCpu, seed);
  return task.sample(batch, points, active, gen, kCpu);
}

/// Sample mean of y^2 and its standard error, treating prompts (which share a function) as the units.
std::pair<double, double> y2_mean_and_se(const torch::Tensor& ys) {
  const auto per_prompt = ys.to(torch::kDouble).square().mean(1);
  const double se = per_prompt.std().item<double>() / std::sqrt(static_cast<double>(per_prompt.numel()));
  return {per_prompt.mean().item<double>(), se};
}

/// Checks the one parameter of a plugin: name, default, lower bound 1, a doc line.
void expect_single_int_param(const std::string& task, const std::string& param, int64_t fallback) {
  const auto& c = component(task);
  ASSERT_EQ(c.params.size(), 1u) << task;
  const auto& spec = c.params[0];
  EXPECT_EQ(spec.name, param);
  EXPECT_EQ(spec.type, sdk::ParamType::Int);
  ASSERT_TRUE(spec.fallback.has_value());
  EXPECT_EQ(std::get<int64_t>(*spec.fallback), fallback);
  ASSERT_TRUE(spec.min.has_value());
  EXPECT_EQ(*spec.min, 1.0);
  EXPECT_FALSE(spec.doc.empty());
  EXPECT_FALSE(c.summary.empty());
  EXPECT_EQ(c.version, "0.1.0");
}

/// Shapes, dtype, device, zeroed inactive coordinates of a plugin's prompts.
void expect_prompt_shape(const std::string& task, int64_t d, int64_t active) {
  const auto p = draw(*make_task(task, d), 4, 11, active, 1);
  EXPECT_EQ(p.xs.sizes(), (std::vector<int64_t>{4, 11, d})) << task;
  EXPECT_EQ(p.ys.sizes(), (std::vector<int64_t>{4, 11})) << task;
  EXPECT_EQ(p.xs.scalar_type(), torch::kFloat32) << task;
  EXPECT_EQ(p.ys.scalar_type(), torch::kFloat32) << task;
  EXPECT_TRUE(p.xs.device().is_cpu());
  EXPECT_TRUE(p.ys.device().is_cpu());
  if (active < d) {
    EXPECT_EQ(p.xs.narrow(2, active, d - active).abs().max().item<float>(), 0.0f) << task;
  }
  EXPECT_GT(p.xs.narrow(2, 0, active).abs().min().item<float>(), 0.0f) << task;
}

/// Same seed: equal prompts whatever the global generator; another seed: other prompts.
void expect_deterministic(const std::string& task, int64_t d) {
  const auto t = make_task(task, d);
  torch::manual_seed(0);
  const auto a = draw(*t, 8, 6, d, 7);
  torch::manual_seed(99);  // the global generator must not matter
  const auto b = draw(*t, 8, 6, d, 7);
  const auto c = draw(*t, 8, 6, d, 8);
  EXPECT_TRUE(torch::equal(a.xs, b.xs)) << task;
  EXPECT_TRUE(torch::equal(a.ys, b.ys)) << task;
  EXPECT_FALSE(torch::equal(a.xs, c.xs)) << task;
  EXPECT_FALSE(torch::equal(a.ys, c.ys)) << task;
  auto gen = host::make_generator(kCpu, 7);
  const auto first = t->sample(8, 6, d, gen, kCpu);
  const auto second = t->sample(8, 6, d, gen, kCpu);
  EXPECT_TRUE(torch::equal(first.ys, a.ys)) << task;
  EXPECT_FALSE(torch::equal(first.ys, second.ys)) << task;
}

void expect_active_dims_checked(const std::string& task) {
  const auto t = make_task(task, 3);
  EXPECT_THROW(draw(*t, 2, 4, 0, 1), std::invalid_argument) << task;
  EXPECT_THROW(draw(*t, 2, 4, 4, 1), std::invalid_argument) << task;
  EXPECT_NO_THROW(draw(*t, 2, 4, 1, 1)) << task;
}

void expect_second_moment(const sdk::Task& task, int64_t d, int64_t active, double expected, uint64_t seed) {
  EXPECT_DOUBLE_EQ(task.y_second_moment(active), expected);
  const auto p = draw(task, 20000, 10, active, seed);
  const auto [mean, se] = y2_mean_and_se(p.ys);
  EXPECT_NEAR(mean, expected, 5.0 * se) << "d = " << d << ", active = " << active;
  EXPECT_LT(se, 0.05 * expected) << "d = " << d << ", active = " << active;  // tight enough to mean something
}

// ---- sparse linear regression --------------------------------------------------------------

SparseLinearRegressionSample sparse_draw(int64_t d, int64_t s, int64_t batch, int64_t points, int64_t active,
                                         uint64_t seed) {
  auto gen = host::make_generator(kCpu, seed);
  return SparseLinearRegression(SparseLinearRegressionOptions(d).sparsity(s))
      .sample_with_weights(batch, points, active, gen, kCpu);
}

TEST(SparseLinearRegressionTask, ShapesDtypeAndInactiveCoordinates) {
  expect_prompt_shape("sparse_linear_regression", 6, 6);
  expect_prompt_shape("sparse_linear_regression", 6, 2);
}

TEST(SparseLinearRegressionTask, WeightsHaveSparsityNonzerosAmongTheActive) {
  const int64_t d = 10;
  for (const auto& [s, active] : std::vector<std::pair<int64_t, int64_t>>{{3, 10}, {3, 5}, {1, 10}, {10, 10}}) {
    const auto smp = sparse_draw(d, s, 500, 12, active, 11);
    EXPECT_EQ(smp.w.sizes(), (std::vector<int64_t>{500, d}));
    EXPECT_EQ(smp.w.scalar_type(), torch::kFloat32);
    const auto nonzero = smp.w.ne(0).sum(1);
    EXPECT_TRUE(nonzero.eq(s).all().item<bool>()) << "s = " << s << ", active = " << active;
    if (active < d) {
      EXPECT_EQ(smp.w.narrow(1, active, d - active).abs().max().item<float>(), 0.0f);
    }
    EXPECT_TRUE(torch::allclose(smp.ys, torch::bmm(smp.xs, smp.w.unsqueeze(-1)).squeeze(-1), 1e-5, 1e-5));
  }
}

TEST(SparseLinearRegressionTask, SparsityAboveActiveDimsKeepsEveryActiveCoordinate) {
  const int64_t d = 8, s = 5, active = 3;
  const auto smp = sparse_draw(d, s, 400, 5, active, 12);
  EXPECT_TRUE(smp.w.ne(0).sum(1).eq(active).all().item<bool>());
  EXPECT_TRUE(smp.w.narrow(1, 0, active).ne(0).all().item<bool>());
  EXPECT_EQ(smp.w.narrow(1, active, d - active).abs().max().item<float>(), 0.0f);
  EXPECT_DOUBLE_EQ(SparseLinearRegression(SparseLinearRegressionOptions(d).sparsity(s)).y_second_moment(active), 3.0);
}

TEST(SparseLinearRegressionTask, SupportIsUniformAmongTheActiveCoordinates) {
  const int64_t d = 8, s = 2, active = 6, batch = 20000;
  const auto smp = sparse_draw(d, s, batch, 2, active, 13);
  const auto freq = smp.w.ne(0).to(torch::kDouble).mean(0);  // P(coordinate kept) = s / active
  const double p = static_cast<double>(s) / active, se = std::sqrt(p * (1 - p) / batch);
  for (int64_t k = 0; k < active; ++k) EXPECT_NEAR(freq[k].item<double>(), p, 5 * se) << "coordinate " << k;
  // Two distinct coordinates: both kept with probability s(s-1) / (active(active-1)).
  const auto both = smp.w.select(1, 0).ne(0).logical_and(smp.w.select(1, 1).ne(0)).to(torch::kDouble).mean();
  const double q = static_cast<double>(s * (s - 1)) / (active * (active - 1));
  EXPECT_NEAR(both.item<double>(), q, 5 * std::sqrt(q * (1 - q) / batch));
}

TEST(SparseLinearRegressionTask, NonzeroWeightsAreStandardNormal) {
  const auto smp = sparse_draw(6, 3, 20000, 2, 6, 14);
  const auto kept = smp.w.masked_select(smp.w.ne(0)).to(torch::kDouble);
  EXPECT_EQ(kept.numel(), 60000);
  EXPECT_NEAR(kept.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(kept.square().mean().item<double>(), 1.0, 0.03);
}

TEST(SparseLinearRegressionTask, SecondMomentOfYIsMinOfSparsityAndActiveDims) {
  const int64_t d = 5;
  const auto task = make_task("sparse_linear_regression", d);  // default sparsity 3
  expect_second_moment(*task, d, d, 3.0, 3);
  expect_second_moment(*task, d, 4, 3.0, 4);
  expect_second_moment(*task, d, 2, 2.0, 5);
  const auto dense = make_task("sparse_linear_regression", d, {{"sparsity", 1}});
  expect_second_moment(*dense, d, d, 1.0, 6);
}

TEST(SparseLinearRegressionTask, PluginDrawsWhatTheModuleDraws) {
  const auto task = make_task("sparse_linear_regression", 7, {{"sparsity", 2}});
  const auto p = draw(*task, 16, 9, 5, 21);
  const auto smp = sparse_draw(7, 2, 16, 9, 5, 21);
  EXPECT_TRUE(torch::equal(p.xs, smp.xs));
  EXPECT_TRUE(torch::equal(p.ys, smp.ys));
}

TEST(SparseLinearRegressionTask, Determinism) { expect_deterministic("sparse_linear_regression", 5); }

TEST(SparseLinearRegressionTask, ActiveDimsOutsideRangeThrow) {
  expect_active_dims_checked("sparse_linear_regression");
  EXPECT_THROW(SparseLinearRegression(SparseLinearRegressionOptions(3).sparsity(0)), std::invalid_argument);
}

TEST(SparseLinearRegressionTask, SchemaAndBaselines) {
  expect_single_int_param("sparse_linear_regression", "sparsity", 3);
  EXPECT_EQ(make_task("sparse_linear_regression", 4)->baselines(),
            (std::vector<std::string>{"least_squares", "averaging", "nearest_neighbours", "lasso"}));
  EXPECT_EQ(make_task("sparse_linear_regression", 4)->noise_variance(), 0.0);
}

// ---- two-layer ReLU network regression -----------------------------------------------------

TEST(Relu2nnRegressionTask, ForwardMatchesAHandComputation) {
  // d = 2, h = 4: columns of W1 are (1, 2), (-1, 0.5), (0, 1), (2, -1); W2 = (3, -2, 1, 0.5).
  const auto w1 = torch::tensor({1.0f, -1.0f, 0.0f, 2.0f, 2.0f, 0.5f, 1.0f, -1.0f}).reshape({1, 2, 4});
  const auto w2 = torch::tensor({3.0f, -2.0f, 1.0f, 0.5f}).reshape({1, 4});
  const auto xs = torch::tensor({1.0f, 1.0f, -1.0f, 2.0f}).reshape({1, 2, 2});
  // x = (1, 1):  pre-activations 3, -0.5, 1, 1 -> ReLU 3, 0, 1, 1 -> 9 + 0 + 1 + 0.5 = 10.5.
  // x = (-1, 2): pre-activations 3, 2, 2, -4   -> ReLU 3, 2, 2, 0 -> 9 - 4 + 2 + 0 = 7.
  const double scale = std::sqrt(2.0 / 4.0);
  const auto ys = relu2nn_forward(xs, w1, w2);
  ASSERT_EQ(ys.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(ys[0][0].item<double>(), 10.5 * scale, 1e-5);
  EXPECT_NEAR(ys[0][1].item<double>(), 7.0 * scale, 1e-5);
}

TEST(Relu2nnRegressionTask, ForwardMatchesLoopsForRandomWeights) {
  const int64_t B = 3, n = 4, d = 5, h = 7;
  auto gen = host::make_generator(kCpu, 1);
  const auto xs = torch::randn({B, n, d}, gen, torch::kDouble);
  const auto w1 = torch::randn({B, d, h}, gen, torch::kDouble);
  const auto w2 = torch::randn({B, h}, gen, torch::kDouble);
  const auto ys = relu2nn_forward(xs, w1, w2);
  const auto X = xs.accessor<double, 3>(), W1 = w1.accessor<double, 3>();
  const auto W2 = w2.accessor<double, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < n; ++j) {
      double y = 0;
      for (int64_t k = 0; k < h; ++k) {
        double z = 0;
        for (int64_t c = 0; c < d; ++c) z += X[b][j][c] * W1[b][c][k];
        y += W2[b][k] * std::max(z, 0.0);
      }
      EXPECT_NEAR(ys[b][j].item<double>(), std::sqrt(2.0 / h) * y, 1e-10);
    }
}

TEST(Relu2nnRegressionTask, SampleIsTheForwardOfItsWeights) {
  const int64_t d = 6, h = 9, active = 4;
  auto gen = host::make_generator(kCpu, 2);
  const auto smp =
      Relu2nnRegression(Relu2nnRegressionOptions(d).hidden(h)).sample_with_weights(5, 8, active, gen, kCpu);
  EXPECT_EQ(smp.w1.sizes(), (std::vector<int64_t>{5, d, h}));
  EXPECT_EQ(smp.w2.sizes(), (std::vector<int64_t>{5, h}));
  EXPECT_TRUE(torch::equal(smp.ys, relu2nn_forward(smp.xs, smp.w1, smp.w2)));
  const auto task = make_task("relu_2nn_regression", d, {{"hidden", h}});
  const auto p = draw(*task, 5, 8, active, 2);
  EXPECT_TRUE(torch::equal(p.xs, smp.xs));
  EXPECT_TRUE(torch::equal(p.ys, smp.ys));
}

TEST(Relu2nnRegressionTask, ShapesDtypeAndInactiveCoordinates) {
  expect_prompt_shape("relu_2nn_regression", 5, 5);
  expect_prompt_shape("relu_2nn_regression", 5, 3);
}

TEST(Relu2nnRegressionTask, SecondMomentOfYIsActiveDims) {
  const int64_t d = 5;
  const auto task = make_task("relu_2nn_regression", d);  // default hidden 100
  expect_second_moment(*task, d, d, 5.0, 3);
  expect_second_moment(*task, d, 2, 2.0, 4);
  const auto narrow = make_task("relu_2nn_regression", d, {{"hidden", 3}});  // holds for any width
  expect_second_moment(*narrow, d, d, 5.0, 5);
}

TEST(Relu2nnRegressionTask, Determinism) { expect_deterministic("relu_2nn_regression", 4); }

TEST(Relu2nnRegressionTask, ActiveDimsOutsideRangeThrow) {
  expect_active_dims_checked("relu_2nn_regression");
  EXPECT_THROW(Relu2nnRegression(Relu2nnRegressionOptions(3).hidden(0)), std::invalid_argument);
}

TEST(Relu2nnRegressionTask, SchemaAndBaselines) {
  expect_single_int_param("relu_2nn_regression", "hidden", 100);
  EXPECT_EQ(make_task("relu_2nn_regression", 4)->baselines(),
            (std::vector<std::string>{"least_squares", "nearest_neighbours", "averaging", "nn_gd"}));
}

// ---- decision trees ------------------------------------------------------------------------

TEST(DecisionTreeTask, HandBuiltDepthTwoTrees) {
  // Prompt 0: root splits on x_0, its left child on x_1, its right child on x_2.
  // Prompt 1: root on x_2, left child on x_0, right child on x_0.
  const auto splits = torch::tensor({0, 1, 2, 2, 0, 0}, torch::kLong).reshape({2, 3});
  const auto leaves = torch::tensor({10.0f, 20.0f, 30.0f, 40.0f, -1.0f, -2.0f, -3.0f, -4.0f}).reshape({2, 4});
  const auto xs = torch::tensor({                     // prompt 0
                                 0.0f, 0.0f, 0.0f,    // x_0 = 0 left, x_1 = 0 left   -> 10
                                 -1.0f, 1.0f, 5.0f,   // left, x_1 > 0 right          -> 20
                                 1.0f, -3.0f, 0.0f,   // right, x_2 = 0 left          -> 30
                                 2.0f, 0.0f, 0.5f,    // right, right                 -> 40
                                 -0.0f, 0.1f, -9.0f,  // -0 counts as <= 0: left, right -> 20
                                                      // prompt 1
                                 0.5f, 9.0f, -1.0f,   // x_2 < 0 left, x_0 > 0 right  -> -2
                                 0.0f, 9.0f, 0.0f,    // left, left                   -> -1
                                 -1.0f, 0.0f, 1e-7f,  // right, x_0 < 0 left          -> -3
                                 3.0f, -9.0f, 2.0f,   // right, right                 -> -4
                                 0.0f, 0.0f, 2.0f})   // right, x_0 = 0 left          -> -3
                      .reshape({2, 5, 3});
  const auto ys = decision_tree_forward(xs, splits, leaves);
  const auto expected =
      torch::tensor({10.0f, 20.0f, 30.0f, 40.0f, 20.0f, -2.0f, -1.0f, -3.0f, -4.0f, -3.0f}).reshape({2, 5});
  EXPECT_TRUE(torch::equal(ys, expected)) << ys;
}

TEST(DecisionTreeTask, DepthOneTreeIsASignTest) {
  const auto splits = torch::tensor({1}, torch::kLong).reshape({1, 1});
  const auto leaves = torch::tensor({-5.0f, 5.0f}).reshape({1, 2});
  const auto xs = torch::tensor({3.0f, -1.0f, -3.0f, 1.0f, 0.0f, 0.0f}).reshape({1, 3, 2});
  EXPECT_TRUE(
      torch::equal(decision_tree_forward(xs, splits, leaves), torch::tensor({-5.0f, 5.0f, -5.0f}).reshape({1, 3})));
}

TEST(DecisionTreeTask, ForwardRejectsMismatchedShapes) {
  const auto xs = torch::zeros({2, 3, 4});
  EXPECT_THROW(decision_tree_forward(xs, torch::zeros({2, 3}, torch::kLong), torch::zeros({2, 3})),
               std::invalid_argument);
  EXPECT_THROW(decision_tree_forward(xs, torch::zeros({2, 2}, torch::kLong), torch::zeros({2, 3})),
               std::invalid_argument);
  EXPECT_THROW(decision_tree_forward(xs, torch::zeros({1, 3}, torch::kLong), torch::zeros({1, 4})),
               std::invalid_argument);
}

TEST(DecisionTreeTask, SplitsOnlyOnActiveCoordinatesUniformly) {
  const int64_t d = 6, depth = 3, batch = 4000;
  const DecisionTree tree(DecisionTreeOptions(d).depth(depth));
  for (const int64_t active : {int64_t{6}, int64_t{3}, int64_t{1}}) {
    auto gen = host::make_generator(kCpu, 30 + active);
    const auto smp = tree.sample_with_trees(batch, 4, active, gen, kCpu);
    EXPECT_EQ(smp.splits.sizes(), (std::vector<int64_t>{batch, 7}));
    EXPECT_EQ(smp.splits.scalar_type(), torch::kLong);
    EXPECT_EQ(smp.leaves.sizes(), (std::vector<int64_t>{batch, 8}));
    EXPECT_GE(smp.splits.min().item<int64_t>(), 0);
    EXPECT_LT(smp.splits.max().item<int64_t>(), active);
    const auto counts = torch::bincount(smp.splits.flatten(), {}, active).to(torch::kDouble);
    const double total = static_cast<double>(smp.splits.numel()), p = 1.0 / active;
    const double se = std::sqrt(p * (1 - p) / total);
    for (int64_t k = 0; k < active; ++k)
      EXPECT_NEAR(counts[k].item<double>() / total, p, 5 * se) << "active " << active << ", coordinate " << k;
  }
}

TEST(DecisionTreeTask, SampleIsTheForwardOfItsTrees) {
  const int64_t d = 5;
  auto gen = host::make_generator(kCpu, 3);
  const auto smp = DecisionTree(DecisionTreeOptions(d).depth(2)).sample_with_trees(6, 40, 3, gen, kCpu);
  EXPECT_TRUE(torch::equal(smp.ys, decision_tree_forward(smp.xs, smp.splits, smp.leaves)));
  // Every label is one of its prompt's leaf values.
  const auto hit = smp.ys.unsqueeze(-1).eq(smp.leaves.unsqueeze(1)).any(-1);
  EXPECT_TRUE(hit.all().item<bool>());
  const auto task = make_task("decision_tree", d, {{"depth", 2}});
  const auto p = draw(*task, 6, 40, 3, 3);
  EXPECT_TRUE(torch::equal(p.xs, smp.xs));
  EXPECT_TRUE(torch::equal(p.ys, smp.ys));
}

TEST(DecisionTreeTask, ShapesDtypeAndInactiveCoordinates) {
  expect_prompt_shape("decision_tree", 5, 5);
  expect_prompt_shape("decision_tree", 5, 2);
}

TEST(DecisionTreeTask, SecondMomentOfYIsOne) {
  const int64_t d = 5;
  const auto task = make_task("decision_tree", d);  // default depth 4
  expect_second_moment(*task, d, d, 1.0, 3);
  expect_second_moment(*task, d, 2, 1.0, 4);
  const auto deep = make_task("decision_tree", d, {{"depth", 6}});
  expect_second_moment(*deep, d, d, 1.0, 5);
}

TEST(DecisionTreeTask, Determinism) { expect_deterministic("decision_tree", 4); }

TEST(DecisionTreeTask, ActiveDimsOutsideRangeThrow) {
  expect_active_dims_checked("decision_tree");
  EXPECT_THROW(DecisionTree(DecisionTreeOptions(3).depth(0)), std::invalid_argument);
  EXPECT_THROW(DecisionTree(DecisionTreeOptions(3).depth(31)), std::invalid_argument);
}

TEST(DecisionTreeTask, SchemaAndBaselines) {
  expect_single_int_param("decision_tree", "depth", 4);
  EXPECT_EQ(make_task("decision_tree", 4)->baselines(),
            (std::vector<std::string>{"nearest_neighbours", "greedy_tree", "gradient_boosting", "least_squares",
                                      "averaging"}));
}

// ---- on a GPU, where there is one ----------------------------------------------------------

TEST(DecisionTreeTask, PaperTasksSampleOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  for (const std::string name : {"sparse_linear_regression", "relu_2nn_regression", "decision_tree"}) {
    const auto task = make_task(name, 6);
    auto g1 = host::make_generator(cuda, 5), g2 = host::make_generator(cuda, 5);
    const auto a = task->sample(64, 10, 4, g1, cuda), b = task->sample(64, 10, 4, g2, cuda);
    EXPECT_TRUE(a.xs.device().is_cuda()) << name;
    EXPECT_TRUE(a.ys.device().is_cuda()) << name;
    EXPECT_EQ(a.ys.scalar_type(), torch::kFloat32) << name;
    EXPECT_TRUE(torch::equal(a.xs, b.xs)) << name;
    EXPECT_TRUE(torch::equal(a.ys, b.ys)) << name;
    EXPECT_EQ(a.xs.narrow(2, 4, 2).abs().max().item<float>(), 0.0f) << name;
  }
  auto gen = host::make_generator(cuda, 6);
  const auto smp =
      SparseLinearRegression(SparseLinearRegressionOptions(6).sparsity(2)).sample_with_weights(64, 3, 4, gen, cuda);
  EXPECT_TRUE(smp.w.ne(0).sum(1).eq(2).all().item<bool>());
  EXPECT_EQ(smp.w.narrow(1, 4, 2).abs().max().item<float>(), 0.0f);
  auto gen2 = host::make_generator(cuda, 7);
  const auto tree = DecisionTree(DecisionTreeOptions(6).depth(3)).sample_with_trees(64, 5, 4, gen2, cuda);
  EXPECT_LT(tree.splits.max().item<int64_t>(), 4);
  EXPECT_TRUE(torch::equal(tree.ys.cpu(), decision_tree_forward(tree.xs.cpu(), tree.splits.cpu(), tree.leaves.cpu())));
}

}  // namespace
}  // namespace looplab::tasks
