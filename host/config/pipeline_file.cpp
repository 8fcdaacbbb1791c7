#include "config/pipeline_file.h"

#include "common/files.h"
#include "config/schema.h"

#include <looplab/sdk/analysis.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

/// `s` in single quotes, as names appear in messages.
std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

/// `s` without leading and trailing whitespace.
std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

/// True for a non-empty run of decimal digits (an array index in an override path).
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------------------------
// Files and extends

/// Reads a whole file; returns "" on success or why it failed.
std::string read_text(const std::string& path, std::string& text) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "file not found";
  if (fs::is_directory(path, ec)) return "is a directory";
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open file: ") + std::strerror(errno);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return "cannot read file";
  text = buf.str();
  return "";
}

/// Identity of a file for cycle detection (the same file reached through different spellings).
std::string file_identity(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = fs::absolute(path, ec).lexically_normal();
  return canonical.string();
}

/// Merges `under` (moved from) beneath `over`: over's values win, tables present in both merge
/// recursively, anything else in `over` replaces under's whole. Nodes are moved, never copied,
/// so every node keeps its source position; tables present in both keep over's position.
void merge_under(toml::table&& under, toml::table& over) {
  for (auto&& [key, node] : under) {
    toml::node* mine = over.get(key.str());
    if (!mine) {
      over.insert_or_assign(key, std::move(node));
    } else if (mine->is_table() && node.is_table()) {
      merge_under(std::move(*node.as_table()), *mine->as_table());
    }
  }
}

/// One file being loaded, for cycle detection and the cycle message.
struct Frame {
  std::string identity;  ///< file_identity() of the file.
  std::string shown;     ///< Path as shown in messages.
};

/// Loads files recursively through `extends`, recording errors instead of stopping at the first.
class Loader {
 public:
  /// Records errors into `diags`.
  explicit Loader(Diagnostics& diags) : diags_(diags) {}

  /// Loads `file` with everything it extends. `origin` is where a failure to read it is reported
  /// (the extends entry naming it; for the top-level file, the file itself).
  std::optional<toml::table> load(const std::string& file, const SourceLocation& origin, bool is_base) {
    std::string text;
    std::string problem = read_text(file, text);
    if (!problem.empty()) {
      diags_.error(origin, is_base ? "cannot load " + quote(file) + ": " + problem : problem);
      return std::nullopt;
    }
    toml::table doc;
    try {
      doc = toml::parse(std::string_view(text), std::string_view(file));
    } catch (const toml::parse_error& e) {
      diags_.error(SourceLocation{file, e.source().begin.line, e.source().begin.column}, std::string(e.description()));
      return std::nullopt;
    }

    stack_.push_back(Frame{file_identity(file), file});
    std::optional<toml::table> bases;
    for (const toml::node* entry : extends_entries(doc, file)) {
      SourceLocation at = location_of(*entry, SourceLocation{file});
      std::string base = (fs::path(file).parent_path() / *entry->value<std::string>()).lexically_normal().string();
      if (in_stack(base, at)) continue;
      std::optional<toml::table> loaded = load(base, at, true);
      if (!loaded) continue;
      if (bases) merge_under(std::move(*bases), *loaded);
      bases = std::move(*loaded);
    }
    stack_.pop_back();

    doc.erase("extends");
    if (bases) merge_under(std::move(*bases), doc);
    return doc;
  }

 private:
  /// The string nodes of a top-level `extends` (string or array of strings); reports other shapes.
  std::vector<const toml::node*> extends_entries(const toml::table& doc, const std::string& file) {
    std::vector<const toml::node*> entries;
    const toml::node* ext = doc.get("extends");
    if (!ext) return entries;
    if (ext->is_string()) {
      entries.push_back(ext);
    } else if (const toml::array* list = ext->as_array()) {
      for (const toml::node& item : *list) {
        if (item.is_string())
          entries.push_back(&item);
        else
          diags_.error(location_of(item, location_of(*ext, SourceLocation{file})),
                       "'extends' entries must be strings, got " + type_of_node(item));
      }
    } else {
      diags_.error(location_of(*ext, SourceLocation{file}),
                   "'extends' must be a string or an array of strings, got " + type_of_node(*ext));
    }
    return entries;
  }

  /// Reports and returns true when `file` is already being loaded (an extends cycle).
  bool in_stack(const std::string& file, const SourceLocation& at) {
    std::string id = file_identity(file);
    auto it = std::find_if(stack_.begin(), stack_.end(), [&](const Frame& f) { return f.identity == id; });
    if (it == stack_.end()) return false;
    std::string chain;
    for (; it != stack_.end(); ++it) chain += it->shown + " -> ";
    diags_.error(at, "extends cycle: " + chain + file);
    return true;
  }

  Diagnostics& diags_;
  std::vector<Frame> stack_;
};

// ---------------------------------------------------------------------------------------------
// --set overrides

/// Source path given to nodes created by overrides, and the file shown in override errors.
const char* const kOverrideSource = "--set";

