#pragma once
// `looplab doctor`: what LibTorch, the BLAS, the threads and the CPU really are on this machine.

#include <ostream>
#include <string>
#include <vector>

namespace looplab::host {

/// The machine facts doctor prints, and the warnings drawn from them.
struct MachineReport {
  std::vector<std::pair<std::string, std::string>> facts;  ///< label -> value, in print order
  std::vector<std::string> warnings;                       ///< one line each
};

/// Collects the report (LibTorch version and build, CUDA devices, threads, BLAS, CPU model and
/// vector extensions, relevant environment variables) and its warnings.
MachineReport machine_report();

/// CPU model name from /proc/cpuinfo ("" when unknown).
std::string cpu_model();

/// `looplab doctor [--threads N]`: prints the report; exit 0.
int doctor_command(const std::vector<std::string>& args);

}  // namespace looplab::host
