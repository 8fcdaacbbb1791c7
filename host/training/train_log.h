#pragma once
/// @file train_log.h
/// train.csv as training writes it: one row per step, buffered on the device and written at
/// each log interval (the loop's only host sync), truncated to the checkpoint on resume.

#include <torch/types.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace looplab::host {

/// What a step knows on the host when it is taken; its loss stays on the device until flush().
struct StepRow {
  int64_t step = 0, loops = 0, dims = 0, points = 0;
  double elapsed_s = 0;
  double y_second_moment = 1;  ///< E[y^2] at the step's dims: loss_norm = loss / this.
};

/// The rows of train.csv (common/run_dir.h train_columns, then one column per learned scalar).
class TrainLog {
 public:
  /// Opens `path` for appending. An existing file (a resumed run) first loses the rows after
  /// `steps_done`, so it appends where its checkpoint was, and keeps its header: one written
  /// before loss_last existed (train_columns::without_loss_last) goes on without loss_last and
  /// loss_last_norm. A new file gets the header of train_columns::all().
  TrainLog(const std::string& path, const std::vector<std::string>& scalar_names, int64_t steps_done);

  /// Queues a step: its host-side row, its loss, the loss after its last iteration alone and a
  /// copy of each learned scalar (device tensors).
  void add(const StepRow& row, torch::Tensor loss, torch::Tensor loss_last, const std::vector<torch::Tensor>& scalars);

  /// Whether the file has the loss_last columns (false: an older run's train.csv, resumed).
  bool has_loss_last() const { return with_last_; }

  /// Writes the queued rows (one device-to-host copy) and clears the queue; returns false when
  /// nothing was queued. `last()` and `last_loss()` then describe the last row written.
  bool flush();

  /// What the rows of the last flush() held, for the divergence checks.
  struct Interval {
    int64_t rows = 0;               ///< Rows written.
    int64_t first_nonfinite = -1;   ///< Step of the first NaN/inf loss among them; -1 if none.
    int64_t finite = 0;             ///< Rows with a finite loss.
    double mean_loss_norm = 0;      ///< Mean loss / E[y^2] over those.
  };
  const Interval& interval() const { return interval_; }

  /// The file's columns as its header names them, step first.
  const std::vector<std::string>& columns() const { return columns_; }
  /// The rows the last flush() wrote, one value per column (before the CSV's rounding).
  const std::vector<std::vector<double>>& written() const { return written_; }

  const StepRow& last() const { return last_; }    ///< The last row written.
  double last_loss() const { return last_loss_; }  ///< Its loss.

 private:
  std::string path_;
  std::ofstream csv_;
  std::vector<StepRow> rows_;
  std::vector<torch::Tensor> losses_, last_losses_, scalars_;
  bool with_last_ = true;
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> written_;
  StepRow last_;
  double last_loss_ = 0;
  Interval interval_;
};

}  // namespace looplab::host
