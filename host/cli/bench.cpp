#include "cli/bench.h"

#include "cli/command_line.h"
#include "cli/doctor.h"
#include "cli/op_profile.h"
#include "common/csv.h"
#include "common/devices.h"
#include "common/errors.h"
#include "common/exit_code.h"
#include "common/text.h"
#include "config/baselines.h"
#include "config/pipeline.h"
#include "evaluation/evaluation.h"
#include "model/model_factory.h"
#include "registry/plugin_registry.h"
#include "training/fused_adam.h"
#include "training/train_step.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#if defined(LOOPLAB_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <sys/resource.h>
#include <time.h>

namespace looplab::host {

const std::vector<BenchSize>& bench_sizes() {
  // name, block, task, d, points, D, heads, layers L, loops b, window T, batch, looped, reps
  static const std::vector<BenchSize> sizes = {
      {"tiny", "gpt", "linear_regression", 3, 7, 32, 2, 1, 4, 2, 16, true, 200},
      {"small", "gpt", "linear_regression", 5, 11, 64, 4, 1, 10, 5, 64, true, 40},
      {"study", "gpt", "linear_regression", 10, 31, 128, 4, 1, 10, 10, 64, true, 8},
      {"paper", "gpt", "linear_regression", 20, 41, 256, 8, 1, 20, 10, 64, true, 4},
      {"standard12", "gpt", "linear_regression", 20, 41, 256, 8, 12, 1, 0, 64, false, 4},
      {"mamba-small", "mamba", "linear_regression", 5, 11, 64, 0, 1, 10, 5, 64, true, 10},
      {"mamba-paper", "mamba", "linear_regression", 20, 41, 256, 0, 1, 20, 10, 64, true, 2},
      // Evaluation: 1280 prompts x 41 points at d 20 with every baseline of the task.
      {"eval", "", "linear_regression", 20, 41, 0, 0, 0, 0, 0, 1280, false, 5},
      {"eval-noisy", "", "noisy_linear_regression", 20, 41, 0, 0, 0, 0, 0, 1280, false, 5},
  };
  return sizes;
}

namespace {

// Peak resident memory since the last reset, in MiB. Writing "5" to clear_refs resets the
// kernel's high-water mark (VmHWM), so each row reports its own peak; getrusage is the
// process-lifetime fallback.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void reset_peak(const c10::Device& device) {
  reset_peak_rss();
#if defined(LOOPLAB_WITH_CUDA)
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
  (void)device;
#endif
}

double peak_mb(const c10::Device& device) {
#if defined(LOOPLAB_WITH_CUDA)
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
  }
#else
  (void)device;
#endif
  return peak_rss_mb();
}

void sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the whole process (every thread), in ms: unlike wall time it does not count the
// time other processes hold the cores, so it stays comparable on a loaded machine.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// The pipeline `looplab run` would get for this size (validated against the plugins' schemas).
std::string pipeline_text(const BenchSize& s, const std::string& device, int64_t threads) {
  std::ostringstream t;
  t << "[run]\nname = \"bench-" << s.name << "\"\nseed = 0\ndevice = \"" << device << "\"\nthreads = " << threads
    << "\n[task]\ntype = \"" << s.task << "\"\nn_dims = " << s.n_dims << "\nn_points = " << s.n_points << "\n";
  if (!s.block.empty()) {
    t << "[model]\nn_embd = " << s.n_embd << "\nlooped = " << (s.looped ? "true" : "false") << "\nloops = " << s.loops
      << "\nwindow = " << s.window << "\n[[model.blocks]]\ntype = \"" << s.block << "\"\nrepeat = " << s.layers << "\n";
    if (s.n_head > 0) t << "n_head = " << s.n_head << "\n";
  } else {
    t << "[model]\nn_embd = 32\n[[model.blocks]]\ntype = \"gpt\"\nn_head = 2\n";  // unused by the eval rows
  }
  t << "[training]\nsteps = 1000000\nbatch_size = " << s.batch << "\n[evaluation]\nprompts = " << s.batch << "\n";
  return t.str();
}

