#include "run_logger.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace looplab::host {

namespace {

class SpdLogger : public sdk::Logger {
 public:
  explicit SpdLogger(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}
  void info(const std::string& message) override { log_->info(message); }
  void warn(const std::string& message) override { log_->warn(message); }
  void error(const std::string& message) override { log_->error(message); }

 private:
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

std::shared_ptr<sdk::Logger> make_logger(const std::string& file) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!file.empty()) sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
  auto log = std::make_shared<spdlog::logger>("looplab", sinks.begin(), sinks.end());
  log->set_pattern("[%H:%M:%S] %^%l%$ %v");
  log->flush_on(spdlog::level::info);
  return std::make_shared<SpdLogger>(std::move(log));
}

}  // namespace looplab::host
