#include "gpt_block.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <ATen/ops/scaled_dot_product_attention.h>

#include <cmath>
#include <stdexcept>

namespace looplab::blocks {

namespace nn = torch::nn;

GptBlockImpl::GptBlockImpl(const GptBlockOptions& opts) : options(opts) {
  const int64_t d = options.n_embd();
  if (options.n_head() <= 0 || d % options.n_head() != 0)
    throw std::invalid_argument("gpt: n_head (" + std::to_string(options.n_head()) + ") must divide n_embd (" +
                                std::to_string(d) + ")");
  auto ln = nn::LayerNormOptions({d}).eps(options.ln_eps());
  ln_1 = register_module("ln_1", nn::LayerNorm(ln));
  c_attn = register_module("c_attn", nn::Linear(d, 3 * d));
  attn_proj = register_module("attn_proj", nn::Linear(d, d));
  ln_2 = register_module("ln_2", nn::LayerNorm(ln));
  c_fc = register_module("c_fc", nn::Linear(d, 4 * d));
  mlp_proj = register_module("mlp_proj", nn::Linear(4 * d, d));
  reset_parameters();
}

void GptBlockImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double std = options.init_std();
  const double proj_std = std / std::sqrt(2.0 * static_cast<double>(options.depth()));
  for (auto* layer : {&c_attn, &c_fc}) {
    nn::init::normal_((*layer)->weight, 0.0, std);
    nn::init::zeros_((*layer)->bias);
  }
  for (auto* layer : {&attn_proj, &mlp_proj}) {
    nn::init::normal_((*layer)->weight, 0.0, proj_std);
    nn::init::zeros_((*layer)->bias);
  }
  // LayerNorms keep their ones/zeros init.
}

torch::Tensor GptBlockImpl::forward(const torch::Tensor& h) { return run_block(h, torch::Tensor()); }

torch::Tensor GptBlockImpl::forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask) {
  const auto s = h.size(1);
  if (key_mask.dim() != 2 || key_mask.size(1) != s)
    throw std::invalid_argument("gpt: key_mask must be [B or 1, " + std::to_string(s) + "]");
  const auto opts = torch::TensorOptions().dtype(torch::kBool).device(h.device());
  auto visible = key_mask.to(h.device()).ne(0).unsqueeze(1);  // [B, 1, S]: same for every query
  // Causal, and a query always sees itself: a row with every key hidden would make softmax 0/0.
  auto allowed = torch::ones({s, s}, opts).tril() & (visible | torch::eye(s, opts));
  return run_block(h, allowed.unsqueeze(1));
}

torch::Tensor GptBlockImpl::run_block(const torch::Tensor& h, const torch::Tensor& allowed) {
  const auto b = h.size(0), s = h.size(1), d = h.size(2);
  const auto heads = options.n_head(), hd = d / heads;
  // One projection for q, k, v; heads split as [3, B, H, S, hd] views.
  auto qkv = c_attn->forward(ln_1->forward(h)).view({b, s, 3, heads, hd}).permute({2, 0, 3, 1, 4});
  const bool masked = allowed.defined();
  auto y = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2],
                                            masked ? std::optional<at::Tensor>(allowed) : std::nullopt,
                                            /*dropout_p=*/0.0, /*is_causal=*/!masked);
  auto x = h + attn_proj->forward(y.transpose(1, 2).reshape({b, s, d}));
  auto m = torch::gelu(c_fc->forward(ln_2->forward(x)), "tanh");
  return x + mlp_proj->forward(m);
}

}  // namespace looplab::blocks