struct Options {
  std::vector<std::string> configs, plugin_paths;
  int64_t reps = 0, warmup = 2, threads = 0;
  std::string device = "cpu", csv;
  std::string optimizer = "fused", attention = "auto";
  bool json = false, profile = false, cuda_graphs = false;
};

BenchRow train_row(const BenchSize& s, const PipelineConfig& cfg, const Options& o, const c10::Device& device) {
  BenchRow row{s.name, device.str()};
  torch::manual_seed(0);
  auto task = make_task(cfg);
  auto model = make_model(cfg);
  model->to(device);
  model->train();
  std::unique_ptr<torch::optim::Adam> opt = make_optimizer(cfg.training, *model);
  if (o.optimizer == "plain")  // for measuring what the fused step buys
    opt = std::make_unique<torch::optim::Adam>(model->parameters(),
                                               static_cast<const torch::optim::AdamOptions&>(opt->defaults()));
  TrainStep step(model, task, *opt, device, cfg.training.batch_size, cfg.model.window, o.cuda_graphs, nullptr);
  auto gen = make_generator(device, 1);
  const int64_t b = cfg.loops.at(0), dims = cfg.dims.at(0), pts = cfg.points.at(0);
  row.reps = o.reps > 0 ? o.reps : s.default_reps;
  torch::Tensor loss;
  reset_peak(device);
  for (int64_t i = 0; i < o.warmup; ++i) loss = step(b, dims, pts, gen);
  sync(device);
  std::vector<double> ms, cpu;
  for (int64_t i = 0; i < row.reps; ++i) {
    const double t0 = now_ms(), c0 = cpu_ms();
    loss = step(b, dims, pts, gen);
    sync(device);
    ms.push_back(now_ms() - t0);
    cpu.push_back(cpu_ms() - c0);
  }
  row.ms = median(ms);
  row.cpu_ms = median(cpu);
  row.ms_min = *std::min_element(ms.begin(), ms.end());
  row.tokens_per_s = static_cast<double>(cfg.training.batch_size * 2 * pts) / (row.ms / 1e3);
  row.peak_mb = peak_mb(device);
  row.loss = loss.item<double>();
  row.note = std::string(s.looped ? "looped" : "standard") + " " + s.block + ", L " + std::to_string(s.layers) +
             ", b " + std::to_string(s.loops) + ", T " + std::to_string(s.window) + ", batch " +
             std::to_string(cfg.training.batch_size) + (step.replaying() ? ", CUDA graph" : "");
  if (o.profile) {
    std::cerr << "profile of one " << s.name << " step:\n";
    print_op_profile(
        [&] {
          step(b, dims, pts, gen);
          sync(device);
        },
        std::cerr);
  }
  return row;
}

// Everything evaluate() does besides the model: the fixed prompt set, each baseline of the
// task refitted on every prefix, and the bootstrap band of its error.
BenchRow eval_row(const BenchSize& s, const PipelineConfig& cfg, const Options& o) {
  BenchRow row{s.name, "cpu"};
  auto task = make_task(cfg);
  row.reps = o.reps > 0 ? std::min<int64_t>(o.reps, s.default_reps) : s.default_reps;
  const double norm = task->y_second_moment(cfg.n_dims);
  std::vector<double> ms, cpu;
  reset_peak_rss();
  for (int64_t i = 0; i < row.reps + 1; ++i) {  // the first is warm-up
    const double t0 = now_ms(), c0 = cpu_ms();
    const auto prompts = evaluation_prompts(*task, cfg);
    for (const auto& b : baseline_predictions(*task, cfg, prompts, nullptr))
      error_rows(b.id, 0, b.pred, prompts.ys, norm, cfg.evaluation);
    if (i > 0) ms.push_back(now_ms() - t0), cpu.push_back(cpu_ms() - c0);
  }
  row.ms = median(ms);
  row.cpu_ms = median(cpu);
  row.ms_min = *std::min_element(ms.begin(), ms.end());
  row.tokens_per_s = static_cast<double>(cfg.evaluation.prompts) / (row.ms / 1e3);
  row.peak_mb = peak_rss_mb();
  std::string names;
  for (const auto& b : cfg.baselines) names += (names.empty() ? "" : "+") + baseline_id(b);
  row.note = std::to_string(cfg.evaluation.prompts) + " prompts x " + std::to_string(cfg.n_points) + " points, d " +
             std::to_string(cfg.n_dims) + ": " + names + ", bootstrap " + std::to_string(cfg.evaluation.bootstrap);
  return row;
}

