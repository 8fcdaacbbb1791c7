#pragma once
/// @file command_line.h
/// Option parsing shared by every subcommand: one parser, one help and usage-error path.

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace looplab::host {

namespace po = boost::program_options;

/// Options of every command that loads a pipeline.
struct CommonOptions {
  std::vector<std::string> plugin_paths;  ///< --plugin-path DIR (repeatable)
  std::vector<std::string> sets;          ///< --set KEY=VALUE (repeatable)
};

/// `-h/--help` alone.
po::options_description help_options();
/// `-h/--help`, `--plugin-path` and `--set`, bound to `c`.
po::options_description common_options(CommonOptions& c);

/// Parses `args` into `vm`. Returns nullopt when the command should go on, or the exit code to
/// return at once: kOk after printing `usage`, `desc` and `help_tail` for --help, kBadInput after
/// printing the parse error and `usage`.
std::optional<int> parse_command_line(const std::vector<std::string>& args, const po::options_description& desc,
                                      const po::positional_options_description& pos, po::variables_map& vm,
                                      const std::string& usage, const std::string& help_tail = "");

/// Prints `message` as an error, then `usage` (if any); returns kBadInput.
int usage_error(const std::string& message, const std::string& usage = "");

}  // namespace looplab::host
