#pragma once
// Token ablation (docs/experiments.md#e4-token-ablation): evaluate with only the first n or the
// last n of the prompt's 2P tokens x_1, y_1, ..., x_P, y_P. Index bookkeeping and error summaries
// (plain LibTorch), and the analysis that evaluates a trained model that way (SDK analysis types).
//
// Which error is reported: the prediction of y_i is read at x_i's token, so only kept x tokens
// ("kept queries") have a prediction. Keeping the first n leaves x_1 .. x_q, q = ceil(n/2), and
// the reported query is x_q, which sees q - 1 complete examples (n = 2q - 1 and n = 2q give the
// same prediction: the extra token is y_q, after its own query). Keeping the last n (n >= 2)
// always keeps the prompt's last query x_P, which sees floor(n/2) - 1 complete examples (plus,
// for odd n, one y without its x). n = 1 keeps only y_P: no query, no row.

#include <looplab/sdk/analysis.h>

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace looplab::analyses {

/// Which end of the prompt is kept.
enum class Keep { First, Last };

/// "first" or "last"; throws std::invalid_argument otherwise.
Keep parse_keep(const std::string& text);
/// "first" or "last".
const char* keep_name(Keep keep);

/// Indices (ascending, int64 [n]) of the kept tokens among 2 * n_points. Throws
/// std::invalid_argument unless 1 <= n <= 2 * n_points.
torch::Tensor kept_token_indices(Keep keep, int64_t n, int64_t n_points);

/// Float mask [1, 2 * n_points]: 1 at kept tokens, 0 elsewhere.
torch::Tensor token_keep_mask(Keep keep, int64_t n, int64_t n_points);

/// 0-based point indices q whose x token (2q) is kept, ascending; may be empty.
std::vector<int64_t> kept_queries(Keep keep, int64_t n, int64_t n_points);

/// Complete (x_j, y_j) pairs kept before the last kept query (see the file comment).
int64_t examples_before_last_query(Keep keep, int64_t n, int64_t n_points);

/// Spreads read-outs at kept tokens ([B, S'], one per index of `kept`) into predictions
/// [B, n_points]: the read-out at x_q's token for kept queries q, NaN elsewhere.
torch::Tensor predictions_at_queries(const torch::Tensor& readout, const torch::Tensor& kept, int64_t n_points);

/// Token counts to evaluate: `listed` when not empty (each in 1..tokens), else step, 2 step,
/// ... up to `tokens`, with `tokens` itself always included. Sorted, without repeats.
std::vector<int64_t> token_counts(const std::vector<int64_t>& listed, int64_t step, int64_t tokens);

/// Error summary over the kept queries.
struct QueryErrors {
  double last = 0;     ///< Mean over prompts of the error at the last kept query.
  double last_lo = 0;  ///< Its normal-approximation 90% interval, lower edge.
  double last_hi = 0;  ///< Upper edge.
  double mean = 0;     ///< Mean over prompts and all kept queries.
};

/// Summarises normalized errors err [N, n_points] over the point indices `queries` (non-empty,
/// ascending; the last one is the reported query).
QueryErrors summarize_queries(const torch::Tensor& err, const std::vector<int64_t>& queries);

/// The analysis' parameters, read and checked by the plugin's factory.
struct TokenAblationSettings {
  std::string mode;                  ///< state | drop | keys
  bool original_positions = true;    ///< drop: kept tokens keep their positional rows
  std::vector<Keep> keeps;           ///< Ends to keep, in order.
  std::vector<int64_t> n_tokens;     ///< Explicit token counts, or empty (n_step, 2 n_step, ..., 2P).
  int64_t n_step = 1;                ///< Step of n when n_tokens is empty.
  std::vector<int64_t> multipliers;  ///< Of the trained b.
  std::vector<int64_t> iterations;   ///< Explicit iteration counts (override multipliers).
  int64_t batch = 256;               ///< Prompts per forward pass.
};

/// The token_ablation analysis: for every kept end, token count n and iteration count, the
/// normalized error at the kept queries in the chosen mode; writes the tables
/// `token_ablation_first` / `token_ablation_last`, one figure each and a note.
void run_token_ablation(sdk::AnalysisContext& ctx, const TokenAblationSettings& settings);

}  // namespace looplab::analyses
