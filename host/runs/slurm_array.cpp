#include "runs/slurm_array.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <string_view>

namespace looplab::host {

namespace {

// The #SBATCH lines both scripts share: where, for how long, and the caller's own lines.
void common_header(std::ostringstream& out, const SlurmArrayOptions& o) {
  if (!o.partition.empty()) out << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.time.empty()) out << "#SBATCH --time=" << o.time << "\n";
  for (const auto& line : o.extra) out << line << "\n";
}

std::string plugin_and_set_args(const SlurmArrayOptions& o) {
  std::string out;
  for (const auto& p : o.plugin_paths) out += " --plugin-path " + shell_quote(p);
  for (const auto& s : o.sets) out += " --set " + shell_quote(s);
  return out;
}

std::optional<int64_t> config_number(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return std::nullopt;
  return std::stoll(m[1].str());
}

}  // namespace

std::vector<ArrayPart> split_array(int64_t members, int64_t max_array_size) {
  std::vector<ArrayPart> parts;
  for (int64_t first = 0; first < members; first += max_array_size)
    parts.push_back({first, std::min(max_array_size, members - first)});
  return parts;
}

std::optional<int64_t> max_array_size_from_config(const std::string& show_config) {
  auto size = config_number(show_config, R"((?:^|\n)MaxArraySize\s*=\s*(\d+))");
  // max_array_tasks caps the tasks of one array below MaxArraySize.
  auto tasks = config_number(show_config, R"((?:^|\n)SchedulerParameters\s*=[^\n]*max_array_tasks=(\d+))");
  if (size && tasks) return std::min(*size, *tasks);
  return size ? size : tasks;
}

std::string array_script(const SlurmArrayOptions& o, const ArrayPart& part, int64_t members, size_t part_number,
                         size_t parts) {
  std::ostringstream out;
  const auto last = part.first + part.count - 1;
  out << "#!/bin/bash\n"
      << "# looplab sweep " << o.name << ": members " << part.first << ".." << last << " of " << members;
  if (parts > 1)
    out << " (array " << part_number << " of " << parts << "; task i runs member " << part.first << " + i)";
  out << ", written by `looplab sweep sbatch`.\n"
      << "# A task starts its member, resumes it from its newest checkpoint after a requeue, a\n"
      << "# preemption or an interruption, and skips it once complete: submitting this script\n"
      << "# again (or `scontrol requeue JOBID_TASK`) continues what is unfinished.\n"
      << "#SBATCH --job-name=looplab-" << o.name << "\n"
      << "#SBATCH --array=0-" << part.count - 1;
  if (o.max_parallel > 0) out << "%" << o.max_parallel;
  out << "\n"
      << "#SBATCH --output=" << o.sweep_dir << "/logs/%A_%a.out\n"
      << "#SBATCH --open-mode=append\n"  // a requeued task adds to its log instead of truncating it
      << "#SBATCH --ntasks=1\n"
      << "#SBATCH --cpus-per-task=" << o.cpus_per_task << "\n";
  if (o.gpus_per_task > 0) out << "#SBATCH --gpus-per-task=" << o.gpus_per_task << "\n";
  common_header(out, o);
  out << "#SBATCH --signal=TERM@120\n"
      << "#SBATCH --requeue\n"
      << "\n"
      << "# looplab runs as a job step (srun): the --signal warning before the time limit, the\n"
      << "# SIGTERM of a preemption's grace time and `scancel --signal=TERM` go to job steps, not\n"
      << "# to this shell. srun answers a SIGTERM of its own with SIGKILL, so it runs in the\n"
      << "# background and this shell hands a SIGTERM sent to it (`scancel --batch`) to the steps.\n"
      << "echo \"looplab: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}, restart ${SLURM_RESTART_COUNT:-0}, on "
         "$(hostname)\"\n";
  const std::string index = part.first == 0 ? "\"$SLURM_ARRAY_TASK_ID\""
                                            : "\"$((SLURM_ARRAY_TASK_ID + " + std::to_string(part.first) + "))\"";
  out << "srun --ntasks=1 --cpus-per-task=" << o.cpus_per_task << " " << shell_quote(o.looplab) << " run "
      << shell_quote(o.pipeline) << " --sweep-index " << index << " --out " << shell_quote(o.sweep_dir) << " --threads "
      << o.cpus_per_task << plugin_and_set_args(o) << " &\n"
      << "step=$!\n"
      // Not $SLURM_JOB_ID: for the first task that is also the whole array's id.
      << "task=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\n"
      << "trap 'scancel --signal=TERM \"$task\"' TERM\n"
      << "while :; do  # wait returns early when the trap runs\n"
      << "  wait \"$step\" && rc=0 || rc=$?\n"
      << "  kill -0 \"$step\" 2>/dev/null || break\n"
      << "done\n"
      << "# 130: looplab stopped at a checkpoint. After a preemption or the time-limit warning the\n"
      << "# task requeues itself and resumes when it runs again (SLURM requeues a preempted job\n"
      << "# only if it still runs when its grace time ends). After anything else, such as\n"
      << "# `scancel --signal=TERM`, it stays stopped and SLURM records the 130 (failed: the member\n"
      << "# is not complete). --requeue lets SLURM requeue it after a node failure.\n"
      << "if [ \"$rc\" = 130 ]; then\n"
      << "  info=$(scontrol show job \"$task\" 2>/dev/null)\n"
      << "  end=$(date -d \"$(sed -n 's/.*EndTime=\\([^ ]*\\).*/\\1/p' <<<\"$info\" | head -n 1)\" +%s 2>/dev/null) || "
         "end=\n"
      << "  if [[ $info =~ PreemptTime=[0-9] ]] || { [ -n \"$end\" ] && [ $((end - $(date +%s))) -le 180 ]; }; then\n"
      << "    echo \"looplab: stopped by a preemption or the time limit; requeueing $task\"\n"
      << "    scontrol requeue \"$task\"\n"
      << "  fi\n"
      << "fi\n"
      << "exit \"$rc\"\n";
  return out.str();
}

std::string compare_script(const SlurmArrayOptions& o) {
  std::ostringstream out;
  out << "#!/bin/bash\n"
      << "# looplab sweep " << o.name << ": compares the complete members into " << o.sweep_dir << "/compare/\n"
      << "# once the arrays have ended (submitted with --dependency=afterany:ARRAY_ID...).\n"
      << "#SBATCH --job-name=looplab-" << o.name << "-compare\n"
      << "#SBATCH --output=" << o.sweep_dir << "/logs/compare_%j.out\n"
      << "#SBATCH --ntasks=1\n"
      << "#SBATCH --cpus-per-task=1\n";
  common_header(out, o);
  out << "\nexec " << shell_quote(o.looplab) << " compare " << shell_quote(o.sweep_dir) << "\n";
  return out.str();
}

std::string shell_quote(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("/._-+=:,@%").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace looplab::host
