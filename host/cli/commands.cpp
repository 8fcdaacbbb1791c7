#include "cli/commands.h"

#include "cli/bench.h"
#include "cli/doctor.h"
#include "common/errors.h"
#include "common/text.h"
#include "config/config_loader.h"

#include <looplab/sdk/abi.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace looplab::host {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run",
       {{"run FILE [--out DIR] [--set KEY=VALUE]...", "train, evaluate and report a pipeline"},
        {"run --resume RUN_DIR", "continue an interrupted run (or sweep)"},
        {"run FILE --jobs N | --sweep-index I", "a [sweep]: N runs at a time, or only run I"}},
       run_command},
      {"validate",
       {{"validate FILE [--set KEY=VALUE]...", "check a pipeline (every sweep run) without running it"}},
       validate_command},
      {"sweep",
       {{"sweep count|list FILE [--set KEY=VALUE]...", "the runs a [sweep] expands into"},
        {"sweep sbatch FILE --out DIR [--submit]", "a [sweep] as SLURM job arrays, then a comparison"}},
       sweep_command},
      {"compare",
       {{"compare RUN_DIR... [--out DIR]", "overlay runs (or a sweep's runs): figures and a table"}},
       compare_command},
      {"analyze",
       {{"analyze RUN_DIR --analysis NAME [--set KEY=VALUE]...", "run an analysis on a trained run"}},
       analyze_command},
      {"export",
       {{"export RUN_DIR [--out FILE.pt] [--checkpoint STEP] [--predictions]",
         "weights, pipeline and evaluation prompts for torch.load"}},
       export_command},
      {"plugins",
       {{"plugins list", "installed blocks, tasks and analyses"},
        {"plugins describe NAME", "a component's parameters"},
        {"plugins check FILE.so...", "the conformance checks on these libraries"}},
       plugins_command},
      {"new-plugin",
       {{"new-plugin --kind block|task|analysis|baseline NAME DIR", "write an out-of-tree plugin project"}},
       new_plugin_command},
      {"bench",
       {{"bench [--config NAME]... [--reps N] [--threads N] [--device cpu|cuda]", "time training steps"}},
       bench_command},
      {"doctor",
       {{"doctor [--threads N]", "LibTorch, BLAS, threads and CPU as this process sees them"}},
       doctor_command},
  };
  return table;
}

std::string usage_text() {
  size_t width = 0;
  for (const auto& c : commands())
    for (const auto& form : c.forms) width = std::max(width, std::string(form.first).size());
  std::ostringstream out;
  out << "usage: looplab <command> [options]\n\ncommands:\n";
  for (const auto& c : commands())
    for (const auto& [synopsis, what] : c.forms)
      out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << synopsis << what << "\n";
  out << "\ncommon options: --plugin-path DIR (repeatable), -h/--help, --version\n"
      << "exit codes: 0 success, 1 failure, 2 bad input (configuration, usage), 130 interrupted\n";
  return out.str();
}

int main_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << usage_text();
    return args.empty() ? kBadInput : kOk;
  }
  if (args[0] == "--version") {
    std::cout << "looplab " << LOOPLAB_VERSION << " (plugin SDK " << LOOPLAB_SDK_VERSION_MAJOR << "."
              << LOOPLAB_SDK_VERSION_MINOR << ")\n";
    return kOk;
  }
  const std::string name = args[0];
  args.erase(args.begin());
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    names.push_back(c.name);
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const std::exception& e) {
      print_error(error_text(e));
      return kFailure;
    }
  }
  print_error(unknown_name("command", name, names, NameList::kValid));
  std::cerr << usage_text();
  return kBadInput;
}

}  // namespace looplab::host
