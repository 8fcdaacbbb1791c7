// SDK glue for the loop-iteration analysis: runs the trained looped model for k = 1..K
// iterations on the evaluation prompts and tabulates the error after each.
#include "loop_iterations.h"

#include <looplab/sdk/plugin.h>

#include <torch/torch.h>

#include <algorithm>
#include <sstream>

namespace {

using namespace looplab;

class LoopIterations : public sdk::Analysis {
 public:
  LoopIterations(int64_t max_iterations, int64_t batch_size) : max_iterations_(max_iterations), batch_(batch_size) {}

  void run(sdk::AnalysisContext& ctx) override {
    auto& model = ctx.model();
    if (!model.looped()) throw std::invalid_argument("needs a looped model ([model] looped = true)");
    const int64_t b = model.trained_loops();
    const int64_t K = max_iterations_ > 0 ? max_iterations_ : std::max<int64_t>(4 * b, 20);
    auto prompts = ctx.eval_prompts();
    std::vector<torch::Tensor> chunks;
    {
      torch::NoGradGuard no_grad;
      for (int64_t s = 0; s < prompts.xs.size(0); s += batch_) {
        const int64_t len = std::min(batch_, prompts.xs.size(0) - s);
        auto preds = model.predict_each_iteration(prompts.xs.narrow(0, s, len), prompts.ys.narrow(0, s, len), K);
        chunks.push_back(ctx.normalized_error(preds, prompts.ys.narrow(0, s, len)));
      }
    }
    auto curve = analyses::loop_iteration_curve(torch::cat(chunks, 1));

    sdk::Table table{{"iterations", "err_last", "err_last_lo", "err_last_hi", "err_mean_positions"}, {}};
    for (int64_t k = 0; k < K; ++k)
      table.rows.push_back({std::to_string(k + 1), sdk::Table::num(curve.err_last[k].item<double>()),
                            sdk::Table::num(curve.err_last_lo[k].item<double>()),
                            sdk::Table::num(curve.err_last_hi[k].item<double>()),
                            sdk::Table::num(curve.err_mean[k].item<double>())});
    ctx.output().write_table("loop_iterations", table);

    const auto last = std::to_string(ctx.n_points() - 1);
    ctx.output().add_figure({"loop_iterations", "error vs loop iterations (trained b = " + std::to_string(b) + ")",
                             "loop iterations k", "normalized squared error", false, true,
                             {{"last position (i = " + last + ")", "loop_iterations", "iterations", "err_last", "", "",
                               "err_last_lo", "err_last_hi"},
                              {"mean over positions", "loop_iterations", "iterations", "err_mean_positions", "", "", "", ""}}});

    const int64_t best = curve.err_last.argmin().item<int64_t>();
    std::ostringstream note;
    note << "Error at the last position (i = " << last << " examples, mean over " << prompts.xs.size(0)
         << " prompts; band: normal 90% interval) after k iterations: k = b = " << b << ": "
         << curve.err_last[std::min(b, K) - 1].item<double>() << "; lowest at k = " << best + 1 << ": "
         << curve.err_last[best].item<double>() << "; k = K = " << K << ": " << curve.err_last[K - 1].item<double>()
         << ".";
    ctx.output().add_note(note.str());
    ctx.logger().info("loop_iterations: " + note.str());
  }

 private:
  int64_t max_iterations_, batch_;
};

}  // namespace

LOOPLAB_PLUGIN("loop_iterations", "0.1.0") {
  sdk::ParamSchema schema{
      sdk::int_param("max_iterations", 0, "largest k evaluated; 0 = max(4b, 20)").at_least(0).at_most(100000),
      sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1),
  };
  auto factory = [](const sdk::Params& p) -> std::shared_ptr<sdk::Analysis> {
    return std::make_shared<LoopIterations>(p.get_int("max_iterations"), p.get_int("batch_size"));
  };
  return {sdk::make_analysis_component("loop_iterations", "0.1.0",
                                       "error vs loop iterations k = 1..K of a looped model (last position and mean)",
                                       std::move(schema), factory)};
}
