#pragma once
/// @file slurm_array.h
/// A sweep as SLURM job arrays: the batch scripts `looplab sweep sbatch` writes (one array task
/// per member, then a job that compares them) and what they need to know about the cluster.
/// Text only: nothing here runs sbatch.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace looplab::host {

/// What goes into the scripts. Paths are absolute: the tasks run from wherever SLURM starts them.
struct SlurmArrayOptions {
  std::string looplab;                    ///< The looplab executable.
  std::string pipeline;                   ///< The pipeline file with the [sweep].
  std::string sweep_dir;                  ///< The sweep directory (`run --out`); logs go to its logs/.
  std::string name;                       ///< The pipeline's name, for the job names.
  std::vector<std::string> sets;          ///< `--set KEY=VALUE` overrides, passed on to every task.
  std::vector<std::string> plugin_paths;  ///< `--plugin-path` directories, passed on likewise.
  std::string partition, time;            ///< `--partition`, `--time` (empty: the cluster's default).
  int64_t cpus_per_task = 1;              ///< `--cpus-per-task`, and each member's `--threads`.
  int64_t gpus_per_task = 0;              ///< `--gpus-per-task` (0: none requested).
  int64_t max_parallel = 0;               ///< Tasks running at once (`%K`; 0: no limit).
  std::vector<std::string> extra;         ///< Verbatim `#SBATCH ...` lines, in both scripts.
};

/// Members [first, first + count) of a sweep: one job array, task i running member first + i.
struct ArrayPart {
  int64_t first = 0;
  int64_t count = 0;
};

/// Documented MaxArraySize default of SLURM: array task ids 0..1000.
inline constexpr int64_t kDefaultMaxArraySize = 1001;

/// `members` split into arrays of at most `max_array_size` tasks (task ids 0..max_array_size-1).
std::vector<ArrayPart> split_array(int64_t members, int64_t max_array_size);

/// The largest array `scontrol show config` allows: MaxArraySize, lowered by max_array_tasks in
/// SchedulerParameters; nullopt when the text has neither.
std::optional<int64_t> max_array_size_from_config(const std::string& show_config);

/// The batch script of one array: the `#SBATCH` header, then one `looplab run --sweep-index`.
/// `part_number` and `parts` name the part in the header when the sweep is split.
std::string array_script(const SlurmArrayOptions& options, const ArrayPart& part, int64_t members, size_t part_number,
                         size_t parts);

/// The batch script of the job that runs `looplab compare` on the sweep directory once the
/// arrays are done (submitted with `--dependency=afterany:...`).
std::string compare_script(const SlurmArrayOptions& options);

/// `text` quoted for a POSIX shell (single quotes; left bare when nothing in it is special).
std::string shell_quote(const std::string& text);

}  // namespace looplab::host
