// looplab_bench_mamba: how fast the Mamba scans and a looped Mamba training step are.
//   build/bin/looplab_bench_mamba [--threads N] [--reps N] [--warmup N]
// Prints (median ms over reps after warm-up):
//   1. the selective scan at B 64, S 62, d_inner 256, N 16 (a D 128 block on the study's
//      31-point prompts), forward + backward: fused and parallel vs sequential;
//   2. the Mamba-2 SSD layer at the same size (8 heads of 32 channels): chunked vs sequential;
//   3. one training step (loss over the window, backward, Adam) of looped models built from
//      the plugins as the host builds them: D 64, d 5, 11 points, b 10, T 5, batch 64;
//      Mamba-1, Mamba-2 and GPT (4 heads), and each one's ratio to GPT.
#include "selective_scan.h"
#include "ssd.h"

#include "model/sequence_model.h"
#include "registry/plugin_registry.h"

#include <looplab/sdk/plugin.h>

#include <torch/torch.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace looplab;

struct Settings {
  int threads = 2;
  int reps = 10;
  int warmup = 2;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return std::stoi(argv[++i]);
    };
    if (arg == "--threads")
      s.threads = value();
    else if (arg == "--reps")
      s.reps = value();
    else if (arg == "--warmup")
      s.warmup = value();
    else
      throw std::invalid_argument("unknown argument " + arg + " (expected --threads, --reps, --warmup)");
  }
  if (s.threads < 1 || s.reps < 1 || s.warmup < 0) throw std::invalid_argument("threads, reps >= 1; warmup >= 0");
  return s;
}

/// Median wall time of `fn` in ms over s.reps runs after s.warmup untimed ones.
double median_ms(const Settings& s, const std::function<void()>& fn) {
  for (int i = 0; i < s.warmup; ++i) fn();
  std::vector<double> ms;
  for (int i = 0; i < s.reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
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

void bench_selective_scan(const Settings& s) {
  const int64_t Bt = 64, S = 62, Di = 256, N = 16;
  torch::manual_seed(0);
  auto x = torch::randn({Bt, S, Di}).requires_grad_();
  auto delta = torch::softplus(torch::randn({Bt, S, Di}) - 3.0).requires_grad_();
  auto A = (-torch::arange(1, N + 1, torch::kFloat)).expand({Di, N}).contiguous().requires_grad_();
  auto B = torch::randn({Bt, S, N}).requires_grad_(), C = torch::randn({Bt, S, N}).requires_grad_();
  auto D = torch::ones({Di}).requires_grad_();
  const std::vector<torch::Tensor> inputs{x, delta, A, B, C, D};
  std::printf("selective scan, B %ld S %ld d_inner %ld N %ld, forward + backward:\n", Bt, S, Di, N);
  const double seq = time_grad(s, inputs, [&] { return blocks::selective_scan_sequential(x, delta, A, B, C, D); });
  const double fused = time_grad(s, inputs, [&] { return blocks::selective_scan_fused(x, delta, A, B, C, D); });
  const double parallel = time_grad(s, inputs, [&] { return blocks::selective_scan_parallel(x, delta, A, B, C, D); });
  std::printf(
      "  sequential %9.2f ms\n  fused      %9.2f ms   sequential / fused    = %.2f\n"
      "  parallel   %9.2f ms   sequential / parallel = %.2f\n",
      seq, fused, seq / fused, parallel, seq / parallel);
  torch::NoGradGuard no_grad;
  const double seq_f = median_ms(s, [&] { blocks::selective_scan_sequential(x, delta, A, B, C, D); });
  const double fused_f = median_ms(s, [&] { blocks::selective_scan_fused(x, delta, A, B, C, D); });
  std::printf("  forward only: sequential %.2f ms, fused %.2f ms (%.1fx)\n", seq_f, fused_f, seq_f / fused_f);
}

void bench_ssd(const Settings& s) {
  const int64_t Bt = 64, S = 62, H = 8, P = 32, N = 16;
  torch::manual_seed(1);
  auto x = torch::randn({Bt, S, H, P}).requires_grad_();
  auto dt = torch::softplus(torch::randn({Bt, S, H}) - 3.0).requires_grad_();
  auto A = (-torch::rand({H}) * 15 - 1).requires_grad_();
  auto B = torch::randn({Bt, S, N}).requires_grad_(), C = torch::randn({Bt, S, N}).requires_grad_();
  auto D = torch::ones({H}).requires_grad_();
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
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    const double ms = median_ms(s, [&] {
      const auto xs = torch::randn({batch, points, dims});
      const auto ys = torch::bmm(xs, torch::randn({batch, dims, 1})).squeeze(-1);
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
    std::printf("LibTorch %s, %d threads, median of %d reps after %d warm-up\n", TORCH_VERSION,
                torch::get_num_threads(), settings.reps, settings.warmup);
    bench_selective_scan(settings);
    bench_ssd(settings);
    bench_training_step(settings);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "looplab_bench_mamba: %s\n", e.what());
    return 1;
  }
  return 0;
}
