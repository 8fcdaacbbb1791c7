#include "token_ablation.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace looplab::analyses {

Keep parse_keep(const std::string& text) {
  if (text == "first") return Keep::First;
  if (text == "last") return Keep::Last;
  throw std::invalid_argument("keep must be \"first\" or \"last\", not \"" + text + "\"");
}

const char* keep_name(Keep keep) { return keep == Keep::First ? "first" : "last"; }

torch::Tensor kept_token_indices(Keep keep, int64_t n, int64_t n_points) {
  const int64_t tokens = 2 * n_points;
  if (n < 1 || n > tokens)
    throw std::invalid_argument("cannot keep " + std::to_string(n) + " of " + std::to_string(tokens) + " tokens");
  const int64_t start = keep == Keep::First ? 0 : tokens - n;
  return torch::arange(start, start + n, torch::kLong);
}

torch::Tensor token_keep_mask(Keep keep, int64_t n, int64_t n_points) {
  auto mask = torch::zeros({1, 2 * n_points});
  mask.index_fill_(1, kept_token_indices(keep, n, n_points), 1.0);
  return mask;
}

std::vector<int64_t> kept_queries(Keep keep, int64_t n, int64_t n_points) {
  kept_token_indices(keep, n, n_points);  // validates n
  // First n: 2q < n, i.e. q < ceil(n/2). Last n: 2q >= 2P - n, i.e. q >= P - floor(n/2).
  const int64_t begin = keep == Keep::First ? 0 : n_points - n / 2;
  const int64_t end = keep == Keep::First ? (n + 1) / 2 : n_points;
  std::vector<int64_t> out;
  for (int64_t q = begin; q < end; ++q) out.push_back(q);
  return out;
}

int64_t examples_before_last_query(Keep keep, int64_t n, int64_t n_points) {
  const auto queries = kept_queries(keep, n, n_points);
  // Every kept query but the last has its y kept too (its y token precedes the next x).
  return queries.empty() ? 0 : static_cast<int64_t>(queries.size()) - 1;
}

torch::Tensor predictions_at_queries(const torch::Tensor& readout, const torch::Tensor& kept, int64_t n_points) {
  auto out = torch::full({readout.size(0), n_points}, std::numeric_limits<double>::quiet_NaN(), readout.options());
  auto tokens = kept.to(torch::kCPU, torch::kLong);
  auto is_x = tokens.remainder(2).eq(0);
  auto columns = torch::nonzero(is_x).flatten().to(readout.device());  // read-outs at x tokens
  auto points = tokens.masked_select(is_x).floor_divide(2).to(readout.device());
  out.index_copy_(1, points, readout.index_select(1, columns));
  return out;
}

