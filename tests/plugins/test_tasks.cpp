// The linear-regression task plugins (docs/model.md#tasks), built through the registry.

#include "common/devices.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

namespace looplab {
namespace {

/// A task from its schema defaults; `noise_std` < 0 keeps the default.
std::shared_ptr<sdk::Task> make_task(const std::string& name, int64_t n_dims, double noise_std = -1.0) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Task, name);
  if (loaded == nullptr) throw std::runtime_error("task plugin not found: " + name);
  auto params = sdk::Params::defaults(loaded->component->params);
  if (noise_std >= 0.0) params.set("noise_std", noise_std);
  sdk::TaskContext ctx;
  ctx.n_dims = n_dims;
  return std::get<sdk::TaskFactory>(loaded->component->factory)(params, ctx);
}

const c10::Device kCpu(c10::kCPU);

sdk::Prompts draw(const sdk::Task& task, int64_t batch, int64_t points, int64_t active, uint64_t seed) {
  auto gen = host::make_generator(kCpu, seed);
  return task.sample(batch, points, active, gen, kCpu);
}

/// Sample mean of y^2 and its standard error, treating prompts (which share w) as the units.
std::pair<double, double> y2_mean_and_se(const torch::Tensor& ys) {
  const auto per_prompt = ys.to(torch::kDouble).square().mean(1);
  const double se = per_prompt.std().item<double>() / std::sqrt(static_cast<double>(per_prompt.numel()));
  return {per_prompt.mean().item<double>(), se};
}

/// Pooled residual variance of per-prompt least squares: sum r^2 / (B (n - d)) is unbiased for sigma^2.
double residual_variance(const torch::Tensor& xs, const torch::Tensor& ys, int64_t d) {
  const auto X = xs.to(torch::kDouble), y = ys.to(torch::kDouble).unsqueeze(-1);
  const auto Xt = X.transpose(1, 2);
  const auto w = torch::linalg_solve(Xt.bmm(X), Xt.bmm(y));
  const auto r = y - X.bmm(w);
  const double dof = static_cast<double>(xs.size(0) * (xs.size(1) - d));
  return r.square().sum().item<double>() / dof;
}

