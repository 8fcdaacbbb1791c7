#pragma once
/// @file schema.h
/// Checking a TOML table against a plugin's parameter schema (sdk::ParamSchema) and converting
/// its values to sdk::Params, with every error at the file:line:col of the key or value.

#include <functional>
#include <optional>
#include <set>
#include <string>

#include <toml++/toml.h>

#include <looplab/sdk/params.h>

#include "config/diagnostics.h"

namespace looplab::host {

/// Type of a toml node in the vocabulary of sdk::type_name ("int", "float", ...).
std::string type_of_node(const toml::node& node);

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

}  // namespace looplab::host
