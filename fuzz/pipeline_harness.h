#pragma once
/// @file pipeline_harness.h
/// One fuzz input through the pipeline loader the way `looplab validate FILE --set K=V...`
/// takes it: the file with its `extends`, the `--set` overrides, the [sweep] expansion, and
/// validation against the built plugins. Shared by the libFuzzer target (fuzz_pipeline.cpp,
/// clang build in build-fuzz/) and the replay test (replay.cpp, the normal build), so a kept
/// crash input is re-checked by the same code in every test run (docs/testing.md#fuzzing).
///
/// An input is the bytes of a pipeline file. Its first lines may say how it is loaded; being
/// TOML comments, they stay in the file and every other byte is the pipeline as written:
///   #set KEY=VALUE   one --set override (any number of them, in order)
///   #dir NAME        the file lies in that directory of the work directory, so that its
///                    `extends` reach the bases there (unknown names: the top directory)
/// The work directory holds a copy of configs/ (so `#dir paper` reaches paper/cpu.toml),
/// tests/e2e/data/ as e2e/, and base.toml (tests/e2e/data/tiny.toml) next to the top input.

#include "registry/plugin_registry.h"

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace looplab::fuzz {

/// The loading instructions of an input's header lines.
struct InputHeader {
  std::vector<std::string> sets;  ///< `#set` lines, without the prefix.
  std::string dir;                ///< `#dir` name, "" for none.
};

/// The header lines at the start of `input` (parsing stops at the first other line).
InputHeader parse_header(std::string_view input);

/// The work directory and the plugins, set up once; the work directory is removed at exit.
class PipelineHarness {
 public:
  /// Copies the bases out of the repository (LOOPLAB_SOURCE_DIR) into a fresh temporary
  /// directory and takes the plugins of the normal build (test::bundled_registry()); throws
  /// std::runtime_error when a plugin is refused or none is found (validation would then test
  /// nothing).
  PipelineHarness();

  /// Writes `input` to the work directory and loads and validates it as `looplab validate`
  /// does. The loader's contract is to report problems as diagnostics (host::ConfigError),
  /// which this catches and renders; anything else that escapes (another exception, a crash)
  /// is a bug and is left to reach the caller. A sweep validates its first kMaxMembers
  /// members. [run].plugin_paths is not followed: the plugins are the ones loaded here. The
  /// factory dry run (model/) is not part of it: it builds LibTorch modules of any size the
  /// input asks for. With LOOPLAB_FUZZ_VERBOSE set it prints the diagnostics (or that the
  /// input was valid) on stderr.
  void run(std::string_view input) const;

  /// The seed corpus: every pipeline file of configs/ and tests/e2e/data/ as an input (with
  /// the `#dir` that makes its `extends` resolve), named after its path, and two inputs with
  /// `#set` lines over base.toml.
  std::vector<std::pair<std::string, std::string>> seeds() const;

  /// Members of a sweep validated per input.
  static constexpr size_t kMaxMembers = 16;

 private:
  bool verbose_;  ///< LOOPLAB_FUZZ_VERBOSE set: say on stderr what each input gave.
  std::string work_dir_;
  std::set<std::string> dirs_;  ///< Directories of the work directory an input may name.
  const host::PluginRegistry& registry_;
};

}  // namespace looplab::fuzz
