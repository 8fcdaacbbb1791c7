#include "common/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace looplab::host {

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& separator, size_t limit) {
  const size_t shown = limit == 0 ? items.size() : std::min(limit, items.size());
  std::string out;
  for (size_t i = 0; i < shown; ++i) out += (i ? separator : "") + items[i];
  if (shown < items.size()) out += separator + "... (" + std::to_string(items.size()) + " in all)";
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string w = lower(word);
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(w, lower(c));
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string unknown_name(const std::string& what, const std::string& name, const std::vector<std::string>& candidates,
                         NameList list, const std::string& context) {
  const auto hint = did_you_mean(name, candidates);
  std::string out = "unknown " + what + " '" + name + "'" + context;
  if (!hint.empty()) out += " (did you mean '" + hint + "'?)";
  if (list == NameList::kAvailable)
    return out + "; available: " + (candidates.empty() ? "none installed" : join(candidates));
  if (hint.empty()) out += " (valid: " + (candidates.empty() ? std::string("none") : join(candidates)) + ")";
  return out;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

}  // namespace looplab::host
