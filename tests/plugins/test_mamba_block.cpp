// The Mamba-1 ("mamba") and Mamba-2 ("mamba2") block plugins (docs/model.md#mamba-1-block,
// #mamba-2-block), built through the registry as the host builds them: the definition written out
// by hand, every scan against the sequential reference (values and gradients), causality, huge
// steps, initialisation, and a looped model that carries no state from one call to the next.

#include "model/sequence_model.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include "selective_scan.h"
#include "test_support.h"

#include <looplab/sdk/cpu_isa.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace looplab {
namespace {

using Overrides = std::map<std::string, sdk::ParamValue>;

const sdk::Component& component(const std::string& type) {
  const auto* loaded = test::bundled_registry().find(sdk::ComponentKind::Block, type);
  if (loaded == nullptr) throw std::runtime_error(type + " block plugin not found");
  return *loaded->component;
}

/// A block of width D in an iteration of L blocks: schema defaults plus `overrides`.
std::shared_ptr<sdk::Block> make_block(const std::string& type, int64_t D, const Overrides& overrides = {},
                                       int64_t L = 1) {
  const auto& c = component(type);
  auto params = sdk::Params::defaults(c.params);
  for (const auto& [k, v] : overrides) params.set(k, v);
  sdk::BlockContext ctx;
  ctx.n_embd = D;
  ctx.depth = L;
  ctx.max_tokens = 128;
  return std::get<sdk::BlockFactory>(c.factory)(params, ctx);
}

torch::Tensor param(const std::shared_ptr<sdk::Block>& block, const std::string& name) {
  const auto* p = block->named_parameters().find("block." + name);
  if (p == nullptr) throw std::runtime_error("no parameter block." + name);
  return *p;
}

/// max |a - b| / max |b|: agreement relative to the reference's scale.
double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / std::max(scale, 1e-300);
}

/// The output of `block` on h, then the gradients of <output, w> with respect to every
/// parameter and to h (torch::autograd::grad, nothing accumulated in .grad).
std::vector<torch::Tensor> output_and_grads(const std::shared_ptr<sdk::Block>& block, const torch::Tensor& h_in,
                                            const torch::Tensor& w) {
  auto h = h_in.detach().clone().requires_grad_(true);
  const auto out = block->forward(h);
  std::vector<torch::Tensor> inputs = block->parameters();
  inputs.push_back(h);
  // A tensor outside the graph has gradient zero: the parallel scan does not touch A for a
  // single step (its decay multiplies the zero initial state); references compare the values.
  auto grads = torch::autograd::grad({out}, inputs, {w}, /*retain_graph=*/std::nullopt, /*create_graph=*/false,
                                     /*allow_unused=*/true);
  for (size_t k = 0; k < grads.size(); ++k)
    if (!grads[k].defined()) grads[k] = torch::zeros_like(inputs[k]);
  grads.insert(grads.begin(), out.detach());
  return grads;
}

/// Same seed, different scan: identical parameters by construction (checked).
std::pair<std::shared_ptr<sdk::Block>, std::shared_ptr<sdk::Block>> twin_blocks(const std::string& type, int64_t D,
                                                                                Overrides a, Overrides b,
                                                                                uint64_t seed) {
  torch::manual_seed(seed);
  auto first = make_block(type, D, a);
  torch::manual_seed(seed);
  auto second = make_block(type, D, b);
  const auto pa = first->named_parameters(), pb = second->named_parameters();
  for (const auto& p : pa)
    if (!torch::equal(p.value(), pb[p.key()])) throw std::runtime_error("twin blocks differ in " + p.key());
  return {first, second};
}

/// Fills the step-size bias of both twins with the same draw from [lo, hi], so steps span
/// decays from ~1 (long memory) to ~0 (forget at once).
void spread_steps(const std::string& bias, double lo, double hi, std::shared_ptr<sdk::Block>& a,
                  std::shared_ptr<sdk::Block>& b) {
  torch::NoGradGuard no_grad;
  auto values = torch::rand(param(a, bias).sizes(), param(a, bias).options()) * (hi - lo) + lo;
  param(a, bias).copy_(values);
  param(b, bias).copy_(values);
}

