// SDK glue for token ablation (E4): error vs the number n of kept tokens, at several loop
// iteration counts, in one of three modes (state, drop, keys) (analyses::run_token_ablation).
#include "token_ablation.h"

#include <looplab/sdk/plugin.h>

#include <stdexcept>
#include <utility>

namespace {

using namespace looplab;

const char* kDescription =
    "error vs the n first or last of the prompt's 2P tokens kept; mode state (loop state of dropped "
    "tokens zeroed every iteration), drop (tokens removed) or keys (attention cannot see them); "
    "reports the last kept query x_i (first n: i = ceil(n/2); last n: i = P) and the mean over kept queries";

class TokenAblation : public sdk::Analysis {
 public:
  explicit TokenAblation(analyses::TokenAblationSettings settings) : settings_(std::move(settings)) {}
  void run(sdk::AnalysisContext& ctx) override { analyses::run_token_ablation(ctx, settings_); }

 private:
  analyses::TokenAblationSettings settings_;
};

}  // namespace

LOOPLAB_PLUGIN("token_ablation", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::string_param("mode", "state",
                        "state: zero the loop state of dropped tokens every iteration (the study's); drop: remove "
                        "them; keys: hide them from attention")
          .one_of({"state", "drop", "keys"}),
      sdk::string_param("positions", "original",
                        "drop mode: kept tokens keep their positional rows (original) or start at 0 (reindexed)")
          .one_of({"original", "reindexed"}),
      sdk::string_list_param("keep", {"first", "last"}, "which ends to keep: \"first\" and/or \"last\""),
      sdk::int_list_param("n_tokens", {},
                          "token counts n to evaluate (each in 1..2P); empty: n_step, 2 n_step, ..., 2P")
          .at_least(1),
      sdk::int_param("n_step", 1, "step of n when n_tokens is empty (2P is always included)").at_least(1),
      sdk::int_list_param("multipliers", {1, 2, 3}, "evaluate after these multiples of the trained b").at_least(1),
      sdk::int_list_param("iterations", {}, "explicit iteration counts (override multipliers)").at_least(1),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    analyses::TokenAblationSettings s;
    s.mode = p.get_string("mode");
    s.original_positions = p.get_string("positions") == "original";
    for (const auto& k : p.get_string_list("keep")) s.keeps.push_back(analyses::parse_keep(k));
    if (s.keeps.empty()) throw std::invalid_argument("keep must name \"first\", \"last\" or both");
    s.n_tokens = p.get_int_list("n_tokens");
    s.n_step = p.get_int("n_step");
    s.multipliers = p.get_int_list("multipliers");
    s.iterations = p.get_int_list("iterations");
    if (s.multipliers.empty() && s.iterations.empty()) throw std::invalid_argument("give multipliers or iterations");
    s.batch = p.get_int("batch_size");
    return std::make_shared<TokenAblation>(std::move(s));
  };
  return {sdk::make_analysis_component(looplab_plugin, kDescription, std::move(schema), factory)};
}
