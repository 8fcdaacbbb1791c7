#include "test_support.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace fs = std::filesystem;

namespace looplab::test {

namespace {
// std::filesystem::remove_all crashes in processes linked with LibTorch (it exports its own,
// newer std::filesystem symbols); delete recursively with the calls that do work.
void remove_tree(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec))
      remove_tree(entry.path());
    else
      fs::remove(entry.path(), ec);
  }
  fs::remove(dir, ec);
}

struct Cleanup {
  std::vector<fs::path> dirs;
  std::mutex mutex;
  ~Cleanup() {
    if (std::getenv("LOOPLAB_KEEP_TEST_DIRS")) return;
    for (auto& d : dirs) remove_tree(d);
  }
};
Cleanup& cleanup() {
  static Cleanup c;
  return c;
}
}  // namespace

std::string temp_dir(const std::string& stem) {
  std::string pattern = (fs::temp_directory_path() / ("looplab-" + stem + "-XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  fs::path dir(buf.data());
  std::lock_guard<std::mutex> lock(cleanup().mutex);
  cleanup().dirs.push_back(dir);
  return dir.string();
}

void write_file(const std::string& path, const std::string& text) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const host::PluginRegistry& bundled_registry() {
  static const host::PluginRegistry* registry = [] {
    auto* r = new host::PluginRegistry;  // deliberately never destroyed: libraries stay loaded
    r->load_directories({std::string(LOOPLAB_BUILD_DIR) + "/lib/looplab/plugins"});
    return r;
  }();
  return *registry;
}

const host::PluginRegistry& discovered_registry() {
  static const host::PluginRegistry* registry = [] {
    auto* r = new host::PluginRegistry;  // deliberately never destroyed: libraries stay loaded
    // plugin_directories() reads LOOPLAB_PLUGIN_PATH and skips missing and repeated directories.
    r->load_directories(host::plugin_directories({std::string(LOOPLAB_BUILD_DIR) + "/lib/looplab/plugins"}, {}));
    return r;
  }();
  return *registry;
}

std::string looplab_exe() { return std::string(LOOPLAB_BUILD_DIR) + "/bin/looplab"; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string looplab(const std::string& args, int* rc) {
  std::string out;
  *rc = run_command(looplab_exe() + " " + args, &out);
  return out;
}

std::string tiny_pipeline() { return std::string(LOOPLAB_SOURCE_DIR) + "/tests/e2e/data/tiny.toml"; }

std::string train_tiny(const std::string& dir, const std::string& extra, int* rc) {
  const auto pipeline = dir + "/pipeline.toml";
  write_file(pipeline, "extends = [\"" + tiny_pipeline() + "\"]\n[training]\nsteps = 300\n" + extra);
  return looplab("run " + pipeline + " --out " + dir + "/run", rc);
}

}  // namespace looplab::test