/// A syntactically valid override: `doc` is the override parsed as a one-line TOML document
/// (a chain of `depth` nested single-key tables ending in the value).
struct ParsedOverride {
  std::string text;                       ///< The override as given, for messages.
  toml::table doc;                        ///< Parsed form; its nodes are moved into the configuration.
  size_t depth = 0;                       ///< Number of key segments.
  SourceLocation where{kOverrideSource};  ///< Where path problems are reported.
  std::string what = "override";          ///< How messages name it.
};

/// TOML basic string for `s`: the SDK's quoting (quotes, backslashes, control characters).
std::string toml_string(std::string_view s) { return sdk::to_toml(sdk::ParamValue{std::string(s)}); }

/// Number of dotted segments in a TOML key, ignoring dots inside quotes.
size_t key_depth(std::string_view key) {
  size_t depth = 1;
  char in_quote = 0;
  for (char c : key) {
    if (in_quote) {
      if (c == in_quote) in_quote = 0;
    } else if (c == '"' || c == '\'') {
      in_quote = c;
    } else if (c == '.') {
      ++depth;
    }
  }
  return depth;
}

/// Parses `doc` as a TOML document holding exactly one top-level key, or nullopt.
std::optional<toml::table> parse_one_line(const std::string& doc) {
  try {
    toml::table t = toml::parse(std::string_view(doc), std::string_view(kOverrideSource));
    if (t.size() == 1) return t;  // anything else was not a single key=value
  } catch (const toml::parse_error&) {
  }
  return std::nullopt;
}

/// Checks and parses one "key=value" override; reports and returns nullopt when malformed.
std::optional<ParsedOverride> parse_override(const std::string& text, Diagnostics& diags) {
  const SourceLocation at{kOverrideSource};
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    diags.error(at, "override " + quote(text) + " is not of the form key=value");
    return std::nullopt;
  }
  std::string key = text.substr(0, eq);
  if (trim(key).empty()) {
    diags.error(at, "override " + quote(text) + " has an empty key");
    return std::nullopt;
  }
  // Parsing the override text itself (rather than just its value) gives every created node a
  // column within the override, so later validation errors can point into it.
  std::optional<toml::table> doc = parse_one_line(text);
  if (!doc) {
    // Not a TOML value: take the trimmed raw text as a string, keeping the value's column.
    std::string raw = text.substr(eq + 1);
    size_t lead = std::min(raw.find_first_not_of(" \t"), raw.size());
    doc = parse_one_line(text.substr(0, eq + 1) + raw.substr(0, lead) + toml_string(trim(raw)));
  }
  if (!doc) {
    diags.error(at, "override " + quote(text) + " has an invalid key " + quote(trim(key)));
    return std::nullopt;
  }
  // Filled field by field: GCC 12 misreads the aggregate form as reading `where` uninitialised.
  ParsedOverride parsed;
  parsed.text = text;
  parsed.doc = std::move(*doc);
  parsed.depth = key_depth(key);
  return parsed;
}

/// Applies one parsed override to `root`, moving its nodes in.
void apply_override(toml::table& root, ParsedOverride& o, Diagnostics& diags) {
  auto fail = [&](const std::string& why) { diags.error(o.where, o.what + " " + quote(o.text) + ": " + why); };

  // Flatten the parsed chain into (key, node) steps; the last node is the value to store.
  std::vector<std::pair<const toml::key*, toml::node*>> steps;
  toml::table* level = &o.doc;
  for (size_t i = 0; i < o.depth; ++i) {
    if (!level || level->size() != 1) {
      fail("expected a single key=value");
      return;
    }
    auto entry = level->begin();
    steps.emplace_back(&entry->first, &entry->second);
    level = entry->second.as_table();
  }

  auto shown = [](const std::string& path) { return path.empty() ? std::string("the top level") : quote(path); };
  toml::node* target = &root;
  std::string path;  // dotted path of `target`, for messages
  for (size_t i = 0; i < steps.size(); ++i) {
    const toml::key& key = *steps[i].first;
    toml::node& value = *steps[i].second;
    const std::string segment(key.str());
    const bool last = i + 1 == steps.size();

    if (toml::table* table = target->as_table()) {
      toml::node* child = table->get(segment);
      if (!child) {
        // The rest is created from the override; numeric segments there would make tables, not
        // index arrays, which is never what was meant.
        std::string prefix = path;
        for (size_t j = i; j < steps.size(); ++j) {
          const std::string seg(steps[j].first->str());
          if (all_digits(seg)) {
            fail(j == i ? shown(prefix) + " is a table, not an array, so " + quote(seg) + " cannot index it"
                        : quote(prefix) + " does not exist, so " + quote(seg) + " cannot index it");
            return;
          }
          prefix += (prefix.empty() ? "" : ".") + seg;
        }
      }
      if (last || !child) {
        // Replace key and value together so that both point into the override.
        table->erase(segment);
        table->insert_or_assign(key, std::move(value));
        return;
      }
      target = child;
    } else if (toml::array* array = target->as_array()) {
      if (!all_digits(segment)) {
        fail(quote(path) + " is an array, so " + quote(segment) + " must be a numeric index");
        return;
      }
      size_t index = array->size();
      if (segment.size() < 10) index = std::stoul(segment);
      if (index >= array->size()) {
        fail("index " + segment + " is out of range for " + quote(path) + " (" + std::to_string(array->size()) +
             (array->size() == 1 ? " element)" : " elements)"));
        return;
      }
      if (last) {
        array->replace(array->cbegin() + static_cast<std::ptrdiff_t>(index), std::move(value));
        return;
      }
      target = array->get(index);
    } else {
      fail(quote(path) + " is " + type_of_node(*target) + ", not a table or array");
      return;
    }
    path += (path.empty() ? "" : ".") + segment;
  }
}

}  // namespace

