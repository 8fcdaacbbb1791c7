#include "registry/fault_guard.h"

#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include <unistd.h>

namespace looplab::host {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};

sigjmp_buf* active_jump = nullptr;  // set only while a guarded call runs

void on_fault(int signal) {
  // The faulting instruction would run again on return: leave for run_guarded's sigsetjmp,
  // which restores the signal mask saved there (this signal is blocked in the handler).
  if (active_jump) siglongjmp(*active_jump, signal);
  std::signal(signal, SIG_DFL);  // not ours: die as without the guard
  std::raise(signal);
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
  }
  return "a signal";
}

/// `handler` for every signal of kSignals, on an alternate stack (a fault from a stack overflow
/// leaves no stack for the handler), with extra `flags`; the previous stack and handlers into
/// old_stack and old[] unless they are null.
void install_fault_handlers(void (*handler)(int), int flags, stack_t* old_stack, struct sigaction* old) {
  static std::vector<char> alternate(1 << 16);
  stack_t stack{};
  stack.ss_sp = alternate.data();
  stack.ss_size = alternate.size();
  sigaltstack(&stack, old_stack);
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_flags = SA_ONSTACK | flags;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &action, old ? &old[i] : nullptr);
}

volatile sig_atomic_t exit_code = 0;

void on_fault_at_exit(int) {
  static const char kWarning[] = "looplab: warning: a library faulted in its exit-time destructors; ignored\n";
  [[maybe_unused]] const auto written = write(STDERR_FILENO, kWarning, sizeof kWarning - 1);
  _exit(exit_code);
}

}  // namespace

void exit_surviving_faults(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  exit_code = code;
  install_fault_handlers(on_fault_at_exit, SA_RESETHAND, nullptr, nullptr);
  std::exit(code);
}

std::optional<std::string> run_guarded(const std::function<void()>& call) {
  // The previous handlers and stack come back however this returns (an exception included).
  struct Installed {
    stack_t old_stack{};
    struct sigaction old[std::size(kSignals)]{};
    Installed() { install_fault_handlers(on_fault, 0, &old_stack, old); }
    ~Installed() {
      active_jump = nullptr;
      for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &old[i], nullptr);
      sigaltstack(&old_stack, nullptr);
    }
  } installed;

  sigjmp_buf jump;
  if (const int signal = sigsetjmp(jump, /*savemask=*/1); signal != 0) return std::string(signal_name(signal));
  active_jump = &jump;
  call();
  return std::nullopt;
}

}  // namespace looplab::host
