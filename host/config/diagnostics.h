#pragma once
/// @file diagnostics.h
/// GCC-style configuration diagnostics ("file:line:col: error: message"), collected so that
/// every problem in a pipeline file is reported in one go rather than one per run.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace looplab::host {

/// A position in a configuration source; `line == 0` means "the whole file" (no position).
struct SourceLocation {
  /// Nowhere in particular.
  SourceLocation() = default;
  /// `{file, line, column}`, or `{file}` for the whole file. A constructor, not an aggregate:
  /// GCC 12 warns, wrongly, that a braced aggregate's string may be used uninitialised.
  SourceLocation(std::string file_, int64_t line_ = 0, int64_t column_ = 0)
      : file(std::move(file_)), line(line_), column(column_) {}
  std::string file;    ///< File path as shown to the user, or "--set" for command-line overrides.
  int64_t line = 0;    ///< 1-based line, 0 when unknown.
  int64_t column = 0;  ///< 1-based column, 0 when unknown.
};

/// One error: "file:line:col: error: message" (omit ":line:col" when line == 0), optionally
/// followed by "file:line:col: note: note".
struct Diagnostic {
  SourceLocation where;  ///< Where the problem is.
  std::string message;   ///< What is wrong, without location or "error:" prefix.
  std::string note{};    ///< What may help (where plugins were searched); {} keeps {where, message} valid.

  /// The GCC-style line, without trailing newline; a location without file renders as "error: ...".
  std::string str() const;
  /// The note's line in the same style ("" without a note).
  std::string note_str() const;
};

/// Collects errors so that all are reported at once, sorted by file, line, column (stable).
class Diagnostics {
 public:
  /// Records one error, with an optional note rendered on the line after it.
  void error(SourceLocation where, std::string message, std::string note = "");
  /// True when no error was recorded.
  bool empty() const { return items_.empty(); }
  /// Number of recorded errors.
  size_t size() const { return items_.size(); }
  /// Errors ordered by file, line, column; errors at the same position keep their recording order.
  std::vector<Diagnostic> sorted() const;
  /// sorted(), one str() per line (and its note_str() after it), each ending in '\n'.
  std::string render() const;

 private:
  std::vector<Diagnostic> items_;  ///< In recording order.
};

/// Thrown when a configuration cannot be used; the host prints render() and exits with code 2.
class ConfigError : public std::runtime_error {
 public:
  /// Takes the collected errors; what() is their render() text.
  explicit ConfigError(Diagnostics d);
  /// The collected errors.
  const Diagnostics& diagnostics() const { return diags_; }

 private:
  Diagnostics diags_;  ///< The errors being reported.
};

/// Location of a toml node (file from node.source().path; line/column from begin), or `fallback`
/// when the node has none (nodes built in code, or copies: toml++ copies drop positions).
SourceLocation location_of(const toml::node& node, const SourceLocation& fallback = {});

/// Location of a table key as written in its file (the key text, not its value), or `fallback`.
SourceLocation location_of(const toml::key& key, const SourceLocation& fallback = {});

}  // namespace looplab::host
