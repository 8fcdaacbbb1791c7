#pragma once
/// @file event_file.h
/// TensorBoard event files (tb/events.out.tfevents.<unix time>.<hostname>): written while a run
/// trains, read back by tests and cut back on resume. Plain std types only: protobuf stays
/// inside this library, compiled without LibTorch's include path (CMakeLists.txt says why).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host::tensorboard {

/// What one event holds, as read_event_file() gives it back.
struct Event {
  double wall_time = 0;  ///< Seconds since the epoch.
  int64_t step = 0;
  std::string file_version;    ///< "brain.Event:2" on a file's first event, else empty.
  bool session_start = false;  ///< A SessionLog START (a resumed run's restart marker).
  /// One summary value: a scalar, or a text plugin's string.
  struct Value {
    std::string tag;
    bool is_text = false;
    double scalar = 0;  ///< A scalar's value (float32, as TensorBoard stores it).
    std::string text;   ///< A text value's string.
  };
  std::vector<Value> values;
};

/// The events of `path` in order (a record cut short at the end of the file is left out).
/// Throws std::runtime_error naming the file when it cannot be read or parsed.
std::vector<Event> read_event_file(const std::string& path);

/// The event files in `dir` in the order TensorBoard reads them (by name); none when `dir`
/// does not exist.
std::vector<std::string> event_files(const std::string& dir);

/// Rewrites each event file of `dir` but `except` (atomically, and only when something goes)
/// to hold only the summary values for which keep(tag, step) is true; an event left without
/// values is dropped, file_version and session events stay. Throws std::runtime_error naming
/// the file on failure.
void cut_event_files(const std::string& dir, const std::string& except,
                     const std::function<bool(const std::string& tag, int64_t step)>& keep);

/// Appends events to a new event file; written through a buffer that flush() empties.
class EventWriter {
 public:
  /// Creates `dir` if needed and in it events.out.tfevents.<unix time>.<hostname> (the next
  /// free second if that name is taken, so that a new file sorts after the old ones), and
  /// writes its file_version event. Throws std::runtime_error naming the file on failure.
  explicit EventWriter(const std::string& dir);
  ~EventWriter();  ///< Flushes, reporting nothing.
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  /// One event of scalars (tag, value) at `step`, stamped `wall_time` (seconds since the
  /// epoch; 0: now). TensorBoard shows each tag as a series over the steps.
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values, double wall_time = 0);
  /// A text plugin value: `markdown` as TensorBoard's Text tab renders it.
  void text(const std::string& tag, int64_t step, const std::string& markdown);
  /// A SessionLog START at `step`: TensorBoard then drops what it has read at steps >= `step`
  /// (the orphans of an interrupted session).
  void session_start(int64_t step);
  /// Writes what is buffered to the file. Throws std::runtime_error naming it on failure.
  void flush();

  const std::string& path() const;  ///< The file written.

 private:
  struct File;
  std::unique_ptr<File> file_;
};

}  // namespace looplab::host::tensorboard
