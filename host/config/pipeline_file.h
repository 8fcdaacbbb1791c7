#pragma once
/// @file pipeline_file.h
/// Pipeline files as TOML documents: reading one with its `extends` bases and `--set`
/// overrides, placing values into it, and writing one back.
/// Every node of the merged document keeps the file:line:col it came from, so later errors
/// (in the schema checks or in the host's section checks) can point at the right place.

#include <string>
#include <vector>

#include <toml++/toml.h>

#include <looplab/sdk/params.h>

#include "config/diagnostics.h"

namespace looplab::host {

/// Parses `path` and everything it extends, applies overrides, returns the merged document.
/// - `extends = ["base.toml", ...]` (a string or an array of strings) at top level: paths relative to
///   the including file's directory; bases applied in order (later wins), the including file wins over
///   all; tables merge deeply; arrays (incl. arrays of tables) and scalars are replaced whole.
///   Recursive. A missing/unreadable base or a cycle is an error at the location of that extends entry.
///   The `extends` key is removed from the result.
/// - TOML syntax errors: "file:line:col: error: <toml++ description>".
/// - overrides "a.b.c=value": value parsed as a TOML value (64, 1e-3, true, "x", [1,2]); if that fails
///   the raw text (trimmed) is taken as a string. A numeric path segment indexes an array
///   (model.blocks.0.n_head=8); numeric segments never create or index tables. Missing intermediate
///   tables are created. Override errors are reported as "--set: error: ...". Nodes created by an
///   override have source path "--set", line 1 and the column within the override text.
/// Throws ConfigError with every diagnostic collected. The result must be moved, not copied, to keep
/// source positions (toml++ copies drop them).
toml::table load_config(const std::string& path, const std::vector<std::string>& overrides);

/// Applies overrides to an empty document (same syntax and errors as load_config's); used where
/// `--set` names the keys of one table, as `looplab analyze` does for the analysis' parameters.
toml::table load_overrides(const std::vector<std::string>& overrides);

/// Moves `value` (keeping its source position) to the dotted `path` of `root`, with the
/// override rules: numeric segments index existing arrays, missing tables are created.
/// Path problems are reported at `where`. Used to apply sweep values.
void place_value(toml::table& root, const std::string& path, toml::node&& value, const SourceLocation& where,
                 Diagnostics& diags);

/// Converts a ParamValue to a toml node and inserts/assigns it under `key` (used to write
/// resolved.toml with defaults filled in); a nested block becomes a table with its `type`.
void set_value(toml::table& table, const std::string& key, const sdk::ParamValue& value);

/// `toml_text` with every float written in the shortest form that reads back to the same double
/// (0.9, 1e-05), strings untouched.
std::string shortest_floats(const std::string& toml_text);

/// Writes `table` as TOML text (toml++'s formatter) to `path` via a temp file + rename; throws
/// std::runtime_error naming the path on failure.
void write_toml(const std::string& path, const toml::table& table);

}  // namespace looplab::host
