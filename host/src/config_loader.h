#pragma once
/// @file config_loader.h
/// The generic configuration layer: reading pipeline files with `extends` inheritance and
/// `--set` overrides, and validating tables against plugin parameter schemas.
/// Every node of the merged document keeps the file:line:col it came from, so later errors
/// (in this layer or in the host's section checks) can point at the right place.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include <looplab/sdk/params.h>

#include "diagnostics.h"

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

/// Resolves a nested block parameter (sdk::ParamType::Block): `node` is the TOML value, or null
/// when the key is absent (the spec's default type then applies); `what` names the owner and
/// `where` is the fallback location. Returns the value, or nullopt after reporting to `diags`.
using NestedBlockValidator = std::function<std::optional<sdk::ParamValue>(
    const toml::node* node, const sdk::ParamSpec& spec, const std::string& what, const SourceLocation& where)>;

/// Validates `table` against `schema` and returns Params with defaults filled in for absent keys.
/// `what` names the owner in messages, e.g. "block 'gpt'" or "section [training]".
/// Keys in `reserved` (host keys such as "type", "repeat") are skipped but count as valid names for
/// suggestions. Unknown keys are reported at the key, type/range errors at the value, missing
/// required parameters at `where`. Int is widened where float is expected (the value stored is a
/// double); float is not accepted for int; arrays must hold only the element type.
/// Errors go to `diags`; the returned Params then holds only the valid values and defaults.
/// Block parameters go through `nested` (present or absent); without one they are an error when
/// written and left unresolved when absent.
sdk::Params validate_table(const toml::table& table, const sdk::ParamSchema& schema, const std::string& what,
                           const std::set<std::string>& reserved, const SourceLocation& where, Diagnostics& diags,
                           const NestedBlockValidator& nested = {});

/// Closest candidate by edit distance (optimal-string-alignment Damerau/Levenshtein; case-insensitive)
/// within max(1, len/3) edits of `word`, or "". Ties go to the earliest candidate.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// Converts a ParamValue to a toml node and inserts/assigns it under `key` (used to write
/// resolved.toml with defaults filled in); a nested block becomes a table with its `type`.
void set_value(toml::table& table, const std::string& key, const sdk::ParamValue& value);

/// Writes `table` as TOML text (toml++'s formatter) to `path` via a temp file + rename; throws
/// std::runtime_error naming the path on failure.
void write_toml(const std::string& path, const toml::table& table);

}  // namespace looplab::host
