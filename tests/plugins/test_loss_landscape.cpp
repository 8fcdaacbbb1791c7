// Loss landscape (E8): filter-normalized directions, the Hessian power iteration, and the grid
// evaluation that perturbs parameters and restores them exactly.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

// The analysis module (linked: looplab_analysis_loss_landscape_module), checked without the plugin loader.
#include "loss_landscape.h"

namespace looplab {
namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

TEST(LossLandscape, EveryFilterOfADirectionHasItsWeightFiltersNorm) {
  torch::manual_seed(0);
  const std::vector<torch::Tensor> params{torch::randn({4, 3}), torch::randn({2, 3, 5}) * 7, torch::randn({6}),
                                          torch::randn({1, 8}) * 0.01};
  auto gen = seeded(11);
  const auto d = analyses::filter_normalized_direction(params, gen);
  ASSERT_EQ(d.size(), params.size());
  for (size_t i : {0, 1, 3}) {
    ASSERT_EQ(d[i].sizes(), params[i].sizes());
    for (int64_t f = 0; f < params[i].size(0); ++f)
      EXPECT_NEAR(d[i][f].norm().item<double>(), params[i][f].norm().item<double>(),
                  1e-5 * params[i][f].norm().item<double>())
          << "parameter " << i << ", filter " << f;
    EXPECT_FALSE(torch::allclose(d[i], params[i])) << "a direction is random, not the weight";
  }
  EXPECT_EQ(d[2].abs().max().item<double>(), 0.0) << "1-D parameters are left out by default";

  auto gen_again = seeded(11);
  const auto with_1d = analyses::filter_normalized_direction(params, gen_again, /*include_1d=*/true);
  EXPECT_NEAR(with_1d[2].norm().item<double>(), params[2].norm().item<double>(), 1e-5);
  for (size_t i : {0, 1, 3}) EXPECT_TRUE(torch::equal(with_1d[i], d[i])) << "same seed, same draw";
  auto other = seeded(12);
  EXPECT_FALSE(torch::equal(analyses::filter_normalized_direction(params, other)[0], d[0]));
}

// y = Linear2(LayerNorm(Linear1(x))), squared error on a fixed set.
struct NormedNet {
  torch::nn::Linear first{3, 8}, second{8, 1};
  torch::nn::LayerNorm norm{torch::nn::LayerNormOptions({8})};
  torch::Tensor x = torch::randn({64, 3}), y = torch::randn({64, 1});

