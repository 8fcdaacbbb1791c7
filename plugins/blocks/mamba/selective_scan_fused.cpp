// The fused selective scan on CPU: one autograd node, forward and backward as plain loops.
// Layout inside the kernels: time-major rows of Di channels and the state h as [N][Di], so
// every inner loop runs over contiguous channels; `omp simd` vectorises those loops, the
// kernels are compiled for AVX-512, AVX2 and baseline x86-64 and the CPU picks at load time
// (target_clones), and batch items run in parallel. The forward pass keeps one state per
// item; backward recomputes the item's states and decays into scratch buffers instead of
// saving them from the forward pass.
#include "selective_scan.h"

#include <torch/autograd.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

// One copy of a kernel per instruction set, chosen once by the dynamic loader.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOOPLAB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOOPLAB_SIMD_CLONES
#endif
#define LOOPLAB_INLINE inline __attribute__((always_inline))

namespace looplab::blocks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

/// exp in a form loops can vectorise (float): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by
/// Cephes' degree-6 polynomial, 2^n as two powers of two written into exponent bits (so
/// results down to the subnormals, and overflow to +inf, come out of the multiplications).
/// Relative error below 1.4 ulp over the normal range, below one subnormal step under it
/// (measured against double exp); x is clamped to [-104, 89], where exp already rounds to
/// 0 and +inf. Selects, not branches: no control flow.
template <typename T>
LOOPLAB_INLINE T decay_exp(T x);

template <>
LOOPLAB_INLINE float decay_exp<float>(float x) {
  constexpr float lo = -104.0f, hi = 89.0f;
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  constexpr float shifter = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  const float n = (xc * 1.44269504088896341f + shifter) - shifter;
  // ln2 in two parts, so that n * ln2 is subtracted without rounding error.
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n in [-150, 128]: 2^n = 2^k1 * 2^k2 with both halves normal exponents.
  const int32_t k = static_cast<int32_t>(n), k1 = k >> 1, k2 = k - k1;
  const int32_t bits1 = (k1 + 127) << 23, bits2 = (k2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &bits1, sizeof s1);
  std::memcpy(&s2, &bits2, sizeof s2);
  return p * s1 * s2;
}

/// Double precision keeps libm's exp (the reference precision; tests, not speed).
template <>
LOOPLAB_INLINE double decay_exp<double>(double x) {
  return std::exp(x);
}

/// Sizes of one scan: Bt batch items, S steps, Di channels, N states.
struct ScanDims {
  int64_t batch, steps, channels, states;
};

/// Inputs of the kernels as raw pointers (all contiguous, one dtype).
template <typename T>
struct ScanInputs {
  const T* x;      // [Bt][S][Di]
  const T* delta;  // [Bt][S][Di]
  const T* At;     // [N][Di]: A transposed
  const T* B;      // [Bt][S][N]
  const T* C;      // [Bt][S][N]
  const T* D;      // [Di]
};

/// Gradients of one scan, filled by backward_item.
template <typename T>
struct ScanGrads {
  T* x;       // [Bt][S][Di]
  T* delta;   // [Bt][S][Di]
  T* B;       // [Bt][S][N]
  T* C;       // [Bt][S][N]
  T* A_item;  // [Bt][N][Di]: each item's share of dA (transposed), summed afterwards
  T* D_item;  // [Bt][Di]: each item's share of dD
};

/// Scratch of one worker: one item's states and decays, [S][N][Di] each (backward only), and
/// row buffers.
template <typename T>
struct Scratch {
  Scratch(const ScanDims& dim, bool for_backward)
      : states(for_backward ? dim.steps * dim.states * dim.channels : 0), decays(states.size()),
        h(dim.states * dim.channels), zeros(dim.channels, T(0)), dx(dim.channels), g_dx(dim.channels),
        g_da(dim.channels) {}
  std::vector<T> states, decays, h, zeros, dx, g_dx, g_da;
};

