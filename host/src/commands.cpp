#include "commands.h"

#include "bench.h"
#include "doctor.h"
#include "conformance.h"
#include "config_loader.h"
#include "pipeline.h"
#include "plugin_registry.h"
#include "run_session.h"
#include "scaffold.h"

#include <boost/program_options.hpp>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace looplab::host {

namespace {

constexpr const char* kUsage =
    "usage: looplab <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE [--out DIR] [--set KEY=VALUE]...   train, evaluate and report a pipeline\n"
    "  run --resume RUN_DIR                        continue an interrupted run\n"
    "  validate FILE [--set KEY=VALUE]...          check a pipeline without running it\n"
    "  analyze RUN_DIR --analysis NAME [--set KEY=VALUE]...  run an analysis on a trained run\n"
    "  plugins list                                installed blocks, tasks and analyses\n"
    "  plugins describe NAME                       a component's parameters\n"
    "  new-plugin --kind block|task|analysis NAME DIR   write an out-of-tree plugin project\n"
    "  bench [--config NAME]... [--reps N] [--threads N] [--device cpu|cuda]   time training steps\n"
    "  doctor                                      LibTorch, BLAS, threads and CPU as this process sees them\n"
    "\n"
    "common options: --plugin-path DIR (repeatable), -h/--help, --version\n";

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  // First Ctrl-C: finish the step, checkpoint, exit. Second: default action.
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

struct Common {
  std::vector<std::string> plugin_paths;
  std::vector<std::string> sets;
};

po::options_description common_options(Common& c) {
  po::options_description desc("options");
  desc.add_options()("help,h", "show help")(
      "plugin-path", po::value(&c.plugin_paths)->composing(), "extra plugin directory (repeatable)")(
      "set", po::value(&c.sets)->composing(), "override a config value: --set training.steps=100");
  return desc;
}

// Parses args; returns false (after printing) on a usage error.
bool parse(const std::vector<std::string>& args, const po::options_description& desc,
           const po::positional_options_description& pos, po::variables_map& vm, const char* usage) {
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "looplab: error: " << e.what() << "\n" << usage;
    return false;
  }
  return true;
}

PluginRegistry load_registry(const std::vector<std::string>& cli_paths, const std::vector<std::string>& config_paths,
                             bool report_problems = true) {
  PluginRegistry registry;
  registry.load_directories(plugin_directories(cli_paths, config_paths));
  if (report_problems)
    for (const auto& p : registry.problems()) std::cerr << p << "\n";
  return registry;
}

