#pragma once
// Running a sweep: one directory holding sweep.csv and one run directory per member, run in
// this process one after another or as --jobs child processes that share the cores.

#include "common/run_dir.h"
#include "config/pipeline.h"
#include "config/sweep.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace looplab::host {

/// Whether `path` holds a sweep manifest.
bool is_sweep_dir(const std::string& path);

/// Creates the sweep directory (refusing a non-empty one), its manifest and one run directory
/// per member with its resolved.toml and status "pending". `configs[i]` belongs to members[i].
SweepDir create_sweep_dir(const std::string& path, const std::vector<SweepMember>& members,
                          const std::vector<PipelineConfig>& configs);

/// Adds whatever `dir` lacks: a pending run directory per member and the manifest (existing
/// run directories are kept). How `--sweep-index` jobs share one sweep directory. Throws when
/// the manifest there lists other members (another sweep).
void complete_sweep_dir(const SweepDir& dir, const std::vector<SweepMember>& members,
                        const std::vector<PipelineConfig>& configs);

/// (id, label) of each member listed in the manifest, in order.
std::vector<std::pair<std::string, std::string>> sweep_manifest(const SweepDir& dir);

/// How to run the members.
struct SweepOptions {
  int64_t jobs = 1;                       ///< Members at once (child processes when > 1).
  int64_t threads = 0;                    ///< Threads per member; 0: the config's, or cores / jobs.
  std::vector<std::string> plugin_paths;  ///< Passed on to child processes.
  std::string executable;                 ///< This program, for child processes.
};

/// Runs one member in this process from its run directory; returns an ExitCode.
using RunMember = std::function<int(const RunDir& dir, int64_t threads)>;

/// Runs (or resumes) every member that is not complete, then compares the complete ones into
/// `<sweep>/compare/` when there are at least two. Stops launching after an interrupt; returns
/// kInterrupted then, kFailure if any member failed, else kOk. Progress goes to `log`.
int run_sweep(const SweepDir& dir, const SweepOptions& options, const RunMember& run_member,
              const std::atomic<bool>& stop, std::ostream& log);

}  // namespace looplab::host
