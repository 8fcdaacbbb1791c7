#include "mamba_block.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace looplab::blocks {

namespace nn = torch::nn;

MambaBlockImpl::MambaBlockImpl(const MambaBlockOptions& opts) : options(opts) {
  const int64_t d = options.n_embd(), di = options.d_inner(), n = options.d_state();
  const int64_t r = options.resolved_dt_rank();
  if (d <= 0 || di <= 0 || n <= 0 || options.d_conv() <= 0)
    throw std::invalid_argument("mamba: n_embd, expand, d_state and d_conv must be positive");
  if (!(options.dt_min() > 0.0 && options.dt_min() <= options.dt_max()))
    throw std::invalid_argument("mamba: need 0 < dt_min (" + std::to_string(options.dt_min()) + ") <= dt_max (" +
                                std::to_string(options.dt_max()) + ")");
  norm = register_module("norm", RmsNorm(d, options.norm_eps()));
  in_proj = register_module("in_proj", nn::Linear(nn::LinearOptions(d, 2 * di).bias(false)));
  conv = register_module("conv", CausalConv1d(di, options.d_conv()));
  x_proj = register_module("x_proj", nn::Linear(nn::LinearOptions(di, r + 2 * n).bias(false)));
  dt_proj = register_module("dt_proj", nn::Linear(nn::LinearOptions(r, di).bias(true)));
  A_log = register_parameter("A_log", torch::empty({di, n}));
  D = register_parameter("D", torch::empty({di}));
  out_proj = register_module("out_proj", nn::Linear(nn::LinearOptions(di, d).bias(false)));
  reset_parameters();
}

void MambaBlockImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  // in_proj, conv, x_proj, out_proj: LibTorch's default init (Mamba keeps PyTorch's).
  for (auto* layer : {&in_proj, &x_proj, &out_proj}) (*layer)->reset_parameters();
  conv->conv->reset_parameters();
  // Mamba's rescale_prenorm_residual: out_proj / sqrt(layers) with one residual per block.
  out_proj->weight.div_(std::sqrt(static_cast<double>(options.depth())));
  const double s = options.dt_scale() / std::sqrt(static_cast<double>(options.resolved_dt_rank()));
  nn::init::uniform_(dt_proj->weight, -s, s);
  dt_proj->bias.copy_(
      inverse_softplus_dt(options.d_inner(), options.dt_min(), options.dt_max(), dt_proj->bias.options()));
  // A = -exp(A_log) = -(1, 2, ..., N) for every channel (S4D-real).
  A_log.copy_(torch::log(torch::arange(1, options.d_state() + 1, A_log.options())).expand_as(A_log));
  D.fill_(1.0);
  norm->weight.fill_(1.0);
}

torch::Tensor MambaBlockImpl::mix(const torch::Tensor& u) {
  const int64_t di = options.d_inner(), n = options.d_state(), r = options.resolved_dt_rank();
  const auto xz = in_proj->forward(u).split(di, -1);
  const auto x = torch::silu(conv->forward(xz[0]));
  const auto dbc = x_proj->forward(x).split_with_sizes({r, n, n}, -1);
  const auto delta = torch::softplus(dt_proj->forward(dbc[0]));
  const auto y = selective_scan(x, delta, -torch::exp(A_log), dbc[1], dbc[2], D, options.scan());
  return out_proj->forward(y * torch::silu(xz[1]));
}

torch::Tensor MambaBlockImpl::forward(const torch::Tensor& h) { return h + mix(norm->forward(h)); }

}  // namespace looplab::blocks
