#include "nn_gd.h"

#include "predictions.h"

#include <looplab/sdk/cpu_isa.h>

#include <ATen/Parallel.h>
#include <ATen/ops/_fused_adam.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace looplab::baselines {
namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;  // torch.optim.Adam's defaults
/// Steps whose minibatch indices are drawn by one call (bounds that buffer: steps x N x batch).
constexpr int64_t kStepBlock = 128;
/// Prompts trained together on the CPU. Each worker thread trains whole chunks with
/// single-threaded operators, so that a chunk's networks and Adam state (about 2 MB at h = 100,
/// d = 20) stay in its cache and threads meet once per block of steps, not once per operator.
/// Measured on 2 cores: 1.4x faster than one batch of all prompts on one thread, and it scales to
/// two (one batch did not). at::parallel_for spreads the chunks over threads only where this file
/// is compiled with -fopenmp; otherwise they run in turn. On an accelerator all prompts form one
/// chunk.
constexpr int64_t kCpuChunk = 64;

/// The networks of a range of prompts: parameters, gradients and Adam moments in flat buffers
/// (one fused Adam call updates them all), each field a contiguous view, and the workspace of a
/// training step, allocated once: large allocations inside parallel regions page-fault and
/// serialize the threads. W1 is stored transposed, [N, d, h], so that the forward pass is a plain
/// batched matmul.
struct Networks {
  Networks(int64_t N, int64_t h, int64_t d, int64_t B, const torch::TensorOptions& opts)
      : N(N),
        params(torch::empty({N * (h * d + 2 * h + 1)}, opts)),
        grads(torch::empty_like(params)),
        exp_avg(torch::zeros_like(params)),
        exp_avg_sq(torch::zeros_like(params)),
        step(torch::zeros({}, opts)),
        rows(torch::empty({N, B}, opts.dtype(torch::kLong))),
        xb(torch::empty({N, B, d}, opts)),
        yb(torch::empty({N, B}, opts)),
        a(torch::empty({N, B, h}, opts)),
        f(torch::empty({N, B, 1}, opts)),
        dz(torch::empty({N, B, h}, opts)) {
    const auto split = [&](const torch::Tensor& flat, torch::Tensor& W1t, torch::Tensor& b1, torch::Tensor& W2,
                           torch::Tensor& b2) {
      W1t = flat.narrow(0, 0, N * d * h).view({N, d, h});
      b1 = flat.narrow(0, N * d * h, N * h).view({N, 1, h});
      W2 = flat.narrow(0, N * (d * h + h), N * h).view({N, h, 1});
      b2 = flat.narrow(0, N * (d * h + 2 * h), N).view({N, 1});
    };
    split(params, W1t, b1, W2, b2);
    split(grads, gW1t, gb1, gW2, gb2);
  }

  /// f(x) for x [N, m, d] -> [N, m].
  torch::Tensor predict(const torch::Tensor& x) const {
    const torch::Tensor hidden = torch::bmm(x, W1t).add_(b1).clamp_min_(0.0);
    return torch::bmm(hidden, W2).squeeze(2).add_(b2);
  }

