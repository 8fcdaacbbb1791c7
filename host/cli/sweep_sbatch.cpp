// `looplab sweep sbatch`: a validated sweep written out as SLURM job arrays (one task per
// member, each a `looplab run --sweep-index`) and a dependent job that compares the members;
// with --submit, handed to sbatch.

#include "cli/commands.h"
#include "cli/pipeline_loading.h"
#include "common/errors.h"
#include "common/files.h"
#include "registry/plugin_registry.h"
#include "runs/slurm_array.h"
#include "runs/sweep_runner.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

constexpr const char* kUsage =
    "usage: looplab sweep sbatch FILE --out DIR [--set KEY=VALUE]... [--partition P] [--time T]\n"
    "         [--cpus-per-task N] [--gpus-per-task N] [--max-parallel K] [--extra \"#SBATCH ...\"]...\n"
    "         [--max-array-size M] [--submit]\n";

constexpr const char* kHelpTail =
    "\nWrites DIR/sweep.sbatch (a job array, one task per member, log DIR/logs/JOBID_TASK.out) and\n"
    "DIR/compare.sbatch (looplab compare DIR, after the array). A sweep larger than one array\n"
    "(MaxArraySize: `scontrol show config` with --submit, else --max-array-size, default 1001) is\n"
    "split into DIR/sweep-1.sbatch, sweep-2.sbatch, ...; with --max-parallel each part waits for\n"
    "the one before, so that at most K tasks run at once. --extra lines go into every script.\n"
    "A task resumes its member from the newest checkpoint and skips a complete one, so\n"
    "submitting a script again (or `scontrol requeue JOBID_TASK`) continues what is unfinished.\n"
    "looplab stops at a checkpoint on the time-limit warning (--signal=TERM@120), a preemption's\n"
    "SIGTERM and `scancel --signal=TERM` (or --batch); after the first two the task requeues\n"
    "itself, after a scancel it ends with exit 130. A plain `scancel` kills it at once.\n";

struct SbatchArgs {
  CommonOptions common;
  std::string file, out, partition, time;
  int64_t cpus_per_task = 1, gpus_per_task = 0, max_parallel = 0, max_array_size = 0;
  std::vector<std::string> extra;
  bool submit = false;
};

bool has_space(const std::string& s) { return s.find_first_of(" \t\r\n") != std::string::npos; }

// What would break a script or its #SBATCH lines; "" when the options are usable.
std::string check_options(const SbatchArgs& a) {
  if (a.file.empty() || a.out.empty()) return "sweep sbatch needs a pipeline FILE and --out DIR";
  if (a.cpus_per_task < 1) return "--cpus-per-task must be >= 1";
  if (a.gpus_per_task < 0 || a.max_parallel < 0 || a.max_array_size < 0)
    return "--gpus-per-task, --max-parallel and --max-array-size must be >= 0";
  // sbatch splits #SBATCH lines at blanks and expands % in --output.
  if (has_space(a.out) || a.out.find_first_of("%\"'") != std::string::npos)
    return "--out " + a.out + ": a directory for SLURM's #SBATCH lines may hold no blank, quote or %";
  if (has_space(a.partition) || has_space(a.time)) return "--partition and --time take one word";
  for (const auto& line : a.extra)
    if (line.rfind("#SBATCH ", 0) != 0 || line.find('\n') != std::string::npos)
      return "--extra takes one line starting with \"#SBATCH \" (got \"" + line + "\")";
  return "";
}

// Runs `command` through the shell; its stdout, or nullopt (status set) when it fails.
std::optional<std::string> command_output(const std::string& command, int& status) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return std::nullopt;
  }
  std::string out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int raw = pclose(pipe);
  status = raw == -1 ? -1 : (WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw));
  if (status != 0) return std::nullopt;
  return out;
}

// The cluster's array limit when submitting (the documented default if scontrol says nothing).
int64_t cluster_max_array_size() {
  int status = 0;
  auto text = command_output("scontrol show config 2>/dev/null", status);
  if (auto size = text ? max_array_size_from_config(*text) : std::nullopt) return *size;
  std::cerr << "looplab: warning: cannot read MaxArraySize from `scontrol show config`"
            << (status ? " (exit " + std::to_string(status) + ")" : "") << "; using " << kDefaultMaxArraySize << "\n";
  return kDefaultMaxArraySize;
}

// `sbatch --parsable [--dependency=afterany:IDS] SCRIPT`; the job id, or nullopt after saying why.
std::optional<std::string> submit(const std::string& script, const std::string& after) {
  std::string command = "sbatch --parsable";
  if (!after.empty()) command += " --dependency=afterany:" + after;
  command += " " + shell_quote(script);
  int status = 0;
  auto out = command_output(command, status);
  if (!out) {
    print_error(status == 127 ? "sbatch not found (is SLURM installed and on PATH?)"
                              : "`" + command + "` failed (exit " + std::to_string(status) + ")");
    return std::nullopt;
  }
  // "ID" or "ID;CLUSTER"; the dependency wants the ID.
  auto id = out->substr(0, out->find_first_of(";\n"));
  if (id.empty()) {
    print_error("`" + command + "` printed no job id");
    return std::nullopt;
  }
  return id;
}

std::string range_text(const ArrayPart& p) {
  return std::to_string(p.first) + ".." + std::to_string(p.first + p.count - 1);
}

}  // namespace