/// Compares values and every gradient of two twins over several lengths (some not dividing 16).
void expect_twins_agree(const std::string& type, int64_t D, const Overrides& fast, const Overrides& reference,
                        const std::string& step_bias, torch::Dtype dtype, double tol) {
  auto [a, b] = twin_blocks(type, D, fast, reference, 11);
  spread_steps(step_bias, -6.0, 3.0, a, b);
  a->to(dtype);
  b->to(dtype);
  for (int64_t S : {1, 7, 16, 33, 62}) {
    torch::manual_seed(100 + S);
    const auto h = torch::randn({3, S, D}, torch::dtype(dtype));
    const auto w = torch::randn({3, S, D}, torch::dtype(dtype));
    const auto ga = output_and_grads(a, h, w), gb = output_and_grads(b, h, w);
    ASSERT_EQ(ga.size(), gb.size());
    const auto names = a->named_parameters().keys();
    for (size_t k = 0; k < ga.size(); ++k) {
      const std::string what = k == 0 ? "output" : (k <= names.size() ? "d/d " + names[k - 1] : "d/d input");
      EXPECT_LE(rel_diff(ga[k], gb[k]), tol) << type << " S = " << S << ": " << what;
      EXPECT_TRUE(torch::isfinite(ga[k]).all().item<bool>()) << what;
    }
  }
}

TEST(MambaBlock, RegisteredWithStudyDefaultsAndNoPositions) {
  const auto p = sdk::Params::defaults(component("mamba").params);
  EXPECT_EQ(p.get_int("d_state"), 16);
  EXPECT_EQ(p.get_int("d_conv"), 4);
  EXPECT_EQ(p.get_int("expand"), 2);
  EXPECT_EQ(p.get_int("dt_rank"), 0);
  EXPECT_EQ(p.get_string("scan"), "fused");
  const auto p2 = sdk::Params::defaults(component("mamba2").params);
  EXPECT_EQ(p2.get_string("scan"), "chunked");
  torch::manual_seed(0);
  EXPECT_FALSE(make_block("mamba", 16)->wants_positions());
  EXPECT_FALSE(make_block("mamba2", 16, {{"headdim", int64_t{8}}})->wants_positions());
}

// ---------------------------------------------------------------------------------------------
// The definition written out from the parameters, in double, one step at a time.

torch::Tensor silu_ref(const torch::Tensor& v) { return v * torch::sigmoid(v); }
torch::Tensor softplus_ref(const torch::Tensor& v) { return torch::log1p(torch::exp(v)); }
torch::Tensor rms_ref(const torch::Tensor& v, const torch::Tensor& weight) {
  return v / torch::sqrt(v.square().mean(-1, true) + 1e-5) * weight;
}
/// out[t] = bias + sum_k w[k] x[t - (K-1) + k], zeros before the start.
torch::Tensor causal_conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
  const int64_t S = x.size(1), K = w.size(2);
  auto out = torch::zeros_like(x) + bias;
  for (int64_t t = 0; t < S; ++t)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t src = t - (K - 1) + k;
      if (src >= 0) out.select(1, t).add_(x.select(1, src) * w.select(2, k).squeeze(1));
    }
  return out;
}

torch::Tensor mamba_by_hand(const std::shared_ptr<sdk::Block>& blk, const torch::Tensor& h, int64_t N, int64_t r) {
  auto p = [&](const std::string& n) { return param(blk, n).detach(); };
  const int64_t Di = p("D").size(0);
  const auto u = rms_ref(h, p("norm.weight"));
  const auto xz = torch::matmul(u, p("in_proj.weight").t());
  const auto x = silu_ref(causal_conv(xz.narrow(-1, 0, Di), p("conv.conv.weight"), p("conv.conv.bias")));
  const auto z = xz.narrow(-1, Di, Di);
  const auto dbc = torch::matmul(x, p("x_proj.weight").t());
  const auto delta = softplus_ref(torch::matmul(dbc.narrow(-1, 0, r), p("dt_proj.weight").t()) + p("dt_proj.bias"));
  const auto Bm = dbc.narrow(-1, r, N), Cm = dbc.narrow(-1, r + N, N);
  const auto A = -torch::exp(p("A_log"));  // [Di, N]
  auto state = torch::zeros({h.size(0), Di, N}, h.options());
  auto y = torch::zeros_like(x);
  for (int64_t t = 0; t < h.size(1); ++t) {
    const auto d = delta.select(1, t).unsqueeze(-1), xt = x.select(1, t);
    state = torch::exp(d * A) * state + d * Bm.select(1, t).unsqueeze(1) * xt.unsqueeze(-1);
    y.select(1, t).copy_((state * Cm.select(1, t).unsqueeze(1)).sum(-1) + p("D") * xt);
  }
  return h + torch::matmul(y * silu_ref(z), p("out_proj.weight").t());
}

