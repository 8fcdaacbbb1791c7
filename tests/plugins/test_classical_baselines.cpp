// The linear and nearest-neighbour baselines of the classical baselines plugin, called directly.

#include "linear.h"
#include "nearest_neighbours.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace looplab::baselines {
namespace {

using torch::indexing::Slice;

const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

/// Noiseless linear prompts y = x . w, as in the linear_regression task.
std::pair<torch::Tensor, torch::Tensor> linear_prompts(int64_t N, int64_t n, int64_t d) {
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor w = torch::randn({N, d, 1});
  return {xs, torch::bmm(xs, w).squeeze(2)};
}

/// Min-norm interpolant of the first i points of prompt p: X^T (X X^T)^{-1} y.
torch::Tensor min_norm_interpolant(const torch::Tensor& xs, const torch::Tensor& ys, int64_t p, int64_t i) {
  const torch::Tensor X = xs[p].index({Slice(0, i)}).to(torch::kDouble);
  const torch::Tensor y = ys[p].index({Slice(0, i)}).to(torch::kDouble);
  return X.t().mv(torch::linalg_solve(X.mm(X.t()), y, true));
}

TEST(LeastSquaresBaseline, ExactOnNoiselessDataOnceDetermined) {
  torch::manual_seed(1);
  const int64_t N = 64, n = 14, d = 5;
  const auto [xs, ys] = linear_prompts(N, n, d);
  const torch::Tensor pred = least_squares_predictions(xs, ys);
  ASSERT_EQ(pred.sizes(), (std::vector<int64_t>{N, n}));
  EXPECT_EQ(pred.scalar_type(), torch::kFloat);
  const torch::Tensor p = pred.index({Slice(), Slice(d)});
  const torch::Tensor t = ys.index({Slice(), Slice(d)});
  EXPECT_TRUE(torch::allclose(p, t, 1e-4, 1e-4)) << (p - t).abs().max().item<float>();
}

TEST(LeastSquaresBaseline, BelowDimensionPredictsWithTheMinNormInterpolant) {
  torch::manual_seed(2);
  const int64_t N = 8, n = 10, d = 8;
  const auto [xs, ys] = linear_prompts(N, n, d);
  const torch::Tensor pred = least_squares_predictions(xs, ys);
  for (int64_t p : {0, 3, 7}) {
    for (int64_t i = 1; i < d; ++i) {
      const torch::Tensor w_min = min_norm_interpolant(xs, ys, p, i);
      const torch::Tensor x_i = xs[p][i].to(torch::kDouble);
      const double expected = x_i.dot(w_min).item<double>();
      EXPECT_NEAR(pred[p][i].item<double>(), expected, 1e-4 * (1.0 + std::abs(expected)))
          << "prompt " << p << ", i = " << i;

      // Another interpolant (w_min plus a null-space vector) fits the prefix as well but has a
      // larger norm and predicts differently, so the check above tells min-norm apart.
      const torch::Tensor X = xs[p].index({Slice(0, i)}).to(torch::kDouble);
      const torch::Tensor to_null = torch::eye(d, kF64) - X.t().mm(torch::linalg_solve(X.mm(X.t()), X, true));
      const torch::Tensor w_other = w_min + to_null.mv(x_i);
      EXPECT_TRUE(torch::allclose(X.mv(w_other), X.mv(w_min), 1e-9, 1e-9));
      EXPECT_GT(w_other.norm().item<double>(), w_min.norm().item<double>());
      EXPECT_GT(std::abs(x_i.dot(w_other).item<double>() - pred[p][i].item<double>()), 1e-2);
    }
  }
}

TEST(LeastSquaresBaseline, MatchesPseudoInverseWithInactiveDims) {
  torch::manual_seed(3);
  const int64_t N = 6, n = 12, d = 8, active = 3;  // curriculum: coordinates >= 3 are zero
  torch::Tensor xs = torch::randn({N, n, d});
  xs.index_put_({Slice(), Slice(), Slice(active)}, 0.0);
  const torch::Tensor ys = torch::randn({N, n});  // noisy: no exact fit past 3 points
  const torch::Tensor pred = least_squares_predictions(xs, ys);
  for (int64_t i = 1; i < n; ++i) {
    const torch::Tensor X = xs.index({Slice(), Slice(0, i)}).to(torch::kDouble);
    const torch::Tensor y = ys.index({Slice(), Slice(0, i)}).to(torch::kDouble).unsqueeze(2);
    const torch::Tensor w = torch::bmm(torch::linalg_pinv(X), y);
    const torch::Tensor expected = torch::bmm(xs.index({Slice(), Slice(i, i + 1)}).to(torch::kDouble), w).flatten();
    const torch::Tensor got = pred.index({Slice(), i}).to(torch::kDouble);
    EXPECT_TRUE(torch::allclose(got, expected, 1e-4, 1e-4)) << "i = " << i;
  }
}

TEST(RidgeBaseline, MatchesHandComputedCase) {
  // d = 1, x = (1, 2, 3), y = (2, 4, 5), lambda = 1:
  // i = 1: w = 1*2 / (1 + 1) = 1, prediction 2 * 1 = 2;
  // i = 2: w = (1*2 + 2*4) / (1 + 4 + 1) = 5/3, prediction 3 * 5/3 = 5.
  const torch::Tensor xs = torch::tensor({1.0F, 2.0F, 3.0F}).reshape({1, 3, 1});
  const torch::Tensor ys = torch::tensor({2.0F, 4.0F, 5.0F}).reshape({1, 3});
  const torch::Tensor pred = ridge_predictions(xs, ys, 1.0);
  EXPECT_FLOAT_EQ(pred[0][0].item<float>(), 0.0F);
  EXPECT_FLOAT_EQ(pred[0][1].item<float>(), 2.0F);
  EXPECT_FLOAT_EQ(pred[0][2].item<float>(), 5.0F);
}

TEST(RidgeBaseline, MatchesClosedFormPerPrefix) {
  torch::manual_seed(4);
  const int64_t N = 4, n = 9, d = 3;
  const double lambda = 0.3;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor ys = torch::randn({N, n});
  const torch::Tensor pred = ridge_predictions(xs, ys, lambda);
  for (int64_t p = 0; p < N; ++p) {
    for (int64_t i = 1; i < n; ++i) {
      const torch::Tensor X = xs[p].index({Slice(0, i)}).to(torch::kDouble);
      const torch::Tensor y = ys[p].index({Slice(0, i)}).to(torch::kDouble);
      const torch::Tensor w = torch::linalg_solve(X.t().mm(X) + lambda * torch::eye(d, kF64), X.t().mv(y), true);
      const double expected = xs[p][i].to(torch::kDouble).dot(w).item<double>();
      EXPECT_NEAR(pred[p][i].item<double>(), expected, 1e-5 * (1.0 + std::abs(expected)));
    }
  }
}

TEST(RidgeBaseline, ApproachesLeastSquaresAsLambdaVanishes) {
  torch::manual_seed(5);
  const int64_t N = 32, n = 16, d = 5;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor ys = torch::randn({N, n});
  const torch::Tensor ls = least_squares_predictions(xs, ys).index({Slice(), Slice(d + 1)});
  const torch::Tensor far = ridge_predictions(xs, ys, 10.0).index({Slice(), Slice(d + 1)});
  const torch::Tensor near = ridge_predictions(xs, ys, 1e-7).index({Slice(), Slice(d + 1)});
  EXPECT_FALSE(torch::allclose(far, ls, 1e-2, 1e-2));
  EXPECT_TRUE(torch::allclose(near, ls, 1e-4, 1e-4)) << (near - ls).abs().max().item<float>();
  EXPECT_TRUE(torch::equal(ridge_predictions(xs, ys, 0.0), least_squares_predictions(xs, ys)));
  EXPECT_THROW(ridge_predictions(xs, ys, -1.0), std::invalid_argument);
}

TEST(AveragingBaseline, MatchesNaiveLoop) {
  torch::manual_seed(6);
  const int64_t N = 5, n = 7, d = 3;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor ys = torch::randn({N, n});
  const torch::Tensor pred = averaging_predictions(xs, ys);
  for (int64_t p = 0; p < N; ++p) {
    for (int64_t i = 1; i < n; ++i) {
      torch::Tensor w = torch::zeros({d}, kF64);
      for (int64_t j = 0; j < i; ++j) w += ys[p][j].item<double>() * xs[p][j].to(torch::kDouble);
      const double expected = xs[p][i].to(torch::kDouble).dot(w / i).item<double>();
      EXPECT_NEAR(pred[p][i].item<double>(), expected, 1e-5 * (1.0 + std::abs(expected)));
    }
  }
}

TEST(NearestNeighbourBaseline, MatchesNaiveLoopIncludingShortPrefixes) {
  torch::manual_seed(7);
  const int64_t N = 5, n = 9, d = 2;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor ys = torch::randn({N, n});
  for (int64_t k : {1, 3}) {
    const torch::Tensor pred = nearest_neighbour_predictions(xs, ys, k);
    for (int64_t p = 0; p < N; ++p) {
      for (int64_t i = 1; i < n; ++i) {
        std::vector<std::pair<double, double>> by_distance;  // (distance, y)
        for (int64_t j = 0; j < i; ++j) {
          by_distance.emplace_back((xs[p][j] - xs[p][i]).norm().item<double>(), ys[p][j].item<double>());
        }
        std::sort(by_distance.begin(), by_distance.end());
        const auto used = std::min<int64_t>(k, i);
        double sum = 0.0;
        for (int64_t t = 0; t < used; ++t) sum += by_distance[t].second;
        EXPECT_NEAR(pred[p][i].item<double>(), sum / used, 1e-6) << "k = " << k << ", prompt " << p << ", i = " << i;
      }
    }
  }
  EXPECT_THROW(nearest_neighbour_predictions(xs, ys, 0), std::invalid_argument);
}

TEST(Baselines, FirstColumnIsZeroForEveryBaseline) {
  torch::manual_seed(8);
  const torch::Tensor xs = torch::randn({6, 5, 4});
  const torch::Tensor ys = torch::randn({6, 5});
  const std::vector<std::pair<const char*, torch::Tensor>> preds{
      {"least_squares", least_squares_predictions(xs, ys)},
      {"ridge", ridge_predictions(xs, ys, 0.01)},
      {"averaging", averaging_predictions(xs, ys)},
      {"nearest_neighbours", nearest_neighbour_predictions(xs, ys, 3)}};
  for (const auto& [name, pred] : preds) {
    ASSERT_EQ(pred.sizes(), (std::vector<int64_t>{6, 5})) << name;
    EXPECT_EQ(pred.scalar_type(), torch::kFloat) << name;
    EXPECT_TRUE(torch::equal(pred.index({Slice(), 0}), torch::zeros({6}))) << name;
    EXPECT_FALSE(torch::equal(pred.index({Slice(), 1}), torch::zeros({6}))) << name;
  }
}

TEST(Baselines, MismatchedShapesThrow) {
  const torch::Tensor xs = torch::randn({2, 3, 2});
  EXPECT_THROW(least_squares_predictions(xs, torch::randn({2, 4})), std::invalid_argument);
  EXPECT_THROW(nearest_neighbour_predictions(xs, torch::randn({3, 3})), std::invalid_argument);
}

}  // namespace
}  // namespace looplab::baselines
