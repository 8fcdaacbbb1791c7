#include "model/model_factory.h"

#include "config/baselines.h"

#include <stdexcept>

namespace looplab::host {

std::shared_ptr<sdk::Task> make_task(const PipelineConfig& cfg) {
  const auto& factory = std::get<sdk::TaskFactory>(cfg.task.component->factory);
  auto task = factory(cfg.task.params, sdk::TaskContext{cfg.n_dims});
  if (!task) throw std::runtime_error("the factory returned no task");
  return task;
}

std::shared_ptr<sdk::Block> make_block(const PipelineConfig& cfg, const ComponentConfig& block, int64_t index) {
  const auto& factory = std::get<sdk::BlockFactory>(block.component->factory);
  sdk::BlockContext ctx{cfg.model.n_embd, cfg.depth(), index, 2 * cfg.n_points};
  auto made = factory(block.params, ctx);
  if (!made) throw std::runtime_error("the factory returned no block");
  return made;
}

SequenceModel make_model(const PipelineConfig& cfg) {
  std::vector<std::shared_ptr<sdk::Block>> blocks;
  for (const auto& block : cfg.blocks)
    for (int64_t r = 0; r < block.repeat; ++r)
      blocks.push_back(make_block(cfg, block, static_cast<int64_t>(blocks.size())));
  bool positions = cfg.model.positions == "on";
  if (cfg.model.positions == "auto")
    for (const auto& b : blocks) positions = positions || b->wants_positions();
  return SequenceModel(SequenceModelOptions(cfg.n_dims, cfg.model.n_embd, cfg.n_points).positions(positions),
                       std::move(blocks));
}

std::shared_ptr<sdk::Baseline> make_baseline(const ComponentConfig& baseline, const sdk::Task& task, int64_t n_dims) {
  const auto& factory = std::get<sdk::BaselineFactory>(baseline.component->factory);
  auto made = factory(baseline.params, sdk::BaselineContext{n_dims, task.noise_variance()});
  if (!made) throw std::runtime_error("the factory returned no baseline");
  return made;
}

void check_factories(PipelineConfig& cfg, const PluginRegistry& registry, Diagnostics& diags) {
  std::shared_ptr<sdk::Task> task;
  try {
    task = make_task(cfg);
    cfg.baselines = pipeline_baselines(cfg, task->baselines(), registry, diags);
  } catch (const std::exception& e) {
    diags.error(cfg.task.where, "task '" + cfg.task.type + "': " + e.what());
  }
  if (task)
    for (const auto& baseline : cfg.baselines) {
      try {
        make_baseline(baseline, *task, cfg.n_dims);
      } catch (const std::exception& e) {
        diags.error(baseline.where, "baseline '" + baseline.type + "': " + e.what());
      }
    }
  int64_t index = 0;
  for (const auto& block : cfg.blocks) {
    try {
      make_block(cfg, block, index);
    } catch (const std::exception& e) {
      diags.error(block.where, "block '" + block.type + "': " + e.what());
    }
    index += block.repeat;
  }
}

}  // namespace looplab::host
