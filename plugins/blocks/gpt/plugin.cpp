// SDK glue for the GPT block: parameter schema and factory.
#include "gpt_block.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class GptPluginBlock : public sdk::Block {
 public:
  explicit GptPluginBlock(const blocks::GptBlockOptions& options)
      : block_(register_module("block", blocks::GptBlock(options))) {}
  torch::Tensor forward(const torch::Tensor& h) override { return block_->forward(h); }
  bool supports_key_mask() const override { return true; }
  torch::Tensor forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask) override {
    return block_->forward_masked(h, key_mask);
  }

 private:
  blocks::GptBlock block_;
};

}  // namespace

LOOPLAB_PLUGIN("gpt", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("n_head", 4, "attention heads (must divide the model's n_embd)").at_least(1).at_most(1024),
      sdk::float_param("init_std", 0.02, "std of the N(0, std) weight init; output projections use std/sqrt(2L)")
          .at_least(0.0),
      sdk::float_param("ln_eps", 1e-5, "LayerNorm epsilon").at_least(0.0).at_most(1.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    auto options = blocks::GptBlockOptions(ctx.n_embd, p.get_int("n_head"))
                       .depth(ctx.depth)
                       .init_std(p.get_float("init_std"))
                       .ln_eps(p.get_float("ln_eps"));
    return std::make_shared<GptPluginBlock>(options);
  };
  return {sdk::make_block_component(looplab_plugin, "pre-LN GPT-2 block: causal softmax attention + tanh-GELU MLP",
                                    std::move(schema), factory)};
}
