// SDK glue for the lr-looped block: any block plugin (`inner`) with the learnable-lr injection.
#include "lr_looped.h"

#include <looplab/sdk/plugin.h>

#include <stdexcept>

namespace {

using namespace looplab;

class LrLoopedBlock : public sdk::Block {
 public:
  LrLoopedBlock(std::shared_ptr<sdk::Block> inner, const blocks::LrInjectionOptions& options)
      : injection_(register_module("injection", blocks::LrInjection(options))),
        inner_(register_module("inner", std::move(inner))) {}

  torch::Tensor forward(const torch::Tensor& h) override { return inner_->forward(h); }
  torch::Tensor inject(const torch::Tensor& y, const torch::Tensor& e, const torch::Tensor& p) override {
    return injection_->forward(y, e, p);
  }
  bool wants_positions() const override { return inner_->wants_positions(); }
  bool supports_key_mask() const override { return inner_->supports_key_mask(); }
  torch::Tensor forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask) override {
    return inner_->forward_masked(h, key_mask);
  }
  std::vector<std::pair<std::string, torch::Tensor>> traced_scalars() override {
    auto out = inner_->traced_scalars();
    out.insert(out.begin(), {"lr", injection_->lr});
    return out;
  }

 private:
  blocks::LrInjection injection_;
  std::shared_ptr<sdk::Block> inner_;
};

}  // namespace

LOOPLAB_PLUGIN("lr_looped", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::block_param("inner", "gpt", "the wrapped block: { type = \"...\", <its parameters> }"),
      sdk::float_param("lr_init", 1.0, "initial lr: each iteration injects Y + lr * E + P"),
      sdk::bool_param("trainable", true, "learn lr (false freezes it at lr_init)"),
  };
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    // The host injects the input through the first block of an iteration only.
    if (ctx.index != 0)
      throw std::invalid_argument("must be the first block of an iteration (it is block " + std::to_string(ctx.index) +
                                  "); its lr scales the injected input");
    auto inner = p.get_block("inner").make(ctx);
    return std::make_shared<LrLoopedBlock>(
        std::move(inner),
        blocks::LrInjectionOptions().lr_init(p.get_float("lr_init")).trainable(p.get_bool("trainable")));
  };
  return {sdk::make_block_component(
      looplab_plugin, "any block with a learnable input scale: Y + lr * E + P (one lr for all iterations)",
      std::move(schema), factory)};
}
