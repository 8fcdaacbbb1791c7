// The fused selective scan on CPU: one autograd node, forward and backward as plain loops.
// The recurrence never mixes channels, so the kernels walk one group of channels at a time,
// as one register of lanes (16 floats on AVX-512, 8 on AVX2, 4 on SSE2), with the loop over
// the N states inside the loop over time. A group's state, and in backward its recomputed
// states and decays (S x N vectors each), stay in L1/L2. The kernels are compiled for AVX-512,
// AVX2 and baseline x86-64 and sdk::cpu_isa() picks one per call (selective_scan_cpu_isa()
// says which); batch items run in parallel. The forward pass keeps no states; backward
// recomputes them per group instead of saving them from the forward pass. CUDA tensors go to
// the CUDA kernel (selective_scan_cuda.h).
#include "selective_scan.h"
#include "selective_scan_cuda.h"

#include <looplab/sdk/cpu_isa.h>

#include <torch/autograd.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#define LOOPLAB_INLINE inline __attribute__((always_inline))
// Vector values cross no call boundary (every helper is inlined), so the note that wide
// vectors are passed differently under other instruction sets does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace looplab::blocks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

/// Sizes of one scan: Bt batch items, S steps, Di channels in `groups` vectors of lanes, N states.
struct ScanDims {
  int64_t batch, steps, channels, states, groups;
};

/// Inputs of the kernels. x, delta, B, C: the contiguous tensors. At, At2, D: [N][padded] and
/// [padded] (whole vectors of the kernel's lanes, zero past Di, 64-byte aligned);
/// At2 = At * log2(e), so that decays are 2^(delta At2).
template <typename T>
struct ScanInputs {
  const T* x;      // [Bt][S][Di]
  const T* delta;  // [Bt][S][Di]
  const T* B;      // [Bt][S][N]
  const T* C;      // [Bt][S][N]
  const T* At;
  const T* At2;
  const T* D;
};

/// Gradients of one scan, filled by backward_item.
template <typename T>
struct ScanGrads {
  T* x;       // [Bt][S][Di]
  T* delta;   // [Bt][S][Di]
  T* B;       // [Bt][S][N]
  T* C;       // [Bt][S][N]
  T* A_item;  // [Bt][N][groups x lanes]: each item's share of dA (transposed, padded), summed afterwards
  T* D_item;  // [Bt][groups x lanes]: each item's share of dD
};

// The kernels, once per instruction set (selective_scan_fused_kernels.h says why each copy
// has its own vector width).
#ifdef LOOPLAB_ISA_WIDE_COPIES
LOOPLAB_ISA_BEGIN_AVX512
namespace avx512 {
#define LOOPLAB_SCAN_VECTOR_BYTES 64
#include "selective_scan_fused_kernels.h"
#undef LOOPLAB_SCAN_VECTOR_BYTES
}  // namespace avx512
LOOPLAB_ISA_END
LOOPLAB_ISA_BEGIN_AVX2
namespace avx2 {
#define LOOPLAB_SCAN_VECTOR_BYTES 32
#include "selective_scan_fused_kernels.h"
#undef LOOPLAB_SCAN_VECTOR_BYTES
}  // namespace avx2
LOOPLAB_ISA_END
#endif
namespace baseline {
#define LOOPLAB_SCAN_VECTOR_BYTES 16
#include "selective_scan_fused_kernels.h"
#undef LOOPLAB_SCAN_VECTOR_BYTES
}  // namespace baseline

/// One instruction set's entry points over batch items [begin, end), and its vector width.
template <typename T>
struct Kernels {
  void (*forward)(const ScanDims&, const ScanInputs<T>&, int64_t, int64_t, T*);
  void (*backward)(const ScanDims&, const ScanInputs<T>&, const T*, int64_t, int64_t, const ScanGrads<T>&);
  int64_t vector_bytes;
};

/// The kernels sdk::cpu_isa() names now.
template <typename T>
Kernels<T> kernels() {
  const Kernels<T> plain{baseline::forward_range, baseline::backward_range, 16};
#ifdef LOOPLAB_ISA_WIDE_COPIES
  return sdk::for_cpu_isa(Kernels<T>{avx512::forward_range, avx512::backward_range, 64},
                          Kernels<T>{avx2::forward_range, avx2::backward_range, 32}, plain);
#else
  return plain;
#endif
}

/// A, its log2(e) multiple and D laid out as the kernels read them: transposed to [N][Di]
/// and zero-padded to whole vectors of lanes.
struct PaddedParams {
  torch::Tensor At, At2, D;
};

PaddedParams pad_params(const torch::Tensor& A, const torch::Tensor& D, int64_t padded) {
  const int64_t Di = A.size(0);
  PaddedParams p{torch::zeros({A.size(1), padded}, A.options()), {}, torch::zeros({padded}, D.options())};
  p.At.narrow(1, 0, Di).copy_(A.t());
  p.At2 = p.At * M_LOG2E;
  p.D.narrow(0, 0, Di).copy_(D);
  return p;
}

