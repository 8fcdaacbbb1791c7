#include "scaffold.h"

#include "plugin_registry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// Placeholders: @NAME@ (the component name), @CLASS@ (its CamelCase form), @KIND@ (block,
// task, analysis), @PREFIX@ (the looplab install prefix).

constexpr const char* kCMakeLists = R"tpl(# The @NAME@ @KIND@ plugin for looplab, built against an installed looplab.
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=@PREFIX@
#   cmake --build build && ctest --test-dir build
cmake_minimum_required(VERSION 3.22)
project(@NAME@ LANGUAGES CXX)

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# LibTorch (the version looplab was built with), looplab::sdk and looplab_add_plugin().
find_package(looplab REQUIRED)

# build/plugins/liblooplab_@KIND@_@NAME@.so; `cmake --install build` copies it to
# <prefix>/lib/looplab/plugins, where a looplab installed in that prefix finds it.
looplab_add_plugin(NAME @NAME@ KIND @KIND@ SOURCES @NAME@.cpp plugin.cpp)

# The test loads the built library the way the host does.
enable_testing()
add_executable(test_@NAME@ test_@NAME@.cpp)
target_link_libraries(test_@NAME@ PRIVATE looplab::sdk ${CMAKE_DL_LIBS})
add_test(NAME test_@NAME@ COMMAND test_@NAME@ $<TARGET_FILE:looplab_@KIND@_@NAME@>)
)tpl";

constexpr const char* kReadme = R"tpl(# @NAME@: a looplab @KIND@ plugin

