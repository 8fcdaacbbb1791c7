#include "tensorboard/event_file.h"

#include "tensorboard/record_file.h"

#include "tensorboard/events.pb.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host::tensorboard {

namespace {

constexpr const char* kFileVersion = "brain.Event:2";  // 2: restarts are marked by SessionLog START
constexpr const char* kTextPlugin = "text";
constexpr const char* kFilePrefix = "events.out.tfevents.";
constexpr const char* kCutPrefix = ".cut.";  // cut_event_files' temporaries

double now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::runtime_error write_error(const std::string& path) {
  return std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

wire::Event parse_event(const std::string& record, const std::string& path) {
  wire::Event event;
  if (!event.ParseFromString(record)) throw std::runtime_error(path + ": a record is not an event");
  return event;
}

Event plain(const wire::Event& e) {
  Event out;
  out.wall_time = e.wall_time();
  out.step = e.step();
  if (e.has_file_version()) out.file_version = e.file_version();
  out.session_start = e.has_session_log() && e.session_log().status() == wire::SessionLog::START;
  for (const auto& v : e.summary().value()) {
    Event::Value value;
    value.tag = v.tag();
    if (v.has_simple_value()) {
      value.scalar = v.simple_value();
    } else if (v.has_tensor() && v.metadata().plugin_data().plugin_name() == kTextPlugin) {
      value.is_text = true;
      if (v.tensor().string_val_size() > 0) value.text = v.tensor().string_val(0);
    }
    out.values.push_back(std::move(value));
  }
  return out;
}

}  // namespace

struct EventWriter::File {
  std::string path;
  std::ofstream out;

  void write(const wire::Event& event) {
    out << frame_record(event.SerializeAsString());
    if (!out) throw write_error(path);
  }
};

EventWriter::EventWriter(const std::string& dir) : file_(std::make_unique<File>()) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
  const std::string host = host_name();
  auto seconds = static_cast<long long>(std::time(nullptr));
  while (fs::exists(dir + "/" + kFilePrefix + std::to_string(seconds) + "." + host)) ++seconds;
  file_->path = dir + "/" + kFilePrefix + std::to_string(seconds) + "." + host;
  file_->out.open(file_->path, std::ios::binary | std::ios::trunc);
  if (!file_->out) throw write_error(file_->path);
  wire::Event event;
  event.set_wall_time(now());
  event.set_file_version(kFileVersion);
  file_->write(event);
  flush();
}

EventWriter::~EventWriter() { file_->out.flush(); }

void EventWriter::scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values, double wall_time) {
  wire::Event event;
  event.set_wall_time(wall_time > 0 ? wall_time : now());
  event.set_step(step);
  for (const auto& [tag, value] : values) {
    auto* v = event.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  file_->write(event);
}

void EventWriter::text(const std::string& tag, int64_t step, const std::string& markdown) {
  wire::Event event;
  event.set_wall_time(now());
  event.set_step(step);
  auto* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name(kTextPlugin);
  v->mutable_metadata()->set_data_class(wire::DATA_CLASS_TENSOR);
  auto* tensor = v->mutable_tensor();
  tensor->set_dtype(wire::DT_STRING);
  tensor->mutable_tensor_shape();  // no dimensions: a scalar string
  tensor->add_string_val(markdown);
  file_->write(event);
}

void EventWriter::session_start(int64_t step) {
  wire::Event event;
  event.set_wall_time(now());
  event.set_step(step);
  event.mutable_session_log()->set_status(wire::SessionLog::START);
  file_->write(event);
}

void EventWriter::flush() {
  file_->out.flush();
  if (!file_->out) throw write_error(file_->path);
}

const std::string& EventWriter::path() const { return file_->path; }

std::vector<Event> read_event_file(const std::string& path) {
  std::vector<Event> events;
  for (const auto& record : read_records(path).records) events.push_back(plain(parse_event(record, path)));
  return events;
}

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string().rfind(kFilePrefix, 0) == 0)
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

void cut_event_files(const std::string& dir, const std::string& except,
                     const std::function<bool(const std::string& tag, int64_t step)>& keep) {
  // What a cut killed midway left behind.
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().filename().string().rfind(kCutPrefix, 0) == 0) fs::remove(entry.path(), ec);
  for (const auto& path : event_files(dir)) {
    if (fs::path(path) == fs::path(except)) continue;
    const auto read = read_records(path);
    bool changed = !read.complete;  // a partial last record goes too
    std::string kept;
    for (const auto& record : read.records) {
      auto event = parse_event(record, path);
      if (event.has_summary()) {
        auto* values = event.mutable_summary()->mutable_value();
        const auto before = values->size();
        values->erase(
            std::remove_if(values->begin(), values->end(), [&](const auto& v) { return !keep(v.tag(), event.step()); }),
            values->end());
        if (values->size() != before) changed = true;
        if (values->empty()) continue;
        kept += frame_record(event.SerializeAsString());
      } else {
        kept += frame_record(record);
      }
    }
    if (!changed) continue;
    // Atomic: a crash while resuming leaves the old file whole. The temporary's name lacks
    // "tfevents", so that TensorBoard, which reads every file with it in its name, skips it.
    const std::string tmp = dir + "/" + kCutPrefix + std::to_string(getpid()) + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << kept;
      out.flush();
      if (!out) {
        std::remove(tmp.c_str());
        throw write_error(tmp);
      }
    }
    fs::rename(tmp, path, ec);
    if (ec) throw std::runtime_error("cannot replace " + path + ": " + ec.message());
  }
}

}  // namespace looplab::host::tensorboard