torch::Tensor mamba2_by_hand(const std::shared_ptr<sdk::Block>& blk, const torch::Tensor& h, int64_t N, int64_t P) {
  auto p = [&](const std::string& n) { return param(blk, n).detach(); };
  const int64_t H = p("D").size(0), Di = H * P, Bt = h.size(0);
  const auto parts = torch::matmul(rms_ref(h, p("norm.weight")), p("in_proj.weight").t());
  const auto z = parts.narrow(-1, 0, Di);
  const auto xbc = silu_ref(causal_conv(parts.narrow(-1, Di, Di + 2 * N), p("conv.conv.weight"), p("conv.conv.bias")));
  const auto dt = softplus_ref(parts.narrow(-1, 2 * Di + 2 * N, H) + p("dt_bias"));  // [Bt, S, H]
  const auto x = xbc.narrow(-1, 0, Di).reshape({Bt, -1, H, P});
  const auto Bm = xbc.narrow(-1, Di, N), Cm = xbc.narrow(-1, Di + N, N);
  const auto A = -torch::exp(p("A_log"));  // [H]
  auto state = torch::zeros({Bt, H, P, N}, h.options());
  auto y = torch::zeros_like(x);
  for (int64_t t = 0; t < h.size(1); ++t) {
    const auto d = dt.select(1, t).unsqueeze(-1).unsqueeze(-1);  // [Bt, H, 1, 1]
    const auto xt = x.select(1, t);                              // [Bt, H, P]
    state = torch::exp(d * A.view({1, H, 1, 1})) * state + d * xt.unsqueeze(-1) * Bm.select(1, t).view({Bt, 1, 1, N});
    y.select(1, t).copy_((state * Cm.select(1, t).view({Bt, 1, 1, N})).sum(-1) + p("D").unsqueeze(-1) * xt);
  }
  const auto gated = rms_ref(y.reshape({Bt, -1, Di}) * silu_ref(z), p("out_norm.weight"));
  return h + torch::matmul(gated, p("out_proj.weight").t());
}

TEST(MambaBlock, MatchesTheDefinitionWrittenOutStepByStep) {
  for (const std::string scan : {"fused", "parallel", "sequential"}) {
    torch::manual_seed(3);
    // D = 40: dt_rank = ceil(40 / 16) = 3.
    auto block = make_block("mamba", 40, {{"d_state", int64_t{5}}, {"scan", scan}});
    block->to(torch::kDouble);
    const auto h = torch::randn({2, 9, 40}, torch::kDouble);
    torch::NoGradGuard no_grad;
    EXPECT_LE(rel_diff(block->forward(h), mamba_by_hand(block, h, 5, 3)), 1e-12) << scan;
  }
}

TEST(Mamba2Block, MatchesTheDefinitionWrittenOutStepByStep) {
  for (const std::string scan : {"chunked", "sequential"}) {
    torch::manual_seed(4);
    auto block = make_block("mamba2", 16,
                            {{"d_state", int64_t{6}}, {"headdim", int64_t{8}}, {"chunk", int64_t{4}}, {"scan", scan}});
    block->to(torch::kDouble);
    const auto h = torch::randn({2, 11, 16}, torch::kDouble);
    torch::NoGradGuard no_grad;
    EXPECT_LE(rel_diff(block->forward(h), mamba2_by_hand(block, h, 6, 8)), 1e-12) << scan;
  }
}

// ---------------------------------------------------------------------------------------------
// Fast scans against the references: values and gradients of everything.

// The fused scan works on vectors of 16 floats or 8 doubles of channels: D 22 gives d_inner 44,
// two whole vectors and a part of one in float, five and a part in double.
TEST(MambaBlock, FusedScanMatchesSequentialInFloat) {
  expect_twins_agree("mamba", 22, {{"scan", std::string("fused")}}, {{"scan", std::string("sequential")}},
                     "dt_proj.bias", torch::kFloat, 1e-5);
}

TEST(MambaBlock, FusedScanMatchesSequentialInDouble) {
  expect_twins_agree("mamba", 22, {{"scan", std::string("fused")}}, {{"scan", std::string("sequential")}},
                     "dt_proj.bias", torch::kDouble, 1e-10);
}

