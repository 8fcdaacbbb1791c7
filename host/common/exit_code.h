#pragma once
/// @file exit_code.h
/// The process exit codes of every looplab command (documented in README "Exit codes").

namespace looplab::host {

/// What a command returns to the shell.
enum ExitCode {
  kOk = 0,            ///< Success.
  kFailure = 1,       ///< A runtime failure (the run directory's run.json says which).
  kBadInput = 2,      ///< Bad input: configuration, usage, a directory that cannot be used or is in use.
  kDiverged = 3,      ///< Training diverged (non-finite or exploding loss); run.json says where.
  kInterrupted = 130  ///< Stopped by a signal after writing a checkpoint; `run --resume` continues.
};

}  // namespace looplab::host
