#include "config/schema.h"

#include "common/text.h"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace looplab::host {

namespace {

using sdk::ParamType;
using sdk::ParamValue;

/// `s` in single quotes, as names appear in messages.
std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

/// What a list holds, for type errors: "array of float", "array containing string", "array".
std::string describe_array(const toml::array& array) {
  if (array.empty()) return "array";
  toml::node_type first = array.front().type();
  const toml::node* mismatch = nullptr;
  if (array.is_homogeneous(first, mismatch)) return "array of " + type_of_node(array.front());
  return "mixed array";
}

/// Converts `node` to `type`; on mismatch returns nullopt and sets `bad` to the node to blame and
/// `got` to its description.
std::optional<ParamValue> convert(const toml::node& node, ParamType type, const toml::node*& bad, std::string& got) {
  bad = &node;
  got = type_of_node(node);
  switch (type) {
    case ParamType::Int:
      if (auto v = node.as_integer()) return ParamValue{v->get()};
      return std::nullopt;
    case ParamType::Float:
      if (auto v = node.as_floating_point()) return ParamValue{v->get()};
      if (auto v = node.as_integer()) return ParamValue{static_cast<double>(v->get())};
      return std::nullopt;
    case ParamType::Bool:
      if (auto v = node.as_boolean()) return ParamValue{v->get()};
      return std::nullopt;
    case ParamType::String:
      if (auto v = node.as_string()) return ParamValue{v->get()};
      return std::nullopt;
    case ParamType::IntList:
    case ParamType::FloatList:
    case ParamType::StringList: {
      const toml::array* array = node.as_array();
      if (!array) return std::nullopt;
      std::vector<int64_t> ints;
      std::vector<double> floats;
      std::vector<std::string> strings;
      for (const toml::node& item : *array) {
        bool ok = true;
        if (type == ParamType::IntList && item.is_integer())
          ints.push_back(item.as_integer()->get());
        else if (type == ParamType::FloatList && item.is_floating_point())
          floats.push_back(item.as_floating_point()->get());
        else if (type == ParamType::FloatList && item.is_integer())
          floats.push_back(static_cast<double>(item.as_integer()->get()));
        else if (type == ParamType::StringList && item.is_string())
          strings.push_back(item.as_string()->get());
        else
          ok = false;
        if (!ok) {
          got = describe_array(*array);
          // A mixed array is blamed on its first wrong element; a uniform one on the array.
          if (got == "mixed array") bad = &item;
          return std::nullopt;
        }
      }
      if (type == ParamType::IntList) return ParamValue{std::move(ints)};
      if (type == ParamType::FloatList) return ParamValue{std::move(floats)};
      return ParamValue{std::move(strings)};
    }
    case ParamType::Block: return std::nullopt;  // validated by the caller's NestedBlockValidator
  }
  return std::nullopt;
}

}  // namespace

std::string type_of_node(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::integer: return "int";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "bool";
    case toml::node_type::string: return "string";
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

sdk::Params validate_table(const toml::table& table, const sdk::ParamSchema& schema, const std::string& what,
                           const std::set<std::string>& reserved, const SourceLocation& where, Diagnostics& diags,
                           const NestedBlockValidator& nested) {
  sdk::Params params = sdk::Params::defaults(schema);
  auto find_spec = [&](std::string_view name) -> const sdk::ParamSpec* {
    for (const auto& spec : schema)
      if (spec.name == name) return &spec;
    return nullptr;
  };

  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (reserved.count(name)) continue;
    const sdk::ParamSpec* spec = find_spec(name);
    if (!spec) {
      std::vector<std::string> valid;
      for (const auto& s : schema) valid.push_back(s.name);
      valid.insert(valid.end(), reserved.begin(), reserved.end());
      diags.error(location_of(key, location_of(node, where)),
                  unknown_name("parameter", name, valid, NameList::kValid, " for " + what));
      continue;
    }

    if (spec->type == ParamType::Block) {
      if (!nested) {
        diags.error(location_of(node, where),
                    "parameter " + quote(name) + " for " + what + " names a block, which is not supported here");
      } else if (auto value = nested(&node, *spec, what, location_of(node, where))) {
        params.set(name, std::move(*value));
      }
      continue;
    }
    const toml::node* bad = nullptr;
    std::string got;
    std::optional<ParamValue> value = convert(node, spec->type, bad, got);
    if (!value) {
      diags.error(
          location_of(*bad, location_of(node, where)),
          "parameter " + quote(name) + " for " + what + " must be " + sdk::type_name(spec->type) + ", got " + got);
      continue;
    }
    std::string problem = spec->check(*value);
    if (!problem.empty()) {
      diags.error(location_of(node, where), "parameter " + quote(name) + " for " + what + ": " + problem);
      continue;
    }
    params.set(name, std::move(*value));
  }

  for (const auto& spec : schema) {
    if (table.contains(spec.name)) continue;
    if (!spec.fallback)
      diags.error(where, "missing required parameter " + quote(spec.name) + " for " + what);
    else if (spec.type == ParamType::Block && nested)
      if (auto value = nested(nullptr, spec, what, where)) params.set(spec.name, std::move(*value));
  }
  return params;
}

}  // namespace looplab::host
