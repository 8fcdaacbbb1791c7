#pragma once
// Device, thread and generator set-up.

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace looplab::host {

/// "cpu", "cuda" or "auto" (cuda when LibTorch sees a GPU). Throws std::runtime_error when
/// cuda is asked for and none is available.
c10::Device resolve_device(const std::string& name);
/// Sets LibTorch's intra-op threads; 0 means every core. Returns the count in effect.
int64_t configure_threads(int64_t requested);
/// A fresh generator of `device`'s type seeded with `seed` (independent of the global one).
at::Generator make_generator(const c10::Device& device, uint64_t seed);

}  // namespace looplab::host
