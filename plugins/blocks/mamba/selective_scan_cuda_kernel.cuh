#pragma once
// The CUDA selective scan's arithmetic (selective_scan_cuda.cu), written once for the device
// and the host. A CUDA thread runs one (batch item b, channel i): the recurrence over time for
// its channel, with the N states and A's row in registers. Nothing is shared between threads,
// so the tests can run every (b, i) of these same functions on the CPU against the sequential
// scan: the kernel's arithmetic is checked on machines without a GPU, and only the launch
// (grid, stream) is left to the GPU tests. No LibTorch here: nvcc compiles this alone.
//
// Forward:  h_t[n] = exp(delta_t A[i, n]) h_{t-1}[n] + delta_t x_t B_t[n],  h_{-1} = 0
//           y_t    = sum_n C_t[n] h_t[n] + D[i] x_t
// Backward recomputes h_t into scratch (forward keeps nothing), then sweeps back in time with
// g_t = dL/dh_t = C_t[n] gy_t + exp(delta_{t+1} A) g_{t+1}. The sums over channels (dB, dC)
// and over batch items (dA, dD) are left to the caller as per-channel and per-item terms,
// summed afterwards in a fixed order: results do not depend on scheduling.

#include <cstdint>

#if defined(__CUDACC__)
#define LOOPLAB_HD __host__ __device__ __forceinline__
#define LOOPLAB_UNROLL _Pragma("unroll")
#else
#include <cmath>
#define LOOPLAB_HD inline
#define LOOPLAB_UNROLL
#endif

