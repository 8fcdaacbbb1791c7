#include "devices.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>

#include <stdexcept>
#include <thread>

namespace looplab::host {

c10::Device resolve_device(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "cpu" || (name == "auto" && !cuda)) return c10::Device(c10::kCPU);
  if (!cuda) throw std::runtime_error("device = \"cuda\" but LibTorch sees no CUDA device");
  return c10::Device(c10::kCUDA, 0);
}

int64_t configure_threads(int64_t requested) {
  // LibTorch may default to 1 thread in containers; every core unless told otherwise.
  int64_t n = requested > 0 ? requested : static_cast<int64_t>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  at::set_num_threads(static_cast<int>(n));
  return at::get_num_threads();
}

at::Generator make_generator(const c10::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  auto gen = at::detail::getCUDAHooks().getNewGenerator(device.index());
  gen.set_current_seed(seed);
  return gen;
}

}  // namespace looplab::host