  /// One Adam step on the mean squared error of each prompt's network over its minibatch: rows
  /// `picks` [N, B] + `row_base` [N, 1] of x_rows / y_rows (the chunk's points as rows).
  void train_step(const torch::Tensor& x_rows, const torch::Tensor& y_rows, const torch::Tensor& picks,
                  const torch::Tensor& row_base, double lr) {
    const int64_t B = xb.size(1), d = xb.size(2);
    at::add_out(rows, picks, row_base);
    const torch::Tensor flat_rows = rows.view({-1});
    torch::Tensor xb_rows = xb.view({N * B, d}), yb_rows = yb.view({N * B});
    at::index_select_out(xb_rows, x_rows, 0, flat_rows);
    at::index_select_out(yb_rows, y_rows, 0, flat_rows);
    // Forward: a = relu(W1 x + b1), f = W2 a + b2.
    at::bmm_out(a, xb, W1t);
    a.add_(b1).clamp_min_(0.0);
    at::bmm_out(f, a, W2);
    // g = d loss / d f = 2 (f - y) / B, in place of f.
    f.squeeze(2).add_(b2).sub_(yb).mul_(2.0 / static_cast<double>(B));
    at::sum_out(gb2, f.squeeze(2), {1}, /*keepdim=*/true);
    at::bmm_out(gW2, a.transpose(1, 2), f);
    // d loss / d (W1 x + b1): back through W2 and the ReLU (a > 0 exactly where W1 x + b1 > 0).
    at::bmm_out(dz, f, W2.transpose(1, 2));
    at::threshold_backward_out(dz, dz, a, 0.0);
    at::sum_out(gb1, dz, {1}, /*keepdim=*/true);
    at::bmm_out(gW1t, xb.transpose(1, 2), dz);
    step.add_(1.0);
    at::_fused_adam_({params}, {grads}, {exp_avg}, {exp_avg_sq}, /*max_exp_avg_sqs=*/{}, {step}, lr, kBeta1, kBeta2,
                     /*weight_decay=*/0.0, kEps, /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt,
                     /*found_inf=*/std::nullopt);
  }

  int64_t N;
  torch::Tensor params, grads, exp_avg, exp_avg_sq, step;
  torch::Tensor rows, xb, yb, a, f, dz;  // workspace
  torch::Tensor W1t, b1, W2, b2;         // views of params
  torch::Tensor gW1t, gb1, gW2, gb2;     // views of grads
};

#define LOOPLAB_NN_INLINE inline __attribute__((always_inline))
// Lane vectors cross no call boundary (every helper is inlined), so the note that wide vectors
// are passed differently under other instruction sets does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

/// Floats the CPU kernel's buffers are padded to: a whole number of vectors of every copy.
constexpr int64_t kPad = 16;

/// Where one network's numbers lie in its block of the CPU kernel's buffers: W1 transposed
/// [d][hp], b1 [hp], W2 [hp], b2, with h padded to hp, whole multiples of kPad. Padding units have
/// zero weights, hence zero activations and gradients, so Adam keeps them at zero and they change
/// nothing; the block is padded to whole vectors too.
struct NetShape {
  NetShape(int64_t d, int64_t h) : d(d), h(h), hp((h + kPad - 1) / kPad * kPad) {}
  int64_t d, h, hp;
  int64_t b1() const { return d * hp; }
  int64_t W2() const { return d * hp + hp; }
  int64_t b2() const { return d * hp + 2 * hp; }
  int64_t size() const { return (b2() + 1 + kPad - 1) / kPad * kPad; }
};

/// One thread's workspace for train_network: activations [B][hp] (then dL/d(W1 x + b1)), dL/df
/// per row [B], the gradient [size] (its padding stays zero).
struct NetScratch {
  NetScratch(const NetShape& s, int64_t B) : a(B * s.hp), g(B), grad(s.size(), 0.0f) {}
  std::vector<float> a, g, grad;
};

// The kernel once per instruction set (nn_gd_kernel.h), the copy sdk::cpu_isa() names called.
#ifdef LOOPLAB_ISA_WIDE_COPIES
LOOPLAB_ISA_BEGIN_AVX512
namespace avx512 {
#define LOOPLAB_NN_VECTOR_BYTES 64
#include "nn_gd_kernel.h"
#undef LOOPLAB_NN_VECTOR_BYTES
}  // namespace avx512
LOOPLAB_ISA_END
LOOPLAB_ISA_BEGIN_AVX2
namespace avx2 {
#define LOOPLAB_NN_VECTOR_BYTES 32
#include "nn_gd_kernel.h"
#undef LOOPLAB_NN_VECTOR_BYTES
}  // namespace avx2
LOOPLAB_ISA_END
#endif
namespace baseline {
#define LOOPLAB_NN_VECTOR_BYTES 16
#include "nn_gd_kernel.h"
#undef LOOPLAB_NN_VECTOR_BYTES
}  // namespace baseline

/// One copy's entry points: Adam steps of one network, and its output at one point.
struct NetKernels {
  void (*train)(const NetShape&, float*, float*, float*, const float*, const float*, const int64_t*, int64_t, int64_t,
                int64_t, int64_t, double, NetScratch&);
  float (*predict)(const NetShape&, const float*, const float*, float*);
};

