#pragma once
/// @file files.h
/// Writing files so that a crash or a full disk never leaves a half-written one in place.

#include <string>

namespace looplab::host {

/// Replaces `path` with `contents`: writes `path.tmp.<pid>`, fsyncs it, renames it over `path`
/// and fsyncs the directory, so readers see the old file or the new one, never a torn one.
/// Throws std::runtime_error naming `path` and the reason; the old file is then untouched and
/// the temporary removed.
void write_file_atomic(const std::string& path, const std::string& contents);

/// Overwrites an existing `path` in place (truncate, write, fsync): not atomic, for when a full
/// disk leaves no room for write_file_atomic's temporary. Returns whether it succeeded.
bool overwrite_file(const std::string& path, const std::string& contents);

/// The whole file as text. Throws std::runtime_error naming `path` when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace looplab::host
