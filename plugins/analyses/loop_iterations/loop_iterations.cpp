#include "loop_iterations.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace looplab::analyses {

LoopIterationCurve loop_iteration_curve(const torch::Tensor& err) {
  auto e = err.to(torch::kCPU, torch::kFloat64);
  auto last = e.select(2, e.size(2) - 1);  // [K, N]
  const double n = static_cast<double>(last.size(1));
  auto mean = last.mean(1);
  // 1.645 standard errors: the two-sided 90% normal interval of a mean over N prompts.
  auto half = n > 1 ? last.std(1) * (1.6448536269514722 / std::sqrt(n)) : torch::zeros_like(mean);
  return {mean, mean - half, mean + half, e.mean({1, 2})};
}

void run_loop_iterations(sdk::AnalysisContext& ctx, const LoopIterationsSettings& settings) {
  auto& model = ctx.model();
  if (!model.looped()) throw std::invalid_argument("needs a looped model ([model] looped = true)");
  const int64_t b = model.trained_loops();
  const int64_t K = settings.max_iterations > 0 ? settings.max_iterations : std::max<int64_t>(4 * b, 20);
  const int64_t batch = settings.batch;
  auto prompts = ctx.eval_prompts();
  std::vector<torch::Tensor> chunks;
  {
    torch::NoGradGuard no_grad;
    for (int64_t s = 0; s < prompts.xs.size(0); s += batch) {
      const int64_t len = std::min(batch, prompts.xs.size(0) - s);
      auto preds = model.predict_each_iteration(prompts.xs.narrow(0, s, len), prompts.ys.narrow(0, s, len), K);
      chunks.push_back(ctx.normalized_error(preds, prompts.ys.narrow(0, s, len)));
    }
  }
  auto curve = loop_iteration_curve(torch::cat(chunks, 1));

  sdk::Table table{{"iterations", "err_last", "err_last_lo", "err_last_hi", "err_mean_positions"}, {}};
  for (int64_t k = 0; k < K; ++k)
    table.rows.push_back({std::to_string(k + 1), sdk::Table::num(curve.err_last[k].item<double>()),
                          sdk::Table::num(curve.err_last_lo[k].item<double>()),
                          sdk::Table::num(curve.err_last_hi[k].item<double>()),
                          sdk::Table::num(curve.err_mean[k].item<double>())});
  ctx.output().write_table("loop_iterations", table);

  const auto last = std::to_string(ctx.n_points() - 1);
  ctx.output().add_figure(
      {"loop_iterations",
       "error vs loop iterations (trained b = " + std::to_string(b) + ")",
       "loop iterations k",
       "normalized squared error",
       false,
       true,
       {{"last position (i = " + last + ")", "loop_iterations", "iterations", "err_last", "", "", "err_last_lo",
         "err_last_hi"},
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

}  // namespace looplab::analyses
