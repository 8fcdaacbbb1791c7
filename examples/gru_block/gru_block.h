#pragma once
// A recurrent block for looplab: pre-LN residual around a unidirectional GRU,
//   h + W_o GRU(LN(h)).
// Causal by construction (the GRU reads tokens left to right) and position-aware by
// construction, so it needs no positional table. Plain LibTorch: usable without looplab.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

namespace gru_block {

struct GruBlockOptions {
  GruBlockOptions(int64_t n_embd, int64_t hidden) : n_embd_(n_embd), hidden_(hidden) {}
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// GRU state size H.
  TORCH_ARG(int64_t, hidden);
  /// Stacked GRU layers inside the block.
  TORCH_ARG(int64_t, layers) = 1;
  /// LayerNorm epsilon.
  TORCH_ARG(double, ln_eps) = 1e-5;
};

class GruBlockImpl : public torch::nn::Module {
 public:
  explicit GruBlockImpl(const GruBlockOptions& options);
  /// [B, S, D] -> [B, S, D]; output s depends on inputs 0..s only.
  torch::Tensor forward(const torch::Tensor& h);

  GruBlockOptions options;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(GruBlock);

}  // namespace gru_block
