// looplab_bench_ensemble: what training K same-shape GPT members as one batched block buys.
//   build/bin/looplab_bench_ensemble [--members K] [--threads N] [--reps N] [--sizes a,b,..]
// For each size of `looplab bench` (tiny, small, study, paper: D, heads, loops b, batch,
// tokens), one looped training step of the block alone, h <- block(h + e) b times, loss the
// mean of h^2 per member, backward, Adam: K separate GptBlocks with K optimizers, against one
// GptEnsembleBlock of K members with one optimizer. The two run interleaved, rep by rep, so
// load from other processes hits both alike. Prints per-member ms per step of each, the ratio
// (fused / separate: below 1 is faster), and per-member tokens/s. The block only: the looped
// model's read-in, positions, final LayerNorm and read-out (a few small products) are not
// timed; nor is the host's trainer, which does not fuse members yet.
#include "gpt_ensemble_block.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using looplab::blocks::GptBlock;
using looplab::blocks::GptBlockOptions;
using looplab::blocks::GptEnsembleBlock;

struct Size {
  std::string name;
  int64_t n_embd, heads, loops, batch, tokens;
};

// `looplab bench`'s sizes (host/cli/bench.cpp): tokens = 2 x points.
const std::vector<Size> kSizes = {
    {"tiny", 32, 2, 4, 16, 14}, {"small", 64, 4, 10, 64, 22}, {"study", 128, 4, 10, 64, 62}, {"paper", 256, 8, 20, 64, 82}};

struct Settings {
  int64_t members = 8;
  int threads = 2;
  int reps = 10;
  std::vector<std::string> sizes{"tiny", "small", "study", "paper"};
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--members") {
      s.members = std::stoll(value);
    } else if (arg == "--threads") {
      s.threads = std::stoi(value);
    } else if (arg == "--reps") {
      s.reps = std::stoi(value);
    } else if (arg == "--sizes") {
      s.sizes.clear();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) s.sizes.push_back(item);
    } else {
      throw std::invalid_argument("unknown argument " + arg + " (expected --members, --threads, --reps, --sizes)");
    }
  }
  if (s.members < 1 || s.threads < 1 || s.reps < 1) throw std::invalid_argument("members, threads, reps >= 1");
  return s;
}

/// One looped step of `block` on e [rows, S, D] with `optimizer`; `members` scales the loss so
/// that each member's gradient is that of its own mean.
void looped_step(const std::function<torch::Tensor(const torch::Tensor&)>& block, const torch::Tensor& e,
                 int64_t loops, int64_t members, torch::optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  torch::Tensor h = torch::zeros_like(e);
  for (int64_t i = 0; i < loops; ++i) h = block(h + e);
  (h.square().mean() * static_cast<double>(members)).backward();
  optimizer.step();
}

/// Medians (ms) of each of `fns` over `reps` rounds, one call of each per round, after one
/// untimed round.
std::vector<double> interleaved_medians(int reps, const std::vector<std::function<void()>>& fns) {
  for (const auto& fn : fns) fn();
  std::vector<std::vector<double>> ms(fns.size());
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < fns.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      fns[i]();
      ms[i].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  std::vector<double> medians;
  for (auto& v : ms) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    medians.push_back(v[v.size() / 2]);
  }
  return medians;
}

void bench_size(const Settings& s, const Size& z) {
  const int64_t K = s.members;
  const GptBlockOptions options(z.n_embd, z.heads);
  torch::manual_seed(0);
  std::vector<GptBlock> singles;
  std::vector<std::unique_ptr<torch::optim::Adam>> single_opts;
  for (int64_t k = 0; k < K; ++k) {
    singles.emplace_back(options);
    single_opts.push_back(std::make_unique<torch::optim::Adam>(singles.back()->parameters(),
                                                               torch::optim::AdamOptions(1e-4)));
  }
  GptEnsembleBlock ensemble(options, K);
  for (int64_t k = 0; k < K; ++k) ensemble->set_member(k, *singles[k]);
  torch::optim::Adam ensemble_opt(ensemble->parameters(), torch::optim::AdamOptions(1e-4));
  const auto e = torch::randn({K * z.batch, z.tokens, z.n_embd});
  const auto separate = [&] {
    for (int64_t k = 0; k < K; ++k)
      looped_step([&](const torch::Tensor& h) { return singles[k]->forward(h); }, e.narrow(0, k * z.batch, z.batch),
                  z.loops, 1, *single_opts[k]);
  };
  const auto fused = [&] {
    looped_step([&](const torch::Tensor& h) { return ensemble->forward(h); }, e, z.loops, K, ensemble_opt);
  };
  const auto ms = interleaved_medians(s.reps, {separate, fused});
  const double per_sep = ms[0] / static_cast<double>(K), per_fused = ms[1] / static_cast<double>(K);
  const double tokens = static_cast<double>(z.batch * z.tokens);
  std::printf("%-6s D %3ld, b %2ld, batch %ld x %ld tokens: separate %8.2f ms/member-step, fused %8.2f "
              "(fused / separate %.2f), %.0f vs %.0f tokens/s per member\n",
              z.name.c_str(), z.n_embd, z.loops, z.batch, z.tokens, per_sep, per_fused, per_fused / per_sep,
              tokens / per_sep * 1e3, tokens / per_fused * 1e3);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Settings s = parse(argc, argv);
    torch::set_num_threads(s.threads);
    std::printf("LibTorch %s, %d threads, %ld members, median of %d interleaved reps\n", TORCH_VERSION, s.threads,
                s.members, s.reps);
    for (const auto& name : s.sizes) {
      const auto it = std::find_if(kSizes.begin(), kSizes.end(), [&](const Size& z) { return z.name == name; });
      if (it == kSizes.end()) throw std::invalid_argument("unknown size " + name + " (tiny, small, study, paper)");
      bench_size(s, *it);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "looplab_bench_ensemble: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
