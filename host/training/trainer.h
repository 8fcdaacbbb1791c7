#pragma once
// The training loop: fresh prompts every step, Adam, curricula, train.csv, checkpoints, resume.

#include "common/run_dir.h"
#include "config/pipeline.h"
#include "model/sequence_model.h"
#include "tensorboard/event_file.h"

#include <looplab/sdk/task.h>

#include <atomic>
#include <memory>
#include <string>

#include <looplab/sdk/logger.h>

namespace looplab::host {

/// How a call to Trainer::train ended.
struct TrainResult {
  bool completed = false;  ///< False when stopped early (a checkpoint was written).
  int64_t steps_done = 0;  ///< Optimizer steps taken in total, resumed ones included.
  double elapsed_s = 0;    ///< Training wall time in total, resumed sessions included.
  double last_loss = 0;    ///< Loss of the last step.
  std::string diverged;    ///< Why training stopped as diverged ("" when it did not).
};


/// Trains a model in a run directory: appends to `train.csv` (and, given an event file, its
/// rows to that: training/train_events.h), writes `checkpoints/step_NNNNNNN.pt`, and resumes
/// from the newest checkpoint when one exists.
class Trainer {
 public:
  /// `events`, when not null, is this session's event file in run_dir.tensorboard().
  Trainer(const PipelineConfig& cfg, SequenceModel model, std::shared_ptr<sdk::Task> task, c10::Device device,
          RunDir run_dir, std::shared_ptr<sdk::Logger> log, tensorboard::EventWriter* events = nullptr);

  /// Trains until cfg.training.steps, until `stop` becomes true (checked every step; a
  /// checkpoint is written) or until it diverges (TrainResult::diverged; no checkpoint of
  /// non-finite weights is ever written).
  TrainResult train(const std::atomic<bool>& stop);

 private:
  const PipelineConfig& cfg_;
  SequenceModel model_;
  std::shared_ptr<sdk::Task> task_;
  c10::Device device_;
  RunDir run_dir_;
  std::shared_ptr<sdk::Logger> log_;
  tensorboard::EventWriter* events_;
};

}  // namespace looplab::host
