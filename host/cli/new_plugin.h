#pragma once
// `looplab new-plugin`: writes a ready out-of-tree plugin project (CMake project against the
// installed looplab package, the LibTorch module, the SDK glue, a test and a sample pipeline).

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// Why `name` cannot name a plugin, or "" when it can: it must be a C identifier that is not a
/// C++ keyword (it becomes a namespace, file names and CMake target names).
std::string check_plugin_name(const std::string& name);

/// The files of a new `kind` (block | task | analysis) plugin called `name`, as (relative path,
/// contents); `prefix` is the looplab install prefix written into the instructions.
/// Throws std::invalid_argument for an unknown kind.
std::vector<std::pair<std::string, std::string>> plugin_project_files(const std::string& kind, const std::string& name,
                                                                      const std::string& prefix);

/// Writes the project into `dir` (created when absent; refused when not empty). Reports to
/// `out`/`err` and returns an ExitCode: kOk written, kFailure write failure, kBadInput bad
/// kind, name or dir.
int write_plugin_project(const std::string& kind, const std::string& name, const std::string& dir, std::ostream& out,
                         std::ostream& err);

}  // namespace looplab::host