std::vector<int64_t> token_counts(const std::vector<int64_t>& listed, int64_t step, int64_t tokens) {
  std::vector<int64_t> out;
  if (!listed.empty()) {
    for (auto n : listed) {
      if (n < 1 || n > tokens)
        throw std::invalid_argument("n_tokens entry " + std::to_string(n) + " is outside 1.." + std::to_string(tokens));
      out.push_back(n);
    }
  } else {
    if (step < 1) throw std::invalid_argument("n_step must be >= 1");
    for (int64_t n = step; n < tokens; n += step) out.push_back(n);
    out.push_back(tokens);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

QueryErrors summarize_queries(const torch::Tensor& err, const std::vector<int64_t>& queries) {
  if (queries.empty()) throw std::invalid_argument("no kept query to summarise");
  auto e = err.to(torch::kCPU, torch::kFloat64);
  auto last = e.select(1, queries.back());
  const auto n = static_cast<double>(last.size(0));
  QueryErrors out;
  out.last = last.mean().item<double>();
  // 1.645 standard errors: the two-sided 90% normal interval of a mean over N prompts.
  const double half = n > 1 ? 1.6448536269514722 * last.std().item<double>() / std::sqrt(n) : 0.0;
  out.last_lo = out.last - half;
  out.last_hi = out.last + half;
  out.mean = e.index_select(1, torch::tensor(queries, torch::kLong)).mean().item<double>();
  return out;
}

namespace {

std::vector<int64_t> iteration_counts(const TokenAblationSettings& settings, sdk::ModelHandle& model) {
  if (!model.looped()) return {1};  // a standard model has one pass: multipliers mean nothing
  std::vector<int64_t> its = settings.iterations;
  if (its.empty())
    for (auto m : settings.multipliers) its.push_back(m * model.trained_loops());
  std::sort(its.begin(), its.end());
  its.erase(std::unique(its.begin(), its.end()), its.end());
  return its;
}

std::string mode_detail(const TokenAblationSettings& settings) {
  if (settings.mode == "state")
    return " (inputs untouched; the loop state Y of dropped tokens is zeroed after every iteration)";
  if (settings.mode == "keys") return " (no query attends to a dropped token; each token still attends to itself)";
  return settings.original_positions ? " (dropped tokens removed; kept tokens keep their positional rows)"
                                     : " (dropped tokens removed; kept tokens re-indexed from position 0)";
}

// Normalized error [N, P] (NaN at dropped queries in drop mode), in batches.
torch::Tensor errors(const TokenAblationSettings& settings, sdk::AnalysisContext& ctx, const sdk::Prompts& prompts,
                     Keep keep, int64_t n, int64_t k) {
  auto& model = ctx.model();
  const int64_t P = ctx.n_points(), N = prompts.xs.size(0);
  const auto mask = token_keep_mask(keep, n, P);
  const auto kept = kept_token_indices(keep, n, P);
  std::vector<torch::Tensor> chunks;
  for (int64_t s = 0; s < N; s += settings.batch) {
    const int64_t len = std::min(settings.batch, N - s);
    auto xs = prompts.xs.narrow(0, s, len), ys = prompts.ys.narrow(0, s, len);
    torch::Tensor pred;
    if (settings.mode == "state")
      pred = model.predict(xs, ys, k, mask);
    else if (settings.mode == "keys")
      pred = model.predict(xs, ys, k, torch::Tensor(), mask);
    else
      pred = predictions_at_queries(model.predict_kept_tokens(xs, ys, kept, k, settings.original_positions), kept, P);
    chunks.push_back(ctx.normalized_error(pred, ys));
  }
  return torch::cat(chunks, 0);
}

sdk::FigureSpec figure(const TokenAblationSettings& settings, Keep keep, const std::string& table,
                       const std::vector<int64_t>& its, int64_t P) {
  const bool first = keep == Keep::First;
  sdk::FigureSpec f;
  f.name = table;
  f.title = std::string("keep ") + keep_name(keep) + " n tokens (" + settings.mode + "): last kept query " +
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
    f.series.push_back(
        {"mean over kept queries, k = " + ks, table, "n_tokens", "err_mean_kept_queries", "iterations", ks, "", ""});
  }
  return f;
}

}  // namespace

void run_token_ablation(sdk::AnalysisContext& ctx, const TokenAblationSettings& settings) {
  const auto started = std::chrono::steady_clock::now();
  auto& model = ctx.model();
  const int64_t P = ctx.n_points(), b = model.trained_loops();
  const auto counts = token_counts(settings.n_tokens, settings.n_step, 2 * P);
  const auto its = iteration_counts(settings, model);
  auto prompts = ctx.eval_prompts();
  torch::NoGradGuard no_grad;

  std::ostringstream note;
  note << "Token ablation, mode `" << settings.mode << "`" << mode_detail(settings) << "; " << prompts.xs.size(0)
       << " evaluation prompts of P = " << P << " points (2P = " << 2 * P
       << " tokens x_1, y_1, ..., x_P, y_P). Reported: the normalized error at the last kept query x_i "
          "(keep first n: i = ceil(n/2), with i - 1 examples before it; keep last n: i = P, with floor(n/2) - 1 "
          "complete examples) and the mean over all kept queries. All dropped tokens of a first-n ablation "
          "come after every kept query, so for a causal model the first-n curve is the ordinary error at "
          "i - 1 examples in every mode; the last-n curve is where the modes differ.";
  for (Keep keep : settings.keeps) {
    const std::string table_name = std::string("token_ablation_") + keep_name(keep);
    sdk::Table table{{"mode", "keep", "iterations", "n_tokens", "last_query", "last_query_examples", "kept_queries",
                      "err_last_query", "err_last_query_lo", "err_last_query_hi", "err_mean_kept_queries"},
                     {}};
    std::map<int64_t, std::pair<double, double>> at_all;  // iterations -> (smallest n, all tokens)
    for (int64_t n : counts) {
      const auto queries = kept_queries(keep, n, P);
      if (queries.empty()) continue;  // last n = 1 keeps only y_P
      for (int64_t k : its) {
        auto err = errors(settings, ctx, prompts, keep, n, k);
        const auto e = summarize_queries(err, queries);
        table.rows.push_back(
            {settings.mode, keep_name(keep), std::to_string(k), std::to_string(n), std::to_string(queries.back() + 1),
             std::to_string(examples_before_last_query(keep, n, P)), std::to_string(queries.size()),
             sdk::Table::num(e.last), sdk::Table::num(e.last_lo), sdk::Table::num(e.last_hi), sdk::Table::num(e.mean)});
        if (!at_all.count(k)) at_all[k].first = e.last;
        at_all[k].second = e.last;
      }
    }
    ctx.output().write_table(table_name, table);
    ctx.output().add_figure(figure(settings, keep, table_name, its, P));
    note << "\n\nKeep " << keep_name(keep) << " n: error at the last kept query";
    for (const auto& [k, v] : at_all)
      note << "; k = " << k << ": " << sdk::Table::num(v.first) << " at the smallest n, " << sdk::Table::num(v.second)
           << " with all tokens";
    note << ".";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  note << "\n\nIterations evaluated: b = " << b << " times the multipliers (or the listed counts). Took "
       << std::round(seconds * 10) / 10 << " s.";
  ctx.output().add_note(note.str());
  ctx.logger().info("token_ablation: mode " + settings.mode + ", " + std::to_string(counts.size()) +
                    " token counts x " + std::to_string(its.size()) + " iteration counts in " +
                    sdk::Table::num(std::round(seconds * 10) / 10) + " s");
}

}  // namespace looplab::analyses