NetKernels net_kernels() {
  const NetKernels plain{baseline::train_network, baseline::predict_point};
#ifdef LOOPLAB_ISA_WIDE_COPIES
  return sdk::for_cpu_isa(NetKernels{avx512::train_network, avx512::predict_point},
                          NetKernels{avx2::train_network, avx2::predict_point}, plain);
#else
  return plain;
#endif
}

/// The CPU kernel's prefix-by-prefix training: the same random draws in the same order as the
/// batched path, then each network trained on its own (parallel over prompts).
torch::Tensor train_on_cpu(const torch::Tensor& x, const torch::Tensor& y, const NnGdOptions& options,
                           at::Generator& gen) {
  const int64_t N = x.size(0), n = x.size(1), d = x.size(2), h = options.hidden(), B = options.batch();
  const NetShape shape(d, h);
  const int64_t P = shape.size();
  const auto opts = x.options();
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(d));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(h));
  torch::Tensor params = torch::zeros({N, P}, opts), m = torch::empty({N, P}, opts), v = torch::empty({N, P}, opts);
  torch::Tensor W1 = torch::empty({N, h, d}, opts), b1 = torch::empty({N, h}, opts);
  torch::Tensor W2 = torch::empty({N, h}, opts), b2 = torch::empty({N}, opts);
  torch::Tensor out = torch::zeros({N, n}, opts);
  const float* xp = x.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  float* outp = out.data_ptr<float>();
  const NetKernels net = net_kernels();
  for (int64_t i = 1; i < n; ++i) {
    W1.uniform_(-bound1, bound1, gen);
    b1.uniform_(-bound1, bound1, gen);
    W2.uniform_(-bound2, bound2, gen);
    b2.uniform_(-bound2, bound2, gen);
    // Into the padded layout; the padding stays zero (zeroed once, never changed by training).
    params.narrow(1, 0, d * shape.hp).view({N, d, shape.hp}).narrow(2, 0, h).copy_(W1.transpose(1, 2));
    params.narrow(1, shape.b1(), h).copy_(b1);
    params.narrow(1, shape.W2(), h).copy_(W2);
    params.narrow(1, shape.b2(), 1).copy_(b2.unsqueeze(1));
    m.zero_();
    v.zero_();
    for (int64_t done = 0;; done += kStepBlock) {
      const int64_t block = std::min(kStepBlock, options.steps() - done);
      const bool last = done + block >= options.steps();
      const torch::Tensor picks =
          block > 0 ? torch::randint(0, i, {block, N, B}, gen, opts.dtype(torch::kLong)) : torch::Tensor();
      const int64_t* pp = block > 0 ? picks.data_ptr<int64_t>() : nullptr;
      at::parallel_for(0, N, 16, [&](int64_t k0, int64_t k1) {
        NetScratch work(shape, B);
        for (int64_t k = k0; k < k1; ++k) {
          float* pk = params.data_ptr<float>() + k * P;
          const float* xk = xp + k * n * d;
          if (block > 0)
            net.train(shape, pk, m.data_ptr<float>() + k * P, v.data_ptr<float>() + k * P, xk, yp + k * n,
                          pp + k * B, N * B, done, block, B, options.lr(), work);
          if (last) outp[k * n + i] = net.predict(shape, pk, xk + i * d, work.a.data());
        }
      });
      if (last) break;
    }
  }
  return out;
}

}  // namespace

