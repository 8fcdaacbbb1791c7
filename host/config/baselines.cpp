#include "config/baselines.h"

#include "common/text.h"
#include "config/pipeline_file.h"

#include <algorithm>
#include <cctype>

namespace looplab::host {

namespace {

// Parameters whose value differs from the schema default, in schema order.
std::vector<std::pair<std::string, sdk::ParamValue>> changed_params(const ComponentConfig& baseline) {
  std::vector<std::pair<std::string, sdk::ParamValue>> out;
  for (const auto& spec : baseline.component->params) {
    if (!baseline.params.has(spec.name)) continue;
    const auto& value = baseline.params.values().at(spec.name);
    if (!spec.fallback || sdk::to_toml(*spec.fallback) != sdk::to_toml(value)) out.emplace_back(spec.name, value);
  }
  return out;
}

// One entry of Task::baselines(), parsed as the value of a TOML key and validated like an
// [evaluation] baselines entry; its problems are reported at the [task] table.
std::optional<ComponentConfig> task_baseline(const PipelineConfig& cfg, const std::string& spec,
                                             const PluginRegistry& registry, Diagnostics& diags) {
  const std::string owner = "task '" + cfg.task.type + "' names baseline " + spec + ": ";
  // A bare name is not a TOML value; anything else must be one (an inline table).
  const bool bare = !spec.empty() && std::all_of(spec.begin(), spec.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  toml::table doc;
  try {
    doc = toml::parse("baseline = " + (bare ? "\"" + spec + "\"" : spec));
  } catch (const toml::parse_error& e) {
    diags.error(cfg.task.where, owner + "not a name or an inline table { type = ... } (" +
                                    std::string(e.description()) + ")");
    return std::nullopt;
  }
  Diagnostics inner;
  auto baseline = build_baseline(*doc.get("baseline"), registry, inner, cfg.task.where);
  if (!inner.empty()) {
    for (const auto& d : inner.sorted()) diags.error(cfg.task.where, owner + d.message);
    return std::nullopt;
  }
  return baseline;
}

}  // namespace

std::string baseline_id(const ComponentConfig& baseline) {
  std::string id = baseline.type;
  const auto changed = changed_params(baseline);
  for (size_t i = 0; i < changed.size(); ++i)
    id += (i == 0 ? "(" : ",") + changed[i].first + "=" + sdk::to_toml(changed[i].second);
  return changed.empty() ? id : id + ")";
}

std::vector<ComponentConfig> pipeline_baselines(const PipelineConfig& cfg, const std::vector<std::string>& task_specs,
                                                const PluginRegistry& registry, Diagnostics& diags) {
  std::vector<ComponentConfig> out;
  if (cfg.configured_baselines) {
    out = *cfg.configured_baselines;
  } else {
    for (const auto& spec : task_specs)
      if (auto b = task_baseline(cfg, spec, registry, diags)) out.push_back(std::move(*b));
  }
  for (const auto& extra : cfg.extra_baselines) {
    auto same = std::find_if(out.begin(), out.end(), [&](const ComponentConfig& b) { return b.type == extra.type; });
    if (same != out.end())
      *same = extra;
    else
      out.push_back(extra);
  }
  std::vector<std::string> ids;
  for (const auto& b : out) {
    const auto id = baseline_id(b);
    if (std::find(ids.begin(), ids.end(), id) != ids.end())
      diags.error(b.where, "baseline " + id + " is listed twice; give the second other parameters or drop it");
    ids.push_back(id);
  }
  return out;
}

toml::array baselines_toml(const std::vector<ComponentConfig>& baselines) {
  toml::array out;
  for (const auto& b : baselines) {
    const auto changed = changed_params(b);
    if (changed.empty()) {
      out.push_back(b.type);
      continue;
    }
    toml::table t;
    set_value(t, "type", b.type);
    for (const auto& [k, v] : changed) set_value(t, k, v);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace looplab::host
