// The fused selective scan on CPU: one autograd node, forward and backward as plain loops.
// The recurrence never mixes channels, so the kernels walk one group of channels at a time,
// as one 64-byte vector of lanes (16 floats or 8 doubles: one AVX-512 register, two AVX2 or
// four SSE ones), with the loop over the N states inside the loop over time. A group's state,
// and in backward its recomputed states and decays (S x N vectors each), stay in L1/L2. The
// kernels are compiled for AVX-512, AVX2 and baseline x86-64 and the CPU picks at load time
// (target_clones); batch items run in parallel. The forward pass keeps no states; backward
// recomputes them per group instead of saving them from the forward pass. CUDA tensors go to
// the CUDA kernel (selective_scan_cuda.h).
#include "selective_scan.h"
#include "selective_scan_cuda.h"

#include <torch/autograd.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

// One copy of a kernel per instruction set, chosen once by the dynamic loader.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOOPLAB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOOPLAB_SIMD_CLONES
#endif
#define LOOPLAB_INLINE inline __attribute__((always_inline))
// Vector values cross no call boundary (every helper is inlined), so the note that 64-byte
// vectors are passed differently without AVX-512 does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace looplab::blocks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

/// Bytes in one vector of lanes: one AVX-512 register.
constexpr int64_t kVectorBytes = 64;

/// A vector of kVectorBytes of T (GCC vector extension: element-wise arithmetic, lanes by []).
template <typename T>
struct Lanes {
  typedef T type __attribute__((vector_size(kVectorBytes)));
  static constexpr int64_t count = kVectorBytes / sizeof(T);
};
template <typename T>
using Vec = typename Lanes<T>::type;
using VecI32 = int32_t __attribute__((vector_size(kVectorBytes)));

/// The first w lanes from p, the rest zero (w <= lanes).
template <typename T>
LOOPLAB_INLINE Vec<T> load(const T* p, int64_t w) {
  Vec<T> v{};
  if (w == Lanes<T>::count)
    std::memcpy(&v, p, sizeof v);
  else
    std::memcpy(&v, p, w * sizeof(T));
  return v;
}

/// The first w lanes of v to p.
template <typename T>
LOOPLAB_INLINE void store(T* p, const Vec<T>& v, int64_t w) {
  if (w == Lanes<T>::count)
    std::memcpy(p, &v, sizeof v);
  else
    std::memcpy(p, &v, w * sizeof(T));
}

/// 2^t per lane (float), vectorised: t = n + r with |r| <= 1/2, 2^r by a degree-6 polynomial
/// (relative-error minimax with p(0) = 1 exactly), 2^n as two powers of two written into
/// exponent bits, so results down to the subnormals, and overflow to +inf, come out of the
/// multiplications. Relative error below 1e-7 over the normal range, below one subnormal step
/// under it (measured on the AVX-512, AVX2 and baseline builds against double exp2); t is
/// clamped to [-150, 128], where 2^t already rounds to 0 and +inf; NaN stays NaN. No branches.
LOOPLAB_INLINE Vec<float> exp2_lanes(Vec<float> t) {
  const Vec<float> lo = Vec<float>{} - 150.0f, hi = Vec<float>{} + 128.0f;
  t = t < lo ? lo : t;
  t = t > hi ? hi : t;
  constexpr float shifter = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  const Vec<float> n = (t + shifter) - shifter;
  const Vec<float> r = t - n;
  Vec<float> p = 1.535335177e-4f * r + 1.339887385e-3f;
  p = p * r + 9.618436918e-3f;
  p = p * r + 5.550332367e-2f;
  p = p * r + 2.402264774e-1f;
  p = p * r + 6.931471825e-1f;
  p = p * r + 1.0f;
  // n in [-150, 128]: 2^n = 2^k1 * 2^k2 with both halves normal exponents.
  const VecI32 k = __builtin_convertvector(n, VecI32), k1 = k >> 1, k2 = k - k1;
  const VecI32 bits1 = (k1 + 127) << 23, bits2 = (k2 + 127) << 23;
  Vec<float> s1, s2;
  std::memcpy(&s1, &bits1, sizeof s1);
  std::memcpy(&s2, &bits2, sizeof s2);
  return p * s1 * s2;
}