torch::Tensor nn_gd_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const NnGdOptions& options,
                                at::Generator& gen) {
  check_prompts("nn_gd_predictions", xs, ys);
  const auto fail = [](const std::string& what) { throw std::invalid_argument("nn_gd_predictions: " + what); };
  if (options.hidden() < 1) fail("hidden must be >= 1, got " + std::to_string(options.hidden()));
  if (!(options.lr() > 0.0) || !std::isfinite(options.lr()))
    fail("lr must be > 0, got " + std::to_string(options.lr()));
  if (options.steps() < 0) fail("steps must be >= 0, got " + std::to_string(options.steps()));
  if (options.batch() < 1) fail("batch must be >= 1, got " + std::to_string(options.batch()));
  const int64_t N = xs.size(0), n = xs.size(1), d = xs.size(2);
  if (N == 0 || n == 0) return zero_predictions(xs);
  if (d == 0) fail("needs d >= 1 input dimensions");
  const int64_t h = options.hidden(), B = options.batch();

  torch::NoGradGuard no_grad;
  const torch::Tensor x = xs.detach().to(torch::kFloat).contiguous();
  const torch::Tensor y = ys.detach().to(torch::kFloat).contiguous();
  if (x.is_cpu() && options.cpu_kernel()) return train_on_cpu(x, y, options, gen);
  const auto opts = x.options();
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(d));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(h));

  const int64_t chunk_size = x.is_cpu() ? kCpuChunk : N;
  const int64_t n_chunks = (N + chunk_size - 1) / chunk_size;
  struct Chunk {
    int64_t begin;
    Networks net;
    torch::Tensor x_rows, y_rows, row_base;  // the chunk's points as rows; each prompt's first row
  };
  std::vector<Chunk> chunks;
  chunks.reserve(n_chunks);
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int64_t begin = c * chunk_size, size = std::min(chunk_size, N - begin);
    chunks.push_back({begin, Networks(size, h, d, B, opts), x.narrow(0, begin, size).reshape({size * n, d}),
                      y.narrow(0, begin, size).reshape({size * n}),
                      (torch::arange(size, opts.dtype(torch::kLong)) * n).unsqueeze(1)});
  }
  // Initial parameters, drawn for all prompts at once (W1 as [N, h, d] like nn.Linear's weight), so
  // that the random stream does not depend on the chunking.
  torch::Tensor W1 = torch::empty({N, h, d}, opts), b1 = torch::empty({N, h}, opts);
  torch::Tensor W2 = torch::empty({N, h}, opts), b2 = torch::empty({N}, opts);

  torch::Tensor out = torch::zeros({N, n}, opts);
  for (int64_t i = 1; i < n; ++i) {
    W1.uniform_(-bound1, bound1, gen);
    b1.uniform_(-bound1, bound1, gen);
    W2.uniform_(-bound2, bound2, gen);
    b2.uniform_(-bound2, bound2, gen);
    // Blocks of steps, each one parallel region over the chunks (the first also initializes the
    // networks, the last predicts x_i).
    for (int64_t done = 0;; done += kStepBlock) {
      const int64_t block = std::min(kStepBlock, options.steps() - done);
      const bool last = done + block >= options.steps();
      // Minibatch indices into the prefix, uniform with replacement: [block, N, B].
      const torch::Tensor picks =
          block > 0 ? torch::randint(0, i, {block, N, B}, gen, opts.dtype(torch::kLong)) : torch::Tensor();
      at::parallel_for(0, n_chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          Chunk& chunk = chunks[c];
          Networks& net = chunk.net;
          if (done == 0) {
            net.W1t.copy_(W1.narrow(0, chunk.begin, net.N).transpose(1, 2));
            net.b1.copy_(b1.narrow(0, chunk.begin, net.N).unsqueeze(1));
            net.W2.copy_(W2.narrow(0, chunk.begin, net.N).unsqueeze(2));
            net.b2.copy_(b2.narrow(0, chunk.begin, net.N).unsqueeze(1));
            net.exp_avg.zero_();
            net.exp_avg_sq.zero_();
            net.step.zero_();
          }
          for (int64_t s = 0; s < block; ++s) {
            net.train_step(chunk.x_rows, chunk.y_rows, picks[s].narrow(0, chunk.begin, net.N), chunk.row_base,
                           options.lr());
          }
          if (last) {
            const torch::Tensor query = x.narrow(0, chunk.begin, net.N).select(1, i).unsqueeze(1);
            out.select(1, i).narrow(0, chunk.begin, net.N).copy_(net.predict(query).squeeze(1));
          }
        }
      });
      if (last) break;
    }
  }
  return out;
}

}  // namespace looplab::baselines
