#include "training/train_events.h"

#include "common/run_dir.h"

#include <algorithm>
#include <utility>

namespace looplab::host {

void write_train_events(tensorboard::EventWriter& events, const std::vector<std::string>& columns,
                        const std::vector<std::vector<double>>& rows, double wall_offset) {
  const auto elapsed = std::find(columns.begin(), columns.end(), train_columns::kElapsed) - columns.begin();
  for (const auto& row : rows) {
    std::vector<std::pair<std::string, double>> values;
    for (size_t c = 1; c < columns.size() && c < row.size(); ++c)
      values.emplace_back(tb_tags::kTrain + columns[c], row[c]);
    const double wall = static_cast<size_t>(elapsed) < row.size() ? wall_offset + row[elapsed] : 0.0;
    events.scalars(static_cast<int64_t>(row[0]), values, wall);
  }
  events.flush();
}

void restart_train_events(tensorboard::EventWriter& events, const std::string& dir, int64_t steps_done) {
  if (tensorboard::event_files(dir).size() < 2) return;  // only this session's own file
  const std::string train = tb_tags::kTrain;
  tensorboard::cut_event_files(dir, events.path(), [&](const std::string& tag, int64_t step) {
    return tag.rfind(train, 0) == 0 && step <= steps_done;
  });
  events.session_start(steps_done + 1);
  events.flush();
}

}  // namespace looplab::host
