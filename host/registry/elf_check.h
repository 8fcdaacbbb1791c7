#pragma once
/// @file elf_check.h
/// The checks a library file passes before any process maps it: cheap, in-process, and
/// enough to refuse what would crash dlopen itself (a truncated file maps pages past its end,
/// and touching them raises SIGBUS).

#include <string>

namespace looplab::host {

/// Why the file at `path` cannot be a shared library for this host, in a few words for the
/// line "FILE: error: <why>", or "" when it looks like one: an ELF file of this host's class,
/// byte order and machine, of type shared object, whose program and section header tables
/// and whose segments all lie inside the file, with a dynamic segment whose symbols,
/// relocations and init functions point inside the library (a corrupt address there makes
/// the outcome of loading depend on what else the process has mapped).
std::string elf_problem(const std::string& path);

}  // namespace looplab::host