/// h_t[n] = exp(delta_t At[n]) h_{t-1}[n] + (delta_t x_t) B_t[n] over the Di channels of item
/// b. Forward (`y` given): keeps h in s.h and writes y_t = D x_t + sum_n C_t[n] h_t[n].
/// Recompute for backward (`y` null): writes every h_t and decay into s.states, s.decays.
template <typename T>
LOOPLAB_INLINE void scan_item(const ScanDims& dim, const ScanInputs<T>& in, int64_t b, Scratch<T>& s, T* y) {
  const int64_t S = dim.steps, N = dim.states, Di = dim.channels;
  const T* x = in.x + b * S * Di;
  const T* delta = in.delta + b * S * Di;
  const T* Bm = in.B + b * S * N;
  const T* Cm = in.C + b * S * N;
  T* dx = s.dx.data();
  if (y != nullptr) std::fill(s.h.begin(), s.h.end(), T(0));
  for (int64_t t = 0; t < S; ++t) {
    const T* xr = x + t * Di;
    const T* dr = delta + t * Di;
    T* yr = y == nullptr ? nullptr : y + (b * S + t) * Di;
#pragma omp simd
    for (int64_t i = 0; i < Di; ++i) dx[i] = dr[i] * xr[i];
    if (yr != nullptr) {
#pragma omp simd
      for (int64_t i = 0; i < Di; ++i) yr[i] = in.D[i] * xr[i];
    }
    for (int64_t n = 0; n < N; ++n) {
      const T bn = Bm[t * N + n], cn = Cm[t * N + n];
      const T* at = in.At + n * Di;
      if (yr != nullptr) {
        T* h = s.h.data() + n * Di;
#pragma omp simd
        for (int64_t i = 0; i < Di; ++i) {
          h[i] = decay_exp(dr[i] * at[i]) * h[i] + dx[i] * bn;
          yr[i] += cn * h[i];
        }
      } else {
        T* h = s.states.data() + (t * N + n) * Di;
        T* a = s.decays.data() + (t * N + n) * Di;
        const T* prev = t == 0 ? s.zeros.data() : h - N * Di;
#pragma omp simd
        for (int64_t i = 0; i < Di; ++i) {
          a[i] = decay_exp(dr[i] * at[i]);
          h[i] = a[i] * prev[i] + dx[i] * bn;
        }
      }
    }
  }
}

/// Reverse sweep for item b over the states and decays recomputed by scan_item. With g_t = dL/dh_t:
/// g_t = C_t gy_t + decay_{t+1} g_{t+1}; d(delta_t A) = g_t h_{t-1} decay_t;
/// dB_t[n] = sum_i g_t dx_t; d(dx_t)[i] = sum_n g_t B_t[n]; dC_t[n] = sum_i gy_t h_t.
template <typename T>
LOOPLAB_INLINE void backward_item(const ScanDims& dim, const ScanInputs<T>& in, const T* gy_all, int64_t b,
                                  Scratch<T>& s, const ScanGrads<T>& g) {
  const int64_t S = dim.steps, N = dim.states, Di = dim.channels;
  scan_item(dim, in, b, s, static_cast<T*>(nullptr));
  const T* x = in.x + b * S * Di;
  const T* delta = in.delta + b * S * Di;
  const T* Bm = in.B + b * S * N;
  const T* Cm = in.C + b * S * N;
  const T* gy = gy_all + b * S * Di;
  T* gA = g.A_item + b * N * Di;
  T* gD = g.D_item + b * Di;
  T *dx = s.dx.data(), *g_dx = s.g_dx.data(), *g_da = s.g_da.data();
  T* gh_all = s.h.data();  // dL/dh, carried backwards in time
  std::fill(s.h.begin(), s.h.end(), T(0));
  std::fill(gA, gA + N * Di, T(0));
  std::fill(gD, gD + Di, T(0));
  for (int64_t t = S - 1; t >= 0; --t) {
    const T* xr = x + t * Di;
    const T* dr = delta + t * Di;
    const T* gyr = gy + t * Di;
#pragma omp simd
    for (int64_t i = 0; i < Di; ++i) {
      dx[i] = dr[i] * xr[i];
      g_dx[i] = T(0);
      g_da[i] = T(0);
    }
    for (int64_t n = 0; n < N; ++n) {
      const T bn = Bm[t * N + n], cn = Cm[t * N + n];
      const T* h = s.states.data() + (t * N + n) * Di;
      const T* prev = t == 0 ? s.zeros.data() : h - N * Di;
      const T* a = s.decays.data() + (t * N + n) * Di;
      const T* at = in.At + n * Di;
      T* gh = gh_all + n * Di;
      T* gAn = gA + n * Di;
      T gc = 0, gb = 0;
#pragma omp simd reduction(+ : gc, gb)
      for (int64_t i = 0; i < Di; ++i) {
        const T gt = gh[i] + cn * gyr[i];  // dL/dh_t
        gc += gyr[i] * h[i];
        gb += gt * dx[i];
        g_dx[i] += gt * bn;
        const T ga = gt * prev[i] * a[i];  // dL/d(delta_t A)
        g_da[i] += ga * at[i];
        gAn[i] += ga * dr[i];
        gh[i] = gt * a[i];  // dL/dh_{t-1} through h_t
      }
      g.C[(b * S + t) * N + n] = gc;
      g.B[(b * S + t) * N + n] = gb;
    }
    T* gxr = g.x + (b * S + t) * Di;
    T* gdr = g.delta + (b * S + t) * Di;
#pragma omp simd
    for (int64_t i = 0; i < Di; ++i) {
      gdr[i] = g_dx[i] * xr[i] + g_da[i];
      gxr[i] = g_dx[i] * dr[i] + in.D[i] * gyr[i];
      gD[i] += gyr[i] * xr[i];
    }
  }
}