/// Double precision keeps libm (the reference precision; tests, not speed).
LOOPLAB_INLINE Vec<double> exp2_lanes(Vec<double> t) {
  for (int64_t l = 0; l < Lanes<double>::count; ++l) t[l] = std::exp2(t[l]);
  return t;
}

/// Sizes of one scan: Bt batch items, S steps, Di channels in `groups` vectors of lanes, N states.
struct ScanDims {
  int64_t batch, steps, channels, states, groups;
};

/// Inputs of the kernels. x, delta, B, C: the contiguous tensors. At, At2, D: [N][groups] and
/// [groups] vectors, zero-padded past Di; At2 = At * log2(e), so that decays are 2^(delta At2).
template <typename T>
struct ScanInputs {
  const T* x;      // [Bt][S][Di]
  const T* delta;  // [Bt][S][Di]
  const T* B;      // [Bt][S][N]
  const T* C;      // [Bt][S][N]
  const Vec<T>* At;
  const Vec<T>* At2;
  const Vec<T>* D;
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

/// Scratch of one worker, in vectors: the running state (forward) or dL/dh (backward), N; for
/// backward also dA and a zero initial state, N each, one group's states and decays, and the
/// partial sums of dB and dC over the groups of an item, S x N each. Uninitialised (but for
/// the zeros): written before read.
template <typename T>
struct Scratch {
  Scratch(const ScanDims& dim, bool for_backward) : h(new Vec<T>[dim.states]) {
    if (for_backward) {
      const int64_t rows = dim.steps * dim.states;
      gA.reset(new Vec<T>[dim.states]);
      zeros.reset(new Vec<T>[dim.states]());
      states.reset(new Vec<T>[rows]);
      decays.reset(new Vec<T>[rows]);
      partial_B.reset(new Vec<T>[rows]);
      partial_C.reset(new Vec<T>[rows]);
    }
  }
  std::unique_ptr<Vec<T>[]> h, gA, zeros, states, decays, partial_B, partial_C;
};

/// Where group g of item b starts in rows of Di channels, and how many of its lanes are real.
struct Group {
  int64_t b, g, c0, w;
};

template <typename T>
Group group_of(const ScanDims& dim, int64_t b, int64_t g) {
  const int64_t c0 = g * Lanes<T>::count;
  return {b, g, c0, std::min(Lanes<T>::count, dim.channels - c0)};
}

/// Forward over one group: h_t[n] = 2^(delta_t At2[n]) h_{t-1}[n] + (delta_t x_t) B_t[n],
/// y_t = D x_t + sum_n C_t[n] h_t[n].
template <typename T>
LOOPLAB_INLINE void forward_group(const ScanDims& dim, const ScanInputs<T>& in, const Group& q, Scratch<T>& s, T* y) {
  const int64_t S = dim.steps, N = dim.states, Di = dim.channels, G = dim.groups;
  Vec<T>* h = s.h.get();
  std::fill(h, h + N, Vec<T>{});
  for (int64_t t = 0; t < S; ++t) {
    const int64_t row = (q.b * S + t) * Di + q.c0;
    const Vec<T> xv = load(in.x + row, q.w), dv = load(in.delta + row, q.w), dx = dv * xv;
    const T* Bt = in.B + (q.b * S + t) * N;
    const T* Ct = in.C + (q.b * S + t) * N;
    Vec<T> yv = in.D[q.g] * xv;
    for (int64_t n = 0; n < N; ++n) {
      h[n] = exp2_lanes(dv * in.At2[n * G + q.g]) * h[n] + dx * Bt[n];
      yv += Ct[n] * h[n];
    }
    store(y + row, yv, q.w);
  }
}

/// Backward over one group: recompute its states and decays, then sweep back in time. With
/// g_t = dL/dh_t: g_t = C_t gy_t + decay_{t+1} g_{t+1}; d(delta_t A) = g_t h_{t-1} decay_t;
/// dB_t[n] = sum_i g_t dx_t; d(dx_t)[i] = sum_n g_t B_t[n]; dC_t[n] = sum_i gy_t h_t. The
/// sums over channels for dB and dC accumulate lane-wise in s.partial_B and s.partial_C.
template <typename T>
LOOPLAB_INLINE void backward_group(const ScanDims& dim, const ScanInputs<T>& in, const T* gy, const Group& q,
                                   Scratch<T>& s, const ScanGrads<T>& grad) {
  const int64_t S = dim.steps, N = dim.states, Di = dim.channels, G = dim.groups;
  Vec<T>* states = s.states.get();
  Vec<T>* decays = s.decays.get();
  for (int64_t t = 0; t < S; ++t) {
    const int64_t row = (q.b * S + t) * Di + q.c0;
    const Vec<T> dv = load(in.delta + row, q.w), dx = dv * load(in.x + row, q.w);
    const T* Bt = in.B + (q.b * S + t) * N;
    const Vec<T>* prev = t == 0 ? s.zeros.get() : states + (t - 1) * N;
    for (int64_t n = 0; n < N; ++n) {
      const Vec<T> a = exp2_lanes(dv * in.At2[n * G + q.g]);
      decays[t * N + n] = a;
      states[t * N + n] = a * prev[n] + dx * Bt[n];
    }
  }
  Vec<T>* gh = s.h.get();
  Vec<T>* gA = s.gA.get();
  std::fill(gh, gh + N, Vec<T>{});
  std::fill(gA, gA + N, Vec<T>{});
  Vec<T> gD{};
  for (int64_t t = S - 1; t >= 0; --t) {
    const int64_t row = (q.b * S + t) * Di + q.c0;
    const Vec<T> xv = load(in.x + row, q.w), dv = load(in.delta + row, q.w), gyv = load(gy + row, q.w);
    const Vec<T> dx = dv * xv;
    const T* Bt = in.B + (q.b * S + t) * N;
    const T* Ct = in.C + (q.b * S + t) * N;
    const Vec<T>* prev = t == 0 ? s.zeros.get() : states + (t - 1) * N;
    Vec<T> g_dx{}, g_da{};
    for (int64_t n = 0; n < N; ++n) {
      const Vec<T> a = decays[t * N + n];
      const Vec<T> gt = gh[n] + Ct[n] * gyv;  // dL/dh_t
      s.partial_C[t * N + n] += gyv * states[t * N + n];
      s.partial_B[t * N + n] += gt * dx;
      g_dx += gt * Bt[n];
      const Vec<T> ga = gt * prev[n] * a;  // dL/d(delta_t A)
      g_da += ga * in.At[n * G + q.g];
      gA[n] += ga * dv;
      gh[n] = gt * a;  // dL/dh_{t-1} through h_t
    }
    store(grad.delta + row, g_dx * xv + g_da, q.w);
    store(grad.x + row, g_dx * dv + in.D[q.g] * gyv, q.w);
    gD += gyv * xv;
  }
  const int64_t padded = G * Lanes<T>::count;
  for (int64_t n = 0; n < N; ++n) store(grad.A_item + (q.b * N + n) * padded + q.c0, gA[n], Lanes<T>::count);
  store(grad.D_item + q.b * padded + q.c0, gD, Lanes<T>::count);
}

/// Sum of the lanes of v, in lane order.
template <typename T>
LOOPLAB_INLINE T lane_sum(const Vec<T>& v) {
  T sum = 0;
  for (int64_t l = 0; l < Lanes<T>::count; ++l) sum += v[l];
  return sum;
}

/// Backward for item b: every group, then dB and dC from their lane-wise partial sums.
template <typename T>
LOOPLAB_INLINE void backward_item(const ScanDims& dim, const ScanInputs<T>& in, const T* gy, int64_t b, Scratch<T>& s,
                                  const ScanGrads<T>& grad) {
  const int64_t rows = dim.steps * dim.states;
  std::fill(s.partial_B.get(), s.partial_B.get() + rows, Vec<T>{});
  std::fill(s.partial_C.get(), s.partial_C.get() + rows, Vec<T>{});
  for (int64_t g = 0; g < dim.groups; ++g) backward_group(dim, in, gy, group_of<T>(dim, b, g), s, grad);
  for (int64_t r = 0; r < rows; ++r) {
    grad.B[b * rows + r] = lane_sum<T>(s.partial_B[r]);
    grad.C[b * rows + r] = lane_sum<T>(s.partial_C[r]);
  }
}

// Per-dtype entry points, each cloned per instruction set (the templates inline into them).
LOOPLAB_SIMD_CLONES void forward_range(const ScanDims& dim, const ScanInputs<float>& in, int64_t begin, int64_t end,
                                       float* y) {
  Scratch<float> s(dim, false);
  for (int64_t b = begin; b < end; ++b)
    for (int64_t g = 0; g < dim.groups; ++g) forward_group(dim, in, group_of<float>(dim, b, g), s, y);
}
LOOPLAB_SIMD_CLONES void forward_range(const ScanDims& dim, const ScanInputs<double>& in, int64_t begin, int64_t end,
                                       double* y) {
  Scratch<double> s(dim, false);
  for (int64_t b = begin; b < end; ++b)
    for (int64_t g = 0; g < dim.groups; ++g) forward_group(dim, in, group_of<double>(dim, b, g), s, y);
}
LOOPLAB_SIMD_CLONES void backward_range(const ScanDims& dim, const ScanInputs<float>& in, const float* gy,
                                        int64_t begin, int64_t end, const ScanGrads<float>& g) {
  Scratch<float> s(dim, true);
  for (int64_t b = begin; b < end; ++b) backward_item(dim, in, gy, b, s, g);
}
LOOPLAB_SIMD_CLONES void backward_range(const ScanDims& dim, const ScanInputs<double>& in, const double* gy,
                                        int64_t begin, int64_t end, const ScanGrads<double>& g) {
  Scratch<double> s(dim, true);
  for (int64_t b = begin; b < end; ++b) backward_item(dim, in, gy, b, s, g);
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
const Vec<T>* vectors(const torch::Tensor& t) {
  return reinterpret_cast<const Vec<T>*>(t.data_ptr<T>());
}

template <typename T>
ScanInputs<T> pointers(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& B,
                       const torch::Tensor& C, const PaddedParams& p) {
  return {x.data_ptr<T>(),  delta.data_ptr<T>(), B.data_ptr<T>(), C.data_ptr<T>(),
          vectors<T>(p.At), vectors<T>(p.At2),   vectors<T>(p.D)};
}

int64_t lanes_of(const torch::Tensor& x) { return kVectorBytes / static_cast<int64_t>(x.element_size()); }

ScanDims dims_of(const torch::Tensor& x, const torch::Tensor& A) {
  const int64_t lanes = lanes_of(x);
  return {x.size(0), x.size(1), x.size(2), A.size(1), (x.size(2) + lanes - 1) / lanes};
}

int64_t padded_channels(const ScanDims& dim, const torch::Tensor& x) { return dim.groups * lanes_of(x); }

torch::Tensor forward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  const auto dim = dims_of(x, A);
  const auto params = pad_params(A, D, padded_channels(dim, x));
  auto y = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_forward", [&] {
    const auto in = pointers<scalar_t>(x, delta, B, C, params);
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1, [&](int64_t begin, int64_t end) { forward_range(dim, in, begin, end, yp); });
  });
  return y;
}

