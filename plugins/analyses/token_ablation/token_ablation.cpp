#include "token_ablation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

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
  auto out = torch::full({readout.size(0), n_points}, std::numeric_limits<double>::quiet_NaN(),
                         readout.options());
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

}  // namespace looplab::analyses
