// nn_gd's CPU kernel for one instruction set: nn_gd.cpp includes this file once per set, each
// time inside its own namespace and LOOPLAB_ISA_BEGIN_* region (sdk/cpu_isa.h), with
// LOOPLAB_NN_VECTOR_BYTES its register width (64 AVX-512, 32 AVX2, 16 SSE2). cpu_isa.h says why
// the width must be the register's; measured at 50 steps on one AVX-512 CPU, 16-lane vectors
// compiled for AVX2 took 121 s where the AVX-512 copy took 7.9 s. The buffers' layout (NetShape,
// padded to 16 floats) is the same for every copy. No include guard: included once per set.

/// One register of floats (GCC vector extension): 16 on AVX-512, 8 on AVX2, 4 on SSE2.
typedef float Lanes __attribute__((vector_size(LOOPLAB_NN_VECTOR_BYTES)));
constexpr int64_t kLanes = LOOPLAB_NN_VECTOR_BYTES / sizeof(float);

LOOPLAB_NN_INLINE Lanes load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
LOOPLAB_NN_INLINE void store(float* p, const Lanes& v) { std::memcpy(p, &v, sizeof v); }
LOOPLAB_NN_INLINE float lane_sum(const Lanes& v) {
  float sum = 0.0f;
  for (int64_t l = 0; l < kLanes; ++l) sum += v[l];
  return sum;
}

/// W hidden vectors from vector c on: relu(W1 x + b1) into a, their share of W2 . a into f. The
/// W accumulators stay in registers over the d inputs.
template <int W>
LOOPLAB_NN_INLINE void hidden_chunk(const NetShape& s, const float* p, const float* x, int64_t c, float* a, Lanes& f) {
  Lanes acc[W];
  for (int q = 0; q < W; ++q) acc[q] = load(p + s.b1() + (c + q) * kLanes);
  for (int64_t k = 0; k < s.d; ++k) {
    const float xk = x[k];
    const float* wk = p + k * s.hp + c * kLanes;
    for (int q = 0; q < W; ++q) acc[q] += xk * load(wk + q * kLanes);
  }
  const Lanes zero{};
  for (int q = 0; q < W; ++q) {
    const Lanes z = acc[q] > zero ? acc[q] : zero;
    store(a + (c + q) * kLanes, z);
    f += z * load(p + s.W2() + (c + q) * kLanes);
  }
}

/// f(x) of the network p for one point x [d]; its hidden activations relu(W1 x + b1) into a [hp].
LOOPLAB_NN_INLINE float forward_point(const NetShape& s, const float* p, const float* x, float* a) {
  Lanes f{};
  const int64_t V = s.hp / kLanes;
  int64_t c = 0;
  for (; c + 4 <= V; c += 4) hidden_chunk<4>(s, p, x, c, a, f);
  switch (V - c) {
    case 3: hidden_chunk<3>(s, p, x, c, a, f); break;
    case 2: hidden_chunk<2>(s, p, x, c, a, f); break;
    case 1: hidden_chunk<1>(s, p, x, c, a, f); break;
    default: break;
  }
  return lane_sum(f) + p[s.b2()];
}

/// dW1 (transposed) for W hidden vectors from vector c on and input k: sum over the minibatch
/// rows of x_r[k] dz_r, the W sums in registers over the rows.
template <int W>
LOOPLAB_NN_INLINE void w1_grad_chunk(const NetShape& s, const float* x, const int64_t* rows, int64_t B,
                                     const float* dz, int64_t k, int64_t c, float* grad) {
  Lanes acc[W] = {};
  for (int64_t r = 0; r < B; ++r) {
    const float xrk = x[rows[r] * s.d + k];
    for (int q = 0; q < W; ++q) acc[q] += xrk * load(dz + r * s.hp + (c + q) * kLanes);
  }
  for (int q = 0; q < W; ++q) store(grad + k * s.hp + (c + q) * kLanes, acc[q]);
}

