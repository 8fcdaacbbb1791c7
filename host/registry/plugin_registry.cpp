#include "registry/plugin_registry.h"

#include <boost/dll/shared_library.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// Libraries stay loaded until exit; a deliberate leak so no destructor ever unloads them.
std::vector<boost::dll::shared_library>& loaded_libraries() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

bool looks_like_elf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

std::string first_line(std::string text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

}  // namespace

bool PluginRegistry::load_file(const std::string& path) {
  auto refuse = [&](const std::string& why) {
    problems_.push_back(path + ": error: " + why);
    return false;
  };
  // dlopen on a text file gives an unhelpful message; say plainly what it is.
  if (!looks_like_elf(path)) return refuse("not a shared library");
  boost::dll::shared_library lib;
  try {
    lib.load(boost::dll::fs::path(path), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return refuse("cannot load library: " + first_line(e.what()));
  }
  if (!lib.has(LOOPLAB_PLUGIN_ENTRY_SYMBOL))
    return refuse(std::string("not a looplab plugin (no ") + LOOPLAB_PLUGIN_ENTRY_SYMBOL + " symbol)");
  auto entry = lib.get<const looplab_plugin_descriptor*()>(LOOPLAB_PLUGIN_ENTRY_SYMBOL);
  loaded_libraries().push_back(lib);  // keep it, whatever happens next

  const looplab_plugin_descriptor* d = entry();
  if (!d) return refuse("plugin entry returned no descriptor");
  looplab_plugin_descriptor host{};
  host.abi_major = LOOPLAB_ABI_MAJOR;
  host.abi_minor = LOOPLAB_ABI_MINOR;
  host.build = sdk::this_build();
  if (d->abi_major != LOOPLAB_ABI_MAJOR || d->struct_size < sizeof(looplab_plugin_descriptor) ||
      !sdk::compatible(d->build, host.build))
    return refuse("incompatible plugin: built for " + sdk::describe(*d) + "; this host is " + sdk::describe(host));

  const std::vector<sdk::Component>* components = nullptr;
  try {
    components = static_cast<const std::vector<sdk::Component>*>(d->components());
  } catch (const std::exception& e) {
    return refuse(std::string("plugin '") + d->plugin_name + "' failed to list its components: " + e.what());
  } catch (...) {
    return refuse(std::string("plugin '") + d->plugin_name + "' failed to list its components");
  }
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
  for (const auto& dir : directories) {
    std::error_code ec;
    std::vector<std::string> libs;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so" && !entry.is_directory()) libs.push_back(entry.path().string());
    if (ec) {
      problems_.push_back(dir + ": error: cannot read plugin directory: " + ec.message());
      continue;
    }
    std::sort(libs.begin(), libs.end());  // deterministic winner on duplicates
    for (const auto& lib : libs) load_file(lib);
  }
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
  candidates.push_back((fs::path(executable_directory()) / ".." / LOOPLAB_PLUGIN_SUBDIR).string());

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
