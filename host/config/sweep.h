#pragma once
// A pipeline's [sweep] table: one file expanded into a family of runs.
//
//   [sweep]
//   seeds = [0, 1]                       # crossed with everything (sets run.seed)
//   [sweep.grid]                         # cartesian product over dotted keys
//   "model.loops" = [5, 10, 15]
//   [sweep.zip]                          # varied together (equal lengths), crossed with the grid
//   "model.n_embd" = [128, 256]
//   "model.blocks.0.n_head" = [4, 8]
//
// Values are any TOML values (a whole `model.blocks` array included). Members are numbered in
// a fixed order (grid keys in key order, as TOML tables are unordered, the last varying
// fastest; then zip; then seeds) and each has an id derived from its overrides alone, so ids
// stay stable when values are reordered or added.

#include "config/diagnostics.h"
#include "config/pipeline.h"
#include "registry/plugin_registry.h"

#include <toml++/toml.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// One run of a sweep.
struct SweepMember {
  size_t index = 0;  ///< 0-based position in the expansion.
  /// (dotted key, value as TOML text) for every swept key: grid keys, zip keys, then run.seed.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::string id;     ///< Directory name: readable summary plus a hash of the overrides.
  std::string label;  ///< "model.loops=5, run.seed=1".
};

/// The most runs one [sweep] may expand into.
inline constexpr size_t kMaxSweepRuns = 10000;

/// Whether the loaded document has a [sweep] table.
bool has_sweep(const toml::table& doc);

/// The members of the document's [sweep], in order; an empty [sweep] gives one member with no
/// overrides. Malformed sweeps (unknown keys, non-array values, zip lengths that differ, more
/// than kMaxSweepRuns runs) are reported to `diags` at their position.
std::vector<SweepMember> expand_sweep(const toml::table& doc, Diagnostics& diags);

/// The pipeline of one member: `file` loaded afresh with `overrides` (the --set list), the
/// member's values moved in at their dotted keys (keeping their positions in the [sweep]
/// table), [sweep] removed, and run.name set to "<name>-<id>" unless the sweep sets it.
toml::table member_document(const std::string& file, const std::vector<std::string>& overrides,
                            const SweepMember& member, Diagnostics& diags);

/// Loads and validates every member before anything runs. Errors shared by all members are
/// reported once; the others are prefixed with the sweep runs they occur in. `check` as for
/// build_pipeline. Throws ConfigError.
std::vector<PipelineConfig> build_sweep(const std::string& file, const std::vector<std::string>& overrides,
                                        const std::vector<SweepMember>& members, const PluginRegistry& registry,
                                        const PipelineCheck& check);

}  // namespace looplab::host
