#include "common/cpu_load.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace looplab::host {

namespace {

// cgroup v2 "cpu.max" holds "QUOTA PERIOD" or "max PERIOD"; v1 splits them in two files.
double cgroup_quota() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) return quota == "max" || period <= 0 ? 0.0 : std::stod(quota) / period;
  std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double qv = 0, pv = 0;
  if (q >> qv && p >> pv && qv > 0 && pv > 0) return qv / pv;
  return 0.0;
}

// Busy jiffies (everything but idle and iowait) summed over the CPUs in `mask`.
bool busy_jiffies(const cpu_set_t& mask, double& out) {
  std::ifstream stat("/proc/stat");
  std::string line;
  out = 0;
  bool any = false;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;  // per-CPU lines only
    std::istringstream in(line.substr(3));
    int cpu = -1;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &mask)) continue;
    out += user + nice + system + irq + softirq + steal;
    any = true;
  }
  return any;
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int64_t CpuBudget::usable() const {
  int64_t n = std::max<int64_t>(1, affinity);
  if (quota > 0) n = std::min<int64_t>(n, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(quota - 1e-9))));
  return n;
}

CpuBudget cpu_budget() {
  CpuBudget b;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) b.affinity = CPU_COUNT(&mask);
  else b.affinity = std::max(1u, std::thread::hardware_concurrency());
  b.quota = cgroup_quota();
  return b;
}

double busy_cores_of_others(int64_t window_ms) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return -1;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  double busy0 = 0, busy1 = 0;
  if (hz <= 0 || !busy_jiffies(mask, busy0)) return -1;
  const double own0 = own_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
  if (!busy_jiffies(mask, busy1)) return -1;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double others = (busy1 - busy0) / hz - (own_cpu_seconds() - own0);
  return std::clamp(others / std::max(wall, 1e-3), 0.0, static_cast<double>(CPU_COUNT(&mask)));
}

ThreadChoice choose_threads(int64_t requested, const CpuBudget& budget, double others) {
  if (requested > 0) return {requested, "asked for"};
  const int64_t usable = budget.usable();
  const std::string of = " of " + std::to_string(usable) + (usable == 1 ? " core" : " cores");
  if (others < 0) return {usable, "all" + of + " (the load of other processes is unknown)"};
  const int64_t free = std::clamp<int64_t>(std::llround(static_cast<double>(usable) - others), 1, usable);
  if (free == usable) return {usable, "all" + of + " free"};
  std::ostringstream why;
  why.precision(2);
  why << "other processes keep " << others << of << " busy";
  return {free, why.str()};
}

}  // namespace looplab::host
