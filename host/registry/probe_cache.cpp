#include "registry/probe_cache.h"

#include "common/files.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

constexpr const char* kHeader =
    "# looplab plugin probe cache, format 1: host size, mtime; library size, mtime; "
    "verdict; host path; library path";
constexpr size_t kMaxEntries = 2000;  // beyond it entries go in path order: a cache, not a record

// The verdict field: "ok", or "refused " and the refusal.
std::string encode(const std::string& refusal) { return refusal.empty() ? "ok" : "refused " + refusal; }

std::optional<std::string> decode(const std::string& field) {
  if (field == "ok") return std::string();
  if (field.rfind("refused ", 0) == 0 && field.size() > 8) return field.substr(8);
  return std::nullopt;
}

bool writable(const std::string& text) { return text.find_first_of("\t\n") == std::string::npos; }

}  // namespace

std::string default_probe_cache() {
  if (const char* file = std::getenv("LOOPLAB_PROBE_CACHE")) return file;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/looplab/plugin-probe.cache";
  const char* home = std::getenv("HOME");
  if (home && home[0] == '/') return std::string(home) + "/.cache/looplab/plugin-probe.cache";
  return "";
}

std::optional<FileStamp> stamp_of(const std::string& path) {
  std::error_code ec;
  const auto canonical = fs::canonical(path, ec).string();
  struct stat st {};
  if (ec || ::stat(canonical.c_str(), &st) != 0 || !writable(canonical)) return std::nullopt;
  return FileStamp{canonical, static_cast<int64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

ProbeCache::ProbeCache(std::string file, const std::string& executable)
    : file_(std::move(file)), host_(stamp_of(executable)) {
  if (!file_.empty() && host_) entries_ = read();
}

ProbeCache::Entries ProbeCache::read() const {
  Entries out;
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string field; f.size() < 7 && std::getline(fields, field, '\t');) f.push_back(field);
    if (f.size() != 7 || !decode(f[4])) continue;
    try {
      Entry e{FileStamp{f[5], std::stoll(f[0]), std::stoll(f[1])}, FileStamp{f[6], std::stoll(f[2]), std::stoll(f[3])},
              f[4]};
      out[{e.host.path, e.library.path}] = std::move(e);
    } catch (const std::exception&) {
      // A torn or hand-edited line: ignored like any unknown library.
    }
  }
  return out;
}

std::optional<std::string> ProbeCache::find(const std::string& library) const {
  if (!host_) return std::nullopt;
  const auto now = stamp_of(library);
  if (!now) return std::nullopt;
  const auto it = entries_.find({host_->path, now->path});
  if (it == entries_.end() || !(it->second.host == *host_) || !(it->second.library == *now)) return std::nullopt;
  return decode(it->second.verdict);
}

void ProbeCache::put(const std::string& library, const std::string& refusal) {
  const auto now = stamp_of(library);
  if (!host_ || !now || !writable(refusal)) return;
  Entry e{*host_, *now, encode(refusal)};
  entries_[{host_->path, now->path}] = e;
  added_[{host_->path, now->path}] = std::move(e);
}

void ProbeCache::save() {
  if (file_.empty() || added_.empty()) return;
  auto merged = read();
  for (const auto& [key, e] : added_) merged[key] = e;
  std::vector<const Entry*> kept;
  for (const auto& [key, e] : merged) {
    const auto host = stamp_of(e.host.path), library = stamp_of(e.library.path);
    if (host && library && *host == e.host && *library == e.library) kept.push_back(&e);
  }
  if (kept.size() > kMaxEntries) kept.erase(kept.begin(), kept.end() - kMaxEntries);
  std::ostringstream text;
  text << kHeader << "\n";
  for (const auto* e : kept)
    text << e->host.size << '\t' << e->host.mtime_ns << '\t' << e->library.size << '\t' << e->library.mtime_ns << '\t'
         << e->verdict << '\t' << e->host.path << '\t' << e->library.path << '\n';
  try {
    std::error_code ec;
    fs::create_directories(fs::path(file_).parent_path(), ec);
    write_file_atomic(file_, text.str());
  } catch (const std::exception&) {
    // Unwritable (a read-only home, a full disk): the next start probes again.
  }
  added_.clear();
}

}  // namespace looplab::host
