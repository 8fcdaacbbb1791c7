// The CUDA selective scan's glue: the autograd node around the kernels of
// selective_scan_cuda.cu, and the first-use check that falls back to the sequential scan.
#include "selective_scan_cuda.h"

#include "selective_scan.h"
#include "selective_scan_cuda_kernel.cuh"

#include <torch/autograd.h>

#include <ATen/Dispatch.h>
#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#if defined(LOOPLAB_MAMBA_CUDA_SCAN)
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace looplab::blocks {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

#if defined(LOOPLAB_MAMBA_CUDA_SCAN)

template <typename T>
cuda_scan::Inputs<T> inputs_of(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                               const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  return {x.data_ptr<T>(), delta.data_ptr<T>(), A.data_ptr<T>(), B.data_ptr<T>(), C.data_ptr<T>(), D.data_ptr<T>(),
          x.size(0),       x.size(1),           x.size(2),       A.size(1)};
}

void* current_stream(const torch::Tensor& x) { return c10::cuda::getCurrentCUDAStream(x.device().index()).stream(); }

torch::Tensor forward_cuda(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                           const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  c10::cuda::CUDAGuard on_device(x.device());
  auto y = torch::empty_like(x);
  if (x.numel() == 0) return y;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_cuda_forward", [&] {
    cuda_scan::forward(inputs_of<scalar_t>(x, delta, A, B, C, D), y.data_ptr<scalar_t>(), current_stream(x));
  });
  return y;
}

tensor_list backward_cuda(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D,
                          const torch::Tensor& gy) {
  c10::cuda::CUDAGuard on_device(x.device());
  const int64_t Bt = x.size(0), S = x.size(1), Di = x.size(2), N = A.size(1);
  if (x.numel() == 0 || N == 0)
    return {torch::zeros_like(x), torch::zeros_like(delta), torch::zeros_like(A),
            torch::zeros_like(B), torch::zeros_like(C),     torch::zeros_like(D)};
  auto states = torch::empty({Bt, S, N, Di}, x.options());
  auto B_terms = torch::empty_like(states), C_terms = torch::empty_like(states);
  auto gx = torch::empty_like(x), gdelta = torch::empty_like(delta);
  auto A_items = torch::empty({Bt, N, Di}, x.options()), D_items = torch::empty({Bt, Di}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "selective_scan_cuda_backward", [&] {
    const cuda_scan::Grads<scalar_t> g{gy.data_ptr<scalar_t>(),      states.data_ptr<scalar_t>(),
                                       gx.data_ptr<scalar_t>(),      gdelta.data_ptr<scalar_t>(),
                                       B_terms.data_ptr<scalar_t>(), C_terms.data_ptr<scalar_t>(),
                                       A_items.data_ptr<scalar_t>(), D_items.data_ptr<scalar_t>()};
    cuda_scan::backward(inputs_of<scalar_t>(x, delta, A, B, C, D), g, current_stream(x));
  });
  // Sums in a fixed order, by LibTorch's reductions: no atomics, the same result every run.
  return {gx, gdelta, A_items.sum(0).t(), B_terms.sum(-1), C_terms.sum(-1), D_items.sum(0)};
}

/// The autograd node: saves only its inputs; backward recomputes the states.
class CudaScanFunction : public torch::autograd::Function<CudaScanFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& delta,
                               const torch::Tensor& A, const torch::Tensor& B, const torch::Tensor& C,
                               const torch::Tensor& D) {
    ctx->save_for_backward({x, delta, A, B, C, D});
    return forward_cuda(x, delta, A, B, C, D);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto s = ctx->get_saved_variables();
    return backward_cuda(s[0], s[1], s[2], s[3], s[4], s[5], grads[0].contiguous());
  }
};

/// A capture in progress on the current stream: the check (which synchronises) cannot run.
bool capturing() { return c10::cuda::currentStreamCaptureStatusMayInitCtx() != c10::cuda::CaptureStatus::None; }

std::string check_kernel(torch::Device device, torch::Dtype dtype, int64_t states) {
  const auto agreement = compare_with_sequential(selective_scan_cuda_kernel, device, dtype, states);
  if (agreement.max_rel_diff <= scan_check_tolerance(dtype)) return "";
  char text[160];
  std::snprintf(text, sizeof text, "differs from the sequential scan (%s off by %.3g relative, tolerance %g)",
                agreement.worst.c_str(), agreement.max_rel_diff, scan_check_tolerance(dtype));
  return text;
}

#endif  // LOOPLAB_MAMBA_CUDA_SCAN

/// The first line of an exception's message (LibTorch's carry a backtrace after it).
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

#if defined(LOOPLAB_MAMBA_CUDA_SCAN)
bool cuda_scan_compiled() { return true; }

torch::Tensor selective_scan_cuda_kernel(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                         const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  return CudaScanFunction::apply(x, delta, A, B, C, D);
}
#else
bool cuda_scan_compiled() { return false; }

