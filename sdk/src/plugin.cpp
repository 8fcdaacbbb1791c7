#include <looplab/sdk/plugin.h>

#include <sstream>

namespace looplab::sdk {

const char* kind_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Block: return "block";
    case ComponentKind::Task: return "task";
    case ComponentKind::Analysis: return "analysis";
    case ComponentKind::Baseline: return "baseline";
  }
  return "?";
}

namespace {
template <typename Factory>
Component make(std::string name, std::string version, std::string summary, ParamSchema params, Factory factory) {
  return Component{std::move(name), std::move(version), std::move(summary), std::move(params), std::move(factory)};
}
}  // namespace

Component make_block_component(std::string name, std::string version, std::string summary, ParamSchema params,
                               BlockFactory factory) {
  return make(std::move(name), std::move(version), std::move(summary), std::move(params), std::move(factory));
}
Component make_task_component(std::string name, std::string version, std::string summary, ParamSchema params,
                              TaskFactory factory) {
  return make(std::move(name), std::move(version), std::move(summary), std::move(params), std::move(factory));
}
Component make_analysis_component(std::string name, std::string version, std::string summary, ParamSchema params,
                                  AnalysisFactory factory) {
  return make(std::move(name), std::move(version), std::move(summary), std::move(params), std::move(factory));
}

Component make_baseline_component(std::string name, std::string version, std::string summary, ParamSchema params,
                                  BaselineFactory factory) {
  return make(std::move(name), std::move(version), std::move(summary), std::move(params), std::move(factory));
}

bool compatible(const looplab_fingerprint& plugin, const looplab_fingerprint& host) {
  return plugin.sdk_major == host.sdk_major && plugin.sdk_minor <= host.sdk_minor && plugin.torch_major == host.torch_major &&
         plugin.torch_minor == host.torch_minor && plugin.cxx11_abi == host.cxx11_abi;
}

std::string describe(const looplab_plugin_descriptor& d) {
  std::ostringstream out;
  out << "SDK " << d.build.sdk_major << '.' << d.build.sdk_minor << ", ABI " << d.abi_major << '.' << d.abi_minor
      << ", LibTorch " << d.build.torch_major << '.' << d.build.torch_minor << ", C++11 ABI " << d.build.cxx11_abi;
  return out.str();
}

}  // namespace looplab::sdk
