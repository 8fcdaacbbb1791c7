#pragma once
/// @file probe_cache.h
/// The verdicts of earlier child probes (plugin_probe.h), kept in a user cache file so that
/// a library is probed once, not at every start-up: keyed by the library's canonical path,
/// size and modification time, and likewise by the executable that probed it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace looplab::host {

/// The cache file: $LOOPLAB_PROBE_CACHE when set (empty: no cache), else
/// $XDG_CACHE_HOME/looplab/plugin-probe.cache, else ~/.cache/looplab/plugin-probe.cache ("" when
/// neither variable is set).
std::string default_probe_cache();

/// A file as the cache knows it: canonical path, size and modification time.
struct FileStamp {
  std::string path;
  int64_t size = 0, mtime_ns = 0;
  bool operator==(const FileStamp& o) const { return path == o.path && size == o.size && mtime_ns == o.mtime_ns; }
};

/// The stamp of `path` as it is now, or nullopt when it cannot be read or its canonical path
/// cannot be written in the cache (a tab or a newline in it).
std::optional<FileStamp> stamp_of(const std::string& path);

/// Verdicts read from a cache file and added to it.
class ProbeCache {
 public:
  /// Reads `file` ("", missing or unreadable: starts empty). Verdicts count only for
  /// `executable` as it is now: another build of looplab may load a library differently.
  ProbeCache(std::string file, const std::string& executable);

  /// The cached verdict for `library` ("" = it loads, else why it is refused), or nullopt when
  /// the library is unknown or has changed since.
  std::optional<std::string> find(const std::string& library) const;
  /// Records a verdict for `library` as it is now.
  void put(const std::string& library, const std::string& refusal);
  /// Writes the file when put() added something: merged with what other processes wrote
  /// meanwhile, entries whose library or executable changed or vanished dropped, written to a
  /// temporary and renamed over it. A cache that cannot be written is silently not written.
  void save();

 private:
  struct Entry {
    FileStamp host, library;
    std::string verdict;
  };
  using Entries = std::map<std::pair<std::string, std::string>, Entry>;  ///< By (host, library) path.
  Entries read() const;

  std::string file_;
  std::optional<FileStamp> host_;
  Entries entries_, added_;
};

}  // namespace looplab::host
