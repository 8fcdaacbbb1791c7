#pragma once
/// @file fault_guard.h
/// Calls into a plugin library that survive the library faulting. A library can pass the
/// static checks and the trial load in a child process and still fault in the host: a damaged
/// instruction whose effect depends on the address the library was loaded at, or on what is on
/// the stack, does not fault every time. The host's calls that list a library's components are
/// made through run_guarded(), so such a library is refused in one line instead of ending the
/// process.

#include <functional>
#include <optional>
#include <string>

namespace looplab::host {

/// Runs `call` with handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE (on an alternate stack, so
/// that a stack overflow is caught too) that jump back here; restores the previous handlers.
/// Returns nullopt when `call` returned, or the signal's name ("SIGSEGV") when it faulted.
/// What the faulting code left half-done stays as it is (memory it allocated, locks it took),
/// so only calls that leave no host state behind when cut short may be guarded, and never
/// dlopen (the loader's own lock and lists). One thread at a time.
std::optional<std::string> run_guarded(const std::function<void()>& call);

/// Ends the process with `code` as std::exit does (static destructors and atexit handlers run,
/// the loaded plugins' among them), except that a fault in them ends it with `code` too, after
/// one warning line on stderr, instead of a crash. A damaged library can pass every check, list
/// its components and still fault in its exit-time destructors (seen: a byte-flipped copy whose
/// static component list's destructor faulted after `plugins list` had printed everything).
/// Standard output and error are flushed first, so nothing printed is lost.
[[noreturn]] void exit_surviving_faults(int code);

}  // namespace looplab::host
