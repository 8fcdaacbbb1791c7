#pragma once
/// @file params.h
/// Declared plugin parameters. The host validates every TOML table against a component's
/// schema before calling its factory, so a factory only ever sees known, typed, in-range values.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace looplab::sdk {

class Block;
struct BlockContext;
struct BlockSpec;

/// The value types a parameter can take (TOML integer, float, bool, string, arrays, and a
/// nested block table such as lr_looped's `inner`).
enum class ParamType { Int, Float, Bool, String, IntList, FloatList, StringList, Block };

/// A nested block as a parameter value (immutable, shared).
using BlockSpecPtr = std::shared_ptr<const BlockSpec>;

/// One parameter value.
using ParamValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, std::vector<double>,
                                std::vector<std::string>, BlockSpecPtr>;

/// Human-readable name of a type ("int", "float", ...), as used in error messages.
const char* type_name(ParamType type);

/// Type tag of a value.
ParamType type_of(const ParamValue& value);

/// Renders a value as TOML (e.g. `4`, `1e-3`, `"gpt"`, `[5, 10]`); strings escape quotes,
/// backslashes and control characters. The one TOML quoting the host uses too.
std::string to_toml(const ParamValue& value);

/// Declaration of one parameter: name, type, default, bounds or choices, one-line doc.
struct ParamSpec {
  std::string name;                    ///< Key in the TOML table.
  ParamType type = ParamType::Int;     ///< Expected type (an integer is accepted for a float).
  std::optional<ParamValue> fallback;  ///< Default; empty means the key is required.
  std::string doc;                     ///< One line shown by `looplab plugins describe`.
  std::optional<double> min;           ///< Inclusive lower bound (numbers, and list elements).
  std::optional<double> max;           ///< Inclusive upper bound.
  std::vector<std::string> choices;    ///< Allowed strings; empty means any.

  /// Sets an inclusive lower bound.
  ParamSpec& at_least(double v) {
    min = v;
    return *this;
  }
  /// Sets an inclusive upper bound.
  ParamSpec& at_most(double v) {
    max = v;
    return *this;
  }
  /// Restricts a string to one of `values`.
  ParamSpec& one_of(std::vector<std::string> values) {
    choices = std::move(values);
    return *this;
  }
  /// Range or choices as text ("[1, 64]", "one of a|b"), empty when unconstrained.
  std::string constraint() const;
  /// Checks a value of the right type against bounds and choices; returns the problem or "".
  std::string check(const ParamValue& value) const;
};

/// An integer parameter with a default.
ParamSpec int_param(std::string name, int64_t fallback, std::string doc);
/// A floating-point parameter with a default.
ParamSpec float_param(std::string name, double fallback, std::string doc);
/// A boolean parameter with a default.
ParamSpec bool_param(std::string name, bool fallback, std::string doc);
/// A string parameter with a default.
ParamSpec string_param(std::string name, std::string fallback, std::string doc);
/// A list-of-integers parameter with a default.
ParamSpec int_list_param(std::string name, std::vector<int64_t> fallback, std::string doc);
/// A list-of-floats parameter with a default (inline: no symbol a 1.0 SDK library lacks).
inline ParamSpec float_list_param(std::string name, std::vector<double> fallback, std::string doc) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::FloatList;
  spec.fallback = ParamValue{std::move(fallback)};
  spec.doc = std::move(doc);
  return spec;
}
/// A list-of-strings parameter with a default.
ParamSpec string_list_param(std::string name, std::vector<std::string> fallback, std::string doc);
/// A nested block: a TOML table `{ type = "...", <that block's parameters> }`, validated by
/// the host against that block's own schema; `default_type` is used when the table (or its
/// `type`) is absent. The factory builds it with `params.get_block(name).make(context)`.
ParamSpec block_param(std::string name, std::string default_type, std::string doc);
/// A parameter without default: the TOML table must set it.
ParamSpec required_param(std::string name, ParamType type, std::string doc);

/// An ordered parameter schema.
using ParamSchema = std::vector<ParamSpec>;

/// Validated parameter values handed to a factory; every declared key is present.
class Params {
 public:
  Params() = default;
  /// Wraps already validated values.
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}
  /// A schema's defaults (required keys stay absent).
  static Params defaults(const ParamSchema& schema);

  /// True when `name` holds a value.
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  /// Integer value; throws std::invalid_argument when absent or of another type.
  int64_t get_int(const std::string& name) const;
  /// Float value (an integer is widened); throws when absent or of another type.
  double get_float(const std::string& name) const;
  /// Bool value; throws when absent or of another type.
  bool get_bool(const std::string& name) const;
  /// String value; throws when absent or of another type.
  const std::string& get_string(const std::string& name) const;
  /// Integer list value; throws when absent or of another type.
  const std::vector<int64_t>& get_int_list(const std::string& name) const;
  /// Float list value; throws when absent or of another type.
  const std::vector<double>& get_float_list(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) throw std::invalid_argument("parameter '" + name + "' is not set");
    if (const auto* list = std::get_if<std::vector<double>>(&it->second)) return *list;
    throw std::invalid_argument("parameter '" + name + "' is a " + type_name(type_of(it->second)) + ", not a " +
                                type_name(ParamType::FloatList));
  }
  /// String list value; throws when absent or of another type.
  const std::vector<std::string>& get_string_list(const std::string& name) const;
  /// Nested block value; throws when absent or of another type.
  const BlockSpec& get_block(const std::string& name) const;
  /// Sets or replaces one value (used by the host and by tests).
  void set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }
  /// All values, sorted by key.
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

/// A block named inside another block's parameters. The host fills in `params` (validated,
/// defaults included) and `factory` (the named plugin's) before any factory sees it.
struct BlockSpec {
  std::string type;  ///< Block plugin name.
  Params params;     ///< Its validated parameters (only the plugin's own keys).
  /// The named plugin's factory; empty until the host resolves the spec.
  std::function<std::shared_ptr<Block>(const Params&, const BlockContext&)> factory;

  /// Builds the block; throws std::logic_error when the host has not resolved the spec.
  std::shared_ptr<Block> make(const BlockContext& context) const;
};

}  // namespace looplab::sdk