| file | content |
|---|---|
| `@NAME@.h`, `@NAME@.cpp` | the LibTorch code, usable without looplab |
| `plugin.cpp` | the looplab glue: parameter schema and factory |
| `test_@NAME@.cpp` | checks run by `ctest` against the built library |
| `pipeline.toml` | a short pipeline that uses the plugin |

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=@PREFIX@
cmake --build build
ctest --test-dir build --output-on-failure
looplab plugins describe @NAME@ --plugin-path build/plugins
looplab plugins check build/plugins/liblooplab_@KIND@_@NAME@.so   # the host's conformance checks
looplab run pipeline.toml --out runs/@NAME@     # pipeline.toml points at build/plugins
cmake --install build --prefix @PREFIX@          # optional: looplab then finds it anywhere
```
The contract each kind must keep is in looplab's docs/plugins.md.
)tpl";

// The test's common part: load the library through its entry point, as the host does.
constexpr const char* kTestHead = R"tpl(// Checks for the @NAME@ plugin, run by ctest with the built library as argument: it is loaded
// the way the host loads it (entry symbol, build fingerprint), then its component is exercised.
#include <looplab/sdk/plugin.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace sdk = looplab::sdk;

namespace {

int failures = 0;

#define EXPECT(cond)                                                                   \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
      ++failures;                                                                      \
    }                                                                                  \
  } while (0)

// The component "@NAME@" of the library at `path`, or nullptr. The library is never unloaded
// (LibTorch-linked libraries must stay loaded), exactly as in the host.
const sdk::Component* load_component(const char* path) {
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
    return nullptr;
  }
  auto entry = reinterpret_cast<looplab_plugin_entry_fn>(dlsym(library, LOOPLAB_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    std::fprintf(stderr, "%s does not export %s\n", path, LOOPLAB_PLUGIN_ENTRY_SYMBOL);
    return nullptr;
  }
  const looplab_plugin_descriptor* descriptor = entry();
  if (descriptor->abi_major != LOOPLAB_ABI_MAJOR || !sdk::compatible(descriptor->build, sdk::this_build())) {
    std::fprintf(stderr, "%s was built for %s\n", path, sdk::describe(*descriptor).c_str());
    return nullptr;
  }
  for (const auto& c : *static_cast<const std::vector<sdk::Component>*>(descriptor->components()))
    if (c.name == "@NAME@") return &c;
  std::fprintf(stderr, "%s has no component named @NAME@\n", path);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s LIBRARY.so\n", argv[0]);
    return 2;
  }
  const sdk::Component* component = load_component(argv[1]);
  if (!component) return 1;
)tpl";

constexpr const char* kTestTail = R"tpl(
  std::printf("test_@NAME@: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
)tpl";

// ---- block ---------------------------------------------------------------------------------

constexpr const char* kBlockHeader = R"tpl(#pragma once
// @NAME@: a causal block for looplab. Pre-LN residual token mixer
//   u = LN(h),  q, k, v = W [u_s, u_{s-1}],  h + W_o (q * prefix_mean(k * v)),
// where prefix_mean at position s averages positions 0..s: no token sees a later one. The
// token shift (u_{s-1}) lets k * v pair a y token with the x before it.
// Replace the mixing with your own; keep [B, S, D] -> [B, S, D] and causality.
// Plain LibTorch: usable (and testable) without looplab.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace @NAME@ {

struct @CLASS@Options {
  explicit @CLASS@Options(int64_t n_embd) : n_embd_(n_embd) {}
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// Width of q, k and v in multiples of D.
  TORCH_ARG(int64_t, expand) = 2;
  /// LayerNorm epsilon.
  TORCH_ARG(double, ln_eps) = 1e-5;
};

class @CLASS@Impl : public torch::nn::Module {
 public:
  explicit @CLASS@Impl(const @CLASS@Options& options);
  /// [B, S, D] -> [B, S, D]; output s depends on inputs 0..s only.
  torch::Tensor forward(const torch::Tensor& h);

  @CLASS@Options options;
  torch::nn::LayerNorm ln{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr};
};
TORCH_MODULE(@CLASS@);

}  // namespace @NAME@
)tpl";

constexpr const char* kBlockSource = R"tpl(#include "@NAME@.h"

#include <stdexcept>

namespace @NAME@ {

namespace nn = torch::nn;

@CLASS@Impl::@CLASS@Impl(const @CLASS@Options& opts) : options(opts) {
  const int64_t d = options.n_embd(), w = options.expand() * d;
  if (d < 1 || w < 1) throw std::invalid_argument("@NAME@: n_embd and expand must be positive");
  ln = register_module("ln", nn::LayerNorm(nn::LayerNormOptions({d}).eps(options.ln_eps())));
  qkv = register_module("qkv", nn::Linear(2 * d, 3 * w));
  out = register_module("out", nn::Linear(w, d));
}

torch::Tensor @CLASS@Impl::forward(const torch::Tensor& h) {
  auto u = ln->forward(h);
  const int64_t S = h.size(1);
  auto previous = torch::cat({torch::zeros_like(u.narrow(1, 0, 1)), u.narrow(1, 0, S - 1)}, 1);
  auto parts = qkv->forward(torch::cat({u, previous}, -1)).chunk(3, -1);
  // A running sum divided by the running count: position s sees positions 0..s.
  auto count = torch::arange(1, S + 1, h.options()).view({1, -1, 1});
  auto mixed = parts[0] * ((parts[1] * parts[2]).cumsum(1) / count);
  return h + out->forward(mixed);
}

}  // namespace @NAME@
)tpl";

constexpr const char* kBlockPlugin = R"tpl(// looplab glue for the @NAME@ block: the parameters a pipeline may set, and the factory.
#include "@NAME@.h"

#include <looplab/sdk/plugin.h>

namespace {

namespace sdk = looplab::sdk;

class @CLASS@Block : public sdk::Block {
 public:
  explicit @CLASS@Block(const @NAME@::@CLASS@Options& options)
      : module_(register_module("module", @NAME@::@CLASS@(options))) {}
  torch::Tensor forward(const torch::Tensor& h) override { return module_->forward(h); }
  // A prefix mean cannot tell positions apart, so ask for the learned positional table.
  // Other hooks: inject(y, e, p) (what a loop iteration starts from; default y + e + p) and
  // traced_scalars() (0-dim tensors logged per training step).
  bool wants_positions() const override { return true; }

 private:
  @NAME@::@CLASS@ module_;
};

}  // namespace

LOOPLAB_PLUGIN("@NAME@", "0.1.0") {
  // The host checks every pipeline value against this schema before calling the factory.
  sdk::ParamSchema schema{
      sdk::int_param("expand", 2, "width of q, k, v in multiples of n_embd").at_least(1).at_most(16),
      sdk::float_param("ln_eps", 1e-5, "LayerNorm epsilon").at_least(0.0).at_most(1.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    auto options = @NAME@::@CLASS@Options(ctx.n_embd).expand(p.get_int("expand")).ln_eps(p.get_float("ln_eps"));
    return std::make_shared<@CLASS@Block>(options);
  };
  return {sdk::make_block_component("@NAME@", "0.1.0", "pre-LN causal prefix-mean mixer with token shift (template)",
                                    std::move(schema), factory)};
}
)tpl";

constexpr const char* kBlockTest = R"tpl(  EXPECT(component->kind() == sdk::ComponentKind::Block);
  if (component->kind() != sdk::ComponentKind::Block) return 1;
  torch::manual_seed(0);
  const int64_t B = 3, S = 10, D = 16;
  sdk::BlockContext context;
  context.n_embd = D;
  context.max_tokens = S;
  auto block = std::get<sdk::BlockFactory>(component->factory)(sdk::Params::defaults(component->params), context);

  auto h = torch::randn({B, S, D});
  auto out = block->forward(h);
  EXPECT(out.sizes() == h.sizes());
  EXPECT(torch::isfinite(out).all().item<bool>());

  // Causality: changing tokens s.. leaves the outputs before s as they were, and moves the rest.
  const int64_t s = 6;
  auto changed = h.clone();
  changed.narrow(1, s, S - s).add_(torch::randn({B, S - s, D}));
  auto out2 = block->forward(changed);
  EXPECT(torch::allclose(out.narrow(1, 0, s), out2.narrow(1, 0, s), 1e-5, 1e-6));
  EXPECT(!torch::allclose(out.narrow(1, s, S - s), out2.narrow(1, s, S - s)));

  // Every parameter gets a finite gradient.
  out.square().mean().backward();
  for (const auto& p : block->parameters())
    EXPECT(p.grad().defined() && torch::isfinite(p.grad()).all().item<bool>());
)tpl";

constexpr const char* kBlockPipeline = R"tpl(# A small looped model built from the @NAME@ block learns 3-d linear regression in context.
#   looplab run pipeline.toml --out runs/@NAME@
# eval.csv and report.md compare its error with least squares and averaging.

[run]
name = "@NAME@"
seed = 0
threads = 1
plugin_paths = ["build/plugins"]   # relative to this file: where `cmake --build build` puts the library

[task]
type = "linear_regression"
n_dims = 3
n_points = 8

[model]
n_embd = 32
looped = true
loops = 4
window = 4

[[model.blocks]]
type = "@NAME@"
expand = 2

[training]
steps = 1000
batch_size = 64
lr = 2e-3
log_every = 100
checkpoint_every = 500

[evaluation]
prompts = 512
bootstrap = 200
)tpl";

// ---- task ----------------------------------------------------------------------------------

constexpr const char* kTaskHeader = R"tpl(#pragma once
// @NAME@: a task for looplab. Linear regression with a scaled weight prior:
//   x ~ N(0, I_d), w ~ N(0, scale^2 I_d) drawn per prompt, y = x.w.
// Replace sample() with your own function family and keep y_second_moment() exact: every
// reported error is divided by it. Plain LibTorch: usable without looplab.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <utility>

namespace @NAME@ {

struct @CLASS@Options {
  explicit @CLASS@Options(int64_t n_dims) : n_dims_(n_dims) {}
  /// Dimension d of x and w.
  TORCH_ARG(int64_t, n_dims);
  /// Standard deviation of each weight coordinate.
  TORCH_ARG(double, scale) = 1.0;
};

class @CLASS@ {
 public:
  explicit @CLASS@(const @CLASS@Options& options) : options_(options) {}
  /// xs [B, n, d] with coordinates >= active_dims zero, ys [B, n]; float32 on `device`.
  std::pair<torch::Tensor, torch::Tensor> sample(int64_t batch, int64_t points, int64_t active_dims,
                                                 at::Generator& gen, const torch::Device& device) const;
  /// E[y^2] = scale^2 * active_dims.
  double y_second_moment(int64_t active_dims) const;
  const @CLASS@Options& options() const { return options_; }

 private:
  @CLASS@Options options_;
};

}  // namespace @NAME@
)tpl";

constexpr const char* kTaskSource = R"tpl(#include "@NAME@.h"

#include <stdexcept>
#include <string>

namespace @NAME@ {

std::pair<torch::Tensor, torch::Tensor> @CLASS@::sample(int64_t batch, int64_t points, int64_t active_dims,
                                                      at::Generator& gen, const torch::Device& device) const {
  const int64_t d = options_.n_dims();
  if (active_dims < 1 || active_dims > d)
    throw std::invalid_argument("@NAME@: active_dims " + std::to_string(active_dims) + " outside [1, " +
                                std::to_string(d) + "]");
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto xs = torch::randn({batch, points, d}, gen, opts);
  auto w = torch::randn({batch, d, 1}, gen, opts).mul_(options_.scale());
  // The curriculum grows the dimension: inactive coordinates are zero.
  if (active_dims < d) xs.narrow(2, active_dims, d - active_dims).zero_();
  return {xs, torch::bmm(xs, w).squeeze(-1)};
}

double @CLASS@::y_second_moment(int64_t active_dims) const {
  return options_.scale() * options_.scale() * static_cast<double>(active_dims);
}

}  // namespace @NAME@
)tpl";

constexpr const char* kTaskPlugin = R"tpl(// looplab glue for the @NAME@ task: the parameters a pipeline may set, and the factory.
#include "@NAME@.h"

#include <looplab/sdk/plugin.h>

namespace {

namespace sdk = looplab::sdk;

class @CLASS@Task : public sdk::Task {
 public:
  explicit @CLASS@Task(const @NAME@::@CLASS@Options& options) : task_(options) {}
  sdk::Prompts sample(int64_t batch, int64_t points, int64_t active_dims, at::Generator& gen,
                      const torch::Device& device) const override {
    auto [xs, ys] = task_.sample(batch, points, active_dims, gen, device);
    return {xs, ys};
  }
  double y_second_moment(int64_t active_dims) const override { return task_.y_second_moment(active_dims); }
  // Label-noise variance (ridge uses it as lambda): none here.
  double noise_variance() const override { return 0.0; }
  // The evaluator runs these next to the model.
  std::vector<std::string> baselines() const override {
    return {sdk::baseline::kLeastSquares, sdk::baseline::kAveraging, sdk::baseline::kNearestNeighbours};
  }

 private:
  @NAME@::@CLASS@ task_;
};

}  // namespace

LOOPLAB_PLUGIN("@NAME@", "0.1.0") {
  // The host checks every pipeline value against this schema before calling the factory.
  sdk::ParamSchema schema{
      sdk::float_param("scale", 1.0, "standard deviation of each weight coordinate").at_least(1e-6).at_most(1e3),
  };
  auto factory = [](const sdk::Params& p, const sdk::TaskContext& ctx) -> std::shared_ptr<sdk::Task> {
    return std::make_shared<@CLASS@Task>(@NAME@::@CLASS@Options(ctx.n_dims).scale(p.get_float("scale")));
  };
  return {sdk::make_task_component("@NAME@", "0.1.0", "y = x.w, w ~ N(0, scale^2 I_d) (template)",
                                   std::move(schema), factory)};
}
)tpl";

constexpr const char* kTaskTest = R"tpl(  EXPECT(component->kind() == sdk::ComponentKind::Task);
  if (component->kind() != sdk::ComponentKind::Task) return 1;
  const int64_t d = 4, n = 5, batch = 20000;
  sdk::TaskContext context;
  context.n_dims = d;
  auto task = std::get<sdk::TaskFactory>(component->factory)(sdk::Params::defaults(component->params), context);
  at::Generator gen = at::detail::createCPUGenerator(0);

  for (int64_t active : {d, int64_t{2}}) {
    auto prompts = task->sample(batch, n, active, gen, torch::Device(torch::kCPU));
    EXPECT(prompts.xs.sizes() == torch::IntArrayRef({batch, n, d}));
    EXPECT(prompts.ys.sizes() == torch::IntArrayRef({batch, n}));
    EXPECT(prompts.xs.scalar_type() == torch::kFloat32 && prompts.ys.scalar_type() == torch::kFloat32);
    if (active < d) EXPECT(prompts.xs.narrow(2, active, d - active).abs().max().item<float>() == 0.0f);
    // The stated E[y^2] normalises every reported error: it must match the samples.
    const double measured = prompts.ys.to(torch::kFloat64).square().mean().item<double>();
    const double stated = task->y_second_moment(active);
    std::printf("active dims %lld: E[y^2] stated %.4f, measured %.4f\n", static_cast<long long>(active), stated,
                measured);
    EXPECT(std::abs(measured - stated) < 0.05 * stated);
  }
  EXPECT(task->noise_variance() >= 0.0);
  EXPECT(!task->baselines().empty());
)tpl";

constexpr const char* kTaskPipeline = R"tpl(# A small looped GPT learns the @NAME@ task in context.
#   looplab run pipeline.toml --out runs/@NAME@
# eval.csv and report.md compare its error with the task's baselines.

[run]
name = "@NAME@"
seed = 0
threads = 1
plugin_paths = ["build/plugins"]   # relative to this file: where `cmake --build build` puts the library

[task]
type = "@NAME@"
n_dims = 3
n_points = 8
scale = 1.0

[model]
n_embd = 32
looped = true
loops = 4
window = 4

[[model.blocks]]
type = "gpt"
n_head = 2

[training]
steps = 1000
batch_size = 64
lr = 2e-3
log_every = 100
checkpoint_every = 500

[evaluation]
prompts = 512
bootstrap = 200
)tpl";

// ---- analysis ------------------------------------------------------------------------------

constexpr const char* kAnalysisHeader = R"tpl(#pragma once
// @NAME@: the arithmetic of an analysis for looplab, kept apart from the SDK glue in
// plugin.cpp. Summarises normalized errors at the last position of each prompt (the most
// examples in context). Plain LibTorch: usable without looplab.

#include <torch/types.h>

namespace @NAME@ {

/// A mean with its normal-approximation 90% interval.
struct Summary {
  double mean = 0.0;  ///< Mean over prompts.
  double lo = 0.0;    ///< Lower edge of the interval.
  double hi = 0.0;    ///< Upper edge.
};

/// Summarises err [N, n] (prompt, position) at the last position n - 1.
Summary last_position(const torch::Tensor& err);

}  // namespace @NAME@
)tpl";

constexpr const char* kAnalysisSource = R"tpl(#include "@NAME@.h"

#include <cmath>

namespace @NAME@ {

Summary last_position(const torch::Tensor& err) {
  auto last = err.select(1, err.size(1) - 1).to(torch::kCPU, torch::kFloat64);
  const double n = static_cast<double>(last.size(0));
  const double mean = last.mean().item<double>();
  // 1.645 standard errors: the two-sided 90% normal interval of a mean.
  const double half = n > 1 ? last.std().item<double>() * 1.6448536269514722 / std::sqrt(n) : 0.0;
  return {mean, mean - half, mean + half};
}

}  // namespace @NAME@
)tpl";

constexpr const char* kAnalysisPlugin = R"tpl(// looplab glue for the @NAME@ analysis: runs the trained model for k = 1..K loop iterations on
// the run's evaluation prompts and writes the error at the last position after each.
#include "@NAME@.h"

#include <looplab/sdk/plugin.h>

#include <torch/types.h>
#include <torch/utils.h>

#include <sstream>

namespace {

namespace sdk = looplab::sdk;

class @CLASS@Analysis : public sdk::Analysis {
 public:
  explicit @CLASS@Analysis(int64_t max_iterations) : max_iterations_(max_iterations) {}

  // Everything comes through the context: model, prompts, normalisation, outputs.
  void run(sdk::AnalysisContext& context) override {
    auto& model = context.model();
    const int64_t K = max_iterations_ > 0 ? max_iterations_ : (model.looped() ? 2 * model.trained_loops() : 1);
    auto prompts = context.eval_prompts();
    auto xs = prompts.xs.to(context.device()), ys = prompts.ys.to(context.device());

    sdk::Table table{{"iterations", "err_last", "err_last_lo", "err_last_hi"}, {}};
    torch::NoGradGuard no_grad;
    for (int64_t k = 1; k <= K; ++k) {
      auto err = context.normalized_error(model.predict(xs, ys, k), ys);  // [N, n]
      auto s = @NAME@::last_position(err);
      table.rows.push_back({std::to_string(k), sdk::Table::num(s.mean), sdk::Table::num(s.lo), sdk::Table::num(s.hi)});
    }
    context.output().write_table("@NAME@", table);

    sdk::FigureSpec figure;
    figure.name = "@NAME@";
    figure.title = "error at the last position vs loop iterations";
    figure.xlabel = "loop iterations k";
    figure.ylabel = "normalized squared error";
    figure.log_y = true;
    figure.series.push_back({"i = " + std::to_string(context.n_points() - 1) + " examples", "@NAME@", "iterations",
                             "err_last", "", "", "err_last_lo", "err_last_hi"});
    context.output().add_figure(figure);

    std::ostringstream note;
    note << "Error at the last position after k = " << K << " iterations: " << table.rows.back()[1] << " (over "
         << prompts.xs.size(0) << " prompts).";
    context.output().add_note(note.str());
    context.logger().info("@NAME@: " + note.str());
  }

 private:
  int64_t max_iterations_;
};

}  // namespace

LOOPLAB_PLUGIN("@NAME@", "0.1.0") {
  // The host checks every pipeline value against this schema before calling the factory.
  sdk::ParamSchema schema{
      sdk::int_param("max_iterations", 0, "largest k; 0 = 2b for a looped model, 1 otherwise").at_least(0).at_most(100000),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    return std::make_shared<@CLASS@Analysis>(p.get_int("max_iterations"));
  };
  return {sdk::make_analysis_component("@NAME@", "0.1.0", "error at the last position vs loop iterations (template)",
                                       std::move(schema), factory)};
}
)tpl";

constexpr const char* kAnalysisTest = R"tpl(  EXPECT(component->kind() == sdk::ComponentKind::Analysis);
  if (component->kind() != sdk::ComponentKind::Analysis) return 1;
  // Every parameter has a default, so `[[analyses]] type = "@NAME@"` alone is a valid table.
  for (const auto& p : component->params) EXPECT(p.fallback.has_value());
  auto analysis = std::get<sdk::AnalysisFactory>(component->factory)(sdk::Params::defaults(component->params));
  EXPECT(analysis != nullptr);
)tpl";

constexpr const char* kAnalysisPipeline = R"tpl(# Trains a small looped GPT, then runs the @NAME@ analysis on it.
#   looplab run pipeline.toml --out runs/@NAME@      # outputs in runs/@NAME@/analyses/@NAME@/
#   looplab analyze runs/@NAME@ --analysis @NAME@    # again, on the trained run

[run]
name = "@NAME@"
seed = 0
threads = 1
plugin_paths = ["build/plugins"]   # relative to this file: where `cmake --build build` puts the library

[task]
type = "linear_regression"
n_dims = 3
n_points = 8

[model]
n_embd = 32
looped = true
loops = 4
window = 4

[[model.blocks]]
type = "gpt"
n_head = 2

[training]
steps = 1000
batch_size = 64
lr = 2e-3
log_every = 100
checkpoint_every = 500

[evaluation]
prompts = 512
bootstrap = 200

[[analyses]]
type = "@NAME@"
max_iterations = 8
)tpl";

// Narrowest torch headers each test needs, after the SDK's.
constexpr const char* kBlockTestIncludes = "#include <torch/nn/module.h>\n#include <torch/types.h>\n#include <torch/utils.h>\n";
constexpr const char* kTaskTestIncludes = "#include <ATen/CPUGeneratorImpl.h>\n#include <torch/types.h>\n";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// my_block -> MyBlock; a name without letters gets a prefix so the class name is valid.
std::string camel_case(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char ch : name) {
    if (ch == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "My" + out;
  return out;
}

const std::set<std::string>& cxx_keywords() {
  static const std::set<std::string> words = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
      "char", "char16_t", "char32_t", "char8_t", "class", "compl", "concept", "const", "consteval", "constexpr",
      "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
      "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
      "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
      "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
      "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
      "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};
  return words;
}

// The prefix this looplab is installed in, if it carries the CMake package.
std::string install_prefix() {
  std::error_code ec;
  auto prefix = fs::weakly_canonical(fs::path(executable_directory()) / "..", ec);
  if (!ec && fs::exists(prefix / "lib/cmake/looplab/looplabConfig.cmake", ec)) return prefix.string();
  return "/path/to/looplab/prefix";
}

}  // namespace

std::string check_plugin_name(const std::string& name) {
  if (name.empty()) return "a plugin name must not be empty";
  const bool starts_ok = std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_';
  const bool rest_ok = std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
  });
  if (!starts_ok || !rest_ok)
    return "plugin name '" + name + "' is not a C identifier (letters, digits and '_', not starting with a digit)";
  if (cxx_keywords().count(name)) return "plugin name '" + name + "' is a C++ keyword";
  return "";
}

std::vector<std::pair<std::string, std::string>> plugin_project_files(const std::string& kind,
                                                                      const std::string& name,
                                                                      const std::string& prefix) {
  const char *header, *source, *plugin, *test, *includes, *pipeline;
  if (kind == "block") {
    header = kBlockHeader, source = kBlockSource, plugin = kBlockPlugin, test = kBlockTest;
    includes = kBlockTestIncludes, pipeline = kBlockPipeline;
  } else if (kind == "task") {
    header = kTaskHeader, source = kTaskSource, plugin = kTaskPlugin, test = kTaskTest;
    includes = kTaskTestIncludes, pipeline = kTaskPipeline;
  } else if (kind == "analysis") {
    header = kAnalysisHeader, source = kAnalysisSource, plugin = kAnalysisPlugin, test = kAnalysisTest;
    includes = "", pipeline = kAnalysisPipeline;
  } else {
    throw std::invalid_argument("unknown plugin kind '" + kind + "' (expected block, task or analysis)");
  }
  // The test's torch includes go right after the SDK include of its common head.
  std::string test_file = replace_all(kTestHead, "#include <looplab/sdk/plugin.h>\n",
                                      std::string("#include <looplab/sdk/plugin.h>\n") + includes) +
                          test + kTestTail;
  std::vector<std::pair<std::string, std::string>> files = {
      {"CMakeLists.txt", kCMakeLists}, {"README.md", kReadme},
      {name + ".h", header},           {name + ".cpp", source},
      {"plugin.cpp", plugin},          {"test_" + name + ".cpp", test_file},
      {"pipeline.toml", pipeline},
  };
  const std::string cls = camel_case(name);
  for (auto& [path, text] : files) {
    text = replace_all(text, "@NAME@", name);
    text = replace_all(text, "@CLASS@", cls);
    text = replace_all(text, "@KIND@", kind);
    text = replace_all(text, "@PREFIX@", prefix);
  }
  return files;
}

int write_plugin_project(const std::string& kind, const std::string& name, const std::string& dir,
                         std::ostream& out, std::ostream& err) {
  if (kind != "block" && kind != "task" && kind != "analysis") {
    err << "looplab: error: --kind must be block, task or analysis, not '" << kind << "'\n";
    return 2;
  }
  if (auto problem = check_plugin_name(name); !problem.empty()) {
    err << "looplab: error: " << problem << "\n";
    return 2;
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      err << "looplab: error: " << dir << " exists and is not a directory\n";
      return 2;
    }
    if (!fs::is_empty(dir, ec)) {
      err << "looplab: error: " << dir << " is not empty; new-plugin writes only into a new or empty directory\n";
      return 2;
    }
  }
  fs::create_directories(dir, ec);
  if (ec) {
    err << "looplab: error: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  const std::string prefix = install_prefix();
  for (const auto& [path, text] : plugin_project_files(kind, name, prefix)) {
    const auto file = fs::path(dir) / path;
    std::ofstream stream(file, std::ios::binary);
    stream << text;
    if (!stream.flush()) {
      err << "looplab: error: cannot write " << file.string() << "\n";
      return 1;
    }
    out << "wrote " << file.string() << "\n";
  }
  out << "next: cd " << dir << " && cmake -S . -B build -DCMAKE_PREFIX_PATH=" << prefix
      << " && cmake --build build && ctest --test-dir build\n";
  return 0;
}

}  // namespace looplab::host
