#include "evaluation/error_band.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace looplab::host {

ErrorBand error_band(const torch::Tensor& err, int64_t resamples, uint64_t seed) {
  if (err.dim() != 2 || !err.is_floating_point() || err.size(0) < 1) {
    throw std::invalid_argument("error_band: expected a float error matrix [N, n] with N >= 1, got " +
                                c10::str(err.sizes()) + " of " + c10::str(err.scalar_type()));
  }
  if (resamples < 1) {
    throw std::invalid_argument("error_band: resamples must be >= 1, got " + std::to_string(resamples));
  }
  const int64_t N = err.size(0);
  const torch::Tensor e = err.detach().to(torch::kCPU, torch::kDouble).contiguous();
  // Working relative to the first prompt's errors keeps a constant column's mean and band
  // exactly that constant (and loses less precision to cancellation).
  const torch::Tensor reference = e[0];
  const torch::Tensor deviation = e - reference;
  const torch::Tensor mean = reference + deviation.mean(0);

  // A resample is fully described by how often it draws each prompt, so all resampled means
  // are one [resamples, N] x [N, n] product instead of a [resamples, N, n] gather.
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
  const torch::Tensor draws = torch::randint(N, {resamples, N}, gen, torch::TensorOptions().dtype(torch::kLong));
  const torch::Tensor counts =
      torch::zeros({resamples, N}, dbl).scatter_add_(1, draws, torch::ones({resamples, N}, dbl));
  const torch::Tensor means = reference + counts.mm(deviation) / static_cast<double>(N);

  const torch::Tensor band = torch::quantile(means, torch::tensor({0.05, 0.95}, dbl), 0);
  return {mean, band[0].contiguous(), band[1].contiguous()};
}

}  // namespace looplab::host