namespace looplab::blocks::cuda_scan {

/// The kernels' register sizes: N up to kSmallStates (Mamba's default 16) in arrays of 16,
/// larger N up to kMaxStates in arrays of 64; beyond it the glue runs the sequential scan.
constexpr int kSmallStates = 16;
constexpr int kMaxStates = 64;

/// The scan's inputs, contiguous: x, delta [Bt][S][Di]; A [Di][N]; B, C [Bt][S][N]; D [Di].
template <typename T>
struct Inputs {
  const T* x;
  const T* delta;
  const T* A;
  const T* B;
  const T* C;
  const T* D;
  int64_t batch, steps, channels, states;
};

/// Backward's gradient in and its outputs. states, B_terms, C_terms: [Bt][S][N][Di] (channel
/// fastest: neighbouring threads write neighbouring addresses); dB = B_terms summed over Di,
/// dC = C_terms summed over Di, dA = A_items summed over Bt (then transposed), dD = D_items
/// summed over Bt.
template <typename T>
struct Grads {
  const T* gy;  // [Bt][S][Di]: dL/dy
  T* states;    // scratch: h_t as recomputed
  T* x;         // [Bt][S][Di]
  T* delta;     // [Bt][S][Di]
  T* B_terms;   // dL/dh_t[n] * delta_t x_t per channel
  T* C_terms;   // gy_t * h_t[n] per channel
  T* A_items;   // [Bt][N][Di]
  T* D_items;   // [Bt][Di]
};

template <typename T>
LOOPLAB_HD T exp_of(T v) {
#if defined(__CUDA_ARCH__)
  return exp(v);  // CUDA's overloads: expf for float, exp for double (full precision)
#else
  return std::exp(v);
#endif
}

/// Index of state n of h_t for item b, channel i in the [Bt][S][N][Di] scratch.
LOOPLAB_HD int64_t state_index(int64_t b, int64_t t, int64_t n, int64_t i, int64_t S, int64_t N, int64_t Di) {
  return ((b * S + t) * N + n) * Di + i;
}

/// Channel i's row of A into registers (zero past N) and its state at h_{-1} = 0.
template <typename T, int kN>
LOOPLAB_HD void start_channel(const Inputs<T>& in, int64_t i, T* A, T* h) {
  LOOPLAB_UNROLL
  for (int n = 0; n < kN; ++n) {
    A[n] = n < in.states ? in.A[i * in.states + n] : T(0);
    h[n] = T(0);
  }
}

/// y for item b, channel i over every step; kN >= in.states (states past N are never touched).
template <typename T, int kN>
LOOPLAB_HD void forward_channel(const Inputs<T>& in, int64_t b, int64_t i, T* y) {
  const int64_t S = in.steps, N = in.states, Di = in.channels;
  T A[kN], h[kN];
  start_channel<T, kN>(in, i, A, h);
  const T Dv = in.D[i];
  for (int64_t t = 0; t < S; ++t) {
    const int64_t row = (b * S + t) * Di + i;
    const T xv = in.x[row], dv = in.delta[row], dx = dv * xv;
    const T* Bt = in.B + (b * S + t) * N;
    const T* Ct = in.C + (b * S + t) * N;
    T yv = T(0);
    LOOPLAB_UNROLL
    for (int n = 0; n < kN; ++n) {
      if (n < N) {
        h[n] = exp_of(dv * A[n]) * h[n] + dx * Bt[n];
        yv += Ct[n] * h[n];
      }
    }
    y[row] = yv + Dv * xv;
  }
}

/// Every gradient term of item b, channel i (see Grads), given dL/dy in g.gy.
template <typename T, int kN>
LOOPLAB_HD void backward_channel(const Inputs<T>& in, const Grads<T>& g, int64_t b, int64_t i) {
  const int64_t S = in.steps, N = in.states, Di = in.channels;
  T A[kN], h[kN];
  start_channel<T, kN>(in, i, A, h);
  for (int64_t t = 0; t < S; ++t) {  // the states again, kept for the sweep back
    const int64_t row = (b * S + t) * Di + i;
    const T dv = in.delta[row], dx = dv * in.x[row];
    const T* Bt = in.B + (b * S + t) * N;
    LOOPLAB_UNROLL
    for (int n = 0; n < kN; ++n) {
      if (n < N) {
        h[n] = exp_of(dv * A[n]) * h[n] + dx * Bt[n];
        g.states[state_index(b, t, n, i, S, N, Di)] = h[n];
      }
    }
  }
  // h now holds h_{S-1}; going back, h_t is in registers and h_{t-1} comes from the scratch.
  T gh[kN], gA[kN];
  LOOPLAB_UNROLL
  for (int n = 0; n < kN; ++n) gh[n] = gA[n] = T(0);
  const T Dv = in.D[i];
  T gD = T(0);
  for (int64_t t = S - 1; t >= 0; --t) {
    const int64_t row = (b * S + t) * Di + i;
    const T xv = in.x[row], dv = in.delta[row], gyv = g.gy[row], dx = dv * xv;
    const T* Bt = in.B + (b * S + t) * N;
    const T* Ct = in.C + (b * S + t) * N;
    T g_dx = T(0), g_da = T(0);  // dL/d(delta_t x_t) and sum_n dL/d(delta_t A[n]) A[n]
    LOOPLAB_UNROLL
    for (int n = 0; n < kN; ++n) {
      if (n < N) {
        const int64_t k = state_index(b, t, n, i, S, N, Di);
        const T prev = t > 0 ? g.states[k - N * Di] : T(0);
        const T a = exp_of(dv * A[n]);
        const T gt = gh[n] + Ct[n] * gyv;  // dL/dh_t
        g.C_terms[k] = gyv * h[n];
        g.B_terms[k] = gt * dx;
        g_dx += gt * Bt[n];
        const T ga = gt * prev * a;  // dL/d(delta_t A[n])
        g_da += ga * A[n];
        gA[n] += ga * dv;
        gh[n] = gt * a;  // dL/dh_{t-1} through h_t
        h[n] = prev;
      }
    }
    g.delta[row] = g_dx * xv + g_da;
    g.x[row] = g_dx * dv + Dv * gyv;
    gD += gyv * xv;
  }
  LOOPLAB_UNROLL
  for (int n = 0; n < kN; ++n)
    if (n < N) g.A_items[(b * N + n) * Di + i] = gA[n];
  g.D_items[b * Di + i] = gD;
}

// The launches (selective_scan_cuda.cu, in builds with CUDA): one thread per (b, i) on the
// given cudaStream_t; they throw std::runtime_error with CUDA's message when a launch fails.
void forward(const Inputs<float>& in, float* y, void* stream);
void forward(const Inputs<double>& in, double* y, void* stream);
void backward(const Inputs<float>& in, const Grads<float>& g, void* stream);
void backward(const Inputs<double>& in, const Grads<double>& g, void* stream);

}  // namespace looplab::blocks::cuda_scan
