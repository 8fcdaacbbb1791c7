#pragma once
// K pre-LN GPT-2 blocks that train as one (docs/model.md#gpt-block): member k's weights are
// slice k of every parameter, and forward maps [K*B, S, D] to [K*B, S, D] with rows
// k*B .. k*B+B-1 going through member k alone, by batched matrix products (one kernel per
// layer for all members instead of one per member). Parameter names are GptBlock's, each with
// a leading K dimension, so member k's weights are the slices [k] by name.
// Plain LibTorch module: usable without the looplab SDK.

#include "gpt_block.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace looplab::blocks {

/// K LayerNorms over the last dimension: x [K, N, D], weight and bias [K, D].
class EnsembleLayerNormImpl : public torch::nn::Module {
 public:
  EnsembleLayerNormImpl(int64_t members, int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  double eps;
};
TORCH_MODULE(EnsembleLayerNorm);

/// K Linear layers: x [K, N, in] -> [K, N, out], weight [K, out, in], bias [K, out].
class EnsembleLinearImpl : public torch::nn::Module {
 public:
  EnsembleLinearImpl(int64_t members, int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
};
TORCH_MODULE(EnsembleLinear);

class GptEnsembleBlockImpl : public torch::nn::Module {
 public:
  /// K = `members` blocks of `options`, each initialised as GptBlock initialises one (members
  /// drawn one after another from the global generator).
  GptEnsembleBlockImpl(const GptBlockOptions& options, int64_t members);
  /// [K*B, S, D] -> [K*B, S, D], causal; member k owns rows [k*B, (k+1)*B).
  torch::Tensor forward(const torch::Tensor& h);
  /// Member k's weights from a single block of the same options (its parameters by name into
  /// the slices [k]).
  void set_member(int64_t k, GptBlockImpl& single);
  /// Member k's weights into a single block of the same options.
  void get_member(int64_t k, GptBlockImpl& single) const;

  GptBlockOptions options;
  int64_t members;
  EnsembleLayerNorm ln_1{nullptr}, ln_2{nullptr};
  EnsembleLinear c_attn{nullptr}, attn_proj{nullptr}, c_fc{nullptr}, mlp_proj{nullptr};
};
TORCH_MODULE(GptEnsembleBlock);

}  // namespace looplab::blocks
