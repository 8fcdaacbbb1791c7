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
};

/// Writes `figures/error_vs_examples.png` (every predictor of `rows`, the model's curves with
/// their 90% band) and `figures/train_loss.png` (loss / E[y^2] from train.csv, raw and moving
/// average), with their CSVs and gnuplot scripts. Returns (caption, PNG path relative to the
/// run directory) for the report, in display order.
std::vector<std::pair<std::string, std::string>> render_run_figures(const RunDir& dir, const std::vector<EvalRow>& rows,
                                                                    const RunFigureInputs& in);

}  // namespace looplab::host
