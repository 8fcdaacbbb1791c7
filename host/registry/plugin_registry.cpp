#include "registry/plugin_registry.h"

#include "common/text.h"
#include "registry/fault_guard.h"
#include "registry/probe_cache.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// dlerror()'s text without the file name in front (the line names the file already).
std::string load_error(const std::string& path) {
  const char* e = dlerror();
  std::string text = e ? e : "unknown error";
  if (text.rfind(path + ": ", 0) == 0) text.erase(0, path.size() + 2);
  return text;
}

}  // namespace

bool PluginRegistry::load_file(const std::string& path) {
  const auto refusal = vet_libraries({path}, vetting_).front();
  if (!refusal.empty()) {
    problems_.push_back(path + ": error: " + refusal);
    return false;
  }
  return load_vetted(path);
}

bool PluginRegistry::load_vetted(const std::string& path) {
  auto refuse = [&](const std::string& why) {
    problems_.push_back(path + ": error: " + why);
    return false;
  };
  // Never closed: LibTorch-linked libraries crash on unload, and plugin objects must outlive any use.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) return refuse("cannot load library: " + load_error(path));
  auto* entry = reinterpret_cast<looplab_plugin_entry_fn>(dlsym(lib, LOOPLAB_PLUGIN_ENTRY_SYMBOL));
  if (!entry) return refuse(std::string("not a looplab plugin (no ") + LOOPLAB_PLUGIN_ENTRY_SYMBOL + " symbol)");

  // The library's own code runs from here on: a fault in it refuses the file (fault_guard.h)
  // and is remembered in the probe cache, so the next start skips it without trying again.
  auto guarded = [&](const std::function<void()>& call) {
    if (vetting_.survive_faults) return run_guarded(call);
    call();
    return std::optional<std::string>();
  };
  auto faulted = [&](const std::string& signal, const std::string& during) {
    const auto why = "crashed (" + signal + ") " + during + " in this process";
    ProbeCache cache(vetting_.cache_file, vetting_.probe_executable);
    cache.put(path, why);
    cache.save();
    return refuse(why);
  };
  const looplab_plugin_descriptor* d = nullptr;
  if (auto signal = guarded([&] { d = entry(); })) return faulted(*signal, "in its entry point");
  if (!d) return refuse("plugin entry returned no descriptor");
  looplab_plugin_descriptor host{};
  host.abi_major = LOOPLAB_ABI_MAJOR;
  host.abi_minor = LOOPLAB_ABI_MINOR;
  host.build = sdk::this_build();
  if (d->abi_major != LOOPLAB_ABI_MAJOR || d->struct_size < sizeof(looplab_plugin_descriptor) ||
      !sdk::compatible(d->build, host.build))
    return refuse("incompatible plugin: built for " + sdk::describe(*d) + "; this host is " + sdk::describe(host));

  const std::vector<sdk::Component>* components = nullptr;
  std::string failed;
  const auto signal = guarded([&] {
    try {
      components = static_cast<const std::vector<sdk::Component>*>(d->components());
    } catch (const std::exception& e) {
      failed = std::string("plugin '") + d->plugin_name + "' failed to list its components: " + e.what();
    } catch (...) {
      failed = std::string("plugin '") + d->plugin_name + "' failed to list its components";
    }
  });
  if (signal) return faulted(*signal, "listing its components");
  if (!failed.empty()) return refuse(failed);
  if (!components || components->empty()) return refuse("plugin provides no components");

  files_.push_back(path);
  for (const auto& c : *components) {
    auto key = std::make_pair(static_cast<int>(c.kind()), c.name);
    auto it = components_.find(key);
    if (it != components_.end()) {
      // Both libraries work; the search order decides, so this is worth knowing, not an error.
      problems_.push_back(path + ": warning: " + sdk::kind_name(c.kind()) + " '" + c.name + "' is also provided by " +
                          it->second.file + "; keeping the first");
      continue;
    }
    components_.emplace(key, LoadedComponent{&c, path, d->plugin_name});
  }
  return true;
}

void PluginRegistry::load_directories(const std::vector<std::string>& directories) {
  // Every library of every directory is vetted in one go: one probe child for all of them.
  std::vector<std::pair<std::string, std::vector<std::string>>> listed;  // (problem, libraries) per directory
  std::vector<std::string> all;
  for (const auto& dir : directories) {
    directories_.push_back(dir);
    std::error_code ec;
    std::vector<std::string> libs;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so" && !entry.is_directory()) libs.push_back(entry.path().string());
    if (ec) libs.clear();
    std::sort(libs.begin(), libs.end());  // deterministic winner on duplicates
    all.insert(all.end(), libs.begin(), libs.end());
    listed.emplace_back(ec ? dir + ": error: cannot read plugin directory: " + ec.message() : "", std::move(libs));
  }
  const auto refusals = vet_libraries(all, vetting_);
  size_t i = 0;
  for (const auto& [problem, libs] : listed) {
    if (!problem.empty()) problems_.push_back(problem);
    for (const auto& lib : libs) {
      if (refusals[i].empty())
        load_vetted(lib);
      else
        problems_.push_back(lib + ": error: " + refusals[i]);
      ++i;
    }
  }
}

std::string PluginRegistry::search_note() const {
  return (directories_.empty() ? std::string("no plugin directory was searched")
                               : "searched the plugin directories " + join(directories_)) +
         "; add a directory with --plugin-path DIR, LOOPLAB_PLUGIN_PATH or a pipeline's [run] plugin_paths";
}

const LoadedComponent* PluginRegistry::find(sdk::ComponentKind kind, const std::string& name) const {
  auto it = components_.find({static_cast<int>(kind), name});
  return it == components_.end() ? nullptr : &it->second;
}

std::vector<std::string> PluginRegistry::names(sdk::ComponentKind kind) const {
  std::vector<std::string> out;
  for (const auto& [key, c] : components_)
    if (key.first == static_cast<int>(kind)) out.push_back(key.second);
  return out;
}

std::vector<const LoadedComponent*> PluginRegistry::all() const {
  std::vector<const LoadedComponent*> out;
  for (const auto& [key, c] : components_) out.push_back(&c);
  return out;
}

std::string executable_path() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

std::string executable_directory() {
  const auto exe = executable_path();
  return exe.empty() ? std::string(".") : fs::path(exe).parent_path().string();
}

std::string install_plugin_directory() {
  return (fs::path(executable_directory()) / ".." / LOOPLAB_PLUGIN_SUBDIR).string();
}

PluginVetting looplab_vetting() {
  PluginVetting v;
  v.probe_executable = executable_path();
  v.cache_file = default_probe_cache();
  v.trusted_directories = {install_plugin_directory()};
  v.survive_faults = true;
  return v;
}

std::vector<std::string> plugin_directories(const std::vector<std::string>& cli_paths,
                                            const std::vector<std::string>& config_paths) {
  std::vector<std::string> candidates = cli_paths;
  candidates.insert(candidates.end(), config_paths.begin(), config_paths.end());
  if (const char* env = std::getenv("LOOPLAB_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) candidates.push_back(item);
  }
  candidates.push_back(install_plugin_directory());

  std::vector<std::string> out;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_directory(c, ec)) continue;
    auto canon = fs::weakly_canonical(c, ec).string();
    if (std::find(out.begin(), out.end(), canon) == out.end()) out.push_back(canon);
  }
  return out;
}

}  // namespace looplab::host
