#pragma once
// Device, thread and generator set-up.

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include "common/cpu_load.h"

#include <cstdint>
#include <string>

namespace looplab::host {

/// "cpu", "cuda" or "auto" (cuda when LibTorch sees a GPU). Throws std::runtime_error when
/// cuda is asked for and none is available.
c10::Device resolve_device(const std::string& name);
/// Sets LibTorch's intra-op threads: `requested`, or for 0 the cores free right now
/// (choose_threads after sampling the load of other processes for 0.3 s). Returns the count in
/// effect and why it was chosen.
ThreadChoice configure_threads(int64_t requested);
/// A fresh generator of `device`'s type seeded with `seed` (independent of the global one).
at::Generator make_generator(const c10::Device& device, uint64_t seed);
/// Sets whether CUDA matmuls (cuBLAS) and convolutions (cuDNN) may use TF32. A no-op on the
/// CPU; explicit so that a run says which precision it trained in.
void configure_tf32(bool allow);
/// Keeps freed memory in the process instead of returning it to the kernel (glibc mallopt:
/// no mmap for large blocks, no trimming). LibTorch's CPU allocator is plain malloc, so every
/// step would otherwise map and unmap each large activation anew (page faults dominate small
/// looped models). Costs a higher peak RSS. Call once at start-up. Environment
/// LOOPLAB_KEEP_FREED_MEMORY=0 leaves malloc as it is; returns whether the setting was made.
bool keep_freed_memory();
/// One line saying why the intra-op thread count in effect is clearly wrong for this machine
/// (1 thread on a multi-core box that nobody asked for, or more threads than cores), or "" when
/// it looks fine. `requested` is what was asked for ([run] threads, --threads; 0 = all cores):
/// one thread asked for explicitly is a choice, not a mistake.
std::string thread_warning(int64_t requested = 0);

}  // namespace looplab::host
