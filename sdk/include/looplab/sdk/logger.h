#pragma once
/// @file logger.h
/// The host's logger as plugins see it: plain strings in, so neither side depends on the
/// other's formatting library (LibTorch bundles its own fmt, spdlog wants another).

#include <string>

namespace looplab::sdk {

/// A sink for human-readable log lines (console and the run's log file).
class Logger {
 public:
  virtual ~Logger() = default;
  /// Progress and results.
  virtual void info(const std::string& message) = 0;
  /// Something suspicious that does not stop the run.
  virtual void warn(const std::string& message) = 0;
  /// A failure.
  virtual void error(const std::string& message) = 0;
};

}  // namespace looplab::sdk