// Per-dtype entry points, each cloned per instruction set (the templates inline into them).
LOOPLAB_SIMD_CLONES void forward_range(const ScanDims& dim, const ScanInputs<float>& in, int64_t begin, int64_t end,
                                       float* y) {
  Scratch<float> s(dim, false);
  for (int64_t b = begin; b < end; ++b) scan_item(dim, in, b, s, y);
}
LOOPLAB_SIMD_CLONES void forward_range(const ScanDims& dim, const ScanInputs<double>& in, int64_t begin,
                                       int64_t end, double* y) {
  Scratch<double> s(dim, false);
  for (int64_t b = begin; b < end; ++b) scan_item(dim, in, b, s, y);
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

template <typename T>
ScanInputs<T> pointers(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& At,
                       const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  return {x.data_ptr<T>(), delta.data_ptr<T>(), At.data_ptr<T>(), B.data_ptr<T>(), C.data_ptr<T>(), D.data_ptr<T>()};
}

ScanDims dims_of(const torch::Tensor& x, const torch::Tensor& A) {
  return {x.size(0), x.size(1), x.size(2), A.size(1)};
}

torch::Tensor forward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  const auto dim = dims_of(x, A);
  const auto At = A.t().contiguous();
  auto y = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_forward", [&] {
    const auto in = pointers<scalar_t>(x, delta, At, B, C, D);
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1, [&](int64_t begin, int64_t end) { forward_range(dim, in, begin, end, yp); });
  });
  return y;
}

tensor_list backward_cpu(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                         const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                         const torch::Tensor& gy) {
  const auto dim = dims_of(x, A);
  const auto At = A.t().contiguous();
  auto gx = torch::empty_like(x), gdelta = torch::empty_like(delta);
  auto gB = torch::empty_like(B), gC = torch::empty_like(C);
  // Per-item shares summed in a fixed order afterwards: the result does not depend on how
  // batch items were spread over threads.
  auto gA_item = torch::empty({dim.batch, dim.states, dim.channels}, x.options());
  auto gD_item = torch::empty({dim.batch, dim.channels}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_fused_backward", [&] {
    const auto in = pointers<scalar_t>(x, delta, At, B, C, D);
    const ScanGrads<scalar_t> g{gx.data_ptr<scalar_t>(), gdelta.data_ptr<scalar_t>(), gB.data_ptr<scalar_t>(),
                                gC.data_ptr<scalar_t>(), gA_item.data_ptr<scalar_t>(), gD_item.data_ptr<scalar_t>()};
    const scalar_t* gyp = gy.data_ptr<scalar_t>();
    at::parallel_for(0, dim.batch, 1,
                     [&](int64_t begin, int64_t end) { backward_range(dim, in, gyp, begin, end, g); });
  });
  return {gx, gdelta, gA_item.sum(0).t(), gB, gC, gD_item.sum(0)};
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
  if (!fused_supported(x)) return selective_scan_sequential(x, delta, A, B, C, D);
  TORCH_CHECK(x.dim() == 3 && delta.sizes() == x.sizes(), "selective_scan: x and delta must be [Bt, S, Di]");
  TORCH_CHECK(A.dim() == 2 && A.size(0) == x.size(2), "selective_scan: A must be [Di, N]");
  TORCH_CHECK(B.dim() == 3 && B.size(0) == x.size(0) && B.size(1) == x.size(1) && B.size(2) == A.size(1) &&
                  C.sizes() == B.sizes(),
              "selective_scan: B and C must be [Bt, S, N]");
  TORCH_CHECK(D.dim() == 1 && D.size(0) == x.size(2), "selective_scan: D must be [Di]");
  for (const auto* t : {&delta, &A, &B, &C, &D})
    TORCH_CHECK(t->scalar_type() == x.scalar_type() && t->device() == x.device(),
                "selective_scan: all inputs must share x's dtype and device");
  return FusedScanFunction::apply(x.contiguous(), delta.contiguous(), A.contiguous(), B.contiguous(),
                                  C.contiguous(), D.contiguous());
}

}  // namespace looplab::blocks
