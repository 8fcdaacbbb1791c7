#pragma once
// The model around the blocks (docs/model.md#standard-and-looped-model): token read-in, positional table,
// L blocks per pass, final LayerNorm, read-out at the x positions; standard or looped.

#include <looplab/sdk/block.h>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

namespace looplab::host {

struct SequenceModelOptions {
  SequenceModelOptions(int64_t n_dims, int64_t n_embd, int64_t max_points)
      : n_dims_(n_dims), n_embd_(n_embd), max_points_(max_points) {}
  /// Dimension d of x (tokens are d-dimensional).
  TORCH_ARG(int64_t, n_dims);
  /// Residual width D.
  TORCH_ARG(int64_t, n_embd);
  /// Most points a prompt may have; the positional table has 2 * max_points + 1 rows.
  TORCH_ARG(int64_t, max_points);
  /// Whether to add the learned positional table P.
  TORCH_ARG(bool, positions) = true;
};

/// Y_0 = 0; Y_t = LN_f(Blocks(inject(Y_{t-1}, E, P))); prediction_t = read_out(Y_t at x positions).
/// A standard model is the same with one iteration.
class SequenceModelImpl : public torch::nn::Module {
 public:
  SequenceModelImpl(const SequenceModelOptions& options, std::vector<std::shared_ptr<sdk::Block>> blocks);

  /// Interleaves prompts into tokens [x_1, (y_1,0..0), ...]: [B, 2n, d].
  torch::Tensor tokens(const torch::Tensor& xs, const torch::Tensor& ys) const;

  /// Runs `iterations` loop iterations and returns the predictions ([B, n] each) after every
  /// iteration listed in `report` (ascending, each in 1..iterations). Iterations before
  /// `first_with_grad` run without autograd (the truncated loss window). `state_mask`, if
  /// defined ([B or 1, 2n]), multiplies the state after every iteration. `key_mask`, if defined
  /// ([B or 1, 2n], nonzero = visible), hides the other positions from attention in every block
  /// (sdk::Block::forward_masked); throws std::invalid_argument when a block cannot do that.
  std::vector<torch::Tensor> run(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations,
                                 const std::vector<int64_t>& report, int64_t first_with_grad = 1,
                                 const torch::Tensor& state_mask = torch::Tensor(),
                                 const torch::Tensor& key_mask = torch::Tensor());

  /// The prompt's tokens restricted to the token indices `kept` ([S'] int64, ascending, in
  /// 0..2n-1), the others physically removed. The kept tokens take positional rows `kept`
  /// (`original_positions`) or 0..S'-1. Returns the read-out at every kept token, [B, S'],
  /// after `iterations` iterations (x tokens hold predictions; y tokens' read-outs are unused).
  torch::Tensor run_kept_tokens(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& kept,
                                int64_t iterations, bool original_positions);

  /// Index of the first block that cannot take a key mask, or -1 when all can.
  int64_t first_block_without_key_mask() const;

  /// Training loss: MSE averaged equally over the predictions of the last min(b, T) of b
  /// iterations (T <= 0 means T = b); earlier iterations get no gradient.
  torch::Tensor loss(const torch::Tensor& xs, const torch::Tensor& ys, int64_t loops, int64_t window);

  /// The training loss and, from the same forward pass, the MSE of the b-th iteration's
  /// predictions alone (detached; equal to the loss when the window holds one iteration).
  struct WindowLoss {
    torch::Tensor loss;  ///< As loss(): the mean over the window, with its graph.
    torch::Tensor last;  ///< MSE after the last (b-th) iteration, detached.
  };
  WindowLoss window_loss(const torch::Tensor& xs, const torch::Tensor& ys, int64_t loops, int64_t window);

  /// Predictions [B, n] after `iterations` iterations (autograd follows the caller's grad mode).
  torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations);

  /// Learned scalars the blocks expose for logging (name -> 0-dim tensor).
  std::vector<std::pair<std::string, torch::Tensor>> traced_scalars();

  const SequenceModelOptions& options() const { return options_; }
  const std::vector<std::shared_ptr<sdk::Block>>& blocks() const { return blocks_; }

 private:
  // The loop over embedded tokens e with positional rows p: read-out every `readout_step`-th
  // token after each iteration listed in `report` (see run()).
  std::vector<torch::Tensor> iterate(const torch::Tensor& e, const torch::Tensor& p, int64_t iterations,
                                     const std::vector<int64_t>& report, int64_t first_with_grad,
                                     const torch::Tensor& state_mask, const torch::Tensor& key_mask,
                                     int64_t readout_step);
  void check_points(int64_t n_points) const;

  SequenceModelOptions options_;
  torch::nn::Linear read_in_{nullptr}, read_out_{nullptr};
  torch::Tensor wpe_;
  std::vector<std::shared_ptr<sdk::Block>> blocks_;
  torch::nn::LayerNorm ln_f_{nullptr};
};
TORCH_MODULE(SequenceModel);

/// Number of trainable scalars.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace looplab::host
