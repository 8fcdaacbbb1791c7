#include "runs/sweep_runner.h"

#include "common/csv.h"
#include "common/exit_code.h"
#include "common/text.h"
#include "config/config_loader.h"
#include "reporting/compare.h"
#include "runs/run_session.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Threads for one member: the option, else the member's own setting, else a fair share.
int64_t threads_for(const RunDir& dir, const SweepOptions& options) {
  if (options.threads > 0) return options.threads;
  try {
    auto doc = toml::parse_file(dir.resolved());
    if (auto t = doc.at_path("run.threads").value<int64_t>(); t && *t > 0) return *t;
  } catch (const std::exception& e) {
    std::cerr << "sweep: cannot read run.threads from " << dir.resolved() << " (" << e.what() << ")\n";
  }
  if (options.jobs <= 1) return 0;
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return std::max<int64_t>(1, cores / options.jobs);
}

// Starts `looplab run --resume DIR` with its output in DIR/console.txt; returns the pid or -1.
pid_t spawn_member(const RunDir& dir, int64_t threads, const SweepOptions& options, std::string& error) {
  std::vector<std::string> args = {options.executable, "run", "--resume", dir.path};
  if (threads > 0) args.insert(args.end(), {"--threads", std::to_string(threads)});
  for (const auto& p : options.plugin_paths) args.insert(args.end(), {"--plugin-path", p});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto console = dir.console();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, console.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, options.executable.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = std::string("cannot start ") + options.executable + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

std::string outcome_text(int rc) {
  if (rc == kOk) return "complete";
  if (rc == kInterrupted) return "interrupted";
  return "failed (exit " + std::to_string(rc) + ")";
}

}  // namespace

bool is_sweep_dir(const std::string& path) { return fs::exists(SweepDir{path}.manifest()); }

SweepDir create_sweep_dir(const std::string& path, const std::vector<SweepMember>& members,
                          const std::vector<PipelineConfig>& configs) {
  SweepDir dir{create_empty_directory(path, "sweep directory")};
  complete_sweep_dir(dir, members, configs);
  return dir;
}

void complete_sweep_dir(const SweepDir& dir, const std::vector<SweepMember>& members,
                        const std::vector<PipelineConfig>& configs) {
  fs::create_directories(dir.path);
  // Batch jobs meet in one directory by its name: one holding another sweep (the pipeline or
  // its --set changed) must not get a mix of both.
  if (fs::exists(dir.manifest())) {
    const auto listed = sweep_manifest(dir);
    bool same = listed.size() == members.size();
    for (size_t i = 0; same && i < members.size(); ++i) same = listed[i].first == members[i].id;
    if (!same)
      throw std::runtime_error(dir.path +
                               " holds another sweep (its sweep.csv lists other runs): choose another --out");
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const RunDir run{dir.member(members[i].id)};
    if (fs::exists(run.resolved())) continue;
    try {
      write_status(create_run_dir(run.path, configs.at(i)), "pending");
    } catch (const std::exception&) {
      // Another job of the same sweep created it first; only a directory without its
      // resolved.toml is a real problem.
      if (!fs::exists(run.resolved())) throw;
    }
  }
  if (!fs::exists(dir.manifest())) {
    sdk::Table manifest{{"index", "id", "label"}, {}};
    for (const auto& m : members) manifest.rows.push_back({std::to_string(m.index), m.id, m.label});
    write_csv(dir.manifest(), manifest);
  }
}

std::vector<std::pair<std::string, std::string>> sweep_manifest(const SweepDir& dir) {
  auto table = read_csv(dir.manifest());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : table.rows) out.emplace_back(row.at(1), row.at(2));
  return out;
}

int run_sweep(const SweepDir& dir, const SweepOptions& options, const RunMember& run_member,
              const std::atomic<bool>& stop, std::ostream& log) {
  const auto members = sweep_manifest(dir);
  std::vector<RunDir> todo;
  for (const auto& [id, label] : members) {
    RunDir run{dir.member(id)};
    if (read_status(run) == "complete")
      log << "sweep: " << id << " already complete\n";
    else
      todo.push_back(run);
  }
  log << "sweep: " << todo.size() << " of " << members.size() << " runs to do in " << dir.path
      << (options.jobs > 1 ? " (" + std::to_string(options.jobs) + " at a time)" : "") << std::endl;

  bool failed = false, interrupted = false;
  size_t started = 0;
  if (options.jobs <= 1) {
    for (const auto& run : todo) {
      if (stop) break;
      log << "sweep: [" << ++started << "/" << todo.size() << "] " << fs::path(run.path).filename().string()
          << std::endl;
      const auto t0 = Clock::now();
      const int rc = run_member(run, threads_for(run, options));
      log << "sweep: " << fs::path(run.path).filename().string() << " " << outcome_text(rc) << " in "
          << format_duration(seconds_since(t0)) << std::endl;
      interrupted = interrupted || rc == kInterrupted;
      failed = failed || (rc != kOk && rc != kInterrupted);
      if (interrupted) break;
    }
  } else {
    std::map<pid_t, std::pair<RunDir, Clock::time_point>> running;
    size_t next = 0;
    while (next < todo.size() || !running.empty()) {
      while (!stop && running.size() < static_cast<size_t>(options.jobs) && next < todo.size()) {
        const auto& run = todo[next++];
        std::string error;
        const pid_t pid = spawn_member(run, threads_for(run, options), options, error);
        if (pid < 0) {
          log << "sweep: " << error << std::endl;
          failed = true;
          continue;
        }
        log << "sweep: [" << ++started << "/" << todo.size() << "] " << fs::path(run.path).filename().string()
            << " started (output in console.txt)" << std::endl;
        running.emplace(pid, std::make_pair(run, Clock::now()));
      }
      if (running.empty()) break;
      int status = 0;
      const pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0) {
        if (errno == EINTR) continue;
        break;
      }
      auto it = running.find(pid);
      if (it == running.end()) continue;
      const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : kFailure;
      log << "sweep: " << fs::path(it->second.first.path).filename().string() << " " << outcome_text(rc) << " in "
          << format_duration(seconds_since(it->second.second)) << std::endl;
      interrupted = interrupted || rc == kInterrupted;
      failed = failed || (rc != kOk && rc != kInterrupted);
      running.erase(it);
    }
  }
  if (stop) interrupted = true;

  std::vector<std::string> complete;
  for (const auto& [id, label] : members)
    if (read_status(RunDir{dir.member(id)}) == "complete") complete.push_back(dir.member(id));
  if (complete.size() >= 2) {
    try {
      log << "sweep: comparison in " << compare_runs(complete, dir.compare()) << std::endl;
    } catch (const std::exception& e) {
      log << "sweep: comparison failed: " << e.what() << std::endl;
      failed = true;
    }
  }
  if (interrupted) {
    log << "sweep: interrupted; continue with: looplab run --resume " << dir.path << std::endl;
    return kInterrupted;
  }
  return failed ? kFailure : kOk;
}

}  // namespace looplab::host
