#pragma once
// Mamba-2's state space duality (SSD) layer: A is a scalar per head (times the identity),
// so per batch item and head h, with P head channels and N states:
//   H_t = exp(dt_t A_h) H_{t-1} + dt_t x_t B_t^T   (H: P x N, H_{-1} = 0)
//   y_t = H_t C_t + D_h x_t
// Shapes: x [Bt, S, Hd, P]; dt [Bt, S, Hd]; A, D [Hd]; B, C [Bt, S, N] (one group shared by all heads);
// y [Bt, S, Hd, P]. Every call starts from a zero state.

#include <torch/types.h>

#include <string>

namespace looplab::blocks {

/// How the SSD layer is evaluated; both give the same values and gradients.
enum class SsdKind {
  /// Chunks of `chunk` steps: a masked decay matrix inside each chunk (matmuls), states
  /// passed between chunks.
  Chunked,
  /// Reference: one step of LibTorch ops per time step.
  Sequential,
};

/// "chunked" or "sequential" -> SsdKind; throws std::invalid_argument on anything else.
SsdKind parse_ssd_kind(const std::string& name);

/// The SSD layer computed by `kind` (`chunk` matters to Chunked only).
torch::Tensor ssd(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A, const torch::Tensor& B,
                  const torch::Tensor& C, const torch::Tensor& D, SsdKind kind, int64_t chunk);

/// Reference: the recurrence step by step.
torch::Tensor ssd_sequential(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A,
                             const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// Chunked SSD; lengths that `chunk` does not divide are padded at the end (causal, so the
/// padding never reaches real positions).
torch::Tensor ssd_chunked(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D, int64_t chunk);

/// Segment sums of a [..., T] tensor: out[..., i, j] = a_{j+1} + ... + a_i for j <= i, -inf
/// above the diagonal (masked before any exp, so exp gives exactly 0 there and no NaN).
torch::Tensor segsum(const torch::Tensor& a);

}  // namespace looplab::blocks
