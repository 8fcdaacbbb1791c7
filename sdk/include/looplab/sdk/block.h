#pragma once
/// @file block.h
/// The Block interface: one causal sequence layer that the host stacks and loops.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace looplab::sdk {

/// What the host tells a block factory about the model the block goes into.
struct BlockContext {
  int64_t n_embd = 0;      ///< Width D of the residual stream.
  int64_t depth = 1;       ///< Blocks per loop iteration (L); GPT scales output-projection init by it.
  int64_t index = 0;       ///< Position of this block within the iteration, 0-based.
  int64_t max_tokens = 0;  ///< Longest sequence the model will see (2 * max points).
};

/// A causal map [B, S, D] -> [B, S, D]. Output at position s may depend on inputs at positions <= s
/// only. Blocks hold their parameters as registered submodules; a block that wraps others must
/// register each inner module once (see docs/plugins.md#blocks-looplabsdkblockh).
/// Blocks are built on the CPU (the factory runs there) and moved to the training device
/// with the model afterwards: a tensor a block makes inside forward() takes its device and
/// dtype from its input (`h.options()`), never a fixed one.
class Block : public torch::nn::Module {
 public:
  ~Block() override;

  /// Applies the block to hidden states h of shape [B, S, D].
  virtual torch::Tensor forward(const torch::Tensor& h) = 0;

  /// Input injection: what the first block of an iteration receives, given the previous
  /// iteration's state y (zeros at iteration 1), the embedded prompt e and the positional
  /// table p ([1, S, D], undefined when positions are off). Default: y + e + p.
  virtual torch::Tensor inject(const torch::Tensor& y, const torch::Tensor& e, const torch::Tensor& p);

  /// Whether forward_masked() is implemented, i.e. the block can hide chosen key positions
  /// from every query (the `keys` token-ablation mode). Blocks without attention keep false.
  virtual bool supports_key_mask() const { return false; }

  /// forward(h) with keys hidden: `key_mask` is [B or 1, S] (bool, or any dtype where nonzero
  /// means visible); a query at position q attends to keys k <= q with key_mask[k] true, and
  /// always to itself, so no query is left without keys. With an all-true mask it equals
  /// forward(h). The default throws std::logic_error: blocks that return false from
  /// supports_key_mask() cannot hide keys.
  virtual torch::Tensor forward_masked(const torch::Tensor& h, const torch::Tensor& key_mask);

  /// Whether the model should add a learned positional table (attention needs one;
  /// recurrent blocks usually do not).
  virtual bool wants_positions() const { return true; }

  /// Scalars worth logging per training step (e.g. a learned step size), name -> value.
  /// Values are 0-dim tensors so the trainer can log them without a sync per step.
  virtual std::vector<std::pair<std::string, torch::Tensor>> traced_scalars() { return {}; }
};

}  // namespace looplab::sdk