// Loads and validates a pipeline; prints diagnostics and returns nullopt on any error.
std::optional<PipelineConfig> load_pipeline(const std::string& file, const Common& c) {
  try {
    auto doc = load_config(file, c.sets);
    auto registry = load_registry(c.plugin_paths, raw_plugin_paths(doc));
    return build_pipeline(doc, file, registry);
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
}

// An existing run directory (it has resolved.toml), or nullopt after saying why not.
std::optional<RunDir> open_run_dir(const std::string& path) {
  RunDir dir{fs::absolute(path).lexically_normal().string()};
  if (fs::exists(dir.resolved())) return dir;
  std::cerr << path << ": error: not a run directory (no resolved.toml)\n";
  return std::nullopt;
}

std::string default_run_dir(const std::string& name) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream out;
  out << "runs/" << name << "-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return out.str();
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  Common c;
  std::string file, out, resume;
  auto desc = common_options(c);
  desc.add_options()("out", po::value(&out), "run directory (default runs/<name>-<timestamp>)")(
      "resume", po::value(&resume), "resume the run in this directory")("file", po::value(&file), "pipeline file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab run FILE [--out DIR] [--set KEY=VALUE]... | looplab run --resume RUN_DIR\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (file.empty() == resume.empty()) {
    std::cerr << "looplab: error: give a pipeline FILE or --resume RUN_DIR (not both)\n" << usage;
    return kBadInput;
  }

  RunDir dir;
  std::optional<PipelineConfig> cfg;
  if (!resume.empty()) {
    auto existing = open_run_dir(resume);
    if (!existing) return kBadInput;
    dir = *existing;
    if (!c.sets.empty()) {
      std::cerr << "looplab: error: --set cannot change a run being resumed\n";
      return kBadInput;
    }
    cfg = load_pipeline(dir.resolved(), c);
    if (!cfg) return kBadInput;
    write_status(dir, "running");
  } else {
    cfg = load_pipeline(file, c);
    if (!cfg) return kBadInput;
    try {
      dir = create_run_dir(out.empty() ? default_run_dir(cfg->name) : out, *cfg);
    } catch (const std::exception& e) {
      std::cerr << "looplab: error: " << e.what() << "\n";
      return kBadInput;
    }
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  return execute_run(*cfg, dir, g_stop);
}

int analyze_command(const std::vector<std::string>& args) {
  Common c;
  std::string run_dir, name;
  auto desc = common_options(c);
  desc.add_options()("analysis", po::value(&name), "analysis plugin to run")("run", po::value(&run_dir), "run directory");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab analyze RUN_DIR --analysis NAME [--set KEY=VALUE]... (keys are the analysis' parameters)\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (run_dir.empty() || name.empty()) {
    std::cerr << "looplab: error: analyze needs a RUN_DIR and --analysis NAME\n" << usage;
    return kBadInput;
  }
  auto existing = open_run_dir(run_dir);
  if (!existing) return kBadInput;
  const RunDir& dir = *existing;
  // The analysis table: type = NAME plus one key per --set, each parsed as a TOML value.
  Common no_sets{c.plugin_paths, {}};
  auto cfg = load_pipeline(dir.resolved(), no_sets);
  if (!cfg) return kBadInput;
  try {
    toml::table table;
    set_value(table, "type", name);
    auto overrides = load_overrides(c.sets);
    for (auto&& [key, value] : overrides) table.insert_or_assign(key, std::move(value));
    auto registry = load_registry(c.plugin_paths, cfg->plugin_paths, false);
    Diagnostics diags;
    auto analysis = build_analysis(table, registry, diags, SourceLocation{"--analysis", 0, 0});
    if (!diags.empty()) throw ConfigError(diags);
    return analyze_run(*cfg, dir, analysis);
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return kBadInput;
  }
}

int validate_command(const std::vector<std::string>& args) {
  Common c;
  std::string file;
  auto desc = common_options(c);
  desc.add_options()("file", po::value(&file), "pipeline file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab validate FILE [--set KEY=VALUE]...\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (file.empty()) {
    std::cerr << "looplab: error: validate needs a pipeline FILE\n" << usage;
    return kBadInput;
  }
  auto cfg = load_pipeline(file, c);
  if (!cfg) return kBadInput;
  std::cout << file << ": ok (" << cfg->task.type << ", " << (cfg->looped ? "looped" : "standard") << " model, "
            << cfg->depth() << " block(s), " << cfg->steps << " steps)\n";
  return kOk;
}

namespace {

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

}  // namespace

int plugins_command(const std::vector<std::string>& args) {
  Common c;
  std::vector<std::string> words;
  auto desc = common_options(c);
  desc.add_options()("words", po::value(&words), "list | describe NAME");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  const char* usage =
      "usage: looplab plugins list | looplab plugins describe NAME [--plugin-path DIR]...\n"
      "       looplab plugins check FILE.so...   run the conformance checks on these libraries only\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help") || words.empty()) {
    std::cout << usage;
    return words.empty() && !vm.count("help") ? kBadInput : kOk;
  }
  if (words[0] == "check") {
    if (words.size() < 2) {
      std::cerr << usage;
      return kBadInput;
    }
    // Only the named files, so the verdict does not depend on what else is installed.
    PluginRegistry checked;
    bool refused = false;
    for (size_t i = 1; i < words.size(); ++i) refused |= !checked.load_file(words[i]);
    for (const auto& p : checked.problems()) std::cerr << p << "\n";
    if (refused) return kBadInput;
    int passed = 0, failed = 0, skipped = 0;
    for (const auto* lc : checked.all())
      for (const auto& r : check_component(*lc->component)) {
        const char* verdict = r.passed ? "PASS" : r.skipped ? "SKIP" : "FAIL";
        (r.passed ? passed : r.skipped ? skipped : failed) += 1;
        std::cout << verdict << " " << r.component << ": " << r.check << (r.passed ? "" : ": " + r.detail) << std::endl;
      }
    std::cout << passed << " passed, " << failed << " failed" << (skipped ? ", " + std::to_string(skipped) + " skipped" : "")
              << "\n";
    return failed == 0 && skipped == 0 ? kOk : kFailure;
  }
  auto registry = load_registry(c.plugin_paths, {});
  if (words[0] == "list" && words.size() == 1) {
    for (const auto* lc : registry.all())
      std::cout << std::left << std::setw(9) << sdk::kind_name(lc->component->kind()) << " " << std::setw(26)
                << lc->component->name << " " << lc->component->summary << "\n";
    return kOk;
  }
  if (words[0] == "describe" && words.size() == 2) {
    bool found = false;
    for (auto kind : {sdk::ComponentKind::Block, sdk::ComponentKind::Task, sdk::ComponentKind::Analysis})
      if (const auto* lc = registry.find(kind, words[1])) {
        describe_component(*lc);
        found = true;
      }
    if (found) return kOk;
    std::vector<std::string> all;
    for (const auto* lc : registry.all()) all.push_back(lc->component->name);
    auto hint = did_you_mean(words[1], all);
    std::cerr << "looplab: error: no plugin component named '" << words[1] << "'"
              << (hint.empty() ? "" : " (did you mean '" + hint + "'?)") << "\n";
    return kBadInput;
  }
  std::cerr << usage;
  return kBadInput;
}

