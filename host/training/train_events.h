#pragma once
/// @file train_events.h
/// train.csv's rows in the run's TensorBoard event file (tb/), written at each log interval,
/// and what a resume does to the event files of the sessions before it.

#include "tensorboard/event_file.h"

#include <cstdint>
#include <string>
#include <vector>

namespace looplab::host {

/// Writes `rows` (TrainLog::written(): one value per column of `columns`, step first) as one
/// event per step holding a scalar "train/<column>" for every other column, stamped with the
/// wall-clock time of the step (`wall_offset` + its elapsed_s, so a resumed run's steps keep
/// their place on TensorBoard's time axis), and flushes the file.
void write_train_events(tensorboard::EventWriter& events, const std::vector<std::string>& columns,
                        const std::vector<std::vector<double>>& rows, double wall_offset);

/// A resume's restart, when `dir` holds event files of earlier sessions besides `events`' own:
/// cuts them back to what train.csv keeps, the train/ scalars up to `steps_done` (whatever
/// else they hold, the evaluation and the texts, this session writes again), and writes a
/// SessionLog START at `steps_done` + 1 into `events`, so that a TensorBoard which has read
/// the cut steps already drops them too.
void restart_train_events(tensorboard::EventWriter& events, const std::string& dir, int64_t steps_done);

}  // namespace looplab::host
