// SDK glue for token ablation (E4): error vs the number n of kept tokens, at several loop
// iteration counts, in one of three modes (state, drop, keys).
#include "token_ablation.h"

#include <looplab/sdk/plugin.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

namespace {

using namespace looplab;
using analyses::Keep;

const char* kDescription =
    "error vs the n first or last of the prompt's 2P tokens kept; mode state (loop state of dropped "
    "tokens zeroed every iteration), drop (tokens removed) or keys (attention cannot see them); "
    "reports the last kept query x_i (first n: i = ceil(n/2); last n: i = P) and the mean over kept queries";

struct Settings {
  std::string mode;                 // state | drop | keys
  bool original_positions = true;   // drop: kept tokens keep their positional rows
  std::vector<Keep> keeps;
  std::vector<int64_t> n_tokens;    // explicit counts, or empty
  int64_t n_step = 1;
  std::vector<int64_t> multipliers; // of the trained b
  std::vector<int64_t> iterations;  // explicit counts (override multipliers)
  int64_t batch = 256;
};

class TokenAblation : public sdk::Analysis {
 public:
  explicit TokenAblation(Settings s) : s_(std::move(s)) {}

  void run(sdk::AnalysisContext& ctx) override {
    const auto started = std::chrono::steady_clock::now();
    auto& model = ctx.model();
    const int64_t P = ctx.n_points(), b = model.trained_loops();
    const auto counts = analyses::token_counts(s_.n_tokens, s_.n_step, 2 * P);
    const auto its = iteration_counts(model);
    auto prompts = ctx.eval_prompts();
    torch::NoGradGuard no_grad;

    std::ostringstream note;
    note << "Token ablation, mode `" << s_.mode << "`" << mode_detail() << "; " << prompts.xs.size(0)
         << " evaluation prompts of P = " << P << " points (2P = " << 2 * P
         << " tokens x_1, y_1, ..., x_P, y_P). Reported: the normalized error at the last kept query x_i "
            "(keep first n: i = ceil(n/2), with i - 1 examples before it; keep last n: i = P, with floor(n/2) - 1 "
            "complete examples) and the mean over all kept queries. All dropped tokens of a first-n ablation "
            "come after every kept query, so for a causal model the first-n curve is the ordinary error at "
            "i - 1 examples in every mode; the last-n curve is where the modes differ.";
    for (Keep keep : s_.keeps) {
      const std::string table_name = std::string("token_ablation_") + analyses::keep_name(keep);
      sdk::Table table{{"mode", "keep", "iterations", "n_tokens", "last_query", "last_query_examples",
                        "kept_queries", "err_last_query", "err_last_query_lo", "err_last_query_hi",
                        "err_mean_kept_queries"},
                       {}};
      std::map<int64_t, std::pair<double, double>> at_all;  // iterations -> (smallest n, all tokens)
      for (int64_t n : counts) {
        const auto queries = analyses::kept_queries(keep, n, P);
        if (queries.empty()) continue;  // last n = 1 keeps only y_P
        for (int64_t k : its) {
          auto err = errors(ctx, prompts, keep, n, k);
          const auto e = analyses::summarize_queries(err, queries);
          table.rows.push_back({s_.mode, analyses::keep_name(keep), std::to_string(k), std::to_string(n),
                                std::to_string(queries.back() + 1),
                                std::to_string(analyses::examples_before_last_query(keep, n, P)),
                                std::to_string(queries.size()), sdk::Table::num(e.last), sdk::Table::num(e.last_lo),
                                sdk::Table::num(e.last_hi), sdk::Table::num(e.mean)});
          if (!at_all.count(k)) at_all[k].first = e.last;
          at_all[k].second = e.last;
        }
      }
      ctx.output().write_table(table_name, table);
      ctx.output().add_figure(figure(keep, table_name, its, P));
      note << "\n\nKeep " << analyses::keep_name(keep) << " n: error at the last kept query";
      for (const auto& [k, v] : at_all)
        note << "; k = " << k << ": " << sdk::Table::num(v.first) << " at the smallest n, " << sdk::Table::num(v.second)
             << " with all tokens";
      note << ".";
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    note << "\n\nIterations evaluated: b = " << b << " times the multipliers (or the listed counts). Took "
         << std::round(seconds * 10) / 10 << " s.";
    ctx.output().add_note(note.str());
    ctx.logger().info("token_ablation: mode " + s_.mode + ", " + std::to_string(counts.size()) + " token counts x " +
                      std::to_string(its.size()) + " iteration counts in " + sdk::Table::num(std::round(seconds * 10) / 10) +
                      " s");
  }

 private:
  std::vector<int64_t> iteration_counts(sdk::ModelHandle& model) const {
    if (!model.looped()) return {1};  // a standard model has one pass: multipliers mean nothing
    std::vector<int64_t> its = s_.iterations;
    if (its.empty())
      for (auto m : s_.multipliers) its.push_back(m * model.trained_loops());
    std::sort(its.begin(), its.end());
    its.erase(std::unique(its.begin(), its.end()), its.end());
    return its;
  }

  std::string mode_detail() const {
    if (s_.mode == "state") return " (inputs untouched; the loop state Y of dropped tokens is zeroed after every iteration)";
    if (s_.mode == "keys") return " (no query attends to a dropped token; each token still attends to itself)";
    return s_.original_positions ? " (dropped tokens removed; kept tokens keep their positional rows)"
                                 : " (dropped tokens removed; kept tokens re-indexed from position 0)";
  }

  // Normalized error [N, P] (NaN at dropped queries in drop mode), in batches.
  torch::Tensor errors(sdk::AnalysisContext& ctx, const sdk::Prompts& prompts, Keep keep, int64_t n, int64_t k) {
    auto& model = ctx.model();
    const int64_t P = ctx.n_points(), N = prompts.xs.size(0);
    const auto mask = analyses::token_keep_mask(keep, n, P);
    const auto kept = analyses::kept_token_indices(keep, n, P);
    std::vector<torch::Tensor> chunks;
    for (int64_t s = 0; s < N; s += s_.batch) {
      const int64_t len = std::min(s_.batch, N - s);
      auto xs = prompts.xs.narrow(0, s, len), ys = prompts.ys.narrow(0, s, len);
      torch::Tensor pred;
      if (s_.mode == "state") pred = model.predict(xs, ys, k, mask);
      else if (s_.mode == "keys") pred = model.predict(xs, ys, k, torch::Tensor(), mask);
      else pred = analyses::predictions_at_queries(model.predict_kept_tokens(xs, ys, kept, k, s_.original_positions), kept, P);
      chunks.push_back(ctx.normalized_error(pred, ys));
    }
    return torch::cat(chunks, 0);
  }

  sdk::FigureSpec figure(Keep keep, const std::string& table, const std::vector<int64_t>& its, int64_t P) const {
    const bool first = keep == Keep::First;
    sdk::FigureSpec f;
    f.name = table;
    f.title = std::string("keep ") + analyses::keep_name(keep) + " n tokens (" + s_.mode + "): last kept query " +
              (first ? "x_i, i = ceil(n/2)" : "x_P, P = " + std::to_string(P));
    f.xlabel = "n, tokens kept of 2P = " + std::to_string(2 * P);
    f.ylabel = "normalized squared error";
    f.log_y = true;
    for (int64_t k : its) {
      const auto ks = std::to_string(k);
      f.series.push_back({"last kept query, k = " + ks, table, "n_tokens", "err_last_query", "iterations", ks,
                          "err_last_query_lo", "err_last_query_hi"});
    }
    for (int64_t k : its) {
      const auto ks = std::to_string(k);
      f.series.push_back({"mean over kept queries, k = " + ks, table, "n_tokens", "err_mean_kept_queries", "iterations", ks,
                          "", ""});
    }
    return f;
  }

  Settings s_;
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
      sdk::int_list_param("n_tokens", {}, "token counts n to evaluate (each in 1..2P); empty: n_step, 2 n_step, ..., 2P")
          .at_least(1),
      sdk::int_param("n_step", 1, "step of n when n_tokens is empty (2P is always included)").at_least(1),
      sdk::int_list_param("multipliers", {1, 2, 3}, "evaluate after these multiples of the trained b").at_least(1),
      sdk::int_list_param("iterations", {}, "explicit iteration counts (override multipliers)").at_least(1),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    Settings s;
    s.mode = p.get_string("mode");
    s.original_positions = p.get_string("positions") == "original";
    for (const auto& k : p.get_string_list("keep")) s.keeps.push_back(analyses::parse_keep(k));
    if (s.keeps.empty()) throw std::invalid_argument("keep must name \"first\", \"last\" or both");
    s.n_tokens = p.get_int_list("n_tokens");
    s.n_step = p.get_int("n_step");
    s.multipliers = p.get_int_list("multipliers");
    s.iterations = p.get_int_list("iterations");
    if (s.multipliers.empty() && s.iterations.empty())
      throw std::invalid_argument("give multipliers or iterations");
    s.batch = p.get_int("batch_size");
    return std::make_shared<TokenAblation>(std::move(s));
  };
  return {sdk::make_analysis_component("token_ablation", "0.1.0", kDescription, std::move(schema), factory)};
}