// Each instruction set's copy of the kernels has its own vector width (16, 8, 4 floats): d_inner
// 44 ends in a part-vector in each, and every copy this CPU runs must agree with the reference.
TEST(MambaBlock, FusedScanMatchesSequentialWithEveryInstructionSet) {
  for (const sdk::CpuIsa isa : sdk::runnable_cpu_isas()) {
    SCOPED_TRACE(sdk::cpu_isa_key(isa));
    const sdk::ScopedCpuIsa scope(isa);
    EXPECT_EQ(blocks::selective_scan_cpu_isa(), sdk::cpu_isa_name(sdk::cpu_isa()));
    EXPECT_EQ(static_cast<int>(sdk::cpu_isa()), static_cast<int>(sdk::requested_cpu_isa()));
    expect_twins_agree("mamba", 22, {{"scan", std::string("fused")}}, {{"scan", std::string("sequential")}},
                       "dt_proj.bias", torch::kFloat, 1e-5);
    expect_twins_agree("mamba", 22, {{"scan", std::string("fused")}}, {{"scan", std::string("sequential")}},
                       "dt_proj.bias", torch::kDouble, 1e-10);
  }
}

// Lengths 1, 7, 16, 33, 62: the log-depth rounds end on powers of two and between them.
TEST(MambaBlock, ParallelScanMatchesSequentialInFloat) {
  expect_twins_agree("mamba", 22, {{"scan", std::string("parallel")}}, {{"scan", std::string("sequential")}},
                     "dt_proj.bias", torch::kFloat, 1e-5);
}

TEST(MambaBlock, ParallelScanMatchesSequentialInDouble) {
  expect_twins_agree("mamba", 22, {{"scan", std::string("parallel")}}, {{"scan", std::string("sequential")}},
                     "dt_proj.bias", torch::kDouble, 1e-10);
}

const Overrides kSmall2{{"d_state", int64_t{8}}, {"headdim", int64_t{8}}, {"chunk", int64_t{16}}};

Overrides with(Overrides base, const std::string& key, sdk::ParamValue value) {
  base[key] = std::move(value);
  return base;
}

TEST(Mamba2Block, ChunkedSsdMatchesSequentialInFloat) {
  expect_twins_agree("mamba2", 16, with(kSmall2, "scan", std::string("chunked")),
                     with(kSmall2, "scan", std::string("sequential")), "dt_bias", torch::kFloat, 1e-5);
}

TEST(Mamba2Block, ChunkedSsdMatchesSequentialInDouble) {
  expect_twins_agree("mamba2", 16, with(kSmall2, "scan", std::string("chunked")),
                     with(kSmall2, "scan", std::string("sequential")), "dt_bias", torch::kDouble, 1e-10);
}

TEST(Mamba2Block, ChunkSizeDoesNotChangeTheResult) {
  auto [a, b] = twin_blocks("mamba2", 16, with(kSmall2, "chunk", int64_t{5}), with(kSmall2, "chunk", int64_t{64}), 12);
  a->to(torch::kDouble);
  b->to(torch::kDouble);
  const auto h = torch::randn({2, 33, 16}, torch::kDouble), w = torch::randn({2, 33, 16}, torch::kDouble);
  const auto ga = output_and_grads(a, h, w), gb = output_and_grads(b, h, w);
  for (size_t k = 0; k < ga.size(); ++k) EXPECT_LE(rel_diff(ga[k], gb[k]), 1e-10) << k;
}

// ---------------------------------------------------------------------------------------------
// Causality, huge steps, determinism.

void expect_causal(const std::shared_ptr<sdk::Block>& block, int64_t D) {
  torch::NoGradGuard no_grad;
  const int64_t S = 13;
  const auto h = torch::randn({2, S, D});
  const auto out = block->forward(h);
  for (int64_t s : {int64_t{0}, int64_t{5}, S - 1}) {
    auto perturbed = h.clone();
    perturbed.select(1, s).add_(torch::randn({2, D}));
    const auto out2 = block->forward(perturbed);
    if (s > 0) {
      EXPECT_EQ((out2.narrow(1, 0, s) - out.narrow(1, 0, s)).abs().max().item<double>(), 0.0) << s;
    }
    EXPECT_GT((out2.narrow(1, s, S - s) - out.narrow(1, s, S - s)).abs().max().item<double>(), 1e-4) << s;
  }
}

TEST(MambaBlock, IsCausalWithEveryScan) {
  for (const std::string scan : {"fused", "parallel", "sequential"}) {
    torch::manual_seed(5);
    expect_causal(make_block("mamba", 16, {{"scan", scan}}), 16);
  }
}

TEST(Mamba2Block, IsCausalWithEveryScan) {
  for (const std::string scan : {"chunked", "sequential"}) {
    torch::manual_seed(6);
    expect_causal(make_block("mamba2", 16, with(with(kSmall2, "scan", scan), "chunk", int64_t{4})), 16);
  }
}