template <typename T>
ScanInputs<T> pointers(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& B,
                       const torch::Tensor& C, const PaddedParams& p) {
  return {x.data_ptr<T>(),      delta.data_ptr<T>(),   B.data_ptr<T>(),    C.data_ptr<T>(),
          p.At.data_ptr<T>(), p.At2.data_ptr<T>(), p.D.data_ptr<T>()};
}

/// The scan's sizes for vectors of `vector_bytes`.
ScanDims dims_of(const torch::Tensor& x, const torch::Tensor& A, int64_t vector_bytes) {
  const int64_t lanes = vector_bytes / static_cast<int64_t>(x.element_size());
  return {x.size(0), x.size(1), x.size(2), A.size(1), (x.size(2) + lanes - 1) / lanes};
}

int64_t padded_channels(const ScanDims& dim, const torch::Tensor& x, int64_t vector_bytes) {
  return dim.groups * (vector_bytes / static_cast<int64_t>(x.element_size()));
}

torch::Tensor forward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  auto y = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_forward", [&] {
    const auto run = kernels<scalar_t>();
    const auto dim = dims_of(x, A, run.vector_bytes);
    const auto params = pad_params(A, D, padded_channels(dim, x, run.vector_bytes));
    const auto in = pointers<scalar_t>(x, delta, B, C, params);
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1, [&](int64_t begin, int64_t end) { run.forward(dim, in, begin, end, yp); });
  });
  return y;
}

tensor_list backward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                         const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                         const torch::Tensor& gy) {
  auto gx = torch::empty_like(x), gdelta = torch::empty_like(delta);
  auto gB = torch::empty_like(B), gC = torch::empty_like(C);
  torch::Tensor gA, gD;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_backward", [&] {
    const auto run = kernels<scalar_t>();
    const auto dim = dims_of(x, A, run.vector_bytes);
    const int64_t padded = padded_channels(dim, x, run.vector_bytes);
    const auto params = pad_params(A, D, padded);
    // Per-item shares summed in a fixed order afterwards: the result does not depend on how
    // batch items were spread over threads.
    auto gA_item = torch::empty({dim.batch, dim.states, padded}, x.options());
    auto gD_item = torch::empty({dim.batch, padded}, x.options());
    const auto in = pointers<scalar_t>(x, delta, B, C, params);
    const ScanGrads<scalar_t> g{gx.data_ptr<scalar_t>(), gdelta.data_ptr<scalar_t>(),  gB.data_ptr<scalar_t>(),
                                gC.data_ptr<scalar_t>(), gA_item.data_ptr<scalar_t>(), gD_item.data_ptr<scalar_t>()};
    const scalar_t* gyp = gy.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1, [&](int64_t begin, int64_t end) { run.backward(dim, in, gyp, begin, end, g); });
    const int64_t Di = dim.channels;
    gA = gA_item.sum(0).narrow(1, 0, Di).t();
    gD = gD_item.sum(0).narrow(0, 0, Di);
  });
  return {gx, gdelta, gA, gB, gC, gD};
}

/// The autograd node: saves only its inputs; backward recomputes the states per batch item.
class FusedScanFunction : public torch::autograd::Function<FusedScanFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& delta,
                               const torch::Tensor& A, const torch::Tensor& B, const torch::Tensor& C,
                               const torch::Tensor& D) {
    ctx->save_for_backward({x, delta, A, B, C, D});
    return forward_cpu(x, delta, A, B, C, D);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    return backward_cpu(saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], grads[0].contiguous());
  }
};

bool fused_supported(const torch::Tensor& x) {
  return x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

}  // namespace

std::string selective_scan_cpu_isa() { return sdk::cpu_isa_name(sdk::cpu_isa()); }

torch::Tensor selective_scan_fused(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                   const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  const bool cuda = x.device().is_cuda() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
  if (!fused_supported(x) && !cuda) return selective_scan_sequential(x, delta, A, B, C, D);
  TORCH_CHECK(x.dim() == 3 && delta.sizes() == x.sizes(), "selective_scan: x and delta must be [Bt, S, Di]");
  TORCH_CHECK(A.dim() == 2 && A.size(0) == x.size(2), "selective_scan: A must be [Di, N]");
  TORCH_CHECK(B.dim() == 3 && B.size(0) == x.size(0) && B.size(1) == x.size(1) && B.size(2) == A.size(1) &&
                  C.sizes() == B.sizes(),
              "selective_scan: B and C must be [Bt, S, N]");
  TORCH_CHECK(D.dim() == 1 && D.size(0) == x.size(2), "selective_scan: D must be [Di]");
  for (const auto* t : {&delta, &A, &B, &C, &D})
    TORCH_CHECK(t->scalar_type() == x.scalar_type() && t->device() == x.device(),
                "selective_scan: all inputs must share x's dtype and device");
  if (cuda)
    return selective_scan_cuda(x.contiguous(), delta.contiguous(), A.contiguous(), B.contiguous(), C.contiguous(),
                               D.contiguous());
  return FusedScanFunction::apply(x.contiguous(), delta.contiguous(), A.contiguous(), B.contiguous(), C.contiguous(),
                                  D.contiguous());
}

}  // namespace looplab::blocks
