// The fused selective scan's CPU kernels for one instruction set. selective_scan_fused.cpp
// includes this file once per set, each time inside its own namespace and LOOPLAB_ISA_BEGIN_*
// region (sdk/cpu_isa.h), with LOOPLAB_SCAN_VECTOR_BYTES its register width (64 AVX-512, 32
// AVX2, 16 SSE2). The width must be the register's (cpu_isa.h says why; measured here: the
// AVX2 copy of 64-byte kernels ran at the speed of the SSE2 one, 4x behind AVX-512 on the same
// CPU).
// No include guard: included once per instruction set, after ScanDims, ScanInputs, ScanGrads.

/// Bytes in one vector of lanes: one register of this instruction set.
constexpr int64_t kVectorBytes = LOOPLAB_SCAN_VECTOR_BYTES;

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

/// n vectors of zeros from p (a loop, not std::fill: its out-of-line copy would not be
/// compiled for this instruction set).
template <typename V>
LOOPLAB_INLINE void zero(V* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = V{};
}

/// A padded array of the inputs as vectors.
template <typename T>
LOOPLAB_INLINE const Vec<T>* vectors(const T* p) {
  return reinterpret_cast<const Vec<T>*>(p);
}

/// 2^t per lane (float), vectorised: t = n + r with |r| <= 1/2, 2^r by a degree-6 polynomial
/// (relative-error minimax with p(0) = 1 exactly), 2^n as two powers of two written into
/// exponent bits, so results down to the subnormals, and overflow to +inf, come out of the
/// multiplications. Relative error below 1e-7 over the normal range, below one subnormal step
/// under it (measured on the AVX-512, AVX2 and baseline copies against double exp2); t is
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
  const Vec<T>*At2 = vectors(in.At2), *D = vectors(in.D);
  Vec<T>* h = s.h.get();
  zero(h, N);
  for (int64_t t = 0; t < S; ++t) {
    const int64_t row = (q.b * S + t) * Di + q.c0;
    const Vec<T> xv = load(in.x + row, q.w), dv = load(in.delta + row, q.w), dx = dv * xv;
    const T* Bt = in.B + (q.b * S + t) * N;
    const T* Ct = in.C + (q.b * S + t) * N;
    Vec<T> yv = D[q.g] * xv;
    for (int64_t n = 0; n < N; ++n) {
      h[n] = exp2_lanes(dv * At2[n * G + q.g]) * h[n] + dx * Bt[n];
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
  const Vec<T>*At = vectors(in.At), *At2 = vectors(in.At2), *D = vectors(in.D);
  Vec<T>* states = s.states.get();
  Vec<T>* decays = s.decays.get();
  for (int64_t t = 0; t < S; ++t) {
    const int64_t row = (q.b * S + t) * Di + q.c0;
    const Vec<T> dv = load(in.delta + row, q.w), dx = dv * load(in.x + row, q.w);
    const T* Bt = in.B + (q.b * S + t) * N;
    const Vec<T>* prev = t == 0 ? s.zeros.get() : states + (t - 1) * N;
    for (int64_t n = 0; n < N; ++n) {
      const Vec<T> a = exp2_lanes(dv * At2[n * G + q.g]);
      decays[t * N + n] = a;
      states[t * N + n] = a * prev[n] + dx * Bt[n];
    }
  }
  Vec<T>* gh = s.h.get();
  Vec<T>* gA = s.gA.get();
  zero(gh, N);
  zero(gA, N);
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
      g_da += ga * At[n * G + q.g];
      gA[n] += ga * dv;
      gh[n] = gt * a;  // dL/dh_{t-1} through h_t
    }
    store(grad.delta + row, g_dx * xv + g_da, q.w);
    store(grad.x + row, g_dx * dv + D[q.g] * gyv, q.w);
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
  zero(s.partial_B.get(), rows);
  zero(s.partial_C.get(), rows);
  for (int64_t g = 0; g < dim.groups; ++g) backward_group(dim, in, gy, group_of<T>(dim, b, g), s, grad);
  for (int64_t r = 0; r < rows; ++r) {
    grad.B[b * rows + r] = lane_sum<T>(s.partial_B[r]);
    grad.C[b * rows + r] = lane_sum<T>(s.partial_C[r]);
  }
}

template <typename T>
LOOPLAB_INLINE void forward_items(const ScanDims& dim, const ScanInputs<T>& in, int64_t begin, int64_t end, T* y) {
  Scratch<T> s(dim, false);
  for (int64_t b = begin; b < end; ++b)
    for (int64_t g = 0; g < dim.groups; ++g) forward_group(dim, in, group_of<T>(dim, b, g), s, y);
}

template <typename T>
LOOPLAB_INLINE void backward_items(const ScanDims& dim, const ScanInputs<T>& in, const T* gy, int64_t begin,
                                   int64_t end, const ScanGrads<T>& g) {
  Scratch<T> s(dim, true);
  for (int64_t b = begin; b < end; ++b) backward_item(dim, in, gy, b, s, g);
}

/// Entry points: batch items [begin, end).
void forward_range(const ScanDims& dim, const ScanInputs<float>& in, int64_t begin, int64_t end, float* y) {
  forward_items(dim, in, begin, end, y);
}
void forward_range(const ScanDims& dim, const ScanInputs<double>& in, int64_t begin, int64_t end, double* y) {
  forward_items(dim, in, begin, end, y);
}
void backward_range(const ScanDims& dim, const ScanInputs<float>& in, const float* gy, int64_t begin, int64_t end,
                    const ScanGrads<float>& g) {
  backward_items(dim, in, gy, begin, end, g);
}
void backward_range(const ScanDims& dim, const ScanInputs<double>& in, const double* gy, int64_t begin, int64_t end,
                    const ScanGrads<double>& g) {
  backward_items(dim, in, gy, begin, end, g);
}