  std::vector<torch::Tensor> params() {
    std::vector<torch::Tensor> out;
    for (auto* m : std::vector<torch::nn::Module*>{first.get(), norm.get(), second.get()})
      for (auto& p : m->parameters()) out.push_back(p);
    return out;
  }
  double loss() { return (second(norm(first(x))) - y).square().mean().item<double>(); }
  std::vector<double> curve(const analyses::Direction& d, const std::vector<double>& alphas) {
    const auto grid = analyses::loss_grid(params(), d, {}, alphas, {0.0}, [this] { return loss(); });
    return std::vector<double>(grid.data_ptr<double>(), grid.data_ptr<double>() + grid.numel());
  }
};

TEST(LossLandscape, AFilterNormalizedCurveIgnoresTheScaleOfALayerFeedingALayerNorm) {
  torch::manual_seed(1);
  NormedNet net;
  const std::vector<double> alphas{-1.0, -0.5, 0.0, 0.25, 0.5, 1.0};
  auto gen = seeded(5);
  const auto before = net.curve(analyses::filter_normalized_direction(net.params(), gen), alphas);
  {
    torch::NoGradGuard no_grad;  // LN(10 (W x + b)) = LN(W x + b) up to LayerNorm's eps
    net.first->weight.mul_(10.0);
    net.first->bias.mul_(10.0);
  }
  gen = seeded(5);
  const auto after = net.curve(analyses::filter_normalized_direction(net.params(), gen), alphas);
  for (size_t i = 0; i < alphas.size(); ++i) EXPECT_NEAR(after[i], before[i], 1e-4 * before[i]) << alphas[i];

  // Without the normalization, the same draw moves the rescaled layer relatively 10x less.
  gen = seeded(5);
  auto raw = analyses::filter_normalized_direction(net.params(), gen);
  raw[0].div_(10.0);
  const auto unnormalized = net.curve(raw, alphas);
  EXPECT_GT(std::abs(unnormalized[0] - before[0]), 1e-3 * before[0]);
}

TEST(LossLandscape, GridCentreIsTheLossAndWeightsComeBackExactly) {
  torch::manual_seed(2);
  NormedNet net;
  const auto params = net.params();
  const auto trained = clones(params);
  const double loss = net.loss();
  auto gen = seeded(3);
  const auto d1 = analyses::filter_normalized_direction(params, gen, true);
  const auto d2 = analyses::filter_normalized_direction(params, gen, true);
  const auto axis = analyses::grid_axis(0.5, 5);
  ASSERT_EQ(axis, (std::vector<double>{-0.5, -0.25, 0.0, 0.25, 0.5}));
  const auto grid = analyses::loss_grid(params, d1, d2, axis, axis, [&] { return net.loss(); });
  EXPECT_EQ(grid[2][2].item<double>(), loss);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], trained[i])) << i;

  // One corner by hand: trained + 0.5 d1 - 0.25 d2.
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(trained[i] + 0.5 * d1[i] - 0.25 * d2[i]);
  }
  EXPECT_NEAR(grid[4][1].item<double>(), net.loss(), 1e-7);
  EXPECT_GT(std::abs(grid[4][1].item<double>() - loss), 1e-4);

  // Restored also when the loss throws.
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(trained[i]);
  }
  int calls = 0;
  EXPECT_THROW(analyses::loss_grid(params, d1, d2, axis, axis,
                                   [&]() -> double {
                                     if (++calls == 3) throw std::runtime_error("stop");
                                     return 0.0;
                                   }),
               std::runtime_error);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], trained[i])) << i;
}

TEST(LossLandscape, PowerIterationFindsTheTopEigenpairsOfAQuadratic) {
  // loss = 1/2 x^T A x + c^T x over two parameter tensors (3 + 2 coordinates): Hessian A, with
  // eigenvalues 6, -4, 2, 1, 0.5 on random orthonormal vectors. Largest |lambda|: 6, then -4.
  torch::manual_seed(3);
  const auto q = std::get<0>(torch::linalg_qr(torch::randn({5, 5}, torch::kDouble)));
  const auto lambdas = torch::tensor({6.0, -4.0, 2.0, 1.0, 0.5}, torch::kDouble);
  const auto A = q.matmul(torch::diag(lambdas)).matmul(q.t());
  auto a = torch::randn({3}, torch::kDouble).requires_grad_(), b = torch::randn({2}, torch::kDouble).requires_grad_();
  const auto x = torch::cat({a, b});
  const auto loss = 0.5 * x.dot(A.mv(x)) + x.sum();

  auto gen = seeded(9);
  const auto hv =
      analyses::hessian_vector_product(torch::autograd::grad({loss}, {a, b}, {}, true, true), {a, b},
                                       {torch::ones({3}, torch::kDouble), torch::zeros({2}, torch::kDouble)});
  const auto expected = A.narrow(1, 0, 3).sum(1);
  EXPECT_TRUE(torch::allclose(torch::cat(hv), expected, 1e-12, 1e-12));

  const auto pairs = analyses::top_hessian_eigenpairs(loss, {a, b}, 2, gen, 500, 1e-12);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_NEAR(pairs[0].value, 6.0, 1e-8);
  EXPECT_NEAR(pairs[1].value, -4.0, 1e-8);
  for (int k = 0; k < 2; ++k) {
    const auto v = torch::cat(pairs[k].vector);
    EXPECT_NEAR(v.norm().item<double>(), 1.0, 1e-12);
    EXPECT_NEAR(std::abs(v.dot(q.select(1, k)).item<double>()), 1.0, 1e-6) << "eigenvector " << k;
  }
}

}  // namespace
}  // namespace looplab
