#pragma once
/// @file text.h
/// Small text helpers every stage shares: lists, suggestions for misspelt names, durations,
/// numbers written as people read them.

#include <string>
#include <vector>

namespace looplab::host {

/// `items` joined by `separator`; with `limit`, at most that many, then ", ... (N in all)".
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ", size_t limit = 0);

/// The candidate closest to `word` (case-insensitive optimal string alignment distance), or ""
/// when none is within a third of the word's length.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// How unknown_name() lists the known names.
enum class NameList {
  kAvailable,  ///< Always "; available: a, b" (or "none installed"): installed components.
  kValid,      ///< " (valid: a, b)" only when there is no suggestion: fixed vocabularies.
};

/// The one wording of a name that is not known, e.g.
/// "unknown block 'gtp' (did you mean 'gpt'?); available: gpt, mamba" or
/// "unknown sweep key 'gird' (did you mean 'grid'?)". `context` follows the quoted name
/// (" for block 'gpt'").
std::string unknown_name(const std::string& what, const std::string& name, const std::vector<std::string>& candidates,
                         NameList list, const std::string& context = "");

/// A duration as "12m05s", or "3h07m" from an hour on (rounded to the nearest second).
std::string format_duration(double seconds);

}  // namespace looplab::host
