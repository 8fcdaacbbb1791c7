#pragma once
/// @file cpu_load.h
/// How many cores this process may use and how many of them other processes keep busy, for
/// choosing LibTorch's thread count. OpenMP threads that share a core with another busy
/// process wait at every barrier for the one the kernel descheduled: on 2 cores, 2 threads
/// next to one busy process ran 2-4x slower than 1 thread did.

#include <cstdint>
#include <string>

namespace looplab::host {

/// What the scheduler lets this process run on.
struct CpuBudget {
  int64_t affinity = 1;  ///< CPUs in the affinity mask.
  double quota = 0;      ///< cgroup CPU quota in cores (cpu.max or cfs_quota/period); 0 = none.
  /// CPUs usable at all: the affinity count, capped by the quota (rounded up, at least 1).
  int64_t usable() const;
};

/// The affinity mask and the cgroup (v2, else v1) CPU quota of this process.
CpuBudget cpu_budget();

/// The average number of CPUs in the affinity mask that processes other than this one kept busy
/// over the next `window_ms` (it sleeps that long). From /proc/stat and this process's own CPU
/// time; -1 when /proc cannot be read.
double busy_cores_of_others(int64_t window_ms);

/// A thread count and why it was chosen, as the start-of-run line says it.
struct ThreadChoice {
  int64_t threads = 1;
  std::string reason;  ///< e.g. "asked for", "2 cores free", "1 of 2 cores busy with other processes"
};

/// `requested` > 0: that many ("asked for"). 0: the usable CPUs not busy with other processes
/// (`others` as busy_cores_of_others measured it; rounded to nearest, at least 1).
ThreadChoice choose_threads(int64_t requested, const CpuBudget& budget, double others);

}  // namespace looplab::host
