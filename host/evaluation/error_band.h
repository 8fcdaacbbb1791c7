#pragma once
/// @file error_band.h
/// Mean error curves with a bootstrap confidence band over prompts.

#include <torch/types.h>

#include <cstdint>

namespace looplab::host {

/// A per-position mean error and its 90% bootstrap band, each float64 CPU [n].
struct ErrorBand {
  torch::Tensor mean;  ///< Mean over prompts.
  torch::Tensor lo;    ///< 5th percentile of the resampled means.
  torch::Tensor hi;    ///< 95th percentile of the resampled means.
};

/// Mean over prompts of a per-prompt error matrix err [N, n] (any float dtype, any device), with
/// a bootstrap 90% band: `resamples` resamples of the N prompts with replacement, drawn from a
/// CPU generator seeded with `seed` (same seed, same band), band = 5th and 95th percentile of
/// the resampled means at each position (linear interpolation). Throws std::invalid_argument
/// when err is not a 2-D float tensor with at least one prompt or when resamples < 1.
ErrorBand error_band(const torch::Tensor& err, int64_t resamples, uint64_t seed);

}  // namespace looplab::host
