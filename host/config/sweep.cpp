#include "config/sweep.h"

#include "common/text.h"
#include "config/config_loader.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

namespace looplab::host {

namespace {

const std::vector<std::string> kSweepKeys = {"grid", "zip", "seeds"};

// One swept key: its dotted target, where its values live inside [sweep], and the values.
struct Axis {
  std::string key;                   // dotted target, e.g. "model.loops"
  std::vector<std::string> source;   // path of the value array below [sweep]
  std::vector<std::string> values;   // each value as TOML text
  std::vector<std::string> compact;  // each value shortened for ids
};

std::string toml_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& n) { out << n; });
  return out.str();
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string hex(uint64_t value, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return std::string(buf + 16 - digits);
}

// A value as it should read in a directory name: scalars as written, a list of scalars
// joined by '+', a block (or a list of blocks) by its type, anything else by a short hash.
std::string compact_text(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_integer() || node.is_floating_point() || node.is_boolean()) return toml_text(node);
  auto type_of_table = [](const toml::node& n) -> std::string {
    if (const auto* t = n.as_table())
      if (auto type = t->get("type"); type && type->is_string()) return type->value<std::string>().value();
    return "";
  };
  std::string out = type_of_table(node);
  if (const auto* array = node.as_array(); array && array->empty()) return "none";
  if (const auto* array = node.as_array(); array && !array->front().is_table() && !array->front().is_array()) {
    for (const auto& item : *array) out += (out.empty() ? "" : "+") + compact_text(item);
    return out;
  }
  if (const auto* array = node.as_array()) {
    for (const auto& item : *array) {
      auto type = type_of_table(item);
      if (type.empty()) {
        out.clear();
        break;
      }
      out += (out.empty() ? "" : "+") + type;
    }
  }
  return out.empty() ? "v" + hex(fnv1a(toml_text(node)), 4) : out;
}

std::string sanitize(const std::string& text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  return out;
}

std::string last_named_segment(const std::string& key) {
  std::string best = key;
  size_t start = 0;
  while (start <= key.size()) {
    const size_t dot = key.find('.', start);
    const std::string seg = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !seg.empty();
    for (char c : seg) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits && !seg.empty()) best = seg;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return best;
}

class Expander {
 public:
  Expander(const toml::table& sweep, Diagnostics& diags) : sweep_(sweep), diags_(diags) {}

  std::vector<SweepMember> expand() {
    for (auto&& [key, node] : sweep_) {
      const std::string k(key.str());
      if (k == "grid" || k == "zip") {
        if (const auto* t = node.as_table())
          collect(*t, "", {k}, k == "grid" ? grid_ : zip_);
        else
          diags_.error(location_of(node), "[sweep." + k + "] must be a table of dotted keys, each an array of values");
      } else if (k == "seeds") {
        seeds(node);
      } else {
        diags_.error(location_of(key, location_of(node)), unknown_name("sweep key", k, kSweepKeys, NameList::kValid));
      }
    }
    check_zip();
    if (!diags_.empty()) return {};

    const size_t zip_len = zip_.empty() ? 1 : zip_.front().values.size();
    const size_t seed_len = seeds_ ? seeds_->values.size() : 1;
    // Counted before any member is built: a few lines of grid multiply out to billions.
    size_t runs = zip_len * seed_len;
    for (const auto& axis : grid_) runs = runs > kMaxSweepRuns ? runs : runs * axis.values.size();
    if (runs > kMaxSweepRuns) {
      diags_.error(location_of(sweep_), "the sweep expands into more than " + std::to_string(kMaxSweepRuns) + " runs");
      return {};
    }

    std::vector<SweepMember> members;
    std::vector<size_t> pick(grid_.size(), 0);
    while (true) {
      for (size_t z = 0; z < zip_len; ++z)
        for (size_t s = 0; s < seed_len; ++s) {
          SweepMember m;
          m.index = members.size();
          std::vector<std::pair<const Axis*, size_t>> chosen;
          for (size_t g = 0; g < grid_.size(); ++g) chosen.emplace_back(&grid_[g], pick[g]);
          for (const auto& axis : zip_) chosen.emplace_back(&axis, z);
          if (seeds_) chosen.emplace_back(&*seeds_, s);
          finish(m, chosen);
          members.push_back(std::move(m));
        }
      // Odometer over the grid, last key fastest.
      size_t g = grid_.size();
      while (g > 0 && ++pick[g - 1] == grid_[g - 1].values.size()) pick[--g] = 0;
      if (g == 0) break;
    }
    return members;
  }

