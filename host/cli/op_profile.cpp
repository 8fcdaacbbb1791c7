#include "cli/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace looplab::host {

namespace prof = torch::autograd::profiler;

void print_op_profile(const std::function<void()>& work, std::ostream& out, int top) {
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  work();
  const auto lists = prof::disableProfilerLegacy();

  struct Total {
    double self_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Total> totals;
  double all_us = 0;
  // Ranges nest per thread: a pop closes the latest push; its children's time is not its own.
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* start;
      double child_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.start->cpuElapsedUs(e);
        auto& t = totals[open.start->name()];
        t.self_us += us - open.child_us;
        t.calls += 1;
        if (stack.empty())
          all_us += us;
        else
          stack.back().child_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, Total>> rows(totals.begin(), totals.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  char line[256];
  std::snprintf(line, sizeof line, "%-44s %8s %10s %7s\n", "operator", "calls", "self ms", "share");
  out << line;
  for (int i = 0; i < top && i < static_cast<int>(rows.size()); ++i) {
    const auto& [name, t] = rows[i];
    std::snprintf(line, sizeof line, "%-44.44s %8lld %10.3f %6.1f%%\n", name.c_str(), static_cast<long long>(t.calls),
                  t.self_us / 1e3, all_us > 0 ? 100.0 * t.self_us / all_us : 0.0);
    out << line;
  }
  std::snprintf(line, sizeof line, "%-44s %8s %10.3f\n", "total (outermost ranges, all threads)", "", all_us / 1e3);
  out << line;
}

}  // namespace looplab::host
