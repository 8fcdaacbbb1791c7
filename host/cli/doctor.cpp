#include "cli/doctor.h"

#include "cli/command_line.h"

#include "common/cpu_load.h"
#include "common/devices.h"
#include "common/exit_code.h"

#include <looplab/sdk/cpu_isa.h>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/cuda.h>
#include <torch/version.h>

#if defined(LOOPLAB_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#endif

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <dlfcn.h>
#include <sched.h>

namespace looplab::host {

namespace {

std::string env_or(const char* name, const char* fallback = "(not set)") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// The value after `key` in LibTorch's build summary, up to the next comma or line end.
std::string config_value(const std::string& config, const std::string& key) {
  auto at = config.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  auto end = config.find_first_of(",\n", at);
  return config.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::string line_containing(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) {
      auto start = line.find_first_not_of(" -\t");
      return start == std::string::npos ? line : line.substr(start);
    }
  return "";
}

std::string after_colon(const std::string& line) {
  auto at = line.find(": ");
  return at == std::string::npos ? line : line.substr(at + 2);
}

std::set<std::string> cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> out;
      for (std::string w; words >> w;) out.insert(w);
      return out;
    }
  return {};
}

// "1.2": core counts measured over a short window.
std::string text_number(double x) {
  std::ostringstream out;
  out.precision(2);
  out << x;
  return out.str();
}

// " from DIR": where this process loaded LibTorch from (an installed prefix keeps its own copy).
std::string loaded_from() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&at::show_config), &info) == 0 || info.dli_fname == nullptr) return "";
  char* real = realpath(info.dli_fname, nullptr);  // "bin/../lib" from a run path, resolved
  std::string path = real ? real : info.dli_fname;
  std::free(real);
  return " from " + path.substr(0, path.rfind('/'));
}

}  // namespace

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto v = line.substr(line.find(':') + 1);
      return v.substr(v.find_first_not_of(' '));
    }
  return "";
}

MachineReport machine_report() {
  MachineReport r;
  auto fact = [&r](std::string k, std::string v) { r.facts.emplace_back(std::move(k), std::move(v)); };
  const std::string config = at::show_config();
  fact("LibTorch",
       std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH) + " (CUDA " +
           (config_value(config, "CUDA_VERSION=").empty() ? "none" : config_value(config, "CUDA_VERSION=")) +
           " at build time)" + loaded_from());

  const bool cuda = torch::cuda::is_available();
  std::string devices = cuda ? std::to_string(torch::cuda::device_count()) + " device(s)" : "no device visible";
#if defined(LOOPLAB_WITH_CUDA)
  for (int64_t i = 0; cuda && i < static_cast<int64_t>(torch::cuda::device_count()); ++i) {
    const auto* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
    devices += "; " + std::to_string(i) + ": " + p->name + " (" + std::to_string(p->totalGlobalMem >> 20) +
               " MiB, sm " + std::to_string(p->major) + std::to_string(p->minor) + ")";
  }
  fact("CUDA", devices + "; CUDA graphs compiled in");
#else
  fact("CUDA", devices + "; this build has no CUDA code paths");
