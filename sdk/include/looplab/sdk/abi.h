#pragma once
/// @file abi.h
/// The frozen head of every plugin descriptor. Only plain C types live here so the host
/// can read a plugin's build fingerprint before it touches any C++ object of the plugin.

#include <stdint.h>

/// SDK version: a plugin built against another major is refused. (Overridable only so that
/// the test suite can build a genuinely mismatched plugin.)
#ifndef LOOPLAB_SDK_VERSION_MAJOR
#define LOOPLAB_SDK_VERSION_MAJOR 1
#endif
/// SDK minor version: a host loads plugins of its own minor and older ones (minors only add).
#ifndef LOOPLAB_SDK_VERSION_MINOR
#define LOOPLAB_SDK_VERSION_MINOR 1
#endif
/// Layout version of looplab_plugin_descriptor; bumped when its fields change.
#define LOOPLAB_ABI_MAJOR 1
/// Added fields at the end of the descriptor bump the minor only.
#define LOOPLAB_ABI_MINOR 0
/// Name of the one symbol every plugin library exports.
#define LOOPLAB_PLUGIN_ENTRY_SYMBOL "looplab_plugin_entry"

#ifdef __cplusplus
extern "C" {
#endif

/// What a library was compiled against. The host loads it when sdk_major, torch_major,
/// torch_minor and cxx11_abi equal its own and sdk_minor is at most its own (see compatible()).
typedef struct looplab_fingerprint {
  uint32_t sdk_major;    ///< LOOPLAB_SDK_VERSION_MAJOR of the plugin's build.
  uint32_t sdk_minor;    ///< LOOPLAB_SDK_VERSION_MINOR of the plugin's build.
  uint32_t torch_major;  ///< TORCH_VERSION_MAJOR of the LibTorch it was built with.
  uint32_t torch_minor;  ///< TORCH_VERSION_MINOR of the LibTorch it was built with.
  uint32_t cxx11_abi;    ///< _GLIBCXX_USE_CXX11_ABI of the build (0 or 1).
} looplab_fingerprint;

/// Returned by looplab_plugin_entry(). The first four fields never move.
typedef struct looplab_plugin_descriptor {
  uint32_t abi_major;          ///< LOOPLAB_ABI_MAJOR the plugin was built with.
  uint32_t abi_minor;          ///< LOOPLAB_ABI_MINOR the plugin was built with.
  uint32_t struct_size;        ///< sizeof(looplab_plugin_descriptor) in the plugin's build.
  looplab_fingerprint build;   ///< Versions the plugin was compiled against.
  const char* plugin_name;     ///< Library-level name, e.g. "gpt".
  const char* plugin_version;  ///< Library-level version string.
  /// Returns a `const std::vector<looplab::sdk::Component>*`; called only after the
  /// fingerprint matched, because it hands C++ objects across the boundary.
  const void* (*components)(void);
} looplab_plugin_descriptor;

/// Signature of the exported entry point.
typedef const looplab_plugin_descriptor* (*looplab_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
