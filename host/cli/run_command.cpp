// `looplab run`: one pipeline, a sweep (all members, or one with --sweep-index), or a resume.

#include "cli/commands.h"
#include "cli/pipeline_loading.h"
#include "common/errors.h"
#include "common/run_lock.h"
#include "runs/run_session.h"
#include "runs/sweep_runner.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

namespace looplab::host {

namespace {

std::atomic<bool> g_stop{false};

// SIGINT (Ctrl-C), SIGTERM (what schedulers send before a kill) and SIGHUP (a closed terminal).
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_interrupt(int) {
  // The first: finish the step, checkpoint, exit. A second: the default action.
  g_stop.store(true);
  for (int s : kStopSignals) std::signal(s, SIG_DFL);
}

// One process per run or sweep directory; the lock lives until the process ends.
bool lock_directory(const std::string& dir) {
  static std::vector<std::unique_ptr<RunLock>> held;
  try {
    held.push_back(std::make_unique<RunLock>(dir));
    return true;
  } catch (const std::exception& e) {
    std::cerr << "error: " << error_text(e) << "\n";
    return false;
  }
}

struct RunArgs {
  CommonOptions common;
  std::string file, out, resume;
  int64_t jobs = 1, sweep_index = -1, threads = 0;
};

constexpr const char* kRunUsage =
    "usage: looplab run FILE [--out DIR] [--set KEY=VALUE]... [--threads N] [--jobs N | --sweep-index I]\n"
    "       looplab run --resume RUN_OR_SWEEP_DIR [--threads N] [--jobs N]\n";

// Trains one run directory in this process (a fresh one starts, a checkpointed one resumes).
int run_member(const RunArgs& a, const RunDir& dir, int64_t member_threads) {
  auto cfg = load_pipeline(dir.resolved(), CommonOptions{a.common.plugin_paths, {}});
  if (!cfg) return kBadInput;
  if (member_threads > 0) cfg->run.threads = member_threads;
  if (!lock_directory(dir.path)) return kBadInput;
  write_status(dir, "running");
  return execute_run(*cfg, dir, g_stop);
}

SweepOptions sweep_options(const RunArgs& a) {
  return SweepOptions{a.jobs, a.threads, a.common.plugin_paths, executable_path()};
}

RunMember member_runner(const RunArgs& a) {
  return [&a](const RunDir& dir, int64_t threads) { return run_member(a, dir, threads); };
}

int resume(const RunArgs& a) {
  if (is_sweep_dir(a.resume)) {
    const SweepDir dir{absolute_path(a.resume)};
    if (!lock_directory(dir.path)) return kBadInput;
    return run_sweep(dir, sweep_options(a), member_runner(a), g_stop, std::cout);
  }
  auto existing = open_run_dir(a.resume);
  if (!existing) return kBadInput;
  return run_member(a, *existing, a.threads);
}

int run_single(const RunArgs& a) {
  if (a.sweep_index >= 0 || a.jobs > 1)
    return usage_error("--sweep-index and --jobs need a [sweep] table in " + a.file);
  auto cfg = load_pipeline(a.file, a.common);
  if (!cfg) return kBadInput;
  if (a.threads > 0) cfg->run.threads = a.threads;
  RunDir dir;
  try {
    dir = create_run_dir(a.out.empty() ? default_run_dir(cfg->run.name) : a.out, *cfg);
  } catch (const std::exception& e) {
    return usage_error(error_text(e));
  }
  if (!lock_directory(dir.path)) return kBadInput;
  return execute_run(*cfg, dir, g_stop);
}

// One member, for batch schedulers: every job agrees on the sweep directory.
int run_sweep_member(const RunArgs& a, const std::string& name, const std::vector<SweepMember>& members,
                     const std::vector<PipelineConfig>& configs) {
  if (static_cast<size_t>(a.sweep_index) >= members.size())
    return usage_error("--sweep-index " + std::to_string(a.sweep_index) + " is out of range (the sweep has " +
                       std::to_string(members.size()) + " runs: 0.." + std::to_string(members.size() - 1) + ")");
  const auto& member = members[static_cast<size_t>(a.sweep_index)];
  const SweepDir parent{absolute_path(a.out.empty() ? "runs/" + name : a.out)};
  // Every member's directory and the manifest, so that `run --resume` and `compare` see the
  // whole sweep whichever jobs have run.
  complete_sweep_dir(parent, members, configs);
  const RunDir dir{parent.member(member.id)};
  std::cout << "sweep run " << a.sweep_index << " (" << member.label << ") -> " << dir.path << std::endl;
  if (read_status(dir) == "complete") {
    std::cout << "already complete\n";
    return kOk;
  }
  return run_member(a, dir, a.threads);
}

int run_sweep_file(const RunArgs& a, const toml::table& doc) {
  auto sweep = load_sweep(a.file, doc, a.common);
  if (!sweep) return kBadInput;
  const auto& [members, configs] = *sweep;
  const auto name = pipeline_name(doc, a.file);
  try {
    if (a.sweep_index >= 0) return run_sweep_member(a, name, members, configs);
    auto dir = create_sweep_dir(a.out.empty() ? default_run_dir(name) : a.out, members, configs);
    if (!lock_directory(dir.path)) return kBadInput;
    return run_sweep(dir, sweep_options(a), member_runner(a), g_stop, std::cout);
  } catch (const std::exception& e) {
    return usage_error(error_text(e));
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  RunArgs a;
  auto desc = common_options(a.common);
  desc.add_options()("out", po::value(&a.out), "run directory (default runs/<name>-<timestamp>)")(
      "resume", po::value(&a.resume), "resume the run or sweep in this directory")(
      "threads", po::value(&a.threads), "CPU threads per run (overrides [run] threads)")(
      "jobs", po::value(&a.jobs), "sweeps: runs at a time, as separate processes sharing the cores")(
      "sweep-index", po::value(&a.sweep_index), "sweeps: run only member I (0-based; --out names the sweep directory)")(
      "file", po::value(&a.file), "pipeline file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto done = parse_command_line(args, desc, pos, vm, kRunUsage)) return *done;
  if (a.file.empty() == a.resume.empty())
    return usage_error("give a pipeline FILE or --resume RUN_DIR (not both)", kRunUsage);
  if (a.jobs < 1 || a.threads < 0) return usage_error("--jobs must be >= 1 and --threads >= 0");
  if (!a.resume.empty() && !a.common.sets.empty()) return usage_error("--set cannot change a run being resumed");
  for (int s : kStopSignals) std::signal(s, on_interrupt);
  if (!a.resume.empty()) return resume(a);
  auto loaded = load_document(a.file, a.common);
  if (!loaded) return kBadInput;
  return has_sweep(*loaded) ? run_sweep_file(a, *loaded) : run_single(a);
}

}  // namespace looplab::host
