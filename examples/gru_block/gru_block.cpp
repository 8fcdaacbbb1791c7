#include "gru_block.h"

#include <stdexcept>
#include <string>
#include <tuple>

namespace gru_block {

namespace nn = torch::nn;

GruBlockImpl::GruBlockImpl(const GruBlockOptions& opts) : options(opts) {
  if (options.n_embd() < 1 || options.hidden() < 1 || options.layers() < 1)
    throw std::invalid_argument("gru: n_embd, hidden and layers must be positive");
  ln = register_module("ln", nn::LayerNorm(nn::LayerNormOptions({options.n_embd()}).eps(options.ln_eps())));
  gru = register_module(
      "gru",
      nn::GRU(nn::GRUOptions(options.n_embd(), options.hidden()).num_layers(options.layers()).batch_first(true)));
  proj = register_module("proj", nn::Linear(options.hidden(), options.n_embd()));
}

torch::Tensor GruBlockImpl::forward(const torch::Tensor& h) {
  // Every sequence starts from a zero state, so prompts never see each other.
  auto out = std::get<0>(gru->forward(ln->forward(h)));
  return h + proj->forward(out);
}

}  // namespace gru_block
