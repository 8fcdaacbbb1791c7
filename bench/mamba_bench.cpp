// looplab_bench_mamba: how fast the Mamba scans and a looped Mamba training step are.
//   build/bin/looplab_bench_mamba [--threads N] [--reps N] [--warmup N] [--device cpu|cuda]
// Prints (median ms over reps after warm-up):
//   1. the selective scan at B 64, S 62, d_inner 256, N 16 (a D 128 block on the study's
//      31-point prompts), forward + backward: fused and parallel vs sequential, and on a CPU
//      the fused kernel of each instruction set it runs (AVX-512, AVX2, baseline);
//   2. the Mamba-2 SSD layer at the same size (8 heads of 32 channels): chunked vs sequential;
//   3. one training step (loss over the window, backward, Adam) of looped models built from
//      the plugins as the host builds them: D 64, d 5, 11 points, b 10, T 5, batch 64;
//      Mamba-1, Mamba-2 and GPT (4 heads), and each one's ratio to GPT.
// With --device cuda everything runs on the GPU (timed up to a synchronisation), and the fused
// scan is the CUDA kernel unless its first-use check failed (the line says which ran).
#include "selective_scan.h"
#include "selective_scan_cuda.h"
#include "ssd.h"

#include "model/sequence_model.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/cpu_isa.h>
#include <looplab/sdk/plugin.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace looplab;

struct Settings {
  int threads = 2;
  int reps = 10;
  int warmup = 2;
  torch::Device device = torch::kCPU;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--threads")
      s.threads = std::stoi(value());
    else if (arg == "--reps")
      s.reps = std::stoi(value());
    else if (arg == "--warmup")
      s.warmup = std::stoi(value());
    else if (arg == "--device")
      s.device = torch::Device(value());
    else
      throw std::invalid_argument("unknown argument " + arg + " (expected --threads, --reps, --warmup, --device)");
  }
  if (s.threads < 1 || s.reps < 1 || s.warmup < 0) throw std::invalid_argument("threads, reps >= 1; warmup >= 0");
  if (s.device.is_cuda() && !torch::cuda::is_available()) throw std::invalid_argument("--device cuda: no CUDA device");
  return s;
}

