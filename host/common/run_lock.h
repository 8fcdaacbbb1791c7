#pragma once
/// @file run_lock.h
/// One writer per run or sweep directory: an advisory lock (flock) on `DIR/.lock`, held for the
/// life of the process. The kernel releases it on any exit, kill -9 included, so a crashed
/// run never leaves a stale lock behind.

#include <string>

namespace looplab::host {

/// Holds the lock of one directory until destroyed (or the process ends).
class RunLock {
 public:
  /// Takes the lock of `dir` and records this process in it (pid and command line). Throws
  /// std::runtime_error with one line naming the process that holds it, or why the lock file
  /// cannot be opened.
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// The lock file of `dir`.
  static std::string path(const std::string& dir);

 private:
  int fd_ = -1;
};

}  // namespace looplab::host
