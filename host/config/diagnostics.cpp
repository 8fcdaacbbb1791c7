#include "config/diagnostics.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace looplab::host {

namespace {
// "file:line:col: error: " and the like.
std::string prefix(const SourceLocation& where, const char* severity) {
  std::string out = where.file;
  if (!out.empty() && where.line > 0) {
    out += ":" + std::to_string(where.line);
    if (where.column > 0) out += ":" + std::to_string(where.column);
  }
  return out + (out.empty() ? "" : ": ") + severity + ": ";
}
}  // namespace

std::string Diagnostic::str() const { return prefix(where, "error") + message; }

std::string Diagnostic::note_str() const { return note.empty() ? "" : prefix(where, "note") + note; }

void Diagnostics::error(SourceLocation where, std::string message, std::string note) {
  items_.push_back(Diagnostic{std::move(where), std::move(message), std::move(note)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) < std::tie(b.where.file, b.where.line, b.where.column);
  });
  return out;
}

std::string Diagnostics::render() const {
  std::string out;
  for (const auto& d : sorted()) {
    out += d.str() + "\n";
    if (!d.note.empty()) out += d.note_str() + "\n";
  }
  return out;
}

ConfigError::ConfigError(Diagnostics d) : std::runtime_error(d.render()), diags_(std::move(d)) {}

namespace {
SourceLocation from_region(const toml::source_region& src, const SourceLocation& fallback) {
  if (src.begin.line == 0) return fallback;
  SourceLocation where;
  where.file = src.path ? *src.path : fallback.file;
  where.line = src.begin.line;
  where.column = src.begin.column;
  return where;
}
}  // namespace

SourceLocation location_of(const toml::node& node, const SourceLocation& fallback) {
  return from_region(node.source(), fallback);
}

SourceLocation location_of(const toml::key& key, const SourceLocation& fallback) {
  return from_region(key.source(), fallback);
}

}  // namespace looplab::host