toml::table load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Diagnostics diags;
  std::optional<toml::table> doc = Loader(diags).load(path, SourceLocation{path}, false);

  // Override syntax is checked even when the files failed, so all mistakes show up together.
  std::vector<ParsedOverride> parsed;
  for (const auto& text : overrides)
    if (auto o = parse_override(text, diags)) parsed.push_back(std::move(*o));

  if (doc)
    for (auto& o : parsed) apply_override(*doc, o, diags);

  if (!diags.empty() || !doc) throw ConfigError(std::move(diags));
  return std::move(*doc);
}

toml::table load_overrides(const std::vector<std::string>& overrides) {
  Diagnostics diags;
  toml::table doc;
  for (const auto& text : overrides)
    if (auto o = parse_override(text, diags)) apply_override(doc, *o, diags);
  if (!diags.empty()) throw ConfigError(std::move(diags));
  return doc;
}

void place_value(toml::table& root, const std::string& path, toml::node&& value, const SourceLocation& where,
                 Diagnostics& diags) {
  // The same walk as an override, over a chain of tables built from the dotted path; the
  // value is moved, so it keeps its own position.
  ParsedOverride o{path, {}, 0, where, "key"};
  toml::table* level = &o.doc;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string segment = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    ++o.depth;
    if (segment.empty()) {
      diags.error(where, "key " + quote(path) + " has an empty segment");
      return;
    }
    if (dot == std::string::npos) {
      level->insert_or_assign(segment, std::move(value));
      break;
    }
    level = level->insert_or_assign(segment, toml::table{}).first->second.as_table();
    start = dot + 1;
  }
  apply_override(root, o, diags);
}

void set_value(toml::table& table, const std::string& key, const sdk::ParamValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                      std::is_same_v<T, std::vector<std::string>>) {
          toml::array array;
          for (const auto& item : v) array.push_back(item);
          table.insert_or_assign(key, std::move(array));
        } else if constexpr (std::is_same_v<T, sdk::BlockSpecPtr>) {
          toml::table nested;
          if (v) {
            nested.insert_or_assign("type", v->type);
            for (const auto& [k, item] : v->params.values()) set_value(nested, k, item);
          }
          table.insert_or_assign(key, std::move(nested));
        } else {
          table.insert_or_assign(key, v);
        }
      },
      value);
}

std::string shortest_floats(const std::string& toml_text) {
  std::string out;
  out.reserve(toml_text.size());
  char quote = 0;  // inside a '"' or '\'' string
  for (size_t i = 0; i < toml_text.size();) {
    const char c = toml_text[i];
    if (quote) {
      out += c;
      if (c == '\\' && quote == '"' && i + 1 < toml_text.size())
        out += toml_text[++i];
      else if (c == quote)
        quote = 0;
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      out += c;
      ++i;
      continue;
    }
    // A number token starts after '=', ',', '[' or white space; keys never start with a digit here.
    const bool starts = (std::isdigit(static_cast<unsigned char>(c)) || c == '-') &&
                        (out.empty() || std::strchr(" \t=[,", out.back()) != nullptr);
    if (!starts) {
      out += c;
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < toml_text.size() && std::strchr("0123456789.eE+-_", toml_text[end]) != nullptr) ++end;
    const std::string token = toml_text.substr(i, end - i);
    const bool is_float = token.find_first_of(".eE") != std::string::npos && token.find('_') == std::string::npos;
    std::string replacement = token;
    if (is_float) {
      char* stop = nullptr;
      const double value = std::strtod(token.c_str(), &stop);
      if (stop == token.c_str() + token.size()) {
        replacement = sdk::Table::num(value);
        if (replacement.find_first_of(".e") == std::string::npos) replacement += ".0";  // stays a TOML float
      }
    }
    out += replacement;
    i = end;
  }
  return out;
}

void write_toml(const std::string& path, const toml::table& table) {
  std::ostringstream text;
  text << table << "\n";
  // toml++ (a compiled library here) prints doubles with 17 digits (0.90000000000000002).
  write_file_atomic(path, shortest_floats(text.str()));
}

}  // namespace looplab::host
