#pragma once
// Discovers plugin libraries, vets them (plugin_probe.h), checks their descriptors, and indexes
// their components.

#include "registry/plugin_probe.h"

#include <looplab/sdk/plugin.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// A component together with the library file it came from.
struct LoadedComponent {
  const sdk::Component* component = nullptr;  ///< Owned by the (never unloaded) library.
  std::string file;                           ///< Path of the library.
  std::string plugin;                         ///< Library-level plugin name.
};

/// Loads plugin libraries and keeps every one loaded for the life of the process:
/// LibTorch-linked libraries crash on unload, and plugin objects must outlive any use.
class PluginRegistry {
 public:
  /// A registry that vets libraries as `vetting` says; by default with the static checks only
  /// (the looplab executable passes looplab_vetting(), which probes in a child).
  explicit PluginRegistry(PluginVetting vetting = {}) : vetting_(std::move(vetting)) {}

  /// Loads every `*.so` file directly inside each directory, in order. Problems (a file that is
  /// not a library for this host, one that crashed its probe, no entry symbol, a version
  /// mismatch, a throwing component table: "FILE: error: ..."; a duplicate component name:
  /// "FILE: warning: ...") become one line each in problems(); loading continues.
  void load_directories(const std::vector<std::string>& directories);
  /// Vets and loads one library file; returns false (and records one line) when it is refused.
  bool load_file(const std::string& path);

  /// The component of `kind` called `name`, or nullptr.
  const LoadedComponent* find(sdk::ComponentKind kind, const std::string& name) const;
  /// Names of all components of `kind`, sorted.
  std::vector<std::string> names(sdk::ComponentKind kind) const;
  /// All components, sorted by kind then name.
  std::vector<const LoadedComponent*> all() const;
  /// One line per refused library or duplicate component, in discovery order.
  const std::vector<std::string>& problems() const { return problems_; }
  /// Libraries loaded successfully.
  const std::vector<std::string>& files() const { return files_; }
  /// What to add to "unknown component" errors: the directories searched (load_directories())
  /// and how to add one.
  std::string search_note() const;

 private:
  // Loads a vetted library into this process and indexes its components.
  bool load_vetted(const std::string& path);

  PluginVetting vetting_;
  std::map<std::pair<int, std::string>, LoadedComponent> components_;
  std::vector<std::string> problems_;
  std::vector<std::string> files_;
  std::vector<std::string> directories_;
};

/// The plugin directories in discovery order: command line, the pipeline's [run].plugin_paths,
/// LOOPLAB_PLUGIN_PATH (colon-separated), the install directory next to the executable
/// (<prefix>/lib/looplab/plugins, which is also build/lib/looplab/plugins in a build tree).
/// Nonexistent directories are skipped; duplicates keep their first position.
std::vector<std::string> plugin_directories(const std::vector<std::string>& cli_paths,
                                            const std::vector<std::string>& config_paths);

/// <prefix>/lib/looplab/plugins next to the executable (also build/lib/looplab/plugins in a
/// build tree): the bundled plugins.
std::string install_plugin_directory();

/// The vetting of the looplab executable: probes run it as `looplab plugins probe`, verdicts go
/// to default_probe_cache(), and the install directory is trusted (its libraries are installed
/// with the executable; they get the static checks only). Only for the looplab process itself.
PluginVetting looplab_vetting();

/// The running executable ("" when /proc/self/exe cannot be read).
std::string executable_path();
/// Directory holding the running executable ("." when unknown).
std::string executable_directory();

}  // namespace looplab::host
