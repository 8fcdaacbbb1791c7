// looplab glue for the GRU block: parameter schema and factory.
#include "gru_block.h"

#include <looplab/sdk/plugin.h>

namespace {

namespace sdk = looplab::sdk;

class GruPluginBlock : public sdk::Block {
 public:
  explicit GruPluginBlock(const gru_block::GruBlockOptions& options)
      : block_(register_module("block", gru_block::GruBlock(options))) {}
  torch::Tensor forward(const torch::Tensor& h) override { return block_->forward(h); }
  // The recurrence already knows where each token is.
  bool wants_positions() const override { return false; }

 private:
  gru_block::GruBlock block_;
};

}  // namespace

LOOPLAB_PLUGIN("gru", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("hidden", 64, "GRU state size H").at_least(1).at_most(16384),
      sdk::int_param("layers", 1, "stacked GRU layers inside the block").at_least(1).at_most(64),
      sdk::float_param("ln_eps", 1e-5, "LayerNorm epsilon").at_least(0.0).at_most(1.0),
  };
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    auto options = gru_block::GruBlockOptions(ctx.n_embd, p.get_int("hidden"))
                       .layers(p.get_int("layers"))
                       .ln_eps(p.get_float("ln_eps"));
    return std::make_shared<GruPluginBlock>(options);
  };
  return {sdk::make_block_component(looplab_plugin, "pre-LN residual GRU: h + W_o GRU(LN(h)), no positions",
                                    std::move(schema), factory)};
}
