#include "mamba2_block.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace looplab::blocks {

namespace nn = torch::nn;

Mamba2BlockImpl::Mamba2BlockImpl(const Mamba2BlockOptions& opts) : options(opts) {
  const int64_t d = options.n_embd(), di = options.d_inner(), n = options.d_state();
  if (d <= 0 || di <= 0 || n <= 0 || options.d_conv() <= 0 || options.chunk() <= 0)
    throw std::invalid_argument("mamba2: n_embd, expand, d_state, d_conv and chunk must be positive");
  if (options.headdim() <= 0 || di % options.headdim() != 0)
    throw std::invalid_argument("mamba2: headdim (" + std::to_string(options.headdim()) +
                                ") must divide d_inner = expand * n_embd (" + std::to_string(di) + ")");
  if (!(options.dt_min() > 0.0 && options.dt_min() <= options.dt_max()) ||
      !(options.A_min() > 0.0 && options.A_min() <= options.A_max()))
    throw std::invalid_argument("mamba2: need 0 < dt_min <= dt_max and 0 < A_min <= A_max");
  const int64_t heads = options.heads();
  norm = register_module("norm", RmsNorm(d, options.norm_eps()));
  in_proj = register_module("in_proj", nn::Linear(nn::LinearOptions(d, 2 * di + 2 * n + heads).bias(false)));
  conv = register_module("conv", CausalConv1d(di + 2 * n, options.d_conv()));
  dt_bias = register_parameter("dt_bias", torch::empty({heads}));
  A_log = register_parameter("A_log", torch::empty({heads}));
  D = register_parameter("D", torch::empty({heads}));
  out_norm = register_module("out_norm", RmsNorm(di, options.norm_eps()));
  out_proj = register_module("out_proj", nn::Linear(nn::LinearOptions(di, d).bias(false)));
  reset_parameters();
}

void Mamba2BlockImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  in_proj->reset_parameters();
  out_proj->reset_parameters();
  conv->conv->reset_parameters();
  out_proj->weight.div_(std::sqrt(static_cast<double>(options.depth())));
  dt_bias.copy_(inverse_softplus_dt(options.heads(), options.dt_min(), options.dt_max(), dt_bias.options()));
  A_log.copy_(torch::log(torch::empty_like(A_log).uniform_(options.A_min(), options.A_max())));
  D.fill_(1.0);
  norm->weight.fill_(1.0);
  out_norm->weight.fill_(1.0);
}

torch::Tensor Mamba2BlockImpl::mix(const torch::Tensor& u) {
  const int64_t di = options.d_inner(), n = options.d_state(), heads = options.heads();
  const auto parts = in_proj->forward(u).split_with_sizes({di, di + 2 * n, heads}, -1);  // z, xBC, dt
  const auto xbc = torch::silu(conv->forward(parts[1])).split_with_sizes({di, n, n}, -1);
  const auto dt = torch::softplus(parts[2] + dt_bias);
  const auto x = xbc[0].unflatten(-1, {heads, options.headdim()});
  const auto y = ssd(x, dt, -torch::exp(A_log), xbc[1], xbc[2], D, options.scan(), options.chunk());
  return out_proj->forward(out_norm->forward(y.flatten(-2) * torch::silu(parts[0])));
}

torch::Tensor Mamba2BlockImpl::forward(const torch::Tensor& h) { return h + mix(norm->forward(h)); }

}  // namespace looplab::blocks