std::string json_line(const BenchRow& r) {
  nlohmann::ordered_json j;
  j["config"] = r.config;
  j["impl"] = "looplab";
  j["device"] = r.device;
  if (r.skipped) {
    j["skipped"] = true;
  } else {
    j["ms_per_step"] = r.ms;
    j["ms_min"] = r.ms_min;
    j["cpu_ms"] = r.cpu_ms;
    j["tokens_per_s"] = r.tokens_per_s;
    j["peak_mb"] = r.peak_mb;
    j["reps"] = r.reps;
    j["threads"] = r.threads;
    j["loss"] = r.loss;
  }
  j["note"] = r.note;
  return j.dump();
}

void print_table_header() {
  std::printf("%-12s %-6s %12s %12s %12s %14s %10s %5s  %s\n", "config", "device", "ms/step", "min ms", "cpu ms",
              "tokens/s", "peak MiB", "reps", "note");
}

void print_table_row(const BenchRow& r) {
  if (r.skipped) {
    std::printf("%-12s %-6s %12s %12s %12s %14s %10s %5s  %s\n", r.config.c_str(), r.device.c_str(), "-", "-", "-", "-",
                "-", "-", r.note.c_str());
  } else {
    std::printf("%-12s %-6s %12.2f %12.2f %12.2f %14.0f %10.0f %5lld  %s\n", r.config.c_str(), r.device.c_str(), r.ms,
                r.ms_min, r.cpu_ms, r.tokens_per_s, r.peak_mb, static_cast<long long>(r.reps), r.note.c_str());
  }
  std::fflush(stdout);
}

// One size: trained through the registry as `looplab run` builds it, or the evaluation row.
BenchRow measure_size(const BenchSize& s, const Options& o, const PluginRegistry& registry, const c10::Device& device,
                      int64_t threads) {
  BenchRow row{s.name, device.str()};
  const bool needs_block = !s.block.empty();
  if (needs_block && !registry.find(sdk::ComponentKind::Block, s.block)) {
    row.skipped = true;
    row.note = "skipped: no '" + s.block + "' block plugin found";
  } else {
    try {
      auto doc = toml::parse(pipeline_text(s, o.device, threads), "bench:" + s.name);
      auto cfg = build_pipeline(doc, "bench:" + s.name, registry, check_factories);
      row = needs_block ? train_row(s, cfg, o, device) : eval_row(s, cfg, o);
    } catch (const ConfigError& e) {
      row.skipped = true;
      row.note = "skipped: " + e.diagnostics().render();
      row.note.erase(std::remove(row.note.begin(), row.note.end(), '\n'), row.note.end());
    } catch (const std::exception& e) {
      row.skipped = true;
      row.note = "skipped: " + error_text(e);
      row.note = row.note.substr(0, row.note.find('\n'));
    }
  }
  row.threads = threads;
  return row;
}

// The rows as a CSV table (skipped rows leave the timings empty).
sdk::Table bench_table(const std::vector<BenchRow>& rows) {
  sdk::Table t{{"config", "device", "ms_per_step", "ms_min", "cpu_ms", "tokens_per_s", "peak_mb", "reps", "threads",
                "loss", "note"},
               {}};
  auto value = [](const BenchRow& r, double v) { return r.skipped ? std::string() : std::to_string(v); };
  for (const auto& r : rows)
    t.rows.push_back({r.config, r.device, value(r, r.ms), value(r, r.ms_min), value(r, r.cpu_ms),
                      value(r, r.tokens_per_s), value(r, r.peak_mb), std::to_string(r.reps), std::to_string(r.threads),
                      sdk::Table::num(r.loss), r.note});
  return t;
}

