#pragma once
/// @file pipeline_loading.h
/// What the pipeline commands share: plugins found, a pipeline or sweep loaded and validated
/// (errors printed as file:line:col), run directories opened.

#include "cli/command_line.h"
#include "common/run_dir.h"
#include "config/pipeline.h"
#include "config/sweep.h"
#include "registry/plugin_registry.h"

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// The plugins in the search path (plugin_directories()), vetted as looplab_vetting() says;
/// problems with libraries are printed unless `report_problems` is false.
PluginRegistry load_registry(const std::vector<std::string>& cli_paths, const std::vector<std::string>& config_paths,
                             bool report_problems = true);

/// A pipeline file with its extends and --set applied; nullopt after printing the errors.
std::optional<toml::table> load_document(const std::string& file, const CommonOptions& c);

/// A validated pipeline (factories checked) that records the --plugin-path directories in its
/// [run] plugin_paths (record_plugin_paths); nullopt after printing the diagnostics.
std::optional<PipelineConfig> load_pipeline(const std::string& file, const CommonOptions& c);

/// A sweep's members and their validated pipelines (recording --plugin-path like
/// load_pipeline); nullopt after printing the errors.
std::optional<std::pair<std::vector<SweepMember>, std::vector<PipelineConfig>>> load_sweep(const std::string& file,
                                                                                           const toml::table& doc,
                                                                                           const CommonOptions& c);

/// An existing run directory (it has resolved.toml), or nullopt after saying why not.
std::optional<RunDir> open_run_dir(const std::string& path);

/// The name a pipeline runs under: [run].name, else the file's stem.
std::string pipeline_name(const toml::table& doc, const std::string& file);

/// `runs/<name>-<local time>`, where a run goes without --out.
std::string default_run_dir(const std::string& name);

}  // namespace looplab::host
