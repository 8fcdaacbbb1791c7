#include "common/devices.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>

#include <ATen/Context.h>

#include <malloc.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace looplab::host {

c10::Device resolve_device(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "cpu" || (name == "auto" && !cuda)) return c10::Device(c10::kCPU);
  if (!cuda) throw std::runtime_error("device = \"cuda\" but LibTorch sees no CUDA device");
  return c10::Device(c10::kCUDA, 0);
}

ThreadChoice configure_threads(int64_t requested) {
  // LibTorch may default to 1 thread in containers: always set the count explicitly.
  auto choice = choose_threads(requested, cpu_budget(), requested > 0 ? 0.0 : busy_cores_of_others(300));
  at::set_num_threads(static_cast<int>(choice.threads));
  choice.threads = at::get_num_threads();
  return choice;
}

at::Generator make_generator(const c10::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  auto gen = at::detail::getCUDAHooks().getNewGenerator(device.index());
  gen.set_current_seed(seed);
  return gen;
}

void configure_tf32(bool allow) {
  at::globalContext().setAllowTF32CuBLAS(allow);
  at::globalContext().setAllowTF32CuDNN(allow);
}

bool keep_freed_memory() {
  if (const char* env = std::getenv("LOOPLAB_KEEP_FREED_MEMORY"); env && std::string(env) == "0") return false;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}

std::string thread_warning(int64_t requested) {
  const int threads = at::get_num_threads();
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores > 1 && threads == 1 && requested != 1)
    return "LibTorch runs on 1 thread on a machine with " + std::to_string(cores) +
           " cores (OMP_NUM_THREADS or [run] threads?); training will be slow";
  if (cores > 0 && threads > cores)
    return "LibTorch runs " + std::to_string(threads) + " threads on " + std::to_string(cores) +
           " cores: oversubscribed, expect slow steps";
  return "";
}

}  // namespace looplab::host
