// SDK glue for the Mamba blocks: two components in one library, "mamba" (Mamba-1, selective
// scan) and "mamba2" (Mamba-2, SSD), sharing their common parameters. Neither wants the
// positional table: the recurrence and the causal convolution already see order.
#include "mamba2_block.h"
#include "mamba_block.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

/// Wraps a block module (MambaBlock or Mamba2Block) as an sdk::Block.
template <typename Holder>
class SsmPluginBlock : public sdk::Block {
 public:
  explicit SsmPluginBlock(Holder block) : block_(register_module("block", std::move(block))) {}
  torch::Tensor forward(const torch::Tensor& h) override { return block_->forward(h); }
  bool wants_positions() const override { return false; }

 private:
  Holder block_;
};

/// Parameters both blocks take, in schema order before their own.
sdk::ParamSchema common_schema() {
  return {
      sdk::int_param("d_state", 16, "state size N").at_least(1).at_most(1024),
      sdk::int_param("d_conv", 4, "taps of the causal depthwise convolution").at_least(1).at_most(64),
      sdk::int_param("expand", 2, "inner width d_inner = expand * n_embd").at_least(1).at_most(16),
      sdk::float_param("dt_min", 1e-3, "smallest initial step size (log-uniform init)").at_least(1e-12),
      sdk::float_param("dt_max", 1e-1, "largest initial step size").at_least(1e-12),
      sdk::float_param("norm_eps", 1e-5, "RMSNorm epsilon").at_least(0.0).at_most(1.0),
  };
}

/// Options fields every block shares, set from validated parameters.
template <typename Options>
Options with_common(Options options, const sdk::Params& p, const sdk::BlockContext& ctx) {
  return options.d_state(p.get_int("d_state"))
      .d_conv(p.get_int("d_conv"))
      .expand(p.get_int("expand"))
      .dt_min(p.get_float("dt_min"))
      .dt_max(p.get_float("dt_max"))
      .norm_eps(p.get_float("norm_eps"))
      .depth(ctx.depth);
}

sdk::Component mamba_component(const sdk::PluginInfo& plugin) {
  auto schema = common_schema();
  schema.push_back(sdk::int_param("dt_rank", 0, "rank of the step-size projection; 0 = ceil(n_embd / 16)")
                       .at_least(0)
                       .at_most(65536));
  schema.push_back(
      sdk::float_param("dt_scale", 1.0, "dt_proj.weight ~ U(-s, s), s = dt_scale / sqrt(dt_rank)").at_least(0.0));
  schema.push_back(sdk::string_param("scan", "fused",
                                     "selective scan: fused (one C++ autograd node on CPU; sequential elsewhere), "
                                     "parallel (log-depth scan of LibTorch ops, any device) or sequential "
                                     "(reference, LibTorch ops per step)")
                       .one_of({"fused", "parallel", "sequential"}));
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    auto options = with_common(blocks::MambaBlockOptions(ctx.n_embd), p, ctx)
                       .dt_rank(p.get_int("dt_rank"))
                       .dt_scale(p.get_float("dt_scale"))
                       .scan(blocks::parse_scan_kind(p.get_string("scan")));
    return std::make_shared<SsmPluginBlock<blocks::MambaBlock>>(blocks::MambaBlock(options));
  };
  return sdk::make_block_component(plugin,
                                   "Mamba-1 block: pre-RMSNorm residual around conv + selective scan + SiLU gate",
                                   std::move(schema), factory);
}

sdk::Component mamba2_component(const sdk::PluginInfo& plugin) {
  auto schema = common_schema();
  schema.push_back(sdk::int_param("headdim", 32, "channels per head (must divide expand * n_embd)").at_least(1));
  schema.push_back(sdk::int_param("chunk", 32, "steps per chunk of the chunked SSD").at_least(1).at_most(65536));
  schema.push_back(sdk::float_param("A_min", 1.0, "initial -A per head ~ U(A_min, A_max)").at_least(1e-12));
  schema.push_back(sdk::float_param("A_max", 16.0, "see A_min").at_least(1e-12));
  schema.push_back(sdk::string_param("scan", "chunked",
                                     "SSD: chunked (masked decay matrices + state passing) or "
                                     "sequential (reference, LibTorch ops per step)")
                       .one_of({"chunked", "sequential"}));
  auto factory = [](const sdk::Params& p, const sdk::BlockContext& ctx) -> std::shared_ptr<sdk::Block> {
    auto options = with_common(blocks::Mamba2BlockOptions(ctx.n_embd), p, ctx)
                       .headdim(p.get_int("headdim"))
                       .chunk(p.get_int("chunk"))
                       .A_min(p.get_float("A_min"))
                       .A_max(p.get_float("A_max"))
                       .scan(blocks::parse_ssd_kind(p.get_string("scan")));
    return std::make_shared<SsmPluginBlock<blocks::Mamba2Block>>(blocks::Mamba2Block(options));
  };
  return sdk::make_block_component(
      "mamba2", plugin.version,
      "Mamba-2 block: pre-RMSNorm residual around conv + chunked SSD (scalar A per head) + gated RMSNorm",
      std::move(schema), factory);
}

}  // namespace

LOOPLAB_PLUGIN("mamba", "0.1.0") { return {mamba_component(looplab_plugin), mamba2_component(looplab_plugin)}; }
