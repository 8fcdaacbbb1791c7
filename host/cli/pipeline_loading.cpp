#include "cli/pipeline_loading.h"

#include "config/config_loader.h"
#include "model/model_factory.h"

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace looplab::host {

PluginRegistry load_registry(const std::vector<std::string>& cli_paths, const std::vector<std::string>& config_paths,
                             bool report_problems) {
  PluginRegistry registry(looplab_vetting());
  registry.load_directories(plugin_directories(cli_paths, config_paths));
  if (report_problems)
    for (const auto& p : registry.problems()) std::cerr << p << "\n";
  return registry;
}

std::optional<toml::table> load_document(const std::string& file, const CommonOptions& c) {
  try {
    return load_config(file, c.sets);
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
}

std::optional<PipelineConfig> load_pipeline(const std::string& file, const CommonOptions& c) {
  try {
    auto doc = load_config(file, c.sets);
    auto registry = load_registry(c.plugin_paths, raw_plugin_paths(doc));
    auto cfg = build_pipeline(doc, file, registry, check_factories);
    record_plugin_paths(cfg, c.plugin_paths);
    return cfg;
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
}

std::optional<std::pair<std::vector<SweepMember>, std::vector<PipelineConfig>>> load_sweep(const std::string& file,
                                                                                           const toml::table& doc,
                                                                                           const CommonOptions& c) {
  try {
    Diagnostics diags;
    auto members = expand_sweep(doc, diags);
    if (!diags.empty()) throw ConfigError(diags);
    auto registry = load_registry(c.plugin_paths, raw_plugin_paths(doc));
    auto configs = build_sweep(file, c.sets, members, registry, check_factories);
    for (auto& cfg : configs) record_plugin_paths(cfg, c.plugin_paths);
    return std::make_pair(std::move(members), std::move(configs));
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
}

std::optional<RunDir> open_run_dir(const std::string& path) {
  RunDir dir{absolute_path(path)};
  if (fs::exists(dir.resolved())) return dir;
  std::cerr << path << ": error: not a run directory (no resolved.toml)\n";
  return std::nullopt;
}

std::string pipeline_name(const toml::table& doc, const std::string& file) {
  if (auto name = doc.at_path("run.name").value<std::string>(); name && !name->empty()) return *name;
  return fs::path(file).stem().string();
}

std::string default_run_dir(const std::string& name) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream out;
  out << "runs/" << name << "-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return out.str();
}

}  // namespace looplab::host
