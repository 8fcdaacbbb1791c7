#pragma once
/// @file plugin_probe.h
/// Vetting a library before this process loads it. Loading runs the library's own code (its
/// constructors, its entry point, its component table) and no process survives a segfault in
/// there, so a library is first loaded by a short-lived child, the looplab executable itself
/// run as `looplab plugins probe FILE...`, and loaded here only if that child survived it.
/// The static checks of elf_check.h come first and need no child; the child's verdicts are
/// cached (probe_cache.h). docs/plugins.md#probing says what is and is not covered.

#include <functional>
#include <string>
#include <vector>

namespace looplab::host {

/// How libraries are vetted before this process loads them.
struct PluginVetting {
  std::string probe_executable;                  ///< looplab, run as the child; "" = static checks only.
  std::string cache_file;                        ///< The probe cache; "" = none.
  std::vector<std::string> trusted_directories;  ///< Libraries directly inside are not probed.
  double timeout_s = 30;                         ///< Per library; a child that takes longer is killed.
  /// A fault in a library's entry point or component list refuses the file instead of ending
  /// the process (fault_guard.h): the host's registry. A probe child leaves it off, since dying
  /// of the fault is how it reports one.
  bool survive_faults = false;
};

/// Why each of `files` must not be loaded into this process, in order ("" = it may): the static
/// checks for every file, then, for the files outside the trusted directories, the cached or
/// fresh verdict of a child that loaded it. Children load the files one after another; one
/// that dies takes the file it was loading with it, and a fresh child goes on after that file.
/// When no child can be started, the files it would have loaded are refused this time (and
/// that is not cached).
std::vector<std::string> vet_libraries(const std::vector<std::string>& files, const PluginVetting& vetting);

/// The child's side (`looplab plugins probe FILE...`): no core dumps, Ctrl-C left to the
/// parent, the libraries' own output discarded; loads each file with `load` and reports
/// "done I" on stdout after file I, then exits without running any library's destructors.
[[noreturn]] void serve_probe(const std::vector<std::string>& files,
                              const std::function<void(const std::string&)>& load);

}  // namespace looplab::host
