#include "selective_scan.h"

#include <stdexcept>
#include <vector>

namespace looplab::blocks {

ScanKind parse_scan_kind(const std::string& name) {
  if (name == "fused") return ScanKind::Fused;
  if (name == "parallel") return ScanKind::Parallel;
  if (name == "sequential") return ScanKind::Sequential;
  throw std::invalid_argument("mamba: unknown scan '" + name + "' (expected fused, parallel or sequential)");
}

torch::Tensor selective_scan(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                             const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D, ScanKind kind) {
  switch (kind) {
    case ScanKind::Fused: return selective_scan_fused(x, delta, A, B, C, D);
    case ScanKind::Parallel: return selective_scan_parallel(x, delta, A, B, C, D);
    case ScanKind::Sequential: break;
  }
  return selective_scan_sequential(x, delta, A, B, C, D);
}

torch::Tensor selective_scan_parallel(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                      const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  // Step t is the affine map h -> a_t h + u_t. Composing step t with the steps before it,
  // Hillis-Steele style, doubles the span each round: after the round with offset k, entry t
  // is the composition of steps (t - 2k, t]; with h_{-1} = 0 the final u_t is h_t. Products of
  // decays only, never a division, so underflow gives exact zeros and no NaN.
  auto a = torch::exp(delta.unsqueeze(-1) * A);         // [Bt, S, Di, N]
  auto u = (delta * x).unsqueeze(-1) * B.unsqueeze(2);  // [Bt, S, Di, N]
  const int64_t S = x.size(1);
  for (int64_t k = 1; k < S; k *= 2) {
    const auto a_late = a.narrow(1, k, S - k), a_early = a.narrow(1, 0, S - k);
    u = torch::cat({u.narrow(1, 0, k), torch::addcmul(u.narrow(1, k, S - k), a_late, u.narrow(1, 0, S - k))}, 1);
    if (2 * k < S) a = torch::cat({a.narrow(1, 0, k), a_late * a_early}, 1);
  }
  return torch::matmul(u, C.unsqueeze(-1)).squeeze(-1) + D * x;  // sum_n C_t[n] h_t[i, n]
}

torch::Tensor selective_scan_sequential(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                                        const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  // Decay and input of every step at once ([Bt, S, Di, N]), then one view per step taken
  // with unbind: indexing a step inside the loop would make backward allocate a full-size
  // zero gradient per step.
  const auto decay = torch::exp(delta.unsqueeze(-1) * A).unbind(1);
  const auto input = ((delta * x).unsqueeze(-1) * B.unsqueeze(2)).unbind(1);
  const auto readout = C.unsqueeze(-1).unbind(1);  // [Bt, N, 1] per step
  auto h = torch::zeros({x.size(0), x.size(2), A.size(1)}, x.options());
  std::vector<torch::Tensor> ys;
  ys.reserve(decay.size());
  for (size_t t = 0; t < decay.size(); ++t) {
    h = decay[t] * h + input[t];
    ys.push_back(torch::bmm(h, readout[t]).squeeze(-1));
  }
  return torch::stack(ys, 1) + D * x;
}

}  // namespace looplab::blocks
