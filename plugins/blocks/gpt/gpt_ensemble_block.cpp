#include "gpt_ensemble_block.h"

#include <torch/nn/functional/activation.h>

#include <ATen/ops/baddbmm.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/scaled_dot_product_attention.h>

#include <stdexcept>
#include <string>

namespace looplab::blocks {

EnsembleLayerNormImpl::EnsembleLayerNormImpl(int64_t members, int64_t dim, double eps) : eps(eps) {
  weight = register_parameter("weight", torch::ones({members, dim}));
  bias = register_parameter("bias", torch::zeros({members, dim}));
}

torch::Tensor EnsembleLayerNormImpl::forward(const torch::Tensor& x) {
  const auto normed = at::layer_norm(x, {x.size(-1)}, {}, {}, eps);
  return torch::addcmul(bias.unsqueeze(1), normed, weight.unsqueeze(1));
}

EnsembleLinearImpl::EnsembleLinearImpl(int64_t members, int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({members, out, in}));
  bias = register_parameter("bias", torch::zeros({members, out}));
}

torch::Tensor EnsembleLinearImpl::forward(const torch::Tensor& x) {
  return at::baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2));
}

GptEnsembleBlockImpl::GptEnsembleBlockImpl(const GptBlockOptions& opts, int64_t members)
    : options(opts), members(members) {
  if (members < 1) throw std::invalid_argument("gpt: an ensemble needs at least one member");
  const int64_t d = options.n_embd();
  ln_1 = register_module("ln_1", EnsembleLayerNorm(members, d, options.ln_eps()));
  c_attn = register_module("c_attn", EnsembleLinear(members, d, 3 * d));
  attn_proj = register_module("attn_proj", EnsembleLinear(members, d, d));
  ln_2 = register_module("ln_2", EnsembleLayerNorm(members, d, options.ln_eps()));
  c_fc = register_module("c_fc", EnsembleLinear(members, d, 4 * d));
  mlp_proj = register_module("mlp_proj", EnsembleLinear(members, 4 * d, d));
  // Each member drawn as GptBlock draws one (it also checks n_head against n_embd).
  for (int64_t k = 0; k < members; ++k) {
    GptBlock single(options);
    set_member(k, *single);
  }
}

void GptEnsembleBlockImpl::set_member(int64_t k, GptBlockImpl& single) {
  torch::NoGradGuard no_grad;
  auto mine = named_parameters();
  for (const auto& p : single.named_parameters()) mine[p.key()][k].copy_(p.value());
}

void GptEnsembleBlockImpl::get_member(int64_t k, GptBlockImpl& single) const {
  torch::NoGradGuard no_grad;
  const auto mine = named_parameters();
  for (auto& p : single.named_parameters()) p.value().copy_(mine[p.key()][k]);
}

torch::Tensor GptEnsembleBlockImpl::forward(const torch::Tensor& h) {
  const int64_t kb = h.size(0), s = h.size(1), d = h.size(2);
  if (kb % members != 0)
    throw std::invalid_argument("gpt ensemble: batch " + std::to_string(kb) + " is not a multiple of its " +
                                std::to_string(members) + " members");
  const int64_t b = kb / members, heads = options.n_head(), hd = d / heads;
  // Rows of member k are contiguous: [K*B, S, D] is [K, B*S, D] without a copy.
  const auto x0 = h.reshape({members, b * s, d});
  auto qkv = c_attn->forward(ln_1->forward(x0)).view({kb, s, 3, heads, hd}).permute({2, 0, 3, 1, 4});
  // Attention never mixes batch rows, so all members' rows go through one call.
  auto y = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], std::nullopt, /*dropout_p=*/0.0,
                                            /*is_causal=*/true);
  auto x = x0 + attn_proj->forward(y.transpose(1, 2).reshape({members, b * s, d}));
  auto m = torch::gelu(c_fc->forward(ln_2->forward(x)), "tanh");
  return (x + mlp_proj->forward(m)).view({kb, s, d});
}

}  // namespace looplab::blocks
