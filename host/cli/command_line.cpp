#include "cli/command_line.h"

#include "common/errors.h"
#include "common/exit_code.h"

#include <iostream>

namespace looplab::host {

po::options_description help_options() {
  po::options_description desc("options");
  desc.add_options()("help,h", "show help");
  return desc;
}

po::options_description common_options(CommonOptions& c) {
  auto desc = help_options();
  desc.add_options()("plugin-path", po::value(&c.plugin_paths)->composing(), "extra plugin directory (repeatable)")(
      "set", po::value(&c.sets)->composing(), "override a config value: --set training.steps=100");
  return desc;
}

std::optional<int> parse_command_line(const std::vector<std::string>& args, const po::options_description& desc,
                                      const po::positional_options_description& pos, po::variables_map& vm,
                                      const std::string& usage, const std::string& help_tail) {
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what(), usage);
  }
  if (vm.count("help")) {
    std::cout << usage << desc << help_tail;
    return kOk;
  }
  return std::nullopt;
}

int usage_error(const std::string& message, const std::string& usage) {
  print_error(message);
  std::cerr << usage;
  return kBadInput;
}

}  // namespace looplab::host