int sweep_sbatch_command(const std::vector<std::string>& args) {
  SbatchArgs a;
  auto desc = common_options(a.common);
  desc.add_options()("out", po::value(&a.out), "sweep directory (member runs, logs/, the scripts)")(
      "partition", po::value(&a.partition), "#SBATCH --partition")("time", po::value(&a.time),
                                                                   "#SBATCH --time (each task)")(
      "cpus-per-task", po::value(&a.cpus_per_task), "CPUs per task, and each member's --threads (default 1)")(
      "gpus-per-task", po::value(&a.gpus_per_task), "GPUs per task (default none)")(
      "max-parallel", po::value(&a.max_parallel), "tasks running at once (%K; default no limit)")(
      "extra", po::value(&a.extra)->composing(), "an extra \"#SBATCH ...\" line (repeatable)")(
      "max-array-size", po::value(&a.max_array_size), "tasks per array (default: the cluster's, else 1001)")(
      "submit", po::bool_switch(&a.submit), "submit with sbatch and print the job ids")("file", po::value(&a.file),
                                                                                        "pipeline file with a [sweep]");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto done = parse_command_line(args, desc, pos, vm, kUsage, kHelpTail)) return *done;
  if (auto problem = check_options(a); !problem.empty()) return usage_error(problem, kUsage);

  auto loaded = load_document(a.file, a.common);
  if (!loaded) return kBadInput;
  if (!has_sweep(*loaded)) return usage_error("sweep sbatch needs a [sweep] table in " + a.file, kUsage);
  auto sweep = load_sweep(a.file, *loaded, a.common);
  if (!sweep) return kBadInput;
  const auto& [members, configs] = *sweep;

  const int64_t max_array = a.max_array_size > 0 ? a.max_array_size
                            : a.submit           ? cluster_max_array_size()
                                                 : kDefaultMaxArraySize;
  if (max_array < 1) {
    print_error("this cluster allows no job arrays (MaxArraySize = 0)");
    return kFailure;
  }

  SlurmArrayOptions o;
  o.looplab = executable_path();
  o.pipeline = absolute_path(a.file);
  o.sweep_dir = absolute_path(a.out);
  o.name = pipeline_name(*loaded, a.file);
  o.sets = a.common.sets;
  for (const auto& p : a.common.plugin_paths) o.plugin_paths.push_back(absolute_path(p));
  o.partition = a.partition;
  o.time = a.time;
  o.cpus_per_task = a.cpus_per_task;
  o.gpus_per_task = a.gpus_per_task;
  o.max_parallel = a.max_parallel;
  o.extra = a.extra;
  if (o.looplab.empty()) {
    print_error("cannot find this looplab executable (/proc/self/exe)");
    return kFailure;
  }

  // The sweep directory as the tasks will find it: the manifest and every member's
  // resolved.toml now, so that the tasks do not race to create them.
  const SweepDir dir{o.sweep_dir};
  const auto parts = split_array(static_cast<int64_t>(members.size()), max_array);
  try {
    complete_sweep_dir(dir, members, configs);
    fs::create_directories(dir.logs());
    for (size_t k = 0; k < parts.size(); ++k)
      write_file_atomic(dir.array_script(k + 1, parts.size()),
                        array_script(o, parts[k], static_cast<int64_t>(members.size()), k + 1, parts.size()));
    write_file_atomic(dir.compare_script(), compare_script(o));
  } catch (const std::exception& e) {
    return usage_error(error_text(e));
  }
  const std::string at_a_time = a.max_parallel > 0 ? ", " + std::to_string(a.max_parallel) + " at a time" : "";

  if (!a.submit) {
    std::cout << "wrote "
              << (parts.size() == 1 ? dir.array_script(1, 1)
                                    : dir.path + "/sweep-{1.." + std::to_string(parts.size()) + "}.sbatch")
              << " (" << members.size() << " members" << at_a_time << ") and " << dir.compare_script() << "\n"
              << "submit with:\n";
    std::string all;
    for (size_t k = 0; k < parts.size(); ++k) {
      const auto var = "a" + std::to_string(k + 1);
      std::cout << "  " << var << "=$(sbatch --parsable";
      if (a.max_parallel > 0 && k > 0) std::cout << " --dependency=afterany:${a" << k << "%%;*}";
      std::cout << " " << shell_quote(dir.array_script(k + 1, parts.size())) << ") &&\n";
      all += ":${" + var + "%%;*}";
    }
    std::cout << "  sbatch --dependency=afterany" << all << " " << shell_quote(dir.compare_script()) << "\n";
    return kOk;
  }

  std::string all;
  for (size_t k = 0; k < parts.size(); ++k) {
    // With --max-parallel, one part at a time: %K limits each array, not the sweep.
    const std::string previous = all.empty() ? "" : all.substr(all.rfind(':') + 1);
    auto id = submit(dir.array_script(k + 1, parts.size()), a.max_parallel > 0 ? previous : "");
    if (!id) return kFailure;
    std::cout << "array job " << *id << ": members " << range_text(parts[k]) << at_a_time << ", logs " << dir.logs()
              << "/" << *id << "_*.out\n";
    all += (all.empty() ? "" : ":") + *id;
  }
  auto id = submit(dir.compare_script(), all);
  if (!id) return kFailure;
  std::cout << "compare job " << *id << ": after " << all << ", into " << dir.compare() << "\n";
  return kOk;
}

}  // namespace looplab::host
