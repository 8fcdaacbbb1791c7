// `looplab plugins list|describe|check` and `looplab new-plugin`: the commands of plugin
// authors.

#include "cli/commands.h"
#include "cli/new_plugin.h"
#include "cli/pipeline_loading.h"
#include "common/errors.h"
#include "common/text.h"
#include "registry/conformance.h"
#include "registry/plugin_probe.h"

#include <iomanip>
#include <iostream>

namespace looplab::host {

namespace {

constexpr const char* kPluginsUsage =
    "usage: looplab plugins list | looplab plugins describe NAME [--plugin-path DIR]...\n"
    "       looplab plugins check FILE.so...   run the conformance checks on these libraries only\n";

void describe_component(const LoadedComponent& lc) {
  const auto& c = *lc.component;
  std::cout << c.name << " (" << sdk::kind_name(c.kind()) << ", version " << c.version << ")\n"
            << "  " << c.summary << "\n"
            << "  from " << lc.file << "\n";
  if (c.params.empty()) {
    std::cout << "  no parameters\n";
    return;
  }
  std::cout << "  parameters:\n";
  for (const auto& p : c.params) {
    std::cout << "    " << std::left << std::setw(14) << p.name << " " << std::setw(15) << sdk::type_name(p.type)
              << " default " << std::setw(10) << (p.fallback ? sdk::to_toml(*p.fallback) : "(required)");
    auto range = p.constraint();
    if (!range.empty()) std::cout << " " << range;
    std::cout << "\n      " << p.doc << "\n";
  }
}

// Only the named files, so the verdict does not depend on what else is installed.
int check_files(const std::vector<std::string>& files, const CommonOptions& c) {
  PluginRegistry checked(looplab_vetting());
  bool refused = false;
  for (const auto& file : files) refused |= !checked.load_file(file);
  for (const auto& p : checked.problems()) std::cerr << p << "\n";
  if (refused) return kBadInput;
  // Blocks nested in a wrapper's defaults (lr_looped's inner gpt) come from the usual search path.
  auto installed = load_registry(c.plugin_paths, {});
  int passed = 0, failed = 0, skipped = 0;
  for (const auto* lc : checked.all())
    for (const auto& r : check_component(*lc->component, &installed)) {
      const char* verdict = r.passed ? "PASS" : r.skipped ? "SKIP" : "FAIL";
      (r.passed ? passed : r.skipped ? skipped : failed) += 1;
      std::cout << verdict << " " << r.component << ": " << r.check << (r.passed ? "" : ": " + r.detail) << std::endl;
    }
  std::cout << passed << " passed, " << failed << " failed"
            << (skipped ? ", " + std::to_string(skipped) + " skipped" : "") << "\n";
  return failed == 0 && skipped == 0 ? kOk : kFailure;
}

int describe(const PluginRegistry& registry, const std::string& name) {
  bool found = false;
  for (auto kind : {sdk::ComponentKind::Block, sdk::ComponentKind::Task, sdk::ComponentKind::Analysis,
                    sdk::ComponentKind::Baseline})
    if (const auto* lc = registry.find(kind, name)) {
      describe_component(*lc);
      found = true;
    }
  if (found) return kOk;
  std::vector<std::string> all;
  for (const auto* lc : registry.all()) all.push_back(lc->component->name);
  print_error(unknown_name("component", name, all, NameList::kAvailable));
  std::cerr << "looplab: note: " << registry.search_note() << "\n";
  return kBadInput;
}

}  // namespace

int plugins_command(const std::vector<std::string>& args) {
  CommonOptions c;
  std::vector<std::string> words;
  auto desc = common_options(c);
  desc.add_options()("words", po::value(&words), "list | describe NAME | check FILE.so...");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  if (auto done = parse_command_line(args, desc, pos, vm, kPluginsUsage)) return *done;
  if (words.empty()) {
    std::cout << kPluginsUsage;
    return kBadInput;
  }
  if (words[0] == "check" && words.size() >= 2) return check_files({words.begin() + 1, words.end()}, c);
  // Not in the usage: the child that loads libraries before the parent does (registry/plugin_probe.h).
  if (words[0] == "probe" && words.size() >= 2)
    serve_probe({words.begin() + 1, words.end()}, [](const std::string& file) { PluginRegistry().load_file(file); });
  if (words[0] == "list" && words.size() == 1) {
    auto registry = load_registry(c.plugin_paths, {});
    for (const auto* lc : registry.all())
      std::cout << std::left << std::setw(9) << sdk::kind_name(lc->component->kind()) << " " << std::setw(26)
                << lc->component->name << " " << lc->component->summary << "\n";
    return kOk;
  }
  if (words[0] == "describe" && words.size() == 2) return describe(load_registry(c.plugin_paths, {}), words[1]);
  std::cerr << kPluginsUsage;
  return kBadInput;
}

int new_plugin_command(const std::vector<std::string>& args) {
  std::string kind, name, dir;
  auto desc = help_options();
  desc.add_options()("kind", po::value(&kind), "block, task, analysis or baseline")(
      "name", po::value(&name), "plugin name (a C identifier)")("dir", po::value(&dir), "new or empty directory");
  po::positional_options_description pos;
  pos.add("name", 1).add("dir", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab new-plugin --kind block|task|analysis|baseline NAME DIR\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage)) return *done;
  if (kind.empty() || name.empty() || dir.empty()) return usage_error("new-plugin needs --kind, NAME and DIR", usage);
  return write_plugin_project(kind, name, dir, std::cout, std::cerr);
}

}  // namespace looplab::host
