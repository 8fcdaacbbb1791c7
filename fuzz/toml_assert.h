#pragma once
// Included before every file of the fuzz build (fuzz/CMakeLists.txt): toml++'s own assertions
// off, as in the packaged library (built with NDEBUG by GCC, where they are no-ops). toml++ 3.3
// asserts on input it then reports as a parse error (a NUL where a key starts:
// fuzz/regressions/nul-in-table-header.toml); NDEBUG would not do, as clang turns them into
// __builtin_assume.
#define TOML_ASSERT(expr) static_cast<void>(0)
