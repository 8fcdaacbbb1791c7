#pragma once
/// @file report.h
/// The run's report.md.

#include "evaluation/eval_table.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// What report.md shows.
struct ReportInputs {
  std::string title;          ///< Heading, e.g. the run name.
  int64_t n_dims = 0;         ///< Dimension d.
  int64_t n_points = 0;       ///< Points per prompt.
  int64_t trained_loops = 1;  ///< Iterations b used in training (1 = standard model).
  /// Model rows have predictor "model" (possibly several iteration counts); baselines have
  /// their names and iterations 0.
  std::vector<EvalRow> eval;
  /// Label of each baseline's predictor id ("least squares"), used in the key-number table
  /// (an id without one is shown as it is) and the sentence (an id without one is written
  /// with its underscores as spaces).
  std::vector<std::pair<std::string, std::string>> labels;
  /// Caption and PNG path relative to the report, in display order.
  std::vector<std::pair<std::string, std::string>> figures;
  /// Label and value, e.g. {"steps", "6000"}, {"wall time", "7m12s"}, {"device", "cpu (2 threads)"}.
  std::vector<std::pair<std::string, std::string>> facts;
  /// Extra Markdown sections: heading and body (e.g. analyses).
  std::vector<std::pair<std::string, std::string>> sections;
};

/// Writes report.md: the title; a facts table (d, points, trained b, then `facts`); a
/// "Key numbers" table of the normalized error at i = d/2 (rounded down), d and 2d examples
/// (only those < n_points) for the model at its trained iterations (and at every other
/// evaluated iteration count, one row each) and for every baseline, as "mean [lo, hi]" with the
/// 90% band ("n/a" where not evaluated); a sentence comparing the model with least squares and
/// with the best other baseline at i = 2d (at the largest key i when 2d >= n_points); then the
/// figures (Markdown image links) and the extra sections. Writes to `path + ".tmp"` then
/// renames, so a crash never leaves a half report. Throws std::runtime_error naming the path on
/// I/O failure.
void write_report(const std::string& path, const ReportInputs& inputs);
/// The body of report.md's "Key numbers" section (the table and the sentence under it).
std::string key_numbers_markdown(const ReportInputs& inputs);
/// Appends a "## heading" section to an existing report.md (atomically, like write_report).
void append_report_section(const std::string& path, const std::string& heading, const std::string& body);

}  // namespace looplab::host
