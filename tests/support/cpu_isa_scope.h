#pragma once
// Runs code with the CPU kernels of one instruction set (LOOPLAB_CPU_ISA), restoring the
// variable afterwards: the tests check every copy of a hand-written kernel on one machine.
#include <looplab/sdk/cpu_isa.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace looplab::test {

/// LOOPLAB_CPU_ISA set to `isa` for the scope's lifetime ("" unsets it).
class CpuIsaScope {
 public:
  explicit CpuIsaScope(const std::string& isa) {
    if (const char* v = std::getenv("LOOPLAB_CPU_ISA")) saved_ = v;
    if (isa.empty())
      unsetenv("LOOPLAB_CPU_ISA");
    else
      setenv("LOOPLAB_CPU_ISA", isa.c_str(), 1);
  }
  ~CpuIsaScope() {
    if (saved_)
      setenv("LOOPLAB_CPU_ISA", saved_->c_str(), 1);
    else
      unsetenv("LOOPLAB_CPU_ISA");
  }
  CpuIsaScope(const CpuIsaScope&) = delete;
  CpuIsaScope& operator=(const CpuIsaScope&) = delete;

 private:
  std::optional<std::string> saved_;
};

/// LOOPLAB_CPU_ISA's names for every instruction set this CPU runs, widest first.
inline std::vector<std::string> runnable_cpu_isas() {
  std::vector<std::string> names;
  const auto detected = static_cast<int>(sdk::detected_cpu_isa());
  if (detected >= static_cast<int>(sdk::CpuIsa::avx512)) names.push_back("avx512");
  if (detected >= static_cast<int>(sdk::CpuIsa::avx2)) names.push_back("avx2");
  names.push_back("baseline");
  return names;
}

}  // namespace looplab::test
