#pragma once
/// @file checkpoint.h
/// The checkpoint file format (`checkpoints/step_NNNNNNN.pt`, LibTorch archives) and the one
/// place that reads and writes it: training, resume and analyses.

#include "model/sequence_model.h"

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace looplab::host {

/// Where training stands besides the weights: enough to resume to the same numbers as an
/// uninterrupted run.
struct Checkpoint {
  int64_t step = 0;        ///< Optimizer steps taken.
  double elapsed_s = 0;    ///< Training wall time so far.
  torch::Tensor data_rng;  ///< State of the training data generator (CPU byte tensor).

  /// Writes the model's weights, the optimizer's state and this state to
  /// `<dir>/step_NNNNNNN.pt` through a temporary file, fsync and a rename (then the directory
  /// is fsync'd), so neither a crash nor a full disk leaves a truncated checkpoint under a
  /// real name. Returns the path; throws std::runtime_error naming the file when it cannot.
  std::string save(const std::string& dir, SequenceModel& model, torch::optim::Optimizer& optimizer) const;

  /// Loads `path` into `model` and, when given, `optimizer`; tensors land on `device`.
  /// Throws (c10::Error) when the file is unreadable.
  static Checkpoint load(const std::string& path, SequenceModel& model, torch::optim::Optimizer* optimizer,
                         const c10::Device& device);

  /// `step_NNNNNNN.pt`: names sort by step.
  static std::string file_name(int64_t step);
  /// The step of a checkpoint file named by file_name() (any directory), or -1 for another name.
  static int64_t step_of(const std::string& path);
  /// Every checkpoint in `dir`, newest first.
  static std::vector<std::string> all(const std::string& dir);
  /// The newest checkpoint in `dir`, or "" when there is none.
  static std::string latest(const std::string& dir);
  /// Deletes the temporary files of checkpoint writes that never finished (a crash, a full disk).
  static void remove_partial(const std::string& dir);
  /// Deletes all but the newest `keep` checkpoints in `dir` (keep <= 0 keeps all).
  static void prune(const std::string& dir, int64_t keep);
};

}  // namespace looplab::host
