#include "common/run_dir.h"

#include "common/files.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host {

RunStatus read_run_status(const RunDir& dir) {
  RunStatus out;
  std::error_code ec;
  if (!fs::exists(dir.status(), ec)) return out;
  try {
    const auto json = nlohmann::ordered_json::parse(read_file(dir.status()));  // labels keep their order
    out.status = json.value("status", "");
    out.message = json.value("message", "");
    out.trained_loops = json.value("trained_loops", int64_t{0});
    out.threads = json.value("threads", int64_t{0});
    if (const auto labels = json.find("labels"); labels != json.end() && labels->is_object())
      for (const auto& [id, label] : labels->items())
        if (label.is_string()) out.labels.emplace_back(id, label.get<std::string>());
  } catch (const std::exception&) {
    // A torn or foreign file reads as "no status": the run is then treated as not complete.
    return RunStatus{};
  }
  return out;
}

std::string read_status(const RunDir& dir) { return read_run_status(dir).status; }

void write_run_status(const RunDir& dir, const RunStatus& status) {
  nlohmann::ordered_json json;
  json["status"] = status.status;
  if (!status.message.empty()) json["message"] = status.message;
  if (status.trained_loops > 0) json["trained_loops"] = status.trained_loops;
  if (status.threads > 0) json["threads"] = status.threads;
  if (!status.labels.empty()) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const auto& [id, label] : status.labels) labels[id] = label;
    json["labels"] = labels;
  }
  const auto text = json.dump(2) + "\n";
  try {
    write_file_atomic(dir.status(), text);
  } catch (const std::exception&) {
    // A full disk has no room for the temporary, but the old run.json's own blocks can be
    // reused in place: a "failed" status must still get out. Torn, it reads as no status.
    if (!overwrite_file(dir.status(), text)) throw;
  }
}

void write_status(const RunDir& dir, const std::string& status, const std::string& message) {
  auto current = read_run_status(dir);
  current.status = status;
  current.message = message;
  write_run_status(dir, current);
}

namespace train_columns {
const std::vector<std::string>& all() {
  static const std::vector<std::string> columns = {kStep,  kLoss, kLossNorm, kLossLast, kLossLastNorm,
                                                   kLoops, kDims, kPoints,   kElapsed};
  return columns;
}
const std::vector<std::string>& without_loss_last() {
  static const std::vector<std::string> columns = {kStep, kLoss, kLossNorm, kLoops, kDims, kPoints, kElapsed};
  return columns;
}
}  // namespace train_columns

std::string tb_tags::eval_series(const std::string& predictor, int64_t iterations) {
  return kEval + predictor + (iterations > 0 ? "_b" + std::to_string(iterations) : "");
}

std::string create_empty_directory(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_empty(path, ec))
    throw std::runtime_error(what + " " + path + " exists and is not empty (choose another --out, or --resume it)");
  fs::create_directories(path, ec);
  if (ec) throw std::runtime_error("cannot create " + what + " " + path + ": " + ec.message());
  return absolute_path(path);
}

std::string absolute_path(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

}  // namespace looplab::host
