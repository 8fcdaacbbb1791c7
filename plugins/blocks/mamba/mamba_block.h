#pragma once
// Mamba-1 block (docs/model.md#mamba-1-block) with a pre-RMSNorm residual: h + Mixer(RMSNorm(h)).
// Mixer: in_proj -> (x, z); x = SiLU(causal depthwise conv(x)); (dt, B, C) = x_proj(x);
// delta = softplus(dt_proj(dt)); y = selective_scan(x, delta, A = -exp(A_log), B, C, D);
// out_proj(y * SiLU(z)). Stateless: conv and scan start from zero on every call.
// Plain LibTorch module: usable without the looplab SDK.

#include "mamba_layers.h"
#include "selective_scan.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace looplab::blocks {

struct MambaBlockOptions {
  explicit MambaBlockOptions(int64_t n_embd) : n_embd_(n_embd) {}
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// State size N per channel.
  TORCH_ARG(int64_t, d_state) = 16;
  /// Taps of the causal depthwise convolution.
  TORCH_ARG(int64_t, d_conv) = 4;
  /// Inner width d_inner = expand * D.
  TORCH_ARG(int64_t, expand) = 2;
  /// Rank of the step-size projection; 0 means ceil(D / 16).
  TORCH_ARG(int64_t, dt_rank) = 0;
  /// Range of the initial step sizes (log-uniform).
  TORCH_ARG(double, dt_min) = 1e-3;
  TORCH_ARG(double, dt_max) = 1e-1;
  /// dt_proj.weight ~ U(-s, s) with s = dt_scale / sqrt(dt_rank).
  TORCH_ARG(double, dt_scale) = 1.0;
  /// Blocks per pass L: out_proj's default init is divided by sqrt(L).
  TORCH_ARG(int64_t, depth) = 1;
  /// RMSNorm epsilon.
  TORCH_ARG(double, norm_eps) = 1e-5;
  /// How the selective scan is computed.
  TORCH_ARG(ScanKind, scan) = ScanKind::Fused;

 public:  // TORCH_ARG leaves the section private
  /// d_inner = expand * n_embd.
  int64_t d_inner() const { return expand_ * n_embd_; }
  /// dt_rank with 0 resolved to ceil(n_embd / 16).
  int64_t resolved_dt_rank() const { return dt_rank_ > 0 ? dt_rank_ : (n_embd_ + 15) / 16; }
};

class MambaBlockImpl : public torch::nn::Module {
 public:
  explicit MambaBlockImpl(const MambaBlockOptions& options);
  /// [B, S, D] -> [B, S, D], causal.
  torch::Tensor forward(const torch::Tensor& h);
  /// The mixer without norm and residual: [B, S, D] -> [B, S, D].
  torch::Tensor mix(const torch::Tensor& u);
  /// Re-draws every parameter with Mamba's initialisation (called by the constructor).
  void reset_parameters();

  MambaBlockOptions options;
  RmsNorm norm{nullptr};
  torch::nn::Linear in_proj{nullptr}, x_proj{nullptr}, dt_proj{nullptr}, out_proj{nullptr};
  CausalConv1d conv{nullptr};
  torch::Tensor A_log, D;
};
TORCH_MODULE(MambaBlock);

}  // namespace looplab::blocks
