#pragma once
// Pre-LN GPT-2 block (docs/model.md#gpt-block): h += Attn(LN(h)); h += MLP(LN(h)).
// Plain LibTorch module: usable without the looplab SDK.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace looplab::blocks {

struct GptBlockOptions {
  GptBlockOptions(int64_t n_embd, int64_t n_head) : n_embd_(n_embd), n_head_(n_head) {}
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// Attention heads; must divide n_embd.
  TORCH_ARG(int64_t, n_head);
  /// Blocks per pass L: output projections are initialised with std / sqrt(2 L).
  TORCH_ARG(int64_t, depth) = 1;
  /// Standard deviation of the N(0, std) weight init.
  TORCH_ARG(double, init_std) = 0.02;
  /// LayerNorm epsilon.
  TORCH_ARG(double, ln_eps) = 1e-5;
};

class GptBlockImpl : public torch::nn::Module {
 public:
  explicit GptBlockImpl(const GptBlockOptions& options);
  /// [B, S, D] -> [B, S, D], causal.
  torch::Tensor forward(const torch::Tensor& h);
  /// forward(h) where query q attends to keys k <= q with key_mask[k] nonzero, and always to
  /// itself (so no softmax row is empty). key_mask: [B or 1, S].
  torch::Tensor forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask);
  /// Re-draws all weights with the GPT-2 init (called by the constructor).
  void reset_parameters();

  GptBlockOptions options;
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  torch::nn::Linear c_attn{nullptr}, attn_proj{nullptr}, c_fc{nullptr}, mlp_proj{nullptr};

 private:
  // The block with attention restricted by `allowed` ([B or 1, 1, S, S], true = may attend);
  // undefined means the plain causal mask.
  torch::Tensor run_block(const torch::Tensor& h, const torch::Tensor& allowed);
};
TORCH_MODULE(GptBlock);

}  // namespace looplab::blocks
