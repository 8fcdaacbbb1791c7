#include "selective_scan.h"

#include <stdexcept>
#include <vector>

namespace looplab::blocks {

ScanKind parse_scan_kind(const std::string& name) {
  if (name == "fused") return ScanKind::Fused;
  if (name == "sequential") return ScanKind::Sequential;
  throw std::invalid_argument("mamba: unknown scan '" + name + "' (expected fused or sequential)");
}

torch::Tensor selective_scan(const torch::Tensor& x, const torch::Tensor& delta, const torch::Tensor& A,
                             const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D, ScanKind kind) {
  if (kind == ScanKind::Fused) return selective_scan_fused(x, delta, A, B, C, D);
  return selective_scan_sequential(x, delta, A, B, C, D);
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