/// Adam steps done + 1 .. done + steps of one network (p, m, v: its [size] parameters and
/// moments) on the minibatch rows picks[step * pick_stride + r], r < B, of its points x [.., d],
/// y. The arithmetic of Networks::train_step, one network at a time: its numbers (36 KB at d 20,
/// h 100) stay in L1/L2 for every step, where the batched operators stream all networks through
/// memory and pay LibTorch's dispatch per operator.
void train_network(const NetShape& s, float* p, float* m, float* v, const float* x, const float* y,
                                     const int64_t* picks, int64_t pick_stride, int64_t done, int64_t steps,
                                     int64_t B, double lr, NetScratch& w) {
  const int64_t V = s.hp / kLanes, P = s.size();
  float* grad = w.grad.data();
  float* a = w.a.data();
  const float scale = 2.0f / static_cast<float>(B);
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t* rows = picks + step * pick_stride;
    float gb2 = 0.0f;
    for (int64_t r = 0; r < B; ++r) {
      w.g[r] = (forward_point(s, p, x + rows[r] * s.d, a + r * s.hp) - y[rows[r]]) * scale;
      gb2 += w.g[r];
    }
    // dW2 = sum_r g_r a_r; dz_r = g_r W2 where a_r > 0 (back through the ReLU), in place of a_r;
    // db1 = sum_r dz_r.
    const Lanes zero{};
    for (int64_t c = 0; c < V; ++c) {
      const Lanes W2c = load(p + s.W2() + c * kLanes);
      Lanes gW2{}, gb1{};
      for (int64_t r = 0; r < B; ++r) {
        float* ar = a + r * s.hp + c * kLanes;
        const Lanes act = load(ar);
        gW2 += w.g[r] * act;
        const Lanes dz = act > zero ? w.g[r] * W2c : zero;
        store(ar, dz);
        gb1 += dz;
      }
      store(grad + s.W2() + c * kLanes, gW2);
      store(grad + s.b1() + c * kLanes, gb1);
    }
    for (int64_t k = 0; k < s.d; ++k) {
      int64_t c = 0;
      for (; c + 4 <= V; c += 4) w1_grad_chunk<4>(s, x, rows, B, a, k, c, grad);
      switch (V - c) {
        case 3: w1_grad_chunk<3>(s, x, rows, B, a, k, c, grad); break;
        case 2: w1_grad_chunk<2>(s, x, rows, B, a, k, c, grad); break;
        case 1: w1_grad_chunk<1>(s, x, rows, B, a, k, c, grad); break;
        default: break;
      }
    }
    grad[s.b2()] = gb2;
    // Adam as ATen's fused kernel computes it, but for sqrt(v) / sqrt(bias2), a multiplication by
    // the inverse here: the divisions are most of this kernel's time.
    const double t = static_cast<double>(done + step + 1);
    const double bias1 = 1.0 - std::pow(kBeta1, t), bias2 = 1.0 - std::pow(kBeta2, t);
    const float step_size = static_cast<float>(lr / bias1), inv_bias2_sqrt = static_cast<float>(1.0 / std::sqrt(bias2));
    const float one_minus_beta1 = static_cast<float>(1.0 - kBeta1), beta2 = static_cast<float>(kBeta2);
    const float one_minus_beta2 = static_cast<float>(1.0 - kBeta2), eps = static_cast<float>(kEps);
#pragma omp simd
    for (int64_t q = 0; q < P; ++q) {
      m[q] += one_minus_beta1 * (grad[q] - m[q]);
      v[q] = beta2 * v[q] + one_minus_beta2 * grad[q] * grad[q];
      p[q] -= step_size * m[q] / (std::sqrt(v[q]) * inv_bias2_sqrt + eps);
    }
  }
}

/// f(x) of the network p for one point x (forward_point, compiled for this instruction set).
float predict_point(const NetShape& s, const float* p, const float* x, float* a) { return forward_point(s, p, x, a); }
