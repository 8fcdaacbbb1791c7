#pragma once
/// @file run_figures.h
/// The two figures every run gets: error vs in-context examples and the training loss.

#include "common/run_dir.h"
#include "evaluation/eval_table.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// What the standard figures need to know about the run.
struct RunFigureInputs {
  int64_t n_dims = 0;          ///< Dimension d, for the title.
  bool looped = false;         ///< Label model curves with their iteration counts.
  int64_t moving_average = 1;  ///< Window of the training loss' moving average.
  /// Legend label of each predictor id of eval.csv ("least_squares" -> "least squares"); an id
  /// without one is written with its underscores as spaces.
  std::vector<std::pair<std::string, std::string>> labels{};
};

/// The legend label of `predictor`: its entry in `labels`, else the id with underscores as spaces.
std::string predictor_label(const std::string& predictor,
                            const std::vector<std::pair<std::string, std::string>>& labels);

/// Errors below this are exact to rounding (least squares beyond d examples on noiseless
/// data): error_vs_examples draws them at a floor a decade under the other curves (LineStyle).
inline constexpr double kExactError = 1e-8;
/// The top of error_vs_examples at most: ten times the zero predictor's error. Above it nothing
/// is informative, and least squares' interpolation peak at i = d on a non-linear task (1e3-1e5)
/// would squeeze every other curve.
inline constexpr double kErrorAxisMax = 10.0;

/// Writes `figures/error_vs_examples.png` (every predictor of `rows` under its label, the
/// model's curves with their 90% band, errors below kExactError at the floor) and
/// `figures/train_loss.png` (loss / E[y^2] from train.csv, raw in light grey under its moving
/// average), with their CSVs and gnuplot scripts. Returns (caption, PNG path relative to the
/// run directory) for the report, in display order.
std::vector<std::pair<std::string, std::string>> render_run_figures(const RunDir& dir, const std::vector<EvalRow>& rows,
                                                                    const RunFigureInputs& in);

}  // namespace looplab::host