void expect_finite_with_huge_steps(const std::string& type, const Overrides& fast, const Overrides& reference,
                                   const std::string& bias) {
  auto [a, b] = twin_blocks(type, 16, fast, reference, 7);
  for (auto* blk : {&a, &b}) {
    torch::NoGradGuard no_grad;
    param(*blk, bias).fill_(20.0);  // delta = softplus(20): every decay underflows to 0
  }
  const auto h = torch::randn({2, 21, 16}), w = torch::randn({2, 21, 16});
  const auto ga = output_and_grads(a, h, w), gb = output_and_grads(b, h, w);
  for (size_t k = 0; k < ga.size(); ++k) {
    EXPECT_TRUE(torch::isfinite(ga[k]).all().item<bool>()) << type << " tensor " << k;
    EXPECT_LE(rel_diff(ga[k], gb[k]), 1e-5) << type << " tensor " << k;
  }
}

TEST(MambaBlock, HugeStepsGiveNoNaN) {
  for (const std::string scan : {"fused", "parallel"}) {
    SCOPED_TRACE(scan);
    expect_finite_with_huge_steps("mamba", {{"scan", scan}}, {{"scan", std::string("sequential")}}, "dt_proj.bias");
  }
  for (const sdk::CpuIsa isa : sdk::runnable_cpu_isas()) {  // each copy's exp2 underflows alike
    SCOPED_TRACE(sdk::cpu_isa_key(isa));
    const sdk::ScopedCpuIsa scope(isa);
    expect_finite_with_huge_steps("mamba", {{"scan", std::string("fused")}}, {{"scan", std::string("sequential")}},
                                  "dt_proj.bias");
  }
}

TEST(Mamba2Block, HugeStepsGiveNoNaN) {
  expect_finite_with_huge_steps("mamba2", with(kSmall2, "scan", std::string("chunked")),
                                with(kSmall2, "scan", std::string("sequential")), "dt_bias");
}

TEST(MambaBlock, FusedGradientsDoNotDependOnThreadCount) {
  torch::manual_seed(8);
  auto block = make_block("mamba", 16);
  const auto h = torch::randn({5, 20, 16}), w = torch::randn({5, 20, 16});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = output_and_grads(block, h, w);
  torch::set_num_threads(2);
  const auto two = output_and_grads(block, h, w);
  torch::set_num_threads(threads);
  for (size_t k = 0; k < one.size(); ++k) EXPECT_TRUE(torch::equal(one[k], two[k])) << k;
}

// ---------------------------------------------------------------------------------------------
// Initialisation.

TEST(MambaBlock, InitialisationFollowsMamba) {
  torch::manual_seed(9);
  const int64_t D = 64, L = 4, N = 16, Di = 128, r = 4;
  auto block = make_block("mamba", D, {}, L);
  torch::NoGradGuard no_grad;
  // A_log = log(1..N) in every channel, D = 1.
  const auto expected = torch::log(torch::arange(1, N + 1, torch::kFloat)).expand({Di, N});
  EXPECT_TRUE(torch::allclose(param(block, "A_log"), expected, 0.0, 0.0));
  EXPECT_TRUE(torch::equal(param(block, "D"), torch::ones({Di})));
  // softplus(dt bias) = dt, log-uniform in [1e-3, 1e-1]: within range and spread across it.
  const auto dt = torch::softplus(param(block, "dt_proj.bias").to(torch::kDouble));
  EXPECT_GE(dt.min().item<double>(), 1e-3 * (1 - 1e-5));
  EXPECT_LE(dt.max().item<double>(), 1e-1 * (1 + 1e-5));
  EXPECT_LT(dt.min().item<double>(), 2e-3);
  EXPECT_GT(dt.max().item<double>(), 5e-2);
  // The log of dt is uniform: its mean is the midpoint log(1e-2) (std of the mean ~0.12 here).
  EXPECT_NEAR(dt.log().mean().item<double>(), std::log(1e-2), 0.6);
  // dt_proj.weight ~ U(+-1/sqrt(dt_rank)); shapes: dt_rank = ceil(64 / 16) = 4.
  const auto wdt = param(block, "dt_proj.weight");
  EXPECT_EQ(wdt.sizes(), (std::vector<int64_t>{Di, r}));
  EXPECT_LE(wdt.abs().max().item<double>(), 0.5);
  EXPECT_GT(wdt.abs().max().item<double>(), 0.45);
  EXPECT_EQ(param(block, "x_proj.weight").sizes(), (std::vector<int64_t>{r + 2 * N, Di}));
  EXPECT_EQ(param(block, "in_proj.weight").sizes(), (std::vector<int64_t>{2 * Di, D}));
  EXPECT_EQ(param(block, "conv.conv.weight").sizes(), (std::vector<int64_t>{Di, 1, 4}));
  // out_proj: LibTorch's U(+-1/sqrt(fan_in)) divided by sqrt(L).
  const double bound = 1.0 / std::sqrt(double(Di)) / std::sqrt(double(L));
  const double out_max = param(block, "out_proj.weight").abs().max().item<double>();
  EXPECT_LE(out_max, bound);
  EXPECT_GT(out_max, 0.99 * bound);
  EXPECT_TRUE(torch::equal(param(block, "norm.weight"), torch::ones({D})));
  // Nothing else: norm, in_proj, conv (weight, bias), x_proj, dt_proj (weight, bias), A_log, D, out_proj.
  EXPECT_EQ(block->parameters().size(), 10u);
}

