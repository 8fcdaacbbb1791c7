#include "model/sequence_model.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/container/modulelist.h>

#include <optional>
#include <stdexcept>

namespace looplab::host {

SequenceModelImpl::SequenceModelImpl(const SequenceModelOptions& options,
                                     std::vector<std::shared_ptr<sdk::Block>> blocks)
    : options_(options), blocks_(std::move(blocks)) {
  if (blocks_.empty()) throw std::invalid_argument("a model needs at least one block");
  const int64_t d = options_.n_dims(), D = options_.n_embd();
  read_in_ = register_module("read_in", torch::nn::Linear(d, D));
  if (options_.positions()) {
    wpe_ = register_parameter("wpe", torch::empty({2 * options_.max_points() + 1, D}));
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(wpe_, 0.0, 0.02);
  }
  // A ModuleList registers each block once, as blocks.0, blocks.1, ...
  auto list = register_module("blocks", torch::nn::ModuleList());
  for (auto& block : blocks_) list->push_back(block);
  ln_f_ = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(1e-5)));
  read_out_ = register_module("read_out", torch::nn::Linear(D, 1));
}

torch::Tensor SequenceModelImpl::tokens(const torch::Tensor& xs, const torch::Tensor& ys) const {
  const auto b = xs.size(0), n = xs.size(1), d = xs.size(2);
  auto y_wide = torch::zeros_like(xs);
  y_wide.select(2, 0).copy_(ys);
  return torch::stack({xs, y_wide}, 2).reshape({b, 2 * n, d});
}

void SequenceModelImpl::check_points(int64_t n_points) const {
  if (n_points > options_.max_points())
    throw std::invalid_argument("prompt has " + std::to_string(n_points) + " points; the model was built for " +
                                std::to_string(options_.max_points()));
}

int64_t SequenceModelImpl::first_block_without_key_mask() const {
  for (size_t i = 0; i < blocks_.size(); ++i)
    if (!blocks_[i]->supports_key_mask()) return static_cast<int64_t>(i);
  return -1;
}

std::vector<torch::Tensor> SequenceModelImpl::run(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations,
                                                  const std::vector<int64_t>& report, int64_t first_with_grad,
                                                  const torch::Tensor& state_mask, const torch::Tensor& key_mask) {
  check_points(xs.size(1));
  const auto seq = 2 * xs.size(1);
  auto e = read_in_->forward(tokens(xs, ys));
  torch::Tensor p;
  if (wpe_.defined()) p = wpe_.narrow(0, 0, seq).unsqueeze(0);
  return iterate(e, p, iterations, report, first_with_grad, state_mask, key_mask, 2);
}

torch::Tensor SequenceModelImpl::run_kept_tokens(const torch::Tensor& xs, const torch::Tensor& ys,
                                                 const torch::Tensor& kept, int64_t iterations,
                                                 bool original_positions) {
  check_points(xs.size(1));
  const auto seq = 2 * xs.size(1);
  if (kept.dim() != 1 || kept.numel() == 0 || kept.min().item<int64_t>() < 0 || kept.max().item<int64_t>() >= seq)
    throw std::invalid_argument("kept token indices must be a non-empty list in 0.." + std::to_string(seq - 1));
  auto index = kept.to(xs.device(), torch::kLong);
  auto e = read_in_->forward(tokens(xs, ys).index_select(1, index));
  torch::Tensor p;
  if (wpe_.defined())
    p = (original_positions ? wpe_.index_select(0, index) : wpe_.narrow(0, 0, kept.numel())).unsqueeze(0);
  return iterate(e, p, iterations, {iterations}, 1, torch::Tensor(), torch::Tensor(), 1).front();
}

std::vector<torch::Tensor> SequenceModelImpl::iterate(const torch::Tensor& e, const torch::Tensor& p,
                                                      int64_t iterations, const std::vector<int64_t>& report,
                                                      int64_t first_with_grad, const torch::Tensor& state_mask,
                                                      const torch::Tensor& key_mask, int64_t readout_step) {
  const auto blocked = key_mask.defined() ? first_block_without_key_mask() : -1;
  if (blocked >= 0)
    throw std::invalid_argument("block " + std::to_string(blocked) +
                                " cannot hide keys from attention (supports_key_mask() is false)");
  auto y = torch::zeros_like(e);
  std::vector<torch::Tensor> out;
  size_t next = 0;
  for (int64_t t = 1; t <= iterations && next < report.size(); ++t) {
    // Iterations before the window run without a graph: no gradient reaches them.
    std::optional<torch::NoGradGuard> no_grad;
    if (t < first_with_grad) no_grad.emplace();
    auto h = blocks_.front()->inject(y, e, p);
    for (auto& block : blocks_) h = key_mask.defined() ? block->forward_masked(h, key_mask) : block->forward(h);
    y = ln_f_->forward(h);
    if (state_mask.defined()) y = y * state_mask.unsqueeze(-1).to(y.dtype());
    if (report[next] == t) {
      out.push_back(read_out_->forward(y.slice(1, 0, y.size(1), readout_step)).squeeze(-1));
      ++next;
    }
  }
  if (next != report.size()) throw std::invalid_argument("report iterations must be ascending and <= iterations");
  return out;
}

torch::Tensor SequenceModelImpl::loss(const torch::Tensor& xs, const torch::Tensor& ys, int64_t loops, int64_t window) {
  return window_loss(xs, ys, loops, window).loss;
}

SequenceModelImpl::WindowLoss SequenceModelImpl::window_loss(const torch::Tensor& xs, const torch::Tensor& ys,
                                                             int64_t loops, int64_t window) {
  const int64_t kept = (window <= 0 || window > loops) ? loops : window;
  std::vector<int64_t> report;
  for (int64_t t = loops - kept + 1; t <= loops; ++t) report.push_back(t);
  auto preds = run(xs, ys, loops, report, loops - kept + 1);
  auto term = (preds[0] - ys).square().mean();
  auto total = term;
  for (size_t i = 1; i < preds.size(); ++i) {
    term = (preds[i] - ys).square().mean();
    total = total + term;
  }
  // One iteration in the window: the loss is that iteration's MSE (x / 1 is exact).
  return {total / static_cast<double>(kept), term.detach()};
}

torch::Tensor SequenceModelImpl::predict(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations) {
  return run(xs, ys, iterations, {iterations}).front();
}

std::vector<std::pair<std::string, torch::Tensor>> SequenceModelImpl::traced_scalars() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& block : blocks_)
    for (auto& s : block->traced_scalars()) out.push_back(std::move(s));
  return out;
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace looplab::host
