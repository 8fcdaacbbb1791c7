#include "runs/analysis_runner.h"

#include "common/csv.h"
#include "common/devices.h"
#include "evaluation/evaluation.h"
#include "reporting/figures.h"

#include <looplab/sdk/analysis.h>
#include <looplab/sdk/plugin.h>

#include <torch/torch.h>

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

class HostModel : public sdk::ModelHandle {
 public:
  HostModel(SequenceModel model, const PipelineConfig& cfg, c10::Device device)
      : model_(std::move(model)), cfg_(cfg), device_(device) {}

  torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations,
                        const torch::Tensor& state_mask, const torch::Tensor& key_mask) override {
    if (key_mask.defined()) check_key_masks();
    auto on_device = [&](const torch::Tensor& t) { return t.defined() ? t.to(device_) : t; };
    return model_
        ->run(xs.to(device_), ys.to(device_), iterations, {iterations}, 1, on_device(state_mask), on_device(key_mask))
        .front();
  }
  torch::Tensor predict_kept_tokens(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& kept,
                                    int64_t iterations, bool original_positions) override {
    return model_->run_kept_tokens(xs.to(device_), ys.to(device_), kept, iterations, original_positions);
  }
  torch::Tensor predict_each_iteration(const torch::Tensor& xs, const torch::Tensor& ys,
                                       int64_t max_iterations) override {
    std::vector<int64_t> all(static_cast<size_t>(max_iterations));
    for (int64_t k = 0; k < max_iterations; ++k) all[k] = k + 1;
    return torch::stack(model_->run(xs.to(device_), ys.to(device_), max_iterations, all), 0);
  }
  torch::Tensor training_loss(const torch::Tensor& xs, const torch::Tensor& ys) override {
    return model_->loss(xs.to(device_), ys.to(device_), trained_loops(), cfg_.model.window);
  }
  torch::nn::Module& module() override { return *model_; }
  int64_t trained_loops() const override { return cfg_.model.looped ? cfg_.trained_loops() : 1; }
  bool looped() const override { return cfg_.model.looped; }

 private:
  // Names the configured block type that cannot hide keys.
  void check_key_masks() const {
    int64_t blocked = model_->first_block_without_key_mask();
    if (blocked < 0) return;
    for (const auto& b : cfg_.blocks) {
      if (blocked < b.repeat)
        throw std::invalid_argument("block '" + b.type +
                                    "' cannot hide keys from attention (the keys mode "
                                    "needs blocks whose supports_key_mask() is true, e.g. 'gpt')");
      blocked -= b.repeat;
    }
  }

  SequenceModel model_;
  const PipelineConfig& cfg_;
  c10::Device device_;
};

class HostSink : public sdk::OutputSink {
 public:
  HostSink(std::string dir, std::string run_dir) : dir_(std::move(dir)), run_dir_(std::move(run_dir)) {}

  std::string write_table(const std::string& name, const sdk::Table& table) override {
    const auto path = dir_ + "/" + name + ".csv";
    write_csv(path, table);
    tables_[name] = path;
    return path;
  }
  void add_figure(const sdk::FigureSpec& figure) override { figures_.push_back(figure); }
  void add_note(const std::string& markdown) override { notes_.push_back(markdown); }
  std::string directory() const override { return dir_; }

  // Renders the queued figures and returns the report section: notes, figures, tables.
  std::string finish(bool render) {
    std::string md;
    for (const auto& n : notes_) md += n + "\n\n";
    for (const auto& f : figures_) {
      if (!render) continue;
      auto png = render_figure(f, tables_, dir_);
      md += "![" + f.title + "](" + fs::relative(png, run_dir_).string() + ")\n\n";
    }
    for (const auto& [name, path] : tables_)
      md += "- table [" + name + ".csv](" + fs::relative(path, run_dir_).string() + ")\n";
    return md;
  }

 private:
  std::string dir_, run_dir_;
  std::map<std::string, std::string> tables_;
  std::vector<sdk::FigureSpec> figures_;
  std::vector<std::string> notes_;
};

class HostContext : public sdk::AnalysisContext {
 public:
  HostContext(HostModel& model, const sdk::Task& task, const PipelineConfig& cfg, c10::Device device, uint64_t seed,
              sdk::Logger& log, HostSink& sink)
      : model_(model),
        task_(task),
        cfg_(cfg),
        device_(device),
        gen_(make_generator(device, seed)),
        log_(log),
        sink_(sink) {}

  sdk::ModelHandle& model() override { return model_; }
  const sdk::Task& task() const override { return task_; }
  int64_t n_dims() const override { return cfg_.n_dims; }
  int64_t n_points() const override { return cfg_.n_points; }
  torch::Device device() const override { return device_; }
  at::Generator& generator() override { return gen_; }
  sdk::Prompts eval_prompts() override { return evaluation_prompts(task_, cfg_); }
  torch::Tensor normalized_error(const torch::Tensor& pred, const torch::Tensor& ys) override {
    return (pred.to(torch::kCPU, torch::kFloat64) - ys.to(torch::kCPU, torch::kFloat64)).square() /
           task_.y_second_moment(cfg_.n_dims);
  }
  sdk::Logger& logger() override { return log_; }
  sdk::OutputSink& output() override { return sink_; }

 private:
  HostModel& model_;
  const sdk::Task& task_;
  const PipelineConfig& cfg_;
  c10::Device device_;
  at::Generator gen_;
  sdk::Logger& log_;
  HostSink& sink_;
};

std::string fresh_directory(const std::string& base) {
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

AnalysisOutcome run_analysis(const PipelineConfig& cfg, const ComponentConfig& analysis, SequenceModel& model,
                             const sdk::Task& task, const c10::Device& device, const std::string& run_dir,
                             uint64_t seed, sdk::Logger& log) {
  const auto dir = fresh_directory(run_dir + "/analyses/" + analysis.type);
  try {
    const auto& factory = std::get<sdk::AnalysisFactory>(analysis.component->factory);
    auto instance = factory(analysis.params);
    if (!instance) throw std::runtime_error("the factory returned no analysis");
    HostModel handle(model, cfg, device);
    HostSink sink(dir, run_dir);
    HostContext context(handle, task, cfg, device, seed, log, sink);
    const bool was_training = model->is_training();
    model->eval();
    instance->run(context);
    model->train(was_training);
    return {analysis.type, dir, sink.finish(cfg.outputs.figures)};
  } catch (const std::exception& e) {
    throw std::runtime_error("analysis '" + analysis.type + "' failed: " + e.what());
  }
}

}  // namespace looplab::host