torch::Tensor selective_scan_cuda_kernel(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                         const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw std::runtime_error("mamba: this build has no CUDA selective scan (nvcc or a CUDA LibTorch was missing)");
}
#endif

torch::Tensor selective_scan_cuda(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                  const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  const int64_t N = A.size(1);
  bool use_kernel = cuda_scan_compiled() && N <= cuda_scan::kMaxStates;
#if defined(LOOPLAB_MAMBA_CUDA_SCAN)
  const std::string key = cuda_scan_key(x, N);
  // Never checked inside a CUDA-graph capture (the trainer's first step of a shape is eager,
  // so the check has run by then); an unchecked kernel is not captured either.
  if (use_kernel)
    use_kernel = capturing() ? first_use_verdict(key, nullptr, std::cerr)
                             : first_use_verdict(
                                   key, [&] { return check_kernel(x.device(), x.scalar_type(), N); }, std::cerr);
#endif
  if (use_kernel) return selective_scan_cuda_kernel(x, delta, A, B, C, D);
  return selective_scan_sequential(x, delta, A, B, C, D);
}

std::string cuda_scan_key(const torch::Tensor& x, int64_t states) {
  // The kernels come in two register sizes (selective_scan_cuda.cu); each is checked on its own.
  return x.device().str() + " " + std::string(c10::toString(x.scalar_type())) +
         (states <= cuda_scan::kSmallStates ? " states <= " + std::to_string(cuda_scan::kSmallStates)
                                             : " states <= " + std::to_string(cuda_scan::kMaxStates));
}

double scan_check_tolerance(torch::Dtype dtype) { return dtype == torch::kDouble ? 1e-9 : 1e-4; }

ScanAgreement compare_with_sequential(const ScanFunction& scan, torch::Device device, torch::Dtype dtype,
                                      int64_t states) {
  c10::InferenceMode not_inference(false);
  torch::AutoGradMode with_grad(true);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20261201);
  const int64_t Bt = 2, S = 33, Di = 40, N = states;
  const auto options = torch::dtype(dtype);
  const auto draw = [&](at::IntArrayRef size) { return at::randn(size, gen, options); };
  // delta from softplus over [-6, 3] as the block's init spreads it; A = -(1..N) scaled as at init.
  const auto delta = torch::softplus(at::rand({Bt, S, Di}, gen, options) * 9.0 - 6.0);
  const auto A = -torch::arange(1, N + 1, options).repeat({Di, 1}) * (0.5 + at::rand({Di, 1}, gen, options));
  std::vector<torch::Tensor> inputs{draw({Bt, S, Di}), delta, A, draw({Bt, S, N}), draw({Bt, S, N}), draw({Di})};
  for (auto& t : inputs) t = t.to(device).requires_grad_(true);
  const auto w = draw({Bt, S, Di}).to(device);
  const auto run = [&](const ScanFunction& fn) {
    const auto y = fn(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5]);
    auto grads = torch::autograd::grad({y}, inputs, {w}, /*retain_graph=*/std::nullopt, /*create_graph=*/false,
                                       /*allow_unused=*/true);
    for (size_t k = 0; k < grads.size(); ++k)
      if (!grads[k].defined()) grads[k] = torch::zeros_like(inputs[k]);
    grads.insert(grads.begin(), y.detach());
    return grads;
  };
  const auto got = run(scan), want = run(selective_scan_sequential);
  static const char* const names[] = {"y", "d/dx", "d/ddelta", "d/dA", "d/dB", "d/dC", "d/dD"};
  ScanAgreement agreement;
  for (size_t k = 0; k < got.size(); ++k) {
    const double scale = want[k].abs().max().item<double>();
    double diff = (got[k] - want[k]).abs().max().item<double>() / std::max(scale, 1e-300);
    if (!std::isfinite(diff) || !torch::isfinite(got[k]).all().item<bool>())
      diff = std::numeric_limits<double>::infinity();
    if (diff > agreement.max_rel_diff || agreement.worst.empty()) agreement = {diff, names[k]};
  }
  return agreement;
}

bool first_use_verdict(const std::string& key, const std::function<std::string()>& check, std::ostream& warn) {
  static std::mutex mutex;
  static std::map<std::string, bool> verdicts;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = verdicts.find(key); it != verdicts.end()) return it->second;
  if (!check) return false;  // not checked yet and cannot be now: not fit for this call, nothing remembered
  std::string problem;
  try {
    problem = check();
  } catch (const std::exception& e) {
    problem = "failed: " + first_line(e.what());
  }
  const bool fit = problem.empty();
  if (!fit) warn << "mamba: warning: the CUDA selective scan " << problem << " (" << key << "); using the sequential scan\n";
  verdicts[key] = fit;
  return fit;
}

}  // namespace looplab::blocks
