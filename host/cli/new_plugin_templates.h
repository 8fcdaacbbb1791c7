#pragma once
/// @file new_plugin_templates.h
/// The templates `looplab new-plugin` fills in. They live as files in
/// host/cli/templates/new_plugin/ and are compiled in: cmake/EmbedTemplates.cmake writes the
/// definition into the build tree whenever one of them changes.

#include <map>
#include <string>

namespace looplab::host {

/// Every template's text, byte for byte as in its file, keyed by its path under
/// templates/new_plugin/, e.g. "common/CMakeLists.txt.in" or "block/plugin.cpp.in".
const std::map<std::string, std::string>& new_plugin_templates();

}  // namespace looplab::host