TEST(LinearRegressionTask, ShapesAndDtype) {
  torch::manual_seed(0);
  const auto task = make_task("linear_regression", 5);
  const auto p = draw(*task, 4, 11, 5, 1);
  EXPECT_EQ(p.xs.sizes(), (std::vector<int64_t>{4, 11, 5}));
  EXPECT_EQ(p.ys.sizes(), (std::vector<int64_t>{4, 11}));
  EXPECT_EQ(p.xs.scalar_type(), torch::kFloat32);
  EXPECT_EQ(p.ys.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(p.xs.device().is_cpu());
  EXPECT_TRUE(p.ys.device().is_cpu());
}

TEST(LinearRegressionTask, LabelsAreExactlyLinearInX) {
  torch::manual_seed(0);
  const int64_t d = 5;
  const auto task = make_task("linear_regression", d);
  const auto p = draw(*task, 50, 30, d, 2);
  // A noiseless task leaves nothing for least squares to miss.
  EXPECT_LT(residual_variance(p.xs, p.ys, d), 1e-9);
  EXPECT_EQ(task->noise_variance(), 0.0);
}

TEST(LinearRegressionTask, SecondMomentOfYIsD) {
  torch::manual_seed(0);
  const int64_t d = 5;
  const auto task = make_task("linear_regression", d);
  const auto p = draw(*task, 20000, 10, d, 3);
  // x ~ N(0, I): unit second moment per coordinate.
  EXPECT_NEAR(p.xs.to(torch::kDouble).square().mean().item<double>(), 1.0, 0.01);
  // w ~ N(0, I) without 1/sqrt(d) scaling: E[y^2] = d.
  const auto [mean, se] = y2_mean_and_se(p.ys);
  EXPECT_NEAR(mean, static_cast<double>(d), 5.0 * se);
  EXPECT_LT(se, 0.1);  // the test is tight enough to tell d from d +- 0.5
  EXPECT_DOUBLE_EQ(task->y_second_moment(d), 5.0);
  EXPECT_DOUBLE_EQ(task->y_second_moment(2), 2.0);
}

TEST(LinearRegressionTask, InactiveCoordinatesAreZero) {
  torch::manual_seed(0);
  const int64_t d = 5, active = 2;
  const auto task = make_task("linear_regression", d);
  const auto p = draw(*task, 20000, 10, active, 4);
  EXPECT_EQ(p.xs.narrow(2, active, d - active).abs().max().item<float>(), 0.0f);
  EXPECT_GT(p.xs.narrow(2, 0, active).abs().min().item<float>(), 0.0f);
  const auto [mean, se] = y2_mean_and_se(p.ys);
  EXPECT_NEAR(mean, static_cast<double>(active), 5.0 * se);
  EXPECT_LT(se, 0.05);
}

TEST(LinearRegressionTask, ActiveDimsOutsideRangeThrow) {
  const auto task = make_task("linear_regression", 3);
  EXPECT_THROW(draw(*task, 2, 4, 0, 1), std::exception);
  EXPECT_THROW(draw(*task, 2, 4, 4, 1), std::exception);
}

TEST(LinearRegressionTask, GeneratorSeedDeterminesSamples) {
  torch::manual_seed(0);
  const auto task = make_task("linear_regression", 4);
  const auto a = draw(*task, 8, 6, 4, 7);
  torch::manual_seed(99);  // the global generator must not matter
  const auto b = draw(*task, 8, 6, 4, 7);
  const auto c = draw(*task, 8, 6, 4, 8);
  EXPECT_TRUE(torch::equal(a.xs, b.xs));
  EXPECT_TRUE(torch::equal(a.ys, b.ys));
  EXPECT_FALSE(torch::equal(a.xs, c.xs));
  EXPECT_FALSE(torch::equal(a.ys, c.ys));
  // Successive draws from one generator are fresh prompts.
  auto gen = host::make_generator(kCpu, 7);
  const auto first = task->sample(8, 6, 4, gen, kCpu);
  const auto second = task->sample(8, 6, 4, gen, kCpu);
  EXPECT_TRUE(torch::equal(first.xs, a.xs));
  EXPECT_FALSE(torch::equal(first.xs, second.xs));
}

TEST(NoisyLinearRegressionTask, ResidualStdIsNoiseStd) {
  torch::manual_seed(0);
  const int64_t d = 5;
  for (double sigma : {0.1, 0.5}) {
    const auto task = make_task("noisy_linear_regression", d, sigma);
    const auto p = draw(*task, 200, 200, d, 5);
    EXPECT_EQ(p.xs.sizes(), (std::vector<int64_t>{200, 200, d}));
    EXPECT_EQ(p.ys.scalar_type(), torch::kFloat32);
    // 200 * 195 residual degrees of freedom: relative standard error of the variance ~0.7%.
    const double var = residual_variance(p.xs, p.ys, d);
    EXPECT_NEAR(var / (sigma * sigma), 1.0, 0.04) << "sigma = " << sigma;
    EXPECT_DOUBLE_EQ(task->noise_variance(), sigma * sigma);
    EXPECT_DOUBLE_EQ(task->y_second_moment(d), d + sigma * sigma);
  }
}

TEST(NoisyLinearRegressionTask, DefaultNoiseIsPointOne) {
  torch::manual_seed(0);
  const int64_t d = 5;
  const auto task = make_task("noisy_linear_regression", d);
  EXPECT_DOUBLE_EQ(task->noise_variance(), 0.1 * 0.1);
  const auto p = draw(*task, 200, 200, d, 6);
  EXPECT_NEAR(residual_variance(p.xs, p.ys, d) / 0.01, 1.0, 0.04);
}

TEST(NoisyLinearRegressionTask, InactiveCoordinatesAreZero) {
  torch::manual_seed(0);
  const auto task = make_task("noisy_linear_regression", 6);
  const auto p = draw(*task, 16, 10, 3, 7);
  EXPECT_EQ(p.xs.narrow(2, 3, 3).abs().max().item<float>(), 0.0f);
}

TEST(TaskBaselines, RidgeOnlyForTheNoisyTask) {
  const auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const auto clean = make_task("linear_regression", 3)->baselines();
  const auto noisy = make_task("noisy_linear_regression", 3)->baselines();
  EXPECT_TRUE(has(clean, sdk::baseline::kLeastSquares));
  EXPECT_FALSE(has(clean, sdk::baseline::kRidge));
  EXPECT_TRUE(has(noisy, sdk::baseline::kLeastSquares));
  EXPECT_TRUE(has(noisy, sdk::baseline::kRidge));
  for (const auto* list : {&clean, &noisy}) {
    EXPECT_TRUE(has(*list, sdk::baseline::kAveraging));
    EXPECT_TRUE(has(*list, sdk::baseline::kNearestNeighbours));
  }
}

}  // namespace
}  // namespace looplab