TEST(Mamba2Block, InitialisationFollowsMamba2) {
  torch::manual_seed(10);
  auto block = make_block("mamba2", 64, {{"headdim", int64_t{4}}});  // 32 heads
  torch::NoGradGuard no_grad;
  const auto minus_a = torch::exp(param(block, "A_log"));
  EXPECT_GE(minus_a.min().item<double>(), 1.0 * (1 - 1e-6));
  EXPECT_LE(minus_a.max().item<double>(), 16.0 * (1 + 1e-6));
  const auto dt = torch::softplus(param(block, "dt_bias").to(torch::kDouble));
  EXPECT_GE(dt.min().item<double>(), 1e-3 * (1 - 1e-5));
  EXPECT_LE(dt.max().item<double>(), 1e-1 * (1 + 1e-5));
  EXPECT_TRUE(torch::equal(param(block, "D"), torch::ones({32})));
  EXPECT_EQ(param(block, "in_proj.weight").sizes(), (std::vector<int64_t>{2 * 128 + 2 * 16 + 32, 64}));
}

TEST(Mamba2Block, HeadDimNotDividingInnerWidthIsRefused) {
  try {
    make_block("mamba2", 16, {{"headdim", int64_t{5}}});
    FAIL() << "headdim 5 with d_inner 32 was accepted";
  } catch (const std::exception& e) {
    EXPECT_TRUE(test::contains(e.what(), "headdim (5)")) << e.what();
    EXPECT_TRUE(test::contains(e.what(), "32")) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Looped: nothing is carried between calls or iterations.

host::SequenceModel looped_model(const std::string& type, const Overrides& overrides) {
  const int64_t D = 16, dims = 3, points = 9;
  std::vector<std::shared_ptr<sdk::Block>> blocks{make_block(type, D, overrides)};
  return host::SequenceModel(host::SequenceModelOptions(dims, D, points).positions(false), blocks);
}

void expect_stateless_looped(const std::string& type, const Overrides& overrides) {
  torch::manual_seed(13);
  auto model = looped_model(type, overrides);
  torch::NoGradGuard no_grad;
  const auto xs = torch::randn({4, 9, 3}), ys = torch::randn({4, 9});
  const auto first = model->predict(xs, ys, 6);
  model->predict(torch::randn({4, 9, 3}) * 5, torch::randn({4, 9}) * 5, 6);  // anything in between
  EXPECT_TRUE(torch::equal(model->predict(xs, ys, 6), first)) << type;
  // A prefix of the prompt gives the same predictions at its positions, at every iteration.
  for (int64_t iterations : {1, 6}) {
    const auto full = model->predict(xs, ys, iterations);
    const auto prefix = model->predict(xs.narrow(1, 0, 4), ys.narrow(1, 0, 4), iterations);
    EXPECT_LE((prefix - full.narrow(1, 0, 4)).abs().max().item<double>(), 1e-6) << type << " b = " << iterations;
  }
}

TEST(MambaBlock, LoopedModelCarriesNoStateBetweenCalls) {
  expect_stateless_looped("mamba", {});
  expect_stateless_looped("mamba", {{"scan", std::string("sequential")}});
}

TEST(Mamba2Block, LoopedModelCarriesNoStateBetweenCalls) {
  expect_stateless_looped("mamba2", with(kSmall2, "chunk", int64_t{4}));
}

}  // namespace
}  // namespace looplab