  // Where each member's values come from: (path below [sweep], item) per override, in order.
  static std::vector<std::pair<std::vector<std::string>, size_t>> sources(const toml::table& sweep,
                                                                          const SweepMember& m, Diagnostics& diags) {
    Diagnostics scratch;
    Expander e(sweep, scratch);
    auto members = e.expand();
    std::vector<std::pair<std::vector<std::string>, size_t>> out;
    if (m.index >= members.size()) {
      diags.error({}, "sweep run " + std::to_string(m.index) + " does not exist (the sweep has " +
                          std::to_string(members.size()) + " runs)");
      return out;
    }
    return e.picks_[m.index];
  }

 private:
  void collect(const toml::table& table, const std::string& prefix, std::vector<std::string> source,
               std::vector<Axis>& into) {
    for (auto&& [key, node] : table) {
      const std::string k = prefix + std::string(key.str());
      auto path = source;
      path.emplace_back(key.str());
      if (const auto* t = node.as_table()) {
        collect(*t, k + ".", path, into);
      } else if (const auto* array = node.as_array()) {
        if (array->empty()) {
          diags_.error(location_of(node), "sweep key '" + k + "' has no values");
          continue;
        }
        Axis axis{k, path, {}, {}};
        for (const auto& item : *array) {
          axis.values.push_back(toml_text(item));
          axis.compact.push_back(compact_text(item));
        }
        into.push_back(std::move(axis));
      } else {
        diags_.error(location_of(node), "sweep key '" + k + "' must be an array of the values to try");
      }
    }
  }

  void seeds(const toml::node& node) {
    const auto* array = node.as_array();
    if (!array || array->empty()) {
      diags_.error(location_of(node), "sweep seeds must be a non-empty array of integers");
      return;
    }
    Axis axis{"run.seed", {"seeds"}, {}, {}};
    for (const auto& item : *array) {
      if (!item.is_integer() || item.value<int64_t>().value() < 0) {
        diags_.error(location_of(item, location_of(node)), "sweep seeds must be integers >= 0");
        return;
      }
      axis.values.push_back(toml_text(item));
      axis.compact.push_back(toml_text(item));
    }
    seeds_ = std::move(axis);
  }

  void check_zip() {
    for (const auto& axis : zip_)
      if (axis.values.size() != zip_.front().values.size()) {
        const toml::node* node = sweep_.at_path("zip").node();
        diags_.error(node ? location_of(*node) : SourceLocation{},
                     "zipped keys must have equally many values: '" + zip_.front().key + "' has " +
                         std::to_string(zip_.front().values.size()) + ", '" + axis.key + "' has " +
                         std::to_string(axis.values.size()));
        return;
      }
  }

  void finish(SweepMember& m, const std::vector<std::pair<const Axis*, size_t>>& chosen) {
    std::string readable, label;
    std::vector<std::pair<std::vector<std::string>, size_t>> picks;
    for (const auto& [axis, i] : chosen) {
      m.overrides.emplace_back(axis->key, axis->values[i]);
      picks.emplace_back(axis->source, i);
      readable += (readable.empty() ? "" : "_") + last_named_segment(axis->key) + "-" + axis->compact[i];
      label += (label.empty() ? "" : ", ") + axis->key + "=" + axis->values[i];
    }
    m.label = label;
    // The hash keeps ids unique when two values read alike (two blocks of the same type).
    m.id = chosen.empty() ? "base" : sanitize(readable) + "-" + hex(fnv1a(label), 6);
    picks_.push_back(std::move(picks));
  }

  const toml::table& sweep_;
  Diagnostics& diags_;
  std::vector<Axis> grid_, zip_;
  std::optional<Axis> seeds_;
  std::vector<std::vector<std::pair<std::vector<std::string>, size_t>>> picks_;
};

