// `looplab validate`, `sweep`, `analyze` and `compare`: the commands that read a pipeline or a
// finished run without training it.

#include "cli/commands.h"
#include "cli/pipeline_loading.h"
#include "config/config_loader.h"
#include "reporting/compare.h"
#include "runs/run_session.h"
#include "runs/sweep_runner.h"

#include <iostream>

namespace looplab::host {

int validate_command(const std::vector<std::string>& args) {
  CommonOptions c;
  std::string file;
  auto desc = common_options(c);
  desc.add_options()("file", po::value(&file), "pipeline file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab validate FILE [--set KEY=VALUE]...\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage)) return *done;
  if (file.empty()) return usage_error("validate needs a pipeline FILE", usage);
  auto loaded = load_document(file, c);
  if (!loaded) return kBadInput;
  if (has_sweep(*loaded)) {
    auto sweep = load_sweep(file, *loaded, c);
    if (!sweep) return kBadInput;
    std::cout << file << ": ok (a sweep of " << sweep->first.size() << " runs, each valid)\n";
    return kOk;
  }
  auto cfg = load_pipeline(file, c);
  if (!cfg) return kBadInput;
  std::cout << file << ": ok (" << cfg->task.type << ", " << (cfg->model.looped ? "looped" : "standard") << " model, "
            << cfg->depth() << " block(s), " << cfg->training.steps << " steps)\n";
  return kOk;
}

int sweep_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "sbatch") return sweep_sbatch_command({args.begin() + 1, args.end()});
  CommonOptions c;
  std::vector<std::string> words;
  auto desc = common_options(c);
  desc.add_options()("words", po::value(&words), "count | list, then FILE");
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  const char* usage =
      "usage: looplab sweep count FILE | looplab sweep list FILE [--set KEY=VALUE]...\n"
      "       looplab sweep sbatch FILE --out DIR [--submit] (see looplab sweep sbatch --help)\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage)) return *done;
  if (words.size() != 2 || (words[0] != "count" && words[0] != "list")) {
    std::cerr << usage;
    return kBadInput;
  }
  const auto& file = words[1];
  auto loaded = load_document(file, c);
  if (!loaded) return kBadInput;
  if (!has_sweep(*loaded)) {
    std::cout << (words[0] == "count" ? "1\n" : "0\t-\t(no [sweep]: one run)\n");
    return kOk;
  }
  if (words[0] == "count") {
    Diagnostics diags;
    auto members = expand_sweep(*loaded, diags);
    if (!diags.empty()) {
      std::cerr << diags.render();
      return kBadInput;
    }
    std::cout << members.size() << "\n";
    return kOk;
  }
  auto sweep = load_sweep(file, *loaded, c);
  if (!sweep) return kBadInput;
  for (const auto& m : sweep->first) std::cout << m.index << "\t" << m.id << "\t" << m.label << "\n";
  return kOk;
}

int compare_command(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  std::string out;
  auto desc = help_options();
  desc.add_options()("out", po::value(&out), "output directory")("dirs", po::value(&dirs), "run or sweep directories");
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  const char* usage =
      "usage: looplab compare RUN_DIR... [--out DIR]   (a sweep directory stands for its complete runs)\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage)) return *done;
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
  if (runs.empty()) return usage_error("compare needs at least one complete run", usage);
  if (out.empty()) out = default_run_dir("compare");
  std::cout << compare_runs(runs, out) << "\n";
  return kOk;
}

int analyze_command(const std::vector<std::string>& args) {
  CommonOptions c;
  std::string run_dir, name;
  auto desc = common_options(c);
  desc.add_options()("analysis", po::value(&name), "analysis plugin to run")("run", po::value(&run_dir),
                                                                             "run directory");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  const char* usage =
      "usage: looplab analyze RUN_DIR --analysis NAME [--set KEY=VALUE]... (keys are the analysis' parameters)\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage)) return *done;
  if (run_dir.empty() || name.empty()) return usage_error("analyze needs a RUN_DIR and --analysis NAME", usage);
  auto existing = open_run_dir(run_dir);
  if (!existing) return kBadInput;
  const RunDir& dir = *existing;
  auto cfg = load_pipeline(dir.resolved(), CommonOptions{c.plugin_paths, {}});
  if (!cfg) return kBadInput;
  try {
    // The analysis table: type = NAME plus one key per --set, each parsed as a TOML value.
    toml::table table;
    set_value(table, "type", name);
    auto overrides = load_overrides(c.sets);
    for (auto&& [key, value] : overrides) table.insert_or_assign(key, std::move(value));
    auto registry = load_registry(c.plugin_paths, cfg->run.plugin_paths, false);
    Diagnostics diags;
    auto analysis = build_analysis(table, registry, diags, SourceLocation{"--analysis", 0, 0});
    if (!diags.empty()) throw ConfigError(diags);
    return analyze_run(*cfg, dir, analysis);
  } catch (const ConfigError& e) {
    std::cerr << e.diagnostics().render();
    return kBadInput;
  }
}

}  // namespace looplab::host
