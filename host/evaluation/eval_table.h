#pragma once
/// @file eval_table.h
/// eval.csv: the rows the evaluation produces, and the one place that writes and reads them.

#include <cstdint>
#include <string>
#include <vector>

#include <looplab/sdk/analysis.h>

namespace looplab::host {

/// One row of eval.csv: a predictor's normalized squared error with `examples` in-context
/// examples, mean over the evaluation prompts and its 90% bootstrap band.
struct EvalRow {
  std::string predictor;  ///< "model" or a baseline name (looplab::sdk::baseline).
  int64_t iterations;     ///< Loop iterations of the model (0 for baselines).
  int64_t examples;       ///< Context size i (examples seen before the prediction).
  double err_mean;        ///< Mean normalized squared error.
  double err_lo;          ///< Lower edge of the 90% band.
  double err_hi;          ///< Upper edge of the 90% band.
};

/// The predictor name of the model's rows.
inline constexpr const char* kModelPredictor = "model";

/// eval.csv as a table: columns predictor, iterations, examples, err_mean, err_lo, err_hi.
sdk::Table eval_table(const std::vector<EvalRow>& rows);

/// Writes eval.csv (atomically).
void write_eval_csv(const std::string& path, const std::vector<EvalRow>& rows);

/// Reads an eval.csv, finding its columns by name. Throws std::runtime_error naming `path`
/// when it cannot be read or lacks a column.
std::vector<EvalRow> read_eval_csv(const std::string& path);

}  // namespace looplab::host
