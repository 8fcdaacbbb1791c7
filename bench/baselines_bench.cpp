// looplab_bench_baselines: how long each bundled baseline takes on one evaluation's prompts.
//   build/bin/looplab_bench_baselines [--prompts N] [--points n] [--dims d] [--threads T]
//                                     [--nn-steps S] [--only NAME,...] [--nn-batched]
// Defaults: 1280 prompts x 41 points, d 20 (the paper's evaluation), 2 threads, nn_gd at its
// default 1000 steps. x ~ N(0, I); y from a random two-layer ReLU network per prompt (as
// relu_2nn_regression draws it: no ties, so trees split as on real prompts). Prints one line per
// baseline with its wall time, in the order a decision_tree or relu_2nn_regression evaluation
// would run them. --nn-batched also times nn_gd on the batched tensor-operation path (what runs
// on accelerators) next to the CPU kernel, with the largest difference between their predictions.
#include "gradient_boosting.h"
#include "greedy_tree.h"
#include "lasso.h"
#include "linear.h"
#include "nearest_neighbours.h"
#include "nn_gd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace looplab::baselines;

struct Settings {
  int64_t prompts = 1280, points = 41, dims = 20, nn_steps = 1000;
  int threads = 2;
  std::set<std::string> only;
  bool nn_batched = false;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--prompts")
      s.prompts = std::stoll(value());
    else if (arg == "--points")
      s.points = std::stoll(value());
    else if (arg == "--dims")
      s.dims = std::stoll(value());
    else if (arg == "--threads")
      s.threads = std::stoi(value());
    else if (arg == "--nn-steps")
      s.nn_steps = std::stoll(value());
    else if (arg == "--nn-batched")
      s.nn_batched = true;
    else if (arg == "--only") {
      std::stringstream names(value());
      for (std::string name; std::getline(names, name, ',');) s.only.insert(name);
    } else {
      throw std::invalid_argument("unknown argument " + arg +
                                  " (expected --prompts, --points, --dims, --threads, --nn-steps, --only, --nn-batched)");
    }
  }
  if (s.prompts < 1 || s.points < 2 || s.dims < 1 || s.threads < 1 || s.nn_steps < 0)
    throw std::invalid_argument("prompts, dims, threads >= 1; points >= 2; nn-steps >= 0");
  return s;
}

double seconds(const std::function<torch::Tensor()>& fn, torch::Tensor* out = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  auto result = fn();
  if (out != nullptr) *out = result;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Settings s = parse(argc, argv);
    torch::set_num_threads(s.threads);
    torch::manual_seed(0);
    const int64_t N = s.prompts, n = s.points, d = s.dims, hidden = 100;
    const auto xs = torch::randn({N, n, d});
    const auto W1 = torch::randn({N, d, hidden}), W2 = torch::randn({N, hidden, 1});
    const auto ys = (torch::bmm(torch::relu(torch::bmm(xs, W1)), W2).squeeze(2) * std::sqrt(2.0 / hidden));
    std::printf("baselines on %ld prompts x %ld points, d %ld, %d threads (LibTorch %s)\n", N, n, d,
                torch::get_num_threads(), TORCH_VERSION);
    const auto nn = [&](bool kernel) {
      return [&, kernel] {
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
        return nn_gd_predictions(xs, ys, NnGdOptions().steps(s.nn_steps).cpu_kernel(kernel), gen);
      };
    };
    const std::vector<std::pair<std::string, std::function<torch::Tensor()>>> baselines{
        {"least_squares", [&] { return least_squares_predictions(xs, ys); }},
        {"averaging", [&] { return averaging_predictions(xs, ys); }},
        {"nearest_neighbours", [&] { return nearest_neighbour_predictions(xs, ys, 3); }},
        {"lasso", [&] { return lasso_predictions(xs, ys); }},
        {"greedy_tree", [&] { return greedy_tree_predictions(xs, ys); }},
        {"gradient_boosting", [&] { return gradient_boosting_predictions(xs, ys); }},
        {"nn_gd", nn(true)},
    };
    double total = 0;
    torch::Tensor kernel_preds;
    for (const auto& [name, fn] : baselines) {
      if (!s.only.empty() && !s.only.count(name)) continue;
      torch::Tensor preds;
      const double t = seconds(fn, &preds);
      if (name == "nn_gd") kernel_preds = preds;
      total += t;
      std::printf("  %-20s %9.2f s%s\n", name.c_str(), t,
                  name == "nn_gd" ? (" (" + std::to_string(s.nn_steps) + " steps)").c_str() : "");
    }
    std::printf("  %-20s %9.2f s\n", "all of the above", total);
    if (s.nn_batched) {
      torch::Tensor batched;
      const double t = seconds(nn(false), &batched);
      std::printf("  nn_gd, batched path %9.2f s", t);
      if (kernel_preds.defined())
        std::printf("   largest |kernel - batched| %.3g (predictions' scale %.3g)",
                    (kernel_preds - batched).abs().max().item<double>(), batched.abs().max().item<double>());
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "looplab_bench_baselines: %s\n", e.what());
    return 1;
  }
  return 0;
}
