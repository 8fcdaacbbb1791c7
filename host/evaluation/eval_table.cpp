#include "evaluation/eval_table.h"

#include "common/csv.h"

namespace looplab::host {

namespace {
constexpr const char* kPredictor = "predictor";
constexpr const char* kIterations = "iterations";
constexpr const char* kExamples = "examples";
constexpr const char* kErrMean = "err_mean";
constexpr const char* kErrLo = "err_lo";
constexpr const char* kErrHi = "err_hi";
}  // namespace

sdk::Table eval_table(const std::vector<EvalRow>& rows) {
  sdk::Table table;
  table.columns = {kPredictor, kIterations, kExamples, kErrMean, kErrLo, kErrHi};
  table.rows.reserve(rows.size());
  for (const auto& r : rows) {
    table.rows.push_back({r.predictor, std::to_string(r.iterations), std::to_string(r.examples),
                          sdk::Table::num(r.err_mean), sdk::Table::num(r.err_lo), sdk::Table::num(r.err_hi)});
  }
  return table;
}

void write_eval_csv(const std::string& path, const std::vector<EvalRow>& rows) { write_csv(path, eval_table(rows)); }

std::vector<EvalRow> read_eval_csv(const std::string& path) {
  const auto table = read_csv(path);
  const size_t p = column_index(table, kPredictor, path), it = column_index(table, kIterations, path),
               ex = column_index(table, kExamples, path), mean = column_index(table, kErrMean, path),
               lo = column_index(table, kErrLo, path), hi = column_index(table, kErrHi, path);
  std::vector<EvalRow> rows;
  rows.reserve(table.rows.size());
  for (const auto& r : table.rows)
    rows.push_back(
        {r[p], std::stoll(r[it]), std::stoll(r[ex]), std::stod(r[mean]), std::stod(r[lo]), std::stod(r[hi])});
  return rows;
}

}  // namespace looplab::host
