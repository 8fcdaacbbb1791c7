#include "ssd.h"

#include <torch/nn/functional/padding.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace looplab::blocks {

namespace F = torch::nn::functional;

SsdKind parse_ssd_kind(const std::string& name) {
  if (name == "chunked") return SsdKind::Chunked;
  if (name == "sequential") return SsdKind::Sequential;
  throw std::invalid_argument("mamba2: unknown scan '" + name + "' (expected chunked or sequential)");
}

torch::Tensor ssd(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A, const torch::Tensor& B,
                  const torch::Tensor& C, const torch::Tensor& D, SsdKind kind, int64_t chunk) {
  if (kind == SsdKind::Chunked) return ssd_chunked(x, dt, A, B, C, D, chunk);
  return ssd_sequential(x, dt, A, B, C, D);
}

torch::Tensor ssd_sequential(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A,
                             const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D) {
  // Views per step taken once (see selective_scan_sequential).
  const auto decay = torch::exp(dt * A).unsqueeze(-1).unsqueeze(-1).unbind(1);       // [Bt, Hd, 1, 1]
  const auto input = (dt.unsqueeze(-1) * x).unsqueeze(-1).unbind(1);                 // [Bt, Hd, P, 1]
  const auto write = B.unsqueeze(1).unsqueeze(1).unbind(3);                          // [Bt, 1, 1, N]
  const auto read = C.unsqueeze(1).unsqueeze(-1).unbind(2);                          // [Bt, 1, N, 1]
  auto h = torch::zeros({x.size(0), x.size(2), x.size(3), B.size(2)}, x.options());  // [Bt, Hd, P, N]
  std::vector<torch::Tensor> ys;
  ys.reserve(decay.size());
  for (size_t t = 0; t < decay.size(); ++t) {
    h = decay[t] * h + input[t] * write[t];
    ys.push_back(torch::matmul(h, read[t]).squeeze(-1));
  }
  return torch::stack(ys, 1) + D.unsqueeze(-1) * x;
}

torch::Tensor segsum(const torch::Tensor& a) {
  const int64_t T = a.size(-1);
  const auto opts = a.options().dtype(torch::kBool);
  // rows[..., i, j] = a_i where i > j, else 0; summing over i <= row gives a_{j+1} + ... + a_i
  // exactly (no difference of cumulative sums, no cancellation).
  auto square = a.sizes().vec();
  square.push_back(T);
  auto rows = a.unsqueeze(-1).expand(square).masked_fill(torch::ones({T, T}, opts).tril(-1).logical_not(), 0.0);
  auto sums = rows.cumsum(-2);
  return sums.masked_fill(torch::ones({T, T}, opts).tril(0).logical_not(), -std::numeric_limits<double>::infinity());
}

torch::Tensor ssd_chunked(const torch::Tensor& x, const torch::Tensor& dt, const torch::Tensor& A,
                          const torch::Tensor& B, const torch::Tensor& C, const torch::Tensor& D, int64_t chunk) {
  if (chunk <= 0) throw std::invalid_argument("mamba2: chunk size must be positive");
  const int64_t Bt = x.size(0), S = x.size(1), Hd = x.size(2), P = x.size(3), N = B.size(2);
  const int64_t Q = std::min(chunk, S), c = (S + Q - 1) / Q, pad = c * Q - S;
  // Zero padding at the end: dt = 0 there, so padded steps add nothing and decay nothing.
  auto time_pad = [&](const torch::Tensor& t) {
    if (pad == 0) return t;
    auto shape = t.sizes().vec();
    shape[1] = pad;
    return torch::cat({t, torch::zeros(shape, t.options())}, 1);
  };
  // Chunked layouts, heads first: X [Bt, Hd, c, Q, P], a [Bt, Hd, c, Q], B and C [Bt, 1, c, Q, N].
  const auto X = time_pad(x * dt.unsqueeze(-1)).reshape({Bt, c, Q, Hd, P}).permute({0, 3, 1, 2, 4});
  const auto a = time_pad(dt * A).reshape({Bt, c, Q, Hd}).permute({0, 3, 1, 2});
  const auto Bc = time_pad(B).reshape({Bt, 1, c, Q, N});
  const auto Cc = time_pad(C).reshape({Bt, 1, c, Q, N});
  const auto a_cum = a.cumsum(-1);

  // 1. Inside each chunk: y_l = sum_{s <= l} (C_l . B_s) exp(a_{s+1} + ... + a_l) X_s.
  const auto decay_in = torch::exp(segsum(a));  // [Bt, Hd, c, Q, Q]
  const auto y_diag = torch::matmul(torch::matmul(Cc, Bc.transpose(-1, -2)) * decay_in, X);
  // 2. State at each chunk's end from its own inputs: sum_s exp(a_{s+1} + ... + a_Q) X_s B_s^T.
  const auto decay_to_end = torch::exp(a_cum.narrow(-1, Q - 1, 1) - a_cum);                         // [Bt, Hd, c, Q]
  const auto chunk_states = torch::matmul((X * decay_to_end.unsqueeze(-1)).transpose(-1, -2), Bc);  // [.., P, N]
  // 3. States entering each chunk: zero for the first, then the decayed sum of earlier chunks.
  const auto totals = F::pad(a_cum.select(-1, Q - 1), F::PadFuncOptions({1, 0}));  // [Bt, Hd, c + 1]
  const auto decay_between = torch::exp(segsum(totals));                           // [Bt, Hd, c + 1, c + 1]
  const auto padded_states = F::pad(chunk_states.reshape({Bt, Hd, c, P * N}), F::PadFuncOptions({0, 0, 1, 0}));
  const auto entering = torch::matmul(decay_between, padded_states).narrow(2, 0, c).reshape({Bt, Hd, c, P, N});
  // 4. Their contribution inside the chunk: exp(a_1 + ... + a_l) C_l . H_entering.
  const auto y_off = torch::matmul(Cc, entering.transpose(-1, -2)) * torch::exp(a_cum).unsqueeze(-1);
  const auto y = (y_diag + y_off).permute({0, 2, 3, 1, 4}).reshape({Bt, c * Q, Hd, P}).narrow(1, 0, S);
  return y + D.unsqueeze(-1) * x;
}

}  // namespace looplab::blocks