/// Median wall time of `fn` in ms over s.reps runs after s.warmup untimed ones; on a GPU up
/// to the end of the work it queued.
double median_ms(const Settings& s, const std::function<void()>& fn) {
  const auto run = [&] {
    fn();
    if (s.device.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < s.warmup; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < s.reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

/// Forward + backward of `scan` with respect to every input, with a fixed cotangent.
double time_grad(const Settings& s, const std::vector<torch::Tensor>& inputs,
                 const std::function<torch::Tensor()>& scan) {
  const auto w = torch::randn_like(scan().detach());
  return median_ms(s, [&] { torch::autograd::grad({scan()}, inputs, {w}); });
}

/// t on the benchmark's device as a leaf that wants its gradient.
torch::Tensor leaf(const Settings& s, const torch::Tensor& t) { return t.to(s.device).requires_grad_(); }

/// The fused scan's CPU kernel for every instruction set this CPU runs (LOOPLAB_CPU_ISA set
/// for each in turn, then restored), against the sequential scan's `seq` ms.
void bench_cpu_kernels(const Settings& s, const std::vector<torch::Tensor>& in, double seq) {
  std::printf("  fused ran: the CPU kernel for %s\n", blocks::selective_scan_cpu_isa().c_str());
  for (const sdk::CpuIsa isa : sdk::runnable_cpu_isas()) {
    const sdk::ScopedCpuIsa scope(isa);
    const double ms = time_grad(s, in, [&] { return blocks::selective_scan_fused(in[0], in[1], in[2], in[3], in[4], in[5]); });
    std::printf("  fused, %-8s kernel %9.2f ms   sequential / fused    = %.2f\n", sdk::cpu_isa_name(isa), ms,
                seq / ms);
  }
}

void bench_selective_scan(const Settings& s) {
  const int64_t Bt = 64, S = 62, Di = 256, N = 16;
  torch::manual_seed(0);
  auto x = leaf(s, torch::randn({Bt, S, Di}));
  auto delta = leaf(s, torch::softplus(torch::randn({Bt, S, Di}) - 3.0));
  auto A = leaf(s, (-torch::arange(1, N + 1, torch::kFloat)).expand({Di, N}).contiguous());
  auto B = leaf(s, torch::randn({Bt, S, N})), C = leaf(s, torch::randn({Bt, S, N}));
  auto D = leaf(s, torch::ones({Di}));
  const std::vector<torch::Tensor> inputs{x, delta, A, B, C, D};
  std::printf("selective scan, B %ld S %ld d_inner %ld N %ld, forward + backward, on %s:\n", Bt, S, Di, N,
              s.device.str().c_str());
  const double seq = time_grad(s, inputs, [&] { return blocks::selective_scan_sequential(x, delta, A, B, C, D); });
  const double fused = time_grad(s, inputs, [&] { return blocks::selective_scan_fused(x, delta, A, B, C, D); });
  const double parallel = time_grad(s, inputs, [&] { return blocks::selective_scan_parallel(x, delta, A, B, C, D); });
  std::printf(
      "  sequential %9.2f ms\n  fused      %9.2f ms   sequential / fused    = %.2f\n"
      "  parallel   %9.2f ms   sequential / parallel = %.2f\n",
      seq, fused, seq / fused, parallel, seq / parallel);
  if (s.device.is_cuda())  // the fused scan's first call above took the verdict
    std::printf("  fused ran: %s\n", blocks::first_use_verdict(blocks::cuda_scan_key(x, N), nullptr, std::cerr)
                                          ? "the CUDA kernel"
                                          : "the sequential scan (the CUDA kernel is missing or failed its check)");
  else
    bench_cpu_kernels(s, inputs, seq);
  torch::NoGradGuard no_grad;
  const double seq_f = median_ms(s, [&] { blocks::selective_scan_sequential(x, delta, A, B, C, D); });
  const double fused_f = median_ms(s, [&] { blocks::selective_scan_fused(x, delta, A, B, C, D); });
  std::printf("  forward only: sequential %.2f ms, fused %.2f ms (%.1fx)\n", seq_f, fused_f, seq_f / fused_f);
}

void bench_ssd(const Settings& s) {
  const int64_t Bt = 64, S = 62, H = 8, P = 32, N = 16;
  torch::manual_seed(1);
  auto x = leaf(s, torch::randn({Bt, S, H, P}));
  auto dt = leaf(s, torch::softplus(torch::randn({Bt, S, H}) - 3.0));
  auto A = leaf(s, -torch::rand({H}) * 15 - 1);
  auto B = leaf(s, torch::randn({Bt, S, N})), C = leaf(s, torch::randn({Bt, S, N}));
  auto D = leaf(s, torch::ones({H}));
  const std::vector<torch::Tensor> inputs{x, dt, A, B, C, D};
  std::printf("Mamba-2 SSD, B %ld S %ld heads %ld x %ld N %ld, forward + backward:\n", Bt, S, H, P, N);
  const double seq = time_grad(s, inputs, [&] { return blocks::ssd_sequential(x, dt, A, B, C, D); });
  std::printf("  sequential %9.2f ms\n", seq);
  for (int64_t chunk : {16, 32, 64}) {
    const double t = time_grad(s, inputs, [&] { return blocks::ssd_chunked(x, dt, A, B, C, D, chunk); });
    std::printf("  chunked %-3ld %8.2f ms   %.1fx faster\n", chunk, t, seq / t);
  }
}

/// A looped model with one block of `type` built by the plugin's factory, as the host does.
host::SequenceModel looped_model(const host::PluginRegistry& registry, const std::string& type, int64_t D, int64_t dims,
                                 int64_t points) {
  const auto* loaded = registry.find(sdk::ComponentKind::Block, type);
  if (loaded == nullptr) throw std::runtime_error("block plugin '" + type + "' not found");
  auto params = sdk::Params::defaults(loaded->component->params);
  if (type == "gpt") params.set("n_head", int64_t{4});
  sdk::BlockContext ctx;
  ctx.n_embd = D;
  ctx.max_tokens = 2 * points;
  auto block = std::get<sdk::BlockFactory>(loaded->component->factory)(params, ctx);
  const bool positions = block->wants_positions();
  return host::SequenceModel(host::SequenceModelOptions(dims, D, points).positions(positions),
                             std::vector<std::shared_ptr<sdk::Block>>{block});
}

void bench_training_step(const Settings& s) {
  const int64_t D = 64, dims = 5, points = 11, loops = 10, window = 5, batch = 64;
  host::PluginRegistry registry;
  registry.load_directories(host::plugin_directories({}, {}));
  std::printf("looped training step, D %ld, d %ld, %ld points, b %ld, T %ld, batch %ld (Adam):\n", D, dims, points,
              loops, window, batch);
  double gpt_ms = 0;
  for (const std::string type : {"gpt", "mamba", "mamba2"}) {
    torch::manual_seed(2);
    auto model = looped_model(registry, type, D, dims, points);
    model->to(s.device);
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    const auto on = torch::TensorOptions().device(s.device);
    const double ms = median_ms(s, [&] {
      const auto xs = torch::randn({batch, points, dims}, on);
      const auto ys = torch::bmm(xs, torch::randn({batch, dims, 1}, on)).squeeze(-1);
      adam.zero_grad();
      model->loss(xs, ys, loops, window).backward();
      adam.step();
    });
    if (type == "gpt") gpt_ms = ms;
    std::printf("  %-7s %8.2f ms/step   %.2fx looped GPT\n", type.c_str(), ms, ms / gpt_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto settings = parse(argc, argv);
    // Freed memory stays in the process, as in the host: otherwise every large activation is
    // mapped and unmapped anew each step.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    torch::set_num_threads(settings.threads);
    std::printf("LibTorch %s, %d threads, median of %d reps after %d warm-up, device %s\n", TORCH_VERSION,
                torch::get_num_threads(), settings.reps, settings.warmup, settings.device.str().c_str());
    bench_selective_scan(settings);
    bench_ssd(settings);
    bench_training_step(settings);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "looplab_bench_mamba: %s\n", e.what());
    return 1;
  }
  return 0;
}