// The sizes named by --config (all when none), or nullopt after an unknown name.
std::optional<std::vector<const BenchSize*>> chosen_sizes(const std::vector<std::string>& wanted) {
  std::vector<std::string> names;
  for (const auto& s : bench_sizes()) names.push_back(s.name);
  std::vector<const BenchSize*> chosen;
  for (const auto& name : wanted) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      usage_error(unknown_name("bench size", name, names, NameList::kValid));
      return std::nullopt;
    }
    chosen.push_back(&bench_sizes()[static_cast<size_t>(it - names.begin())]);
  }
  if (chosen.empty())
    for (const auto& s : bench_sizes()) chosen.push_back(&s);
  return chosen;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  Options o;
  auto desc = help_options();
  desc.add_options()("config", po::value(&o.configs)->composing(), "size to run (repeatable; default: all)")(
      "reps", po::value(&o.reps), "timed steps per size (default: per size)")(
      "warmup", po::value(&o.warmup)->default_value(2), "untimed steps first")(
      "threads", po::value(&o.threads)->default_value(0), "LibTorch intra-op threads; 0 = the cores free now")(
      "device", po::value(&o.device)->default_value("cpu"), "cpu or cuda")(
      "cuda-graphs", po::bool_switch(&o.cuda_graphs), "replay the step from a CUDA graph (cuda only)")(
      "json", po::bool_switch(&o.json), "one JSON object per row instead of the table")(
      "csv", po::value(&o.csv), "also write the rows to this CSV file")(
      "optimizer", po::value(&o.optimizer)->default_value("fused"), "fused or plain (torch::optim::Adam's loop)")(
      "attention", po::value(&o.attention)->default_value("auto"),
      "auto (LibTorch picks the fused CPU kernel) or math (the unfused reference path)")(
      "profile", po::bool_switch(&o.profile), "print an operator profile of one extra step per size (stderr)")(
      "plugin-path", po::value(&o.plugin_paths)->composing(), "extra plugin directory (repeatable)");
  const char* usage =
      "usage: looplab bench [--config NAME]... [--reps N] [--threads N] [--device cpu|cuda] [--json] [--csv FILE]\n";
  std::ostringstream sizes;
  sizes << "sizes:";
  for (const auto& s : bench_sizes()) sizes << " " << s.name;
  sizes << "\n";
  po::variables_map vm;
  if (auto done = parse_command_line(args, desc, {}, vm, usage, sizes.str())) return *done;
  const auto chosen = chosen_sizes(o.configs);
  if (!chosen) return kBadInput;
  if (o.device != "cpu" && o.device != "cuda") return usage_error("--device must be cpu or cuda");
  if ((o.optimizer != "fused" && o.optimizer != "plain") || (o.attention != "auto" && o.attention != "math"))
    return usage_error("--optimizer fused|plain, --attention auto|math");
  if (o.attention == "math") at::globalContext().setSDPUseFlash(false);
  const auto device = resolve_device(o.device);
  const auto choice = configure_threads(o.threads);
  const int64_t threads = choice.threads;
  PluginRegistry registry(looplab_vetting());
  registry.load_directories(plugin_directories(o.plugin_paths, {}));
  if (!o.json) {
    std::printf("looplab bench | %s | %lld threads (%s) | %s\n", cpu_model().c_str(), static_cast<long long>(threads),
                choice.reason.c_str(), device.str().c_str());
    print_table_header();
  }
  std::vector<BenchRow> rows;
  for (const auto* s : *chosen) {
    rows.push_back(measure_size(*s, o, registry, device, threads));
    if (o.json)
      std::cout << json_line(rows.back()) << std::endl;
    else
      print_table_row(rows.back());
  }
  if (!o.csv.empty()) {
    try {
      write_csv(o.csv, bench_table(rows));
    } catch (const std::exception& e) {
      print_error(error_text(e));
      return kFailure;
    }
  }
  return kOk;
}

}  // namespace looplab::host
