#pragma once
// The selective scan on CUDA tensors (docs/model.md#selective-scan): a CUDA kernel, one thread
// per (batch item, channel) with the recurrence over time inside and exact backward
// (selective_scan_cuda.cu, selective_scan_cuda_kernel.cuh), and the check that guards it. The
// kernel may ship before a GPU has run it, so its first use per device, dtype and state count
// in a process compares it with the sequential scan on a small input; if they differ, or the
// kernel fails, that one line is printed and the sequential scan is used from then on.

#include <torch/types.h>

#include <functional>
#include <iosfwd>
#include <string>

namespace looplab::blocks {

/// Whether this build holds the CUDA kernel (nvcc and a CUDA LibTorch found at configure time).
bool cuda_scan_compiled();

/// What the fused scan runs for CUDA tensors: the kernel where it is compiled, holds the state
/// count and passed its first-use check on this device and dtype; the sequential scan otherwise.
torch::Tensor selective_scan_cuda(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                  const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// The kernel itself as one autograd node (forward, and backward with the states recomputed),
/// unguarded: contiguous CUDA float or double inputs of the shapes in selective_scan.h and at
/// most 64 states. Throws std::runtime_error in a build without it or when a launch fails.
torch::Tensor selective_scan_cuda_kernel(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                         const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D);

/// Which verdict of the first-use check a scan of x (on a CUDA device) with `states` states
/// reads, e.g. "cuda:0 Float states <= 16": one per device, dtype and kernel register size.
std::string cuda_scan_key(const torch::Tensor& x, int64_t states);

/// A selective scan implementation, for the check below.
using ScanFunction = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                                 const torch::Tensor&, const torch::Tensor&, const torch::Tensor&)>;

/// How far `scan` is from the sequential scan: the largest of max|a - b| / max|b| over the
/// output and the gradients of all six inputs (a missing gradient counts as zero, a
/// non-finite difference as infinity), and which of them it was ("y", "d/dx", ...).
struct ScanAgreement {
  double max_rel_diff = 0;
  std::string worst;
};

/// The first-use check's measurement: both scans on one seeded input (2 items, 33 steps, 40
/// channels, `states` states; steps spanning decays from ~1 to ~0) on `device` in `dtype`.
/// Runs with autograd on whatever the caller's mode; leaves the global generator alone.
ScanAgreement compare_with_sequential(const ScanFunction& scan, torch::Device device, torch::Dtype dtype,
                                      int64_t states);

/// The largest ScanAgreement::max_rel_diff the check accepts: 1e-4 in float, 1e-9 in double.
double scan_check_tolerance(torch::Dtype dtype);

/// The verdict for `key`, from `check` the first time the key is asked for in this process and
/// remembered after. `check` returns "" when the kernel is fit, else what is wrong with it (an
/// exception counts as its message); a failure writes one line to `warn`:
///   mamba: warning: the CUDA selective scan <what> (<key>); using the sequential scan
bool first_use_verdict(const std::string& key, const std::function<std::string()>& check, std::ostream& warn);

}  // namespace looplab::blocks
