#include <looplab/sdk/params.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace looplab::sdk {

const char* type_name(ParamType type) {
  switch (type) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::IntList: return "array of int";
    case ParamType::FloatList: return "array of float";
    case ParamType::StringList: return "array of string";
    case ParamType::Block: return "block table";
  }
  return "?";
}

ParamType type_of(const ParamValue& value) { return static_cast<ParamType>(value.index()); }

namespace {

std::string number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::ostringstream out;
    out << static_cast<int64_t>(v) << ".0";
    return out.str();
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// A TOML basic string: quotes and backslashes escaped, control characters as \uXXXX.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <typename T, typename F>
std::string list(const std::vector<T>& values, F render) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + render(values[i]);
  return out + "]";
}

std::string bound_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string to_toml(const ParamValue& value) {
  switch (type_of(value)) {
    case ParamType::Int: return std::to_string(std::get<int64_t>(value));
    case ParamType::Float: return number(std::get<double>(value));
    case ParamType::Bool: return std::get<bool>(value) ? "true" : "false";
    case ParamType::String: return quoted(std::get<std::string>(value));
    case ParamType::IntList:
      return list(std::get<std::vector<int64_t>>(value), [](int64_t v) { return std::to_string(v); });
    case ParamType::FloatList: return list(std::get<std::vector<double>>(value), number);
    case ParamType::StringList: return list(std::get<std::vector<std::string>>(value), quoted);
    case ParamType::Block: {
      const auto& spec = std::get<BlockSpecPtr>(value);
      if (!spec) return "{}";
      std::string out = "{ type = " + quoted(spec->type);
      for (const auto& [k, v] : spec->params.values()) out += ", " + k + " = " + to_toml(v);
      return out + " }";
    }
  }
  return "";
}

std::string ParamSpec::constraint() const {
  if (!choices.empty()) {
    std::string out = "one of ";
    for (size_t i = 0; i < choices.size(); ++i) out += (i ? "|" : "") + choices[i];
    return out;
  }
  if (min && max) return "[" + bound_text(*min) + ", " + bound_text(*max) + "]";
  if (min) return ">= " + bound_text(*min);
  if (max) return "<= " + bound_text(*max);
  return "";
}

std::string ParamSpec::check(const ParamValue& value) const {
  auto in_range = [this](double v) { return (!min || v >= *min) && (!max || v <= *max); };
  auto range_error = [this](const std::string& shown) { return "value " + shown + " is out of range " + constraint(); };
  switch (type_of(value)) {
    case ParamType::Int: {
      auto v = std::get<int64_t>(value);
      return in_range(static_cast<double>(v)) ? "" : range_error(std::to_string(v));
    }
    case ParamType::Float: {
      auto v = std::get<double>(value);
      if (!std::isfinite(v)) return "value must be finite";
      return in_range(v) ? "" : range_error(to_toml(value));
    }
    case ParamType::String: {
      const auto& s = std::get<std::string>(value);
      if (choices.empty()) return "";
      for (const auto& c : choices)
        if (c == s) return "";
      return "value " + quoted(s) + " is not " + constraint();
    }
    case ParamType::IntList:
      for (auto v : std::get<std::vector<int64_t>>(value))
        if (!in_range(static_cast<double>(v))) return range_error(std::to_string(v));
      return "";
    case ParamType::FloatList:
      for (auto v : std::get<std::vector<double>>(value))
        if (!in_range(v)) return range_error(number(v));
      return "";
    case ParamType::StringList:
      if (choices.empty()) return "";
      for (const auto& s : std::get<std::vector<std::string>>(value)) {
        bool ok = false;
        for (const auto& c : choices) ok = ok || c == s;
        if (!ok) return "value " + quoted(s) + " is not " + constraint();
      }
      return "";
    case ParamType::Bool:
    case ParamType::Block: return "";
  }
  return "";
}

namespace {
ParamSpec make(std::string name, ParamType type, std::optional<ParamValue> fallback, std::string doc) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.fallback = std::move(fallback);
  spec.doc = std::move(doc);
  return spec;
}
}  // namespace

ParamSpec int_param(std::string name, int64_t fallback, std::string doc) {
  return make(std::move(name), ParamType::Int, ParamValue{fallback}, std::move(doc));
}
ParamSpec float_param(std::string name, double fallback, std::string doc) {
  return make(std::move(name), ParamType::Float, ParamValue{fallback}, std::move(doc));
}
ParamSpec bool_param(std::string name, bool fallback, std::string doc) {
  return make(std::move(name), ParamType::Bool, ParamValue{fallback}, std::move(doc));
}
ParamSpec string_param(std::string name, std::string fallback, std::string doc) {
  return make(std::move(name), ParamType::String, ParamValue{std::move(fallback)}, std::move(doc));
}
ParamSpec int_list_param(std::string name, std::vector<int64_t> fallback, std::string doc) {
  return make(std::move(name), ParamType::IntList, ParamValue{std::move(fallback)}, std::move(doc));
}
ParamSpec string_list_param(std::string name, std::vector<std::string> fallback, std::string doc) {
  return make(std::move(name), ParamType::StringList, ParamValue{std::move(fallback)}, std::move(doc));
}
ParamSpec block_param(std::string name, std::string default_type, std::string doc) {
  auto spec = std::make_shared<BlockSpec>();
  spec->type = std::move(default_type);
  return make(std::move(name), ParamType::Block, ParamValue{BlockSpecPtr(std::move(spec))}, std::move(doc));
}
ParamSpec required_param(std::string name, ParamType type, std::string doc) {
  return make(std::move(name), type, std::nullopt, std::move(doc));
}

Params Params::defaults(const ParamSchema& schema) {
  Params params;
  for (const auto& spec : schema)
    if (spec.fallback) params.set(spec.name, *spec.fallback);
  return params;
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::invalid_argument("parameter '" + name + "' is not set");
  return it->second;
}

namespace {
template <typename T>
const T& typed(const ParamValue& value, const std::string& name, ParamType want) {
  if (auto p = std::get_if<T>(&value)) return *p;
  throw std::invalid_argument("parameter '" + name + "' is a " + type_name(type_of(value)) + ", not a " +
                              type_name(want));
}
}  // namespace

int64_t Params::get_int(const std::string& name) const { return typed<int64_t>(at(name), name, ParamType::Int); }
double Params::get_float(const std::string& name) const {
  const auto& v = at(name);
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return typed<double>(v, name, ParamType::Float);
}
bool Params::get_bool(const std::string& name) const { return typed<bool>(at(name), name, ParamType::Bool); }
const std::string& Params::get_string(const std::string& name) const {
  return typed<std::string>(at(name), name, ParamType::String);
}
const std::vector<int64_t>& Params::get_int_list(const std::string& name) const {
  return typed<std::vector<int64_t>>(at(name), name, ParamType::IntList);
}
const std::vector<std::string>& Params::get_string_list(const std::string& name) const {
  return typed<std::vector<std::string>>(at(name), name, ParamType::StringList);
}
const BlockSpec& Params::get_block(const std::string& name) const {
  const auto& spec = typed<BlockSpecPtr>(at(name), name, ParamType::Block);
  if (!spec) throw std::invalid_argument("parameter '" + name + "' holds no block");
  return *spec;
}

}  // namespace looplab::sdk