tensor_list backward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                         const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                         const torch::Tensor& gy) {
  const auto dim = dims_of(x, A);
  const int64_t padded = padded_channels(dim, x);
  const auto params = pad_params(A, D, padded);
  auto gx = torch::empty_like(x), gdelta = torch::empty_like(delta);
  auto gB = torch::empty_like(B), gC = torch::empty_like(C);
  // Per-item shares summed in a fixed order afterwards: the result does not depend on how
  // batch items were spread over threads.
  auto gA_item = torch::empty({dim.batch, dim.states, padded}, x.options());
  auto gD_item = torch::empty({dim.batch, padded}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_backward", [&] {
    const auto in = pointers<scalar_t>(x, delta, B, C, params);
    const ScanGrads<scalar_t> g{gx.data_ptr<scalar_t>(), gdelta.data_ptr<scalar_t>(),  gB.data_ptr<scalar_t>(),
                                gC.data_ptr<scalar_t>(), gA_item.data_ptr<scalar_t>(), gD_item.data_ptr<scalar_t>()};
    const scalar_t* gyp = gy.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1, [&](int64_t begin, int64_t end) { backward_range(dim, in, gyp, begin, end, g); });
  });
  const int64_t Di = dim.channels;
  return {gx, gdelta, gA_item.sum(0).narrow(1, 0, Di).t(), gB, gC, gD_item.sum(0).narrow(0, 0, Di)};
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
