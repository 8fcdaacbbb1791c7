#pragma once
// The gradient-descent-trained two-layer ReLU network in-context baseline (conventions in
// predictions.h), Garg et al.'s NN baseline for ReLU network regression.

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>

namespace looplab::baselines {

struct NnGdOptions {
  /// Hidden width h; must be >= 1.
  TORCH_ARG(int64_t, hidden) = 100;
  /// Adam learning rate; must be > 0.
  TORCH_ARG(double, lr) = 5e-3;
  /// Adam steps per network; must be >= 0 (0: the untrained network predicts).
  TORCH_ARG(int64_t, steps) = 1000;
  /// Minibatch size per step; must be >= 1.
  TORCH_ARG(int64_t, batch) = 10;
  /// On the CPU: train each network on its own in plain loops (true), or all of them with the
  /// batched tensor operations other devices use (false). The same draws and arithmetic; the
  /// results agree to float rounding (tested), the loops are several times faster.
  TORCH_ARG(bool, cpu_kernel) = true;
};

/// For each prefix length i >= 1, a fresh network f(x) = W2 relu(W1 x + b1) + b2 per prompt
/// (W1 [h, d], b1 [h], W2 [1, h], b2 [1], each uniform in +-1/sqrt(fan_in) as PyTorch's
/// nn.Linear initializes them: fan_in d for W1, b1 and h for W2, b2) is trained by Adam (lr,
/// betas (0.9, 0.999), eps 1e-8, no weight decay; torch's fused Adam kernel) for `steps` steps.
/// Each step draws, per prompt, `batch` indices uniformly with replacement from 0..i-1 and
/// minimizes that prompt's mean squared error over them; the prompts' networks are independent.
/// Column i is f(x_i). Arithmetic is float32 on xs' device with manual forward and backward passes
/// (no autograd): batched matmuls on accelerators; on the CPU plain loops over one network at a
/// time (its numbers stay in cache for every step), prompts in parallel threads.
/// Every random number comes from `gen`, a generator for xs' device, in a fixed order: per prefix,
/// W1 for all prompts ([N, h, d]), b1, W2, b2, then the indices of blocks of up to 128 steps
/// ([steps, N, batch] at a time). So a given generator state gives identical predictions, whatever
/// the number of threads. Invalid options throw std::invalid_argument.
torch::Tensor nn_gd_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const NnGdOptions& options,
                                at::Generator& gen);

}  // namespace looplab::baselines