toml::node* descend(toml::table& table, const std::vector<std::string>& path) {
  toml::node* node = &table;
  for (const auto& seg : path) {
    auto* t = node ? node->as_table() : nullptr;
    node = t ? t->get(seg) : nullptr;
  }
  return node;
}

}  // namespace

bool has_sweep(const toml::table& doc) { return doc.contains("sweep"); }

std::vector<SweepMember> expand_sweep(const toml::table& doc, Diagnostics& diags) {
  const toml::node* node = doc.get("sweep");
  if (!node) return {};
  const auto* sweep = node->as_table();
  if (!sweep) {
    diags.error(location_of(*node), "[sweep] must be a table (grid, zip, seeds)");
    return {};
  }
  return Expander(*sweep, diags).expand();
}

toml::table member_document(const std::string& file, const std::vector<std::string>& overrides,
                            const SweepMember& member, Diagnostics& diags) {
  toml::table doc = load_config(file, overrides);
  toml::node* sweep_node = doc.get("sweep");
  toml::table* sweep = sweep_node ? sweep_node->as_table() : nullptr;
  if (!sweep) return doc;
  const auto picks = Expander::sources(*sweep, member, diags);
  for (size_t i = 0; i < picks.size() && i < member.overrides.size(); ++i) {
    toml::node* array = descend(*sweep, picks[i].first);
    toml::node* item = array && array->as_array() ? array->as_array()->get(picks[i].second) : nullptr;
    if (!item) continue;  // the file changed under us; the expansion reported nothing to place
    const SourceLocation at = location_of(*item, location_of(*array));
    place_value(doc, member.overrides[i].first, std::move(*item), at, diags);
  }
  doc.erase("sweep");
  bool names_itself = false;
  for (const auto& [key, value] : member.overrides) names_itself = names_itself || key == "run.name";
  if (!names_itself) {
    const toml::node* name = doc.at_path("run.name").node();
    std::string base = name && name->is_string() ? name->value<std::string>().value() : "";
    if (base.empty()) base = std::filesystem::path(file).stem().string();
    toml::node* run = doc.get("run");
    if (!run) run = &doc.insert_or_assign("run", toml::table{}).first->second;
    if (auto* t = run->as_table()) t->insert_or_assign("name", base + "-" + member.id);
  }
  return doc;
}

std::vector<PipelineConfig> build_sweep(const std::string& file, const std::vector<std::string>& overrides,
                                        const std::vector<SweepMember>& members, const PluginRegistry& registry,
                                        const PipelineCheck& check) {
  // (rendered location, message) -> members it occurs in, in first-seen order, with its note.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> seen;
  std::vector<std::pair<Diagnostic, std::pair<std::string, std::string>>> order;
  std::vector<PipelineConfig> out;
  for (const auto& m : members) {
    Diagnostics diags;
    try {
      auto doc = member_document(file, overrides, m, diags);
      if (diags.empty()) out.push_back(build_pipeline(doc, file, registry, check));
    } catch (const ConfigError& e) {
      diags = e.diagnostics();
    }
    for (const auto& d : diags.sorted()) {
      Diagnostic bare{d.where, ""};
      auto key = std::make_pair(bare.str(), d.message);
      if (!seen.count(key)) order.emplace_back(d, key);
      seen[key].push_back(m.index);
    }
  }
  if (order.empty()) return out;
  Diagnostics all;
  for (const auto& [first, key] : order) {
    const auto& in = seen[key];
    if (in.size() == members.size()) {
      all.error(first.where, key.second, first.note);
      continue;
    }
    std::string prefix =
        in.size() == 1 ? "sweep run " + std::to_string(in[0]) + " (" + members[in[0]].label + ")" : "sweep runs ";
    for (size_t i = 0; in.size() > 1 && i < in.size(); ++i) prefix += (i ? ", " : "") + std::to_string(in[i]);
    all.error(first.where, prefix + ": " + key.second, first.note);
  }
  throw ConfigError(all);
}

}  // namespace looplab::host
