// toml++'s implementation, compiled once for the fuzz build (the normal build links the packaged
// libtomlplusplus instead): instrumented for coverage and checked by ASan like the rest, but
// without UBSan. toml++ 3.3 (Debian 12's) has undefined behaviour that is fixed or reported
// upstream, which every input containing it would otherwise stop at, in every run:
// - the parser reaches a __builtin_unreachable() for some non-ASCII characters
//   (is_non_ascii_horizontal_whitespace; marzer/tomlplusplus#190, #295), then reports the parse
//   error (fuzz/regressions/non-ascii-in-key.toml);
// - the formatter's width estimate casts a negative log10 to size_t for floats below 0.1
//   (marzer/tomlplusplus#276) and negates INT64_MIN, when it prints an array of them, as a
//   [sweep] does with each value (fuzz/regressions/toml-formatter-*.toml).
// The build that ships has the same code, optimised by GCC; the replay test runs those inputs
// through it.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
