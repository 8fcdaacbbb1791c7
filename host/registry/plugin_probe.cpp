#include "registry/plugin_probe.h"

#include "registry/elf_check.h"
#include "registry/probe_cache.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

using Clock = std::chrono::steady_clock;

// The child's first line: it runs as a probe. Without it, a child that dies says nothing about
// the file it was given.
constexpr const char* kHello = "looplab-probe 1";

void write_line(int fd, std::string line) {
  line += '\n';
  for (size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// What one child did with files [first, end).
struct ChildRun {
  bool started = false;  // said hello
  size_t done = 0;       // files it reported finished
  int status = 0;        // from waitpid
  bool timed_out = false;
  std::string error;  // why it could not be started
};

// Reaps `pid`, killing it once `deadline` has passed.
void reap(pid_t pid, Clock::time_point deadline, ChildRun& run) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &run.status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    if (Clock::now() >= deadline && !run.timed_out) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ChildRun run_child(const std::string& exe, const std::vector<std::string>& files, size_t first, double timeout_s) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return run;
  }
  std::vector<std::string> args = {exe, "plugins", "probe"};
  // Absolute: no file name can then pass for an option.
  for (size_t i = first; i < files.size(); ++i) args.push_back(fs::absolute(files[i]).string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    run.error = "cannot start " + exe + ": " + std::strerror(rc);
    return run;
  }
  const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  auto deadline = Clock::now() + timeout;  // per file: renewed by every report
  std::string buffer;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char chunk[256];
    const ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the child is gone (or closed its end)
    buffer.append(chunk, static_cast<size_t>(got));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      const auto line = buffer.substr(0, nl);
      if (line == kHello) {
        run.started = true;
        deadline = Clock::now() + timeout;  // starting the executable is not the first file's time
      } else if (run.started && line == "done " + std::to_string(run.done)) {
        ++run.done;
        deadline = Clock::now() + timeout;
      }
    }
  }
  ::close(fds[0]);
  reap(pid, deadline, run);
  return run;
}

struct Verdict {
  std::string refusal;
  bool cacheable = true;  // about the file, not about this moment
};

// The verdict on the file a child died loading.
Verdict verdict_of(const ChildRun& run, double timeout_s) {
  if (run.timed_out) {
    std::ostringstream limit;
    limit << timeout_s;
    return {"loading it took longer than " + limit.str() + " s in a trial process", false};
  }
  if (WIFEXITED(run.status))
    return {"loading it ended a trial process (exit status " + std::to_string(WEXITSTATUS(run.status)) + ")", true};
  const int sig = WIFSIGNALED(run.status) ? WTERMSIG(run.status) : 0;
  switch (sig) {
    case SIGABRT: return {"loading it aborted a trial process", true};
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGSYS:
    case SIGTRAP: return {std::string("loading it crashed a trial process (") + ::strsignal(sig) + ")", true};
    default:  // someone else's signal (a kill, the OOM killer): says nothing about the file
      return {"not loaded: its trial process was stopped by signal " + std::to_string(sig), false};
  }
}

std::vector<Verdict> probe(const std::string& exe, const std::vector<std::string>& files, double timeout_s) {
  std::vector<Verdict> out(files.size());
  for (size_t next = 0; next < files.size();) {
    const auto run = run_child(exe, files, next, timeout_s);
    if (!run.started) {
      // Without a child to load them first, these files are not loaded at all this time.
      const std::string why = run.error.empty() ? "the probe exited before it started" : run.error;
      for (; next < files.size(); ++next)
        out[next] = {"not loaded: no trial process could load it first (" + why + ")", false};
      break;
    }
    next += run.done;
    if (next < files.size()) out[next++] = verdict_of(run, timeout_s);
  }
  return out;
}

bool inside_any(const std::string& file, const std::vector<std::string>& canonical_dirs) {
  std::error_code ec;
  const auto dir = fs::canonical(fs::path(file).parent_path(), ec).string();
  return !ec && std::find(canonical_dirs.begin(), canonical_dirs.end(), dir) != canonical_dirs.end();
}

}  // namespace

std::vector<std::string> vet_libraries(const std::vector<std::string>& files, const PluginVetting& vetting) {
  std::vector<std::string> refusals(files.size());
  std::vector<std::string> trusted;
  for (const auto& d : vetting.trusted_directories) {
    std::error_code ec;
    auto canonical = fs::canonical(d, ec);
    if (!ec) trusted.push_back(canonical.string());
  }
  std::optional<ProbeCache> cache;
  std::vector<size_t> pending;
  for (size_t i = 0; i < files.size(); ++i) {
    refusals[i] = elf_problem(files[i]);
    if (!refusals[i].empty() || vetting.probe_executable.empty() || inside_any(files[i], trusted)) continue;
    if (!cache) cache.emplace(vetting.cache_file, vetting.probe_executable);
    if (auto cached = cache->find(files[i]))
      refusals[i] = *cached;
    else
      pending.push_back(i);
  }
  if (pending.empty()) return refusals;
  std::vector<std::string> unknown;
  for (size_t i : pending) unknown.push_back(files[i]);
  const auto verdicts = probe(vetting.probe_executable, unknown, vetting.timeout_s);
  for (size_t k = 0; k < pending.size(); ++k) {
    refusals[pending[k]] = verdicts[k].refusal;
    if (verdicts[k].cacheable) cache->put(files[pending[k]], verdicts[k].refusal);
  }
  cache->save();
  return refusals;
}

void serve_probe(const std::vector<std::string>& files, const std::function<void(const std::string&)>& load) {
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // crashing is what this process is for
  ::signal(SIGINT, SIG_IGN);           // the parent decides what Ctrl-C means
  const int report = ::dup(STDOUT_FILENO);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  write_line(report, kHello);
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      load(files[i]);
    } catch (...) {
      // A refusal is the parent's to word when it loads the file itself.
    }
    write_line(report, "done " + std::to_string(i));
  }
  std::_Exit(0);  // no library's destructor gets a chance to crash after the report
}

}  // namespace looplab::host
