// SDK glue for the loop-iteration analysis: runs the trained looped model for k = 1..K
// iterations on the evaluation prompts and tabulates the error after each
// (analyses::run_loop_iterations).
#include "loop_iterations.h"

#include <looplab/sdk/plugin.h>

namespace {

using namespace looplab;

class LoopIterations : public sdk::Analysis {
 public:
  explicit LoopIterations(const analyses::LoopIterationsSettings& settings) : settings_(settings) {}
  void run(sdk::AnalysisContext& ctx) override { analyses::run_loop_iterations(ctx, settings_); }

 private:
  analyses::LoopIterationsSettings settings_;
};

}  // namespace

LOOPLAB_PLUGIN("loop_iterations", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("max_iterations", 0, "largest k evaluated; 0 = max(4b, 20)").at_least(0).at_most(100000),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    analyses::LoopIterationsSettings settings;
    settings.max_iterations = p.get_int("max_iterations");
    settings.batch = p.get_int("batch_size");
    return std::make_shared<LoopIterations>(settings);
  };
  return {sdk::make_analysis_component(looplab_plugin,
                                       "error vs loop iterations k = 1..K of a looped model (last position and mean)",
                                       std::move(schema), factory)};
}
