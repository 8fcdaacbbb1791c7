#pragma once
/// @file cpu_isa.h
/// Which x86 vector instruction set a plugin's hand-written CPU kernels run with. A plugin
/// compiles its kernel once per set, each copy in its own namespace between
/// LOOPLAB_ISA_BEGIN_AVX512 / LOOPLAB_ISA_BEGIN_AVX2 and LOOPLAB_ISA_END (the plain copy outside
/// any), and calls the copy cpu_isa() names. Give each copy vectors of its own register width
/// (64, 32, 16 bytes): GCC 12 compiles comparisons on vectors wider than the target's registers
/// to one scalar instruction per lane and moves wider integer vectors through the stack, so a
/// 64-byte kernel built for AVX2 runs at SSE2 speed or slower. The choice checks exactly the
/// features the copies are compiled for, so a CPU (or a virtual machine) that hides an
/// unrelated feature of an x86-64-vN level still gets its vector kernels, and it can be
/// narrowed to compare copies on one machine: LOOPLAB_CPU_ISA=avx2 or =baseline. Header-only:
/// nothing here crosses the plugin ABI.

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/// Defined where the AVX-512 and AVX2 copies are compiled (GCC on x86-64); elsewhere only the
/// plain copy exists and cpu_isa() names it.
#define LOOPLAB_ISA_WIDE_COPIES 1
/// Everything up to LOOPLAB_ISA_END is compiled for AVX-512 (F, BW, DQ, VL) with AVX2 and FMA.
#define LOOPLAB_ISA_BEGIN_AVX512 \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma\")")
/// Everything up to LOOPLAB_ISA_END is compiled for AVX2 with FMA.
#define LOOPLAB_ISA_BEGIN_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
/// Ends a LOOPLAB_ISA_BEGIN_* region.
#define LOOPLAB_ISA_END _Pragma("GCC pop_options")
#endif

namespace looplab::sdk {

/// The instruction sets kernels are compiled for, narrowest first.
enum class CpuIsa { baseline = 0, avx2 = 1, avx512 = 2 };

/// "AVX-512", "AVX2" or "baseline" (the plain copy: SSE2 on x86-64).
inline const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512: return "AVX-512";
    case CpuIsa::avx2: return "AVX2";
    default: return "baseline";
  }
}

/// The widest set this CPU runs, from CPUID (through the compiler's runtime).
inline CpuIsa detected_cpu_isa() {
#ifdef LOOPLAB_ISA_WIDE_COPIES
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return CpuIsa::avx512;
  return avx2 ? CpuIsa::avx2 : CpuIsa::baseline;
#else
  return CpuIsa::baseline;
#endif
}

/// The set's value for LOOPLAB_CPU_ISA: "avx512", "avx2" or "baseline".
inline const char* cpu_isa_key(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512: return "avx512";
    case CpuIsa::avx2: return "avx2";
    default: return "baseline";
  }
}

/// The set LOOPLAB_CPU_ISA asks for (a cpu_isa_key); `known` is false for any other value;
/// unset asks for the widest.
inline CpuIsa requested_cpu_isa(bool* known = nullptr) {
  const char* v = std::getenv("LOOPLAB_CPU_ISA");
  if (known) *known = true;
  if (!v || !*v) return CpuIsa::avx512;
  for (const CpuIsa isa : {CpuIsa::avx512, CpuIsa::avx2, CpuIsa::baseline})
    if (std::strcmp(v, cpu_isa_key(isa)) == 0) return isa;
  if (known) *known = false;
  return CpuIsa::avx512;
}

/// The set kernels run with: the detected one, narrowed by LOOPLAB_CPU_ISA (never widened past
/// what the CPU has; an unknown value narrows nothing, and `looplab doctor` says so).
inline CpuIsa cpu_isa() {
  const CpuIsa detected = detected_cpu_isa(), requested = requested_cpu_isa();
  return static_cast<int>(requested) < static_cast<int>(detected) ? requested : detected;
}

/// One of three function pointers (or any values) by cpu_isa(). Cheap (no caching), so a
/// test or bench can change LOOPLAB_CPU_ISA between calls.
template <typename F>
F for_cpu_isa(F avx512, F avx2, F baseline) {
  switch (cpu_isa()) {
    case CpuIsa::avx512: return avx512;
    case CpuIsa::avx2: return avx2;
    default: return baseline;
  }
}

/// Every set this CPU runs, widest first: the copies a test or bench can compare here.
inline std::vector<CpuIsa> runnable_cpu_isas() {
  std::vector<CpuIsa> out;
  for (const CpuIsa isa : {CpuIsa::avx512, CpuIsa::avx2, CpuIsa::baseline})
    if (static_cast<int>(isa) <= static_cast<int>(detected_cpu_isa())) out.push_back(isa);
  return out;
}

/// LOOPLAB_CPU_ISA set to `isa`'s key (or unset, for nullopt) while the scope lives, then
/// restored: runs one copy of the kernels in a test or bench.
class ScopedCpuIsa {
 public:
  explicit ScopedCpuIsa(std::optional<CpuIsa> isa) {
    if (const char* v = std::getenv("LOOPLAB_CPU_ISA")) saved_ = v;
    if (isa)
      setenv("LOOPLAB_CPU_ISA", cpu_isa_key(*isa), 1);
    else
      unsetenv("LOOPLAB_CPU_ISA");
  }
  ~ScopedCpuIsa() {
    if (saved_)
      setenv("LOOPLAB_CPU_ISA", saved_->c_str(), 1);
    else
      unsetenv("LOOPLAB_CPU_ISA");
  }
  ScopedCpuIsa(const ScopedCpuIsa&) = delete;
  ScopedCpuIsa& operator=(const ScopedCpuIsa&) = delete;

 private:
  std::optional<std::string> saved_;
};

}  // namespace looplab::sdk
