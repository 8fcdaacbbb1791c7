#include "cli/new_plugin.h"

#include "cli/new_plugin_templates.h"
#include "common/errors.h"
#include "common/exit_code.h"
#include "registry/plugin_registry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// The templates are the files under host/cli/templates/new_plugin/, compiled in (see
// new_plugin_templates.h). Placeholders: @NAME@ (the component name), @CLASS@ (its CamelCase
// form), @KIND@ (block, task, analysis), @PREFIX@ (the looplab install prefix).

// The template at `path` (relative to templates/new_plugin/). The code names only templates
// that exist, so a missing one means the build embedded the wrong folder.
const std::string& template_text(const std::string& path) {
  const auto& templates = new_plugin_templates();
  auto it = templates.find(path);
  if (it == templates.end()) throw std::logic_error("new-plugin template '" + path + "' was not embedded");
  return it->second;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// my_block -> MyBlock; a name without letters gets a prefix so the class name is valid.
std::string camel_case(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char ch : name) {
    if (ch == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "My" + out;
  return out;
}

const std::set<std::string>& cxx_keywords() {
  static const std::set<std::string> words = {
      "alignas",     "alignof",   "and",        "and_eq",    "asm",      "auto",         "bitand",
      "bitor",       "bool",      "break",      "case",      "catch",    "char",         "char16_t",
      "char32_t",    "char8_t",   "class",      "compl",     "concept",  "const",        "consteval",
      "constexpr",   "constinit", "const_cast", "continue",  "co_await", "co_return",    "co_yield",
      "decltype",    "default",   "delete",     "do",        "double",   "dynamic_cast", "else",
      "enum",        "explicit",  "export",     "extern",    "false",    "float",        "for",
      "friend",      "goto",      "if",         "inline",    "int",      "long",         "mutable",
      "namespace",   "new",       "noexcept",   "not",       "not_eq",   "nullptr",      "operator",
      "or",          "or_eq",     "private",    "protected", "public",   "register",     "reinterpret_cast",
      "requires",    "return",    "short",      "signed",    "sizeof",   "static",       "static_assert",
      "static_cast", "struct",    "switch",     "template",  "this",     "thread_local", "throw",
      "true",        "try",       "typedef",    "typeid",    "typename", "union",        "unsigned",
      "using",       "virtual",   "void",       "volatile",  "wchar_t",  "while",        "xor",
      "xor_eq"};
  return words;
}

// The prefix this looplab is installed in, if it carries the CMake package.
std::string install_prefix() {
  std::error_code ec;
  auto prefix = fs::weakly_canonical(fs::path(executable_directory()) / "..", ec);
  if (!ec && fs::exists(prefix / "lib/cmake/looplab/looplabConfig.cmake", ec)) return prefix.string();
  return "/path/to/looplab/prefix";
}

}  // namespace

std::string check_plugin_name(const std::string& name) {
  if (name.empty()) return "a plugin name must not be empty";
  const bool starts_ok = std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_';
  const bool rest_ok = std::all_of(name.begin(), name.end(),
                                   [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
  if (!starts_ok || !rest_ok)
    return "plugin name '" + name + "' is not a C identifier (letters, digits and '_', not starting with a digit)";
  if (cxx_keywords().count(name)) return "plugin name '" + name + "' is a C++ keyword";
  return "";
}

std::vector<std::pair<std::string, std::string>> plugin_project_files(const std::string& kind, const std::string& name,
                                                                      const std::string& prefix) {
  if (kind != "block" && kind != "task" && kind != "analysis" && kind != "baseline")
    throw std::invalid_argument("unknown plugin kind '" + kind + "' (expected block, task, analysis or baseline)");
  // Each kind has its own folder of templates with the same names; common/ is shared.
  const std::string own = kind + "/";
  // The narrowest torch headers the kind's test needs go right after the SDK include of the
  // common head; a kind without test_includes (analysis) needs none.
  const auto& templates = new_plugin_templates();
  const auto includes = templates.find(own + "test_includes.cpp.in");
  const std::string sdk_include = "#include <looplab/sdk/plugin.h>\n";
  std::string test_file = replace_all(template_text("common/test_head.cpp.in"), sdk_include,
                                      sdk_include + (includes == templates.end() ? "" : includes->second)) +
                          template_text(own + "test_body.cpp.in") + template_text("common/test_tail.cpp.in");
  std::vector<std::pair<std::string, std::string>> files = {
      {"CMakeLists.txt", template_text("common/CMakeLists.txt.in")},
      {"README.md", template_text("common/README.md.in")},
      {name + ".h", template_text(own + "module.h.in")},
      {name + ".cpp", template_text(own + "module.cpp.in")},
      {"plugin.cpp", template_text(own + "plugin.cpp.in")},
      {"test_" + name + ".cpp", test_file},
      {"pipeline.toml", template_text(own + "pipeline.toml.in")},
  };
  const std::string cls = camel_case(name);
  for (auto& [path, text] : files) {
    text = replace_all(text, "@NAME@", name);
    text = replace_all(text, "@CLASS@", cls);
    text = replace_all(text, "@KIND@", kind);
    text = replace_all(text, "@PREFIX@", prefix);
  }
  return files;
}

int write_plugin_project(const std::string& kind, const std::string& name, const std::string& dir, std::ostream& out,
                         std::ostream& err) {
  if (kind != "block" && kind != "task" && kind != "analysis" && kind != "baseline") {
    print_error(err, "--kind must be block, task, analysis or baseline, not '" + kind + "'");
    return kBadInput;
  }
  if (auto problem = check_plugin_name(name); !problem.empty()) {
    print_error(err, problem);
    return kBadInput;
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      print_error(err, dir + " exists and is not a directory");
      return kBadInput;
    }
    if (!fs::is_empty(dir, ec)) {
      print_error(err, dir + " is not empty; new-plugin writes only into a new or empty directory");
      return kBadInput;
    }
  }
  fs::create_directories(dir, ec);
  if (ec) {
    print_error(err, "cannot create " + dir + ": " + ec.message());
    return kFailure;
  }
  const std::string prefix = install_prefix();
  for (const auto& [path, text] : plugin_project_files(kind, name, prefix)) {
    const auto file = fs::path(dir) / path;
    std::ofstream stream(file, std::ios::binary);
    stream << text;
    if (!stream.flush()) {
      print_error(err, "cannot write " + file.string());
      return kFailure;
    }
    out << "wrote " << file.string() << "\n";
  }
  out << "next: cd " << dir << " && cmake -S . -B build -DCMAKE_PREFIX_PATH=" << prefix
      << " && cmake --build build && ctest --test-dir build\n";
  return kOk;
}

}  // namespace looplab::host
