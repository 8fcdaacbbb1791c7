#pragma once
// Where a step's time goes, per LibTorch operator (for `looplab bench --profile`).

#include <functional>
#include <ostream>

namespace looplab::host {

/// Runs `work` under LibTorch's CPU operator profiler and prints the `top` operators by self
/// time (time in the operator minus the operators it called): name, calls, self ms, share.
/// Backward operators run on autograd's worker thread and are counted too.
void print_op_profile(const std::function<void()>& work, std::ostream& out, int top = 25);

}  // namespace looplab::host
