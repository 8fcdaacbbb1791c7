#include "commands.h"

#include "bench.h"
#include "doctor.h"
#include "compare.h"
#include "conformance.h"
#include "config_loader.h"
#include "pipeline.h"
#include "plugin_registry.h"
#include "run_session.h"
#include "scaffold.h"
#include "sweep.h"
#include "sweep_runner.h"

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
    "  run --resume RUN_DIR                        continue an interrupted run (or sweep)\n"
    "  run FILE --jobs N | --sweep-index I         a [sweep]: N runs at a time, or only run I\n"
    "  validate FILE [--set KEY=VALUE]...          check a pipeline (every sweep run) without running it\n"
    "  sweep count|list FILE [--set KEY=VALUE]...  the runs a [sweep] expands into\n"
    "  compare RUN_DIR... [--out DIR]              overlay runs (or a sweep's runs): figures and a table\n"
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

// A pipeline file with its extends and --set applied; nullopt after printing the errors.
std::optional<toml::table> load_document(const std::string& file, const Common& c) {
  try {
    return load_config(file, c.sets);
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
}

// The name a pipeline runs under: [run].name, else the file's stem.
std::string pipeline_name(const toml::table& doc, const std::string& file) {
  if (auto name = doc.at_path("run.name").value<std::string>(); name && !name->empty()) return *name;
  return fs::path(file).stem().string();
}

// A sweep's members, each validated; nullopt after printing the errors.
std::optional<std::pair<std::vector<SweepMember>, std::vector<PipelineConfig>>> load_sweep(const std::string& file,
                                                                                          const toml::table& doc,
                                                                                          const Common& c) {
  try {
    Diagnostics diags;
    auto members = expand_sweep(doc, diags);
    if (!diags.empty()) throw ConfigError(diags);
    auto registry = load_registry(c.plugin_paths, raw_plugin_paths(doc));
    auto configs = build_sweep(file, c.sets, members, registry);
    return std::make_pair(std::move(members), std::move(configs));
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return std::nullopt;
  }
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
  int64_t jobs = 1, sweep_index = -1, threads = 0;
  auto desc = common_options(c);
  desc.add_options()("out", po::value(&out), "run directory (default runs/<name>-<timestamp>)")(
      "resume", po::value(&resume), "resume the run or sweep in this directory")(
      "threads", po::value(&threads), "CPU threads per run (overrides [run] threads)")(
      "jobs", po::value(&jobs), "sweeps: runs at a time, as separate processes sharing the cores")(
      "sweep-index", po::value(&sweep_index), "sweeps: run only member I (0-based; --out names the sweep directory)")(
      "file", po::value(&file), "pipeline file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  const char* usage =
      "usage: looplab run FILE [--out DIR] [--set KEY=VALUE]... [--threads N] [--jobs N | --sweep-index I]\n"
      "       looplab run --resume RUN_OR_SWEEP_DIR [--threads N] [--jobs N]\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (file.empty() == resume.empty()) {
    std::cerr << "looplab: error: give a pipeline FILE or --resume RUN_DIR (not both)\n" << usage;
    return kBadInput;
  }
  if (jobs < 1 || threads < 0) {
    std::cerr << "looplab: error: --jobs must be >= 1 and --threads >= 0\n";
    return kBadInput;
  }
  if (!resume.empty() && !c.sets.empty()) {
    std::cerr << "looplab: error: --set cannot change a run being resumed\n";
    return kBadInput;
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  // Trains one run directory in this process (a fresh one starts, a checkpointed one resumes).
  auto run_member = [&c](const RunDir& dir, int64_t member_threads) -> int {
    auto cfg = load_pipeline(dir.resolved(), Common{c.plugin_paths, {}});
    if (!cfg) return kBadInput;
    if (member_threads > 0) cfg->threads = member_threads;
    write_status(dir, "running");
    return execute_run(*cfg, dir, g_stop);
  };
  SweepOptions sweep_options{jobs, threads, c.plugin_paths, fs::read_symlink("/proc/self/exe").string()};

  if (!resume.empty()) {
    if (is_sweep_dir(resume))
      return run_sweep(SweepDir{fs::absolute(resume).lexically_normal().string()}, sweep_options, run_member, g_stop,
                       std::cout);
    auto existing = open_run_dir(resume);
    if (!existing) return kBadInput;
    return run_member(*existing, threads);
  }

  auto loaded = load_document(file, c);
  if (!loaded) return kBadInput;
  const toml::table& doc = *loaded;
  if (!has_sweep(doc)) {
    if (sweep_index >= 0 || jobs > 1) {
      std::cerr << "looplab: error: --sweep-index and --jobs need a [sweep] table in " << file << "\n";
      return kBadInput;
    }
    auto cfg = load_pipeline(file, c);
    if (!cfg) return kBadInput;
    if (threads > 0) cfg->threads = threads;
    RunDir dir;
    try {
      dir = create_run_dir(out.empty() ? default_run_dir(cfg->name) : out, *cfg);
    } catch (const std::exception& e) {
      std::cerr << "looplab: error: " << e.what() << "\n";
      return kBadInput;
    }
    return execute_run(*cfg, dir, g_stop);
  }

  auto sweep = load_sweep(file, doc, c);
  if (!sweep) return kBadInput;
  auto& [members, configs] = *sweep;
  const auto name = pipeline_name(doc, file);
  try {
    if (sweep_index >= 0) {
      // One member, for batch schedulers: every job agrees on the sweep directory.
      if (static_cast<size_t>(sweep_index) >= members.size()) {
        std::cerr << "looplab: error: --sweep-index " << sweep_index << " is out of range (the sweep has "
                  << members.size() << " runs: 0.." << members.size() - 1 << ")\n";
        return kBadInput;
      }
      const auto& member = members[static_cast<size_t>(sweep_index)];
      const SweepDir parent{fs::absolute(out.empty() ? "runs/" + name : out).lexically_normal().string()};
      // Every member's directory and the manifest, so that `run --resume` and `compare` see the
      // whole sweep whichever jobs have run.
      complete_sweep_dir(parent, members, configs);
      const RunDir dir{parent.member(member.id)};
      std::cout << "sweep run " << sweep_index << " (" << member.label << ") -> " << dir.path << std::endl;
      if (read_status(dir) == "complete") {
        std::cout << "already complete\n";
        return kOk;
      }
      return run_member(dir, threads);
    }
    auto dir = create_sweep_dir(out.empty() ? default_run_dir(name) : out, members, configs);
    return run_sweep(dir, sweep_options, run_member, g_stop, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "looplab: error: " << e.what() << "\n";
    return kBadInput;
  }
}

int sweep_command(const std::vector<std::string>& args) {
  Common c;
  std::vector<std::string> words;
  auto desc = common_options(c);
  desc.add_options()("words", po::value(&words), "count | list, then FILE");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  const char* usage = "usage: looplab sweep count FILE | looplab sweep list FILE [--set KEY=VALUE]...\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  if (words.size() != 2 || (words[0] != "count" && words[0] != "list")) {
    std::cerr << usage;
    return kBadInput;
  }
  const auto& file = words[1];
  auto loaded = load_document(file, c);
  if (!loaded) return kBadInput;
  const toml::table& doc = *loaded;
  if (!has_sweep(doc)) {
    if (words[0] == "count") std::cout << "1\n";
    else std::cout << "0\t-\t(no [sweep]: one run)\n";
    return kOk;
  }
  if (words[0] == "count") {
    Diagnostics diags;
    auto members = expand_sweep(doc, diags);
    if (!diags.empty()) {
      std::cerr << diags.render();
      return kBadInput;
    }
    std::cout << members.size() << "\n";
    return kOk;
  }
  auto sweep = load_sweep(file, doc, c);
  if (!sweep) return kBadInput;
  for (const auto& m : sweep->first) std::cout << m.index << "\t" << m.id << "\t" << m.label << "\n";
  return kOk;
}

int compare_command(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  std::string out;
  po::options_description desc("options");
  desc.add_options()("help,h", "show help")("out", po::value(&out), "output directory")(
      "dirs", po::value(&dirs), "run or sweep directories");
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  const char* usage = "usage: looplab compare RUN_DIR... [--out DIR]   (a sweep directory stands for its complete runs)\n";
  if (!parse(args, desc, pos, vm, usage)) return kBadInput;
  if (vm.count("help")) {
    std::cout << usage << desc;
    return kOk;
  }
  std::vector<std::string> runs;
  for (const auto& d : dirs) {
    if (is_sweep_dir(d)) {
      const SweepDir sweep{d};
      for (const auto& [id, label] : sweep_manifest(sweep))
        if (read_status(RunDir{sweep.member(id)}) == "complete") runs.push_back(sweep.member(id));
      if (out.empty() && dirs.size() == 1) out = sweep.compare();
    } else if (open_run_dir(d)) {
      runs.push_back(d);
    } else {
      return kBadInput;
    }
  }
  if (runs.empty()) {
    std::cerr << "looplab: error: compare needs at least one complete run\n" << usage;
    return kBadInput;
  }
  if (out.empty()) out = default_run_dir("compare");
  std::cout << compare_runs(runs, out) << "\n";
  return kOk;
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
  auto loaded = load_document(file, c);
  if (!loaded) return kBadInput;
  const toml::table& doc = *loaded;
  if (has_sweep(doc)) {
    auto sweep = load_sweep(file, doc, c);
    if (!sweep) return kBadInput;
    std::cout << file << ": ok (a sweep of " << sweep->first.size() << " runs, each valid)\n";
    return kOk;
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
    // Blocks nested in a wrapper's defaults (lr_looped's inner gpt) come from the usual search path.
    auto installed = load_registry(c.plugin_paths, {});
    int passed = 0, failed = 0, skipped = 0;
    for (const auto* lc : checked.all())
      for (const auto& r : check_component(*lc->component, &installed)) {
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
    if (command == "sweep") return sweep_command(args);
    if (command == "compare") return compare_command(args);
  } catch (const std::exception& e) {
    std::cerr << "looplab: error: " << e.what() << "\n";
    return kFailure;
  }
  auto hint = did_you_mean(command, {"run", "validate", "analyze", "plugins", "new-plugin", "bench", "doctor", "sweep", "compare"});
  std::cerr << "looplab: error: unknown command '" << command << "'" << (hint.empty() ? "" : " (did you mean '" + hint + "'?)")
            << "\n" << kUsage;
  return kBadInput;
}

}  // namespace looplab::host