namespace {

// `looplab new-plugin --kind block|task|analysis NAME DIR`: a ready out-of-tree plugin project.
int new_plugin_command(const std::vector<std::string>& args) {
  std::string kind, name, dir;
  po::options_description desc("options");
  desc.add_options()("help,h", "show help")("kind", po::value(&kind), "block, task or analysis")(
      "name", po::value(&name), "plugin name (a C identifier)")("dir", po::value(&dir), "new or empty directory");
  po::positional_options_description pos;
  pos.add("name", 1).add("dir", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab new-plugin --kind block|task|analysis NAME DIR\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (kind.empty() || name.empty() || dir.empty()) {
    std::cerr << "looplab: error: new-plugin needs --kind, NAME and DIR\n" << usage;
    return kBadInput;
  }
  return write_plugin_project(kind, name, dir, std::cout, std::cerr);
}

}  // namespace

int main_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kBadInput : kOk;
  }
  if (args[0] == "--version") {
    std::cout << "looplab " << LOOPLAB_SDK_VERSION_MAJOR << "." << LOOPLAB_SDK_VERSION_MINOR << "\n";
    return kOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "run") return run_command(args);
    if (command == "validate") return validate_command(args);
    if (command == "analyze") return analyze_command(args);
    if (command == "plugins") return plugins_command(args);
    if (command == "new-plugin") return new_plugin_command(args);
    if (command == "bench") return bench_command(args);
    if (command == "doctor") return doctor_command(args);
  } catch (const std::exception& e) {
    std::cerr << "looplab: error: " << e.what() << "\n";
    return kFailure;
  }
  auto hint = did_you_mean(command, {"run", "validate", "analyze", "plugins", "new-plugin", "bench", "doctor"});
  std::cerr << "looplab: error: unknown command '" << command << "'" << (hint.empty() ? "" : " (did you mean '" + hint + "'?)")
            << "\n" << kUsage;
  return kBadInput;
}

}  // namespace looplab::host
