#pragma once
/// @file errors.h
/// How errors reach the user: one wording, no library backtraces.

#include <exception>
#include <iosfwd>
#include <string>

namespace looplab::host {

/// The message of `e` in one piece: LibTorch errors without their C++ backtrace.
std::string error_text(const std::exception& e);

/// Prints "looplab: error: <message>" and a newline to `out` (std::cerr by default).
void print_error(const std::string& message);
/// The same to another stream.
void print_error(std::ostream& out, const std::string& message);

}  // namespace looplab::host
