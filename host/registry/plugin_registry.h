#pragma once
// Discovers plugin libraries, checks their descriptors, and indexes their components.

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
  /// Loads every `*.so` file directly inside each directory, in order. Problems (a file that is not a
  /// library, no entry symbol, a version mismatch, a throwing component table: "FILE: error: ...";
  /// a duplicate component name: "FILE: warning: ...") become one line each in problems();
  /// loading continues.
  void load_directories(const std::vector<std::string>& directories);
  /// Loads one library file; returns false (and records one line) when it is refused.
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

 private:
  std::map<std::pair<int, std::string>, LoadedComponent> components_;
  std::vector<std::string> problems_;
  std::vector<std::string> files_;
};

/// The plugin directories in discovery order: command line, the pipeline's [run].plugin_paths,
/// LOOPLAB_PLUGIN_PATH (colon-separated), the install directory next to the executable
/// (<prefix>/lib/looplab/plugins, which is also build/lib/looplab/plugins in a build tree).
/// Nonexistent directories are skipped; duplicates keep their first position.
std::vector<std::string> plugin_directories(const std::vector<std::string>& cli_paths,
                                            const std::vector<std::string>& config_paths);

/// The running executable ("" when /proc/self/exe cannot be read).
std::string executable_path();
/// Directory holding the running executable ("." when unknown).
std::string executable_directory();

}  // namespace looplab::host
