#include "reporting/run_events.h"

#include "common/run_dir.h"

#include <map>
#include <utility>
#include <vector>

namespace looplab::host {

void write_pipeline_event(tensorboard::EventWriter& events, const std::string& resolved_toml) {
  // Fenced: TensorBoard renders text as Markdown, where TOML's comments would become headings.
  std::string text = "```toml\n" + resolved_toml;
  if (!text.empty() && text.back() != '\n') text += '\n';
  events.text(tb_tags::kPipeline, 0, text + "```\n");
}

void write_evaluation_events(tensorboard::EventWriter& events, const ReportInputs& inputs, int64_t trained_steps) {
  // One event per context size, holding every predictor's error at it.
  std::map<int64_t, std::vector<std::pair<std::string, double>>> by_examples;
  for (const auto& row : inputs.eval)
    by_examples[row.examples].emplace_back(tb_tags::eval_series(row.predictor, row.iterations), row.err_mean);
  for (const auto& [examples, values] : by_examples) events.scalars(examples, values);
  events.text(tb_tags::kKeyNumbers, trained_steps, key_numbers_markdown(inputs));
  events.flush();
}

}  // namespace looplab::host