#endif

  const auto budget = cpu_budget();
  const int cores = static_cast<int>(budget.usable());
  const int threads = at::get_num_threads();
  fact("threads", "intra-op " + std::to_string(threads) + ", inter-op " +
                      std::to_string(at::get_num_interop_threads()) + ", usable cores " + std::to_string(cores) +
                      " (affinity " + std::to_string(budget.affinity) +
                      (budget.quota > 0 ? ", cgroup quota " + text_number(budget.quota) : ", no cgroup quota") + ")");
  // What a run with [run] threads = 0 would do now: the policy in force.
  const double others = busy_cores_of_others(500);
  const auto choice = choose_threads(0, budget, others);
  fact("load", others < 0 ? std::string("unknown (/proc/stat unreadable)")
                          : "other processes keep " + text_number(others) + " of " + std::to_string(cores) +
                                " cores busy");
  fact("thread policy", "threads = 0 picks the cores free at the start of a run: now " +
                            std::to_string(choice.threads) + " (" + choice.reason +
                            "); the count is recorded in run.json and kept on resume");
  fact("OpenMP wait", "OMP_WAIT_POLICY=" + env_or("OMP_WAIT_POLICY", "-") + ", GOMP_SPINCOUNT=" +
                          env_or("GOMP_SPINCOUNT", "-") +
                          " (unset: libgomp spins ~300k iterations at a barrier, then sleeps)");
  if (others >= 0.5)
    r.warnings.push_back("the machine is oversubscribed: other processes keep " + text_number(others) + " of " +
                         std::to_string(cores) +
                         " cores busy; threads = 0 runs take " + std::to_string(choice.threads) +
                         ", an explicit --threads above that will wait at every OpenMP barrier");
  const std::string blas = config_value(config, "BLAS_INFO=");
  fact("BLAS", (blas.empty() ? "unknown" : blas) +
                   (blas == "mkl" ? " (" + line_containing(config, "Math Kernel Library") + ")" : ""));
  fact("oneDNN", line_containing(config, "MKL-DNN"));
  fact("parallel", after_colon(line_containing(at::get_parallel_info(), "ATen parallel backend")));
  fact("CPU kernels", after_colon(line_containing(config, "CPU capability usage")));

  const auto flags = cpu_flags();
  std::string ext;
  for (const char* f : {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile"})
    if (flags.count(f)) ext += std::string(ext.empty() ? "" : " ") + f;
  fact("CPU", cpu_model() + " | " + (ext.empty() ? "no AVX2" : ext));
  bool isa_known = true;
  sdk::requested_cpu_isa(&isa_known);
  const std::string isa_env = env_or("LOOPLAB_CPU_ISA", "");
  fact("plugin kernels", std::string(sdk::cpu_isa_name(sdk::cpu_isa())) +
                             " (the copy plugins' own CPU kernels run, the fused Mamba scan and nn_gd among them; " +
                             (isa_env.empty() ? std::string("the widest this CPU has")
                                              : "LOOPLAB_CPU_ISA=" + isa_env + ", this CPU has " +
                                                    sdk::cpu_isa_name(sdk::detected_cpu_isa())) +
                             ")");
  if (!isa_known)
    r.warnings.push_back("LOOPLAB_CPU_ISA=" + isa_env + " is none of avx512, avx2, baseline: it narrows nothing");
  std::string env;
  for (const char* v : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                        "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "LOOPLAB_KEEP_FREED_MEMORY", "LOOPLAB_CPU_ISA"})
    env += std::string(env.empty() ? "" : ", ") + v + "=" + env_or(v, "-");
  fact("environment", env);

  if (auto w = thread_warning(); !w.empty()) r.warnings.push_back(w);
  const bool avx512 = flags.count("avx512f") > 0;
  if (blas.find("open") != std::string::npos && avx512 && !std::getenv("OPENBLAS_CORETYPE"))
    r.warnings.push_back(
        "OpenBLAS on an AVX-512 CPU without OPENBLAS_CORETYPE: it may pick slow generic kernels (try "
        "OPENBLAS_CORETYPE=SkylakeX)");
  if (blas.find("open") != std::string::npos && threads > 1 && env_or("OPENBLAS_NUM_THREADS", "") != "1")
    r.warnings.push_back("OpenBLAS threads next to LibTorch's own: set OPENBLAS_NUM_THREADS=1");
  if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp && std::atoi(omp) != threads)
    r.warnings.push_back("OMP_NUM_THREADS=" + std::string(omp) + " but LibTorch uses " + std::to_string(threads) +
                         " threads");
  if (!flags.empty() && !flags.count("avx2"))
    r.warnings.push_back("the CPU reports no AVX2: LibTorch's vectorised CPU kernels will be slow");
  return r;
}

int doctor_command(const std::vector<std::string>& args) {
  int64_t threads = -1;
  auto desc = help_options();
  desc.add_options()("threads", po::value(&threads), "threads as [run] threads would set them (0 = all cores)");
  po::variables_map vm;
  if (auto done = parse_command_line(args, desc, {}, vm, "usage: looplab doctor [--threads N]\n")) return *done;
  // As a run would set them; without --threads, what LibTorch picks by itself.
  if (threads >= 0) configure_threads(threads);
  const auto report = machine_report();
  for (const auto& [k, v] : report.facts)
    std::cout << k << std::string(k.size() < 17 ? 17 - k.size() : 1, ' ') << v << "\n";
  for (const auto& w : report.warnings) std::cout << "warning: " << w << "\n";
  if (report.warnings.empty()) std::cout << "no problems found\n";
  return kOk;
}

}  // namespace looplab::host
