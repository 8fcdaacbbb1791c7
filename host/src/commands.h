#pragma once
// The looplab subcommands. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad input (configuration, usage), 130 interrupted.

#include <string>
#include <vector>

namespace looplab::host {

/// Exit codes shared by every command.
enum ExitCode { kOk = 0, kFailure = 1, kBadInput = 2, kInterrupted = 130 };

/// `looplab run FILE [--out DIR] [--set k=v]...` or `looplab run --resume RUN_DIR`.
int run_command(const std::vector<std::string>& args);
/// `looplab validate FILE [--set k=v]...`
int validate_command(const std::vector<std::string>& args);
/// `looplab sweep count|list FILE [--set k=v]...`
int sweep_command(const std::vector<std::string>& args);
/// `looplab compare RUN_DIR... [--out DIR]`
int compare_command(const std::vector<std::string>& args);
/// `looplab plugins list|describe NAME`
int plugins_command(const std::vector<std::string>& args);
/// Entry point: dispatches on the first argument.
int main_command(int argc, char** argv);

}  // namespace looplab::host
