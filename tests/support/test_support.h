#pragma once
// Shared helpers for the test executables.
#include "registry/plugin_registry.h"

#include <string>

namespace looplab::test {

/// A fresh empty directory under the system temp dir, removed at process exit.
std::string temp_dir(const std::string& stem);
/// Writes `text` to `path` (creating parent directories).
void write_file(const std::string& path, const std::string& text);
/// Reads a whole file.
std::string read_file(const std::string& path);
/// Runs a shell command, capturing stdout+stderr; returns the exit status.
int run_command(const std::string& command, std::string* output);
/// The bundled plugins of the build tree, loaded once; plugins stay loaded for the process.
const host::PluginRegistry& bundled_registry();
/// The bundled plugins plus every directory in LOOPLAB_PLUGIN_PATH (what the conformance
/// suite checks), loaded once.
const host::PluginRegistry& discovered_registry();
/// Whether `text` contains `part`.
bool contains(const std::string& text, const std::string& part);
/// Runs the built host with `args` (stdout and stderr together); stores the exit status in `rc`.
std::string looplab(const std::string& args, int* rc);
/// tests/e2e/data/tiny.toml: the smallest pipeline that still has to learn.
std::string tiny_pipeline();
/// Trains tiny_pipeline() for 300 steps, with `extra` TOML appended (e.g. [[analyses]]
/// tables), into `dir`/run; returns the host's output and stores its exit status in `rc`.
std::string train_tiny(const std::string& dir, const std::string& extra, int* rc);
/// Path of the built host executable.
std::string looplab_exe();

}  // namespace looplab::test
