#pragma once
/// @file commands.h
/// The looplab subcommands and the one table that dispatches them, lists them in --help and
/// suggests one for a misspelt name. Each command returns an ExitCode.

#include "common/exit_code.h"

#include <string>
#include <vector>

namespace looplab::host {

/// `looplab run FILE [--out DIR] [--set k=v]...` or `looplab run --resume RUN_DIR`.
int run_command(const std::vector<std::string>& args);
/// `looplab validate FILE [--set k=v]...`
int validate_command(const std::vector<std::string>& args);
/// `looplab sweep count|list FILE [--set k=v]...`
int sweep_command(const std::vector<std::string>& args);
/// `looplab sweep sbatch FILE --out DIR [--submit]...`: the sweep as SLURM job arrays.
int sweep_sbatch_command(const std::vector<std::string>& args);
/// `looplab compare RUN_DIR... [--out DIR]`
int compare_command(const std::vector<std::string>& args);
/// `looplab analyze RUN_DIR --analysis NAME [--set k=v]...`
int analyze_command(const std::vector<std::string>& args);
/// `looplab export RUN_DIR [--out FILE.pt] [--checkpoint STEP] [--predictions]`
int export_command(const std::vector<std::string>& args);
/// `looplab plugins list | describe NAME | check FILE.so...`
int plugins_command(const std::vector<std::string>& args);
/// `looplab new-plugin --kind block|task|analysis|baseline NAME DIR`
int new_plugin_command(const std::vector<std::string>& args);

/// One subcommand: its name, the lines --help shows for it, and what runs it.
struct Command {
  const char* name;
  /// (synopsis, what it does) pairs, one per form of the command.
  std::vector<std::pair<const char*, const char*>> forms;
  int (*run)(const std::vector<std::string>& args);
};

/// Every subcommand, in --help order.
const std::vector<Command>& commands();

/// `looplab --help`: the synopsis of every command.
std::string usage_text();

/// Entry point: dispatches on the first argument.
int main_command(int argc, char** argv);

}  // namespace looplab::host
