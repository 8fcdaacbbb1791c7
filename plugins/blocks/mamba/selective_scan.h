#pragma once
// Mamba-1's selective scan (docs/model.md#selective-scan), per batch item b, channel i and state n:
//   h_t[i, n] = exp(delta_t[i] * A[i, n]) * h_{t-1}[i, n] + delta_t[i] * B_t[n] * x_t[i],  h_{-1} = 0
//   y_t[i]    = sum_n C_t[n] * h_t[i, n] + D[i] * x_t[i]
// Shapes: x, delta [Bt, S, Di]; A [Di, N]; B, C [Bt, S, N]; D [Di]; y [Bt, S, Di].
// Every scan starts from a zero state: nothing is carried between calls.

#include <torch/types.h>

#include <string>

namespace looplab::blocks {

/// How the recurrence is evaluated; all give the same values and gradients.
enum class ScanKind {
  /// One autograd node whose forward and backward run the recurrence in C++ loops (CPU,
  /// float and double) or in a CUDA kernel (CUDA, float and double; checked against the
  /// sequential scan on first use, selective_scan_cuda.h); other types take the sequential path.
  Fused,
  /// Log-depth (Hillis-Steele) scan of whole-tensor LibTorch ops: ceil(log2 S) rounds over
  /// [Bt, S, Di, N] tensors; any device, differentiable by autograd. It moves O(S log S Di N)
  /// data per call (Mamba-1's decays differ per channel and state), so on a CPU it is slower
  /// than even the sequential scan (looplab_bench_mamba prints both).
  Parallel,
  /// Reference: one step of LibTorch ops per time step over views taken once.
  Sequential,
};

/// "fused", "parallel" or "sequential" -> ScanKind; throws std::invalid_argument on anything else.
ScanKind parse_scan_kind(const std::string& name);

/// The selective scan computed by `kind`.
torch::Tensor selective_scan(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                             const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                             ScanKind kind = ScanKind::Fused);

/// Reference scan: the recurrence step by step with LibTorch ops (any device, differentiable).
torch::Tensor selective_scan_sequential(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                        const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// Log-depth scan: the steps' affine maps composed in ceil(log2 S) rounds (any device).
torch::Tensor selective_scan_parallel(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                      const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// Fused scan: a custom autograd function with hand-written forward and exact backward
/// (states recomputed, not stored). CPU and CUDA float/double; falls back to the sequential
/// scan elsewhere.
torch::Tensor selective_scan_fused(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                   const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// The instruction set the fused scan's CPU kernels run with now ("AVX-512", "AVX2",
/// "baseline"): sdk::cpu_isa(), which LOOPLAB_CPU_ISA narrows.
std::string selective_scan_cpu_isa();

}  // namespace looplab::blocks
