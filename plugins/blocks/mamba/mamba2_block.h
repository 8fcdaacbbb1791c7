#pragma once
// Mamba-2 block with a pre-RMSNorm residual: h + Mixer(RMSNorm(h)).
// Mixer: in_proj -> (z, xBC, dt); xBC = SiLU(causal depthwise conv(xBC)) split into (x, B, C);
// dt = softplus(dt + dt_bias); y = SSD(x as heads, dt, A = -exp(A_log) per head, B, C, D);
// out_proj(RMSNorm(y * SiLU(z))). One group of B, C shared by all heads. Stateless: conv
// and SSD start from zero on every call. Plain LibTorch module: usable without the looplab SDK.

#include "mamba_layers.h"
#include "ssd.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace looplab::blocks {

struct Mamba2BlockOptions {
  explicit Mamba2BlockOptions(int64_t n_embd) : n_embd_(n_embd) {}
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// State size N per head channel.
  TORCH_ARG(int64_t, d_state) = 16;
  /// Taps of the causal depthwise convolution.
  TORCH_ARG(int64_t, d_conv) = 4;
  /// Inner width d_inner = expand * D.
  TORCH_ARG(int64_t, expand) = 2;
  /// Channels per head P; must divide d_inner.
  TORCH_ARG(int64_t, headdim) = 32;
  /// Steps per chunk of the chunked SSD.
  TORCH_ARG(int64_t, chunk) = 32;
  /// Initial -A per head drawn uniform in [A_min, A_max].
  TORCH_ARG(double, A_min) = 1.0;
  TORCH_ARG(double, A_max) = 16.0;
  /// Range of the initial step sizes (log-uniform).
  TORCH_ARG(double, dt_min) = 1e-3;
  TORCH_ARG(double, dt_max) = 1e-1;
  /// Blocks per pass L: out_proj's default init is divided by sqrt(L).
  TORCH_ARG(int64_t, depth) = 1;
  /// RMSNorm epsilon (input norm and gated output norm).
  TORCH_ARG(double, norm_eps) = 1e-5;
  /// How the SSD layer is computed.
  TORCH_ARG(SsdKind, scan) = SsdKind::Chunked;

 public:  // TORCH_ARG leaves the section private
  /// d_inner = expand * n_embd.
  int64_t d_inner() const { return expand_ * n_embd_; }
  /// Heads = d_inner / headdim.
  int64_t heads() const { return d_inner() / headdim_; }
};

class Mamba2BlockImpl : public torch::nn::Module {
 public:
  explicit Mamba2BlockImpl(const Mamba2BlockOptions& options);
  /// [B, S, D] -> [B, S, D], causal.
  torch::Tensor forward(const torch::Tensor& h);
  /// The mixer without input norm and residual: [B, S, D] -> [B, S, D].
  torch::Tensor mix(const torch::Tensor& u);
  /// Re-draws every parameter with Mamba-2's initialisation (called by the constructor).
  void reset_parameters();

  Mamba2BlockOptions options;
  RmsNorm norm{nullptr}, out_norm{nullptr};
  torch::nn::Linear in_proj{nullptr}, out_proj{nullptr};
  CausalConv1d conv{nullptr};
  torch::Tensor dt_bias, A_log, D;
};
TORCH_MODULE(Mamba2Block);

}  // namespace looplab::blocks
