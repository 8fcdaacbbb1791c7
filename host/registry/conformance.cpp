#include "registry/conformance.h"

#include "config/baselines.h"
#include "config/pipeline.h"

#include "common/devices.h"
#include "common/errors.h"
#include "common/text.h"
#include "model/sequence_model.h"

#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace looplab::host {

namespace {

constexpr uint64_t kSeed = 1234;
constexpr int64_t kWidth = 32;  // n_embd of every block under test
constexpr int64_t kBatch = 2;   // block inputs are [kBatch, kTokens, kWidth]
constexpr int64_t kTokens = 10;
constexpr int64_t kMaxTokens = 32;
constexpr int64_t kTaskDims = 5;
constexpr double kTolerance = 1e-5;
const c10::Device kCpu(c10::kCPU);

// A check's own verdict, told apart from exceptions thrown by the plugin under test.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void require(bool ok, const std::string& why) {
  if (!ok) throw CheckFailed(why);
}

std::string num(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// At most five names: a check result is one line.
std::string short_list(const std::vector<std::string>& items) { return join(items, ", ", 5); }

// One line, no backtrace: results are printed one per line.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

bool all_finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

std::vector<std::string> required_params(const sdk::Component& c) {
  std::vector<std::string> out;
  for (const auto& spec : c.params)
    if (!spec.fallback) out.push_back(spec.name);
  return out;
}

// ---- blocks ---------------------------------------------------------------------------------

std::shared_ptr<sdk::Block> build_block(const sdk::Component& c, uint64_t seed) {
  torch::manual_seed(seed);
  sdk::BlockContext ctx;
  ctx.n_embd = kWidth;
  ctx.depth = 1;
  ctx.index = 0;
  ctx.max_tokens = kMaxTokens;
  auto block = std::get<sdk::BlockFactory>(c.factory)(sdk::Params::defaults(c.params), ctx);
  require(block != nullptr, "the factory returned no block");
  return block;
}

torch::Tensor block_input(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({kBatch, kTokens, kWidth});
}

// Comparisons run in eval mode so that train-time randomness (dropout) cannot masquerade
// as a causality or determinism failure.
torch::Tensor eval_forward(sdk::Block& block, const torch::Tensor& h) {
  torch::NoGradGuard no_grad;
  block.eval();
  auto out = block.forward(h);
  require(out.defined(), "forward() returned an undefined tensor");
  require(out.sizes() == h.sizes(), "output shape " + shape_of(out) + " differs from input shape " + shape_of(h));
  return out;
}

void block_shape(const sdk::Component& c) {
  auto block = build_block(c, kSeed);
  const auto h = block_input(kSeed + 1);
  const auto out = eval_forward(*block, h);
  require(out.scalar_type() == torch::kFloat,
          std::string("output dtype is ") + c10::toString(out.scalar_type()) + ", not float32");
  require(all_finite(out), "the output has non-finite values");
}

void block_causality(const sdk::Component& c) {
  auto block = build_block(c, kSeed);
  const auto h = block_input(kSeed + 1);
  const auto noise = torch::randn({kBatch, kWidth});
  const auto out = eval_forward(*block, h);
  for (int64_t s = 0; s < kTokens; ++s) {
    auto perturbed = h.clone();
    perturbed.select(1, s).add_(noise);
    const auto out2 = eval_forward(*block, perturbed);
    if (s > 0) {
      const double before = max_abs_diff(out2.narrow(1, 0, s), out.narrow(1, 0, s));
      require(before <= kTolerance, "perturbing position " + std::to_string(s) +
                                        " changed the outputs at earlier positions by up to " + num(before) +
                                        " (limit " + num(kTolerance) + "): the block sees the future");
    }
    const double at = max_abs_diff(out2.select(1, s), out.select(1, s));
    require(at > kTolerance, "perturbing position " + std::to_string(s) + " changed its own output by only " + num(at) +
                                 ": the block ignores its input");
  }
}

// The contract of forward_masked (sdk/block.h), for a block that claims supports_key_mask():
// an all-visible mask is forward(); hiding key j changes nothing at positions <= j (earlier
// queries cannot see j, query j always sees itself) but something after j, and only in the
// batch row whose mask hides it; with every key hidden each query still sees itself.
void block_key_mask(const sdk::Component& c) {
  auto block = build_block(c, kSeed);
  if (!block->supports_key_mask()) return;  // nothing claimed, nothing to check
  const auto h = block_input(kSeed + 1);
  const auto out = eval_forward(*block, h);
  auto masked = [&](const torch::Tensor& mask) {
    torch::NoGradGuard no_grad;
    auto o = block->forward_masked(h, mask);
    require(o.defined() && o.sizes() == h.sizes(), "forward_masked() returned " +
                                                       (o.defined() ? shape_of(o) : "nothing") +
                                                       " for an input of shape " + shape_of(h));
    return o;
  };
  const double visible = max_abs_diff(masked(torch::ones({1, kTokens}, torch::kBool)), out);
  require(visible <= kTolerance,
          "with every key visible forward_masked() differs from forward() by up to " + num(visible));
  for (int64_t j = 0; j + 1 < kTokens; ++j) {
    // Row 0 hides key j, row 1 nothing; a float mask, where nonzero means visible.
    auto mask = torch::ones({kBatch, kTokens});
    mask.index_put_({0, j}, 0.0);
    const auto o = masked(mask);
    const auto row = o.select(0, 0), want = out.select(0, 0);
    const std::string hiding = "hiding key " + std::to_string(j) + " in batch row 0 ";
    const double other = max_abs_diff(o.select(0, 1), out.select(0, 1));
    require(other <= kTolerance, hiding + "changed row 1, whose mask hides nothing, by up to " + num(other));
    const double upto = max_abs_diff(row.narrow(0, 0, j + 1), want.narrow(0, 0, j + 1));
    require(upto <= kTolerance, hiding + "changed the outputs at positions <= " + std::to_string(j) + " by up to " +
                                    num(upto) + " (earlier queries never see it; query " + std::to_string(j) +
                                    " always sees itself)");
    const double after = max_abs_diff(row.narrow(0, j + 1, kTokens - j - 1), want.narrow(0, j + 1, kTokens - j - 1));
    require(after > kTolerance, hiding + "changed no output after position " + std::to_string(j) + " (by at most " +
                                    num(after) + "): the mask hides nothing");
  }
  const auto isolated = masked(torch::zeros({1, kTokens}, torch::kBool));
  require(all_finite(isolated), "with every key hidden the outputs are not finite: a query always sees itself");
  const double first = max_abs_diff(isolated.select(1, 0), out.select(1, 0));
  require(first <= kTolerance,
          "with every key hidden the output at position 0, which sees only itself anyway, changed by " + num(first));
}

void block_finite_gradients(const sdk::Component& c) {
  auto block = build_block(c, kSeed);
  int64_t trainable = 0;
  for (const auto& param : block->parameters()) trainable += param.requires_grad() ? 1 : 0;
  require(trainable > 0, "the block has no trainable parameters");
  block->train();
  torch::AutoGradMode grad_mode(true);
  torch::manual_seed(kSeed + 1);
  // Through inject() too, so parameters that live in the injection hook are covered.
  const auto y = torch::randn({kBatch, kTokens, kWidth});
  const auto e = torch::randn({kBatch, kTokens, kWidth});
  torch::Tensor p;
  if (block->wants_positions()) p = torch::randn({1, kTokens, kWidth});
  const auto out = block->forward(block->inject(y, e, p));
  require(out.defined() && out.sizes() == y.sizes(), "forward(inject(y, e, p)) is not [2, 10, 32]");
  require(out.requires_grad(), "the output does not depend on any parameter");
  // Random weights rather than a plain sum: a sum of LayerNorm-ed outputs has ~zero gradient.
  (out * torch::randn_like(out)).sum().backward();

  std::vector<std::string> missing, nonfinite;
  bool any_nonzero = false;
  for (const auto& np : block->named_parameters()) {
    const auto& param = np.value();
    if (!param.requires_grad()) continue;
    const auto g = param.grad();
    if (!g.defined())
      missing.push_back(np.key());
    else if (!all_finite(g))
      nonfinite.push_back(np.key());
    else if (g.numel() > 0 && g.abs().max().item<double>() > 0)
      any_nonzero = true;
  }
  require(nonfinite.empty(), "non-finite gradient for " + short_list(nonfinite));
  require(missing.empty(), "no gradient reached " + short_list(missing) + " (unused in forward/inject?)");
  require(any_nonzero, "every gradient is exactly zero");
}

void block_determinism(const sdk::Component& c) {
  auto a = build_block(c, kSeed);
  auto b = build_block(c, kSeed);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  require(pa.size() == pb.size(), "two builds with the same seed have " + std::to_string(pa.size()) + " and " +
                                      std::to_string(pb.size()) + " parameters");
  for (size_t i = 0; i < pa.size(); ++i) {
    require(pa[i].key() == pb[i].key(),
            "parameter order differs between builds: " + pa[i].key() + " vs " + pb[i].key());
    require(torch::equal(pa[i].value(), pb[i].value()),
            "parameter " + pa[i].key() + " differs between two builds with the same seed");
  }
  const auto h = block_input(kSeed + 1);
  const auto out_a = eval_forward(*a, h);
  const auto out_b = eval_forward(*b, h);
  require(torch::equal(out_a, out_b),
          "two builds with the same seed give outputs that differ by up to " + num(max_abs_diff(out_a, out_b)));
}

void block_save_load(const sdk::Component& c) {
  auto saved = build_block(c, kSeed);
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive archive;
    saved->save(archive);
    archive.save_to(buffer);
  }
  auto loaded = build_block(c, kSeed + 7);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(buffer);
    loaded->load(archive);
  }
  const auto h = block_input(kSeed + 1);
  const auto out_saved = eval_forward(*saved, h);
  const auto out_loaded = eval_forward(*loaded, h);
  require(torch::equal(out_saved, out_loaded),
          "after loading the saved archive into a block built from another seed, outputs differ by up to " +
              num(max_abs_diff(out_saved, out_loaded)) + " (state missing from save()/load()?)");
}

void block_unique_parameters(const sdk::Component& c) {
  auto block = build_block(c, kSeed);
  std::map<const void*, std::string> seen;
  std::vector<std::string> twice;
  for (const auto& np : block->named_parameters()) {
    if (np.value().numel() == 0) continue;  // empty tensors share the null data pointer
    auto [it, inserted] = seen.emplace(np.value().data_ptr(), np.key());
    if (!inserted) twice.push_back(np.key() + " = " + it->second);
  }
  require(twice.empty(),
          "parameters() lists a tensor twice: " + short_list(twice) + " (an inner module registered more than once?)");
}

void block_works_looped(const sdk::Component& c) {
  constexpr int64_t kDims = 3, kPoints = 8, kLoops = 3;
  auto block = build_block(c, kSeed);
  SequenceModel model(SequenceModelOptions(kDims, kWidth, kPoints).positions(block->wants_positions()),
                      std::vector<std::shared_ptr<sdk::Block>>{block});
  torch::manual_seed(kSeed + 1);
  const auto xs = torch::randn({4, kPoints, kDims});
  const auto ys = torch::randn({4, kPoints});

  model->train();
  torch::AutoGradMode grad_mode(true);
  const auto loss = model->loss(xs, ys, kLoops, 0);
  const double value = loss.item<double>();
  require(std::isfinite(value), "the looped training loss is " + num(value));
  loss.backward();
  std::vector<std::string> nonfinite;
  for (const auto& np : model->named_parameters())
    if (np.value().grad().defined() && !all_finite(np.value().grad())) nonfinite.push_back(np.key());
  require(nonfinite.empty(), "non-finite gradient when looped for " + short_list(nonfinite));
  bool block_learns = false;
  for (const auto& param : block->parameters())
    if (param.grad().defined() && param.numel() > 0 && param.grad().abs().max().item<double>() > 0) block_learns = true;
  require(block_learns, "no gradient reaches the block's parameters when looped");

  torch::NoGradGuard no_grad;
  model->eval();
  const auto preds = model->run(xs, ys, kLoops, {1, kLoops});
  require(all_finite(preds[0]) && all_finite(preds[1]), "looped predictions are not finite");
  const double diff = max_abs_diff(preds[0], preds[1]);
  require(diff > 1e-6, "predictions after 1 and " + std::to_string(kLoops) +
                           " iterations are identical (max difference " + num(diff) + "): looping has no effect");
}

// ---- tasks ----------------------------------------------------------------------------------

std::shared_ptr<sdk::Task> build_task(const sdk::Component& c) {
  sdk::TaskContext ctx;
  ctx.n_dims = kTaskDims;
  auto task = std::get<sdk::TaskFactory>(c.factory)(sdk::Params::defaults(c.params), ctx);
  require(task != nullptr, "the factory returned no task");
  return task;
}

// Draws prompts and checks their layout, so the checks that follow compare well-formed tensors.
sdk::Prompts draw(const sdk::Task& task, int64_t batch, int64_t points, int64_t active, uint64_t seed) {
  auto gen = make_generator(kCpu, seed);
  auto p = task.sample(batch, points, active, gen, kCpu);
  require(p.xs.defined() && p.ys.defined(), "sample() returned an undefined tensor");
  const std::string want_xs =
      "[" + std::to_string(batch) + ", " + std::to_string(points) + ", " + std::to_string(kTaskDims) + "]";
  const std::string want_ys = "[" + std::to_string(batch) + ", " + std::to_string(points) + "]";
  require(p.xs.dim() == 3 && p.xs.size(0) == batch && p.xs.size(1) == points && p.xs.size(2) == kTaskDims,
          "xs has shape " + shape_of(p.xs) + ", expected " + want_xs);
  require(p.ys.dim() == 2 && p.ys.size(0) == batch && p.ys.size(1) == points,
          "ys has shape " + shape_of(p.ys) + ", expected " + want_ys);
  require(p.xs.scalar_type() == torch::kFloat && p.ys.scalar_type() == torch::kFloat,
          std::string("prompts are ") + c10::toString(p.xs.scalar_type()) + "/" + c10::toString(p.ys.scalar_type()) +
              ", not float32");
  require(p.xs.device() == kCpu && p.ys.device() == kCpu, "prompts asked for on the CPU live elsewhere");
  return p;
}

void task_shapes_and_dtype(const sdk::Component& c) {
  auto task = build_task(c);
  const auto p = draw(*task, 3, 7, kTaskDims, kSeed);
  require(all_finite(p.xs) && all_finite(p.ys), "prompts contain non-finite values");
}

void task_determinism(const sdk::Component& c) {
  auto task = build_task(c);
  const auto a = draw(*task, 8, 6, kTaskDims, kSeed);
  const auto b = draw(*task, 8, 6, kTaskDims, kSeed);
  require(torch::equal(a.xs, b.xs) && torch::equal(a.ys, b.ys),
          "two draws from generators with the same seed differ (does sample() use another generator?)");
  const auto other = draw(*task, 8, 6, kTaskDims, kSeed + 1);
  require(!torch::equal(a.xs, other.xs) || !torch::equal(a.ys, other.ys),
          "generators with different seeds give identical prompts (is the generator ignored?)");
}

void second_moment_matches(const sdk::Task& task, int64_t active, uint64_t seed) {
  constexpr int64_t kPrompts = 4096, kPoints = 8;
  const auto p = draw(task, kPrompts, kPoints, active, seed);
  // The points of one prompt share its function, so prompts are the independent units.
  const auto per_prompt = p.ys.to(torch::kDouble).square().mean(1);
  const double mean = per_prompt.mean().item<double>();
  const double se = per_prompt.std().item<double>() / std::sqrt(static_cast<double>(kPrompts));
  const double stated = task.y_second_moment(active);
  const double gap = std::abs(mean - stated);
  require(std::isfinite(stated) && std::isfinite(mean) && gap <= 5.0 * se + 1e-12 * std::abs(stated),
          "y_second_moment(" + std::to_string(active) + ") = " + num(stated) + " but the sample mean of y^2 is " +
              num(mean) + " +- " + num(se) + " (standard error over " + std::to_string(kPrompts) + " prompts of " +
              std::to_string(kPoints) + " points): " + num(se > 0 ? gap / se : INFINITY) +
              " standard errors apart (limit 5)");
}

void task_second_moment(const sdk::Component& c) {
  auto task = build_task(c);
  second_moment_matches(*task, kTaskDims, kSeed);
}

void task_active_dims(const sdk::Component& c) {
  constexpr int64_t kActive = 2;
  auto task = build_task(c);
  const auto p = draw(*task, 64, 8, kActive, kSeed);
  const double tail = p.xs.narrow(2, kActive, kTaskDims - kActive).abs().max().item<double>();
  require(tail == 0.0, "with active_dims = 2, x[..., 2:] is not zero (max |x| = " + num(tail) + ")");
  second_moment_matches(*task, kActive, kSeed + 1);
}

// The task's baselines() entries name loaded baselines with valid parameters.
void task_baselines(const sdk::Component& c, const PluginRegistry* registry) {
  auto task = build_task(c);
  const auto specs = task->baselines();
  require(!specs.empty(), "baselines() is empty: a task names at least one baseline to compare against");
  require(registry != nullptr, "no plugin registry to resolve baselines() against");
  PipelineConfig cfg;
  cfg.task.type = c.name;
  cfg.task.where = SourceLocation{"baselines()"};
  Diagnostics diags;
  pipeline_baselines(cfg, specs, *registry, diags);
  std::vector<std::string> problems;
  for (const auto& d : diags.sorted()) problems.push_back(d.message);
  require(problems.empty(), join(problems, "; ", 3));
}

// ---- baselines ------------------------------------------------------------------------------

constexpr int64_t kBaselinePrompts = 3;
constexpr int64_t kBaselinePoints = 8;

std::shared_ptr<sdk::Baseline> build_baseline(const sdk::Component& c) {
  auto baseline = std::get<sdk::BaselineFactory>(c.factory)(sdk::Params::defaults(c.params),
                                                            sdk::BaselineContext{kTaskDims, 0.25});
  require(baseline != nullptr, "the factory returned no baseline");
  return baseline;
}

// Noisy linear prompts, the same for every check.
sdk::Prompts baseline_prompts() {
  auto gen = make_generator(kCpu, kSeed);
  auto xs = torch::randn({kBaselinePrompts, kBaselinePoints, kTaskDims}, gen);
  auto w = torch::randn({kBaselinePrompts, kTaskDims, 1}, gen);
  auto ys = torch::bmm(xs, w).squeeze(2) + 0.5 * torch::randn({kBaselinePrompts, kBaselinePoints}, gen);
  return {xs, ys};
}

torch::Tensor predict(const sdk::Baseline& b, const torch::Tensor& xs, const torch::Tensor& ys, uint64_t seed) {
  auto gen = make_generator(kCpu, seed);
  auto pred = b.predict(xs, ys, gen);
  require(pred.defined(), "predict() returned an undefined tensor");
  require(pred.dim() == 2 && pred.size(0) == xs.size(0) && pred.size(1) == xs.size(1),
          "predictions have shape " + shape_of(pred) + ", expected " + shape_of(ys));
  require(pred.scalar_type() == torch::kFloat, std::string("predictions are ") + c10::toString(pred.scalar_type()) +
                                                   ", not float32");
  return pred;
}

void baseline_shape(const sdk::Component& c) {
  auto b = build_baseline(c);
  const auto p = baseline_prompts();
  const auto pred = predict(*b, p.xs, p.ys, kSeed);
  require(all_finite(pred), "predictions are not finite");
  require(pred.select(1, 0).abs().max().item<double>() == 0.0, "column 0 (no examples yet) is not 0");
  require(!b->label().empty(), "label() is empty");
}

// Changing point j (x_j and y_j) changes no column before j; changing y_j alone none up to j.
void baseline_causality(const sdk::Component& c) {
  auto b = build_baseline(c);
  const auto p = baseline_prompts();
  const auto base = predict(*b, p.xs, p.ys, kSeed);
  for (int64_t j : {int64_t{1}, kBaselinePoints / 2, kBaselinePoints - 1}) {
    auto xs = p.xs.clone(), ys = p.ys.clone();
    ys.select(1, j).add_(3.0);
    const auto y_changed = predict(*b, xs, ys, kSeed);
    const double y_diff = max_abs_diff(y_changed.narrow(1, 0, j + 1), base.narrow(1, 0, j + 1));
    require(y_diff <= kTolerance, "changing y_" + std::to_string(j) + " changed a prediction for a position <= " +
                                      std::to_string(j) + " by " + num(y_diff) + ": column i may use y_j only for j < i");
    xs.select(1, j).mul_(-2.0).add_(1.0);
    const auto changed = predict(*b, xs, ys, kSeed);
    const double diff = max_abs_diff(changed.narrow(1, 0, j), base.narrow(1, 0, j));
    require(diff <= kTolerance, "changing point " + std::to_string(j) + " changed a prediction for a position < " +
                                    std::to_string(j) + " by " + num(diff) + ": column i may use only points < i and x_i");
  }
}

void baseline_determinism(const sdk::Component& c) {
  const auto p = baseline_prompts();
  const auto a = predict(*build_baseline(c), p.xs, p.ys, kSeed);
  const auto b = predict(*build_baseline(c), p.xs, p.ys, kSeed);
  require(torch::equal(a, b), "two baselines from the same parameters and generator seed predict differently "
                              "(does predict() draw from another generator?)");
}

// Every kind: the schema leaves the host's own keys alone.
void no_reserved_keys(const sdk::Component& c) {
  std::vector<std::string> declared;
  for (const auto& key : sdk::reserved_keys(c.kind()))
    for (const auto& spec : c.params)
      if (spec.name == key) declared.push_back("'" + key + "'");
  require(declared.empty(), "the schema declares " + short_list(declared) + ", which the host owns (" +
                                join(sdk::reserved_keys(c.kind())) + " for a " + sdk::kind_name(c.kind()) + ")");
}

// ---- dispatch -------------------------------------------------------------------------------

using CheckFn = void (*)(const sdk::Component&, const PluginRegistry*);
using CheckTable = std::vector<std::pair<std::string, CheckFn>>;

// Most checks need the component alone.
template <void (*Check)(const sdk::Component&)>
void alone(const sdk::Component& c, const PluginRegistry*) {
  Check(c);
}

const CheckTable* checks_for(sdk::ComponentKind kind) {
  static const CheckTable blocks{
      {"shape", alone<block_shape>},
      {"causality", alone<block_causality>},
      {"key_mask", alone<block_key_mask>},
      {"finite_gradients", alone<block_finite_gradients>},
      {"determinism", alone<block_determinism>},
      {"save_load", alone<block_save_load>},
      {"unique_parameters", alone<block_unique_parameters>},
      {"works_looped", alone<block_works_looped>},
      {"reserved_keys", alone<no_reserved_keys>},
  };
  static const CheckTable tasks{
      {"shapes_and_dtype", alone<task_shapes_and_dtype>},
      {"determinism", alone<task_determinism>},
      {"second_moment", alone<task_second_moment>},
      {"active_dims", alone<task_active_dims>},
      {"baselines", task_baselines},
      {"reserved_keys", alone<no_reserved_keys>},
  };
  static const CheckTable analyses{
      {"reserved_keys", alone<no_reserved_keys>},
  };
  static const CheckTable baselines{
      {"shape", alone<baseline_shape>},
      {"causality", alone<baseline_causality>},
      {"determinism", alone<baseline_determinism>},
      {"reserved_keys", alone<no_reserved_keys>},
  };
  switch (kind) {
    case sdk::ComponentKind::Block: return &blocks;
    case sdk::ComponentKind::Task: return &tasks;
    case sdk::ComponentKind::Analysis: return &analyses;
    case sdk::ComponentKind::Baseline: return &baselines;
  }
  return nullptr;
}

constexpr const char* kParametersCheck = "parameters";

// A copy whose schema defaults have their nested blocks resolved, so that the checks' plain
// Params::defaults() yields buildable wrappers.
sdk::Component with_nested_defaults(const sdk::Component& component, const PluginRegistry& blocks) {
  sdk::Component out = component;
  const auto params = default_params(component, blocks);
  for (auto& spec : out.params)
    if (spec.type == sdk::ParamType::Block && params.has(spec.name)) spec.fallback = params.values().at(spec.name);
  return out;
}

}  // namespace

std::vector<std::string> applicable_checks(const sdk::Component& component) {
  const auto* table = checks_for(component.kind());
  if (table == nullptr) return {};
  if (!required_params(component).empty()) return {kParametersCheck};
  std::vector<std::string> out;
  for (const auto& [name, fn] : *table) out.push_back(name);
  return out;
}

CheckResult run_check(const sdk::Component& component, const std::string& check, const PluginRegistry* registry) {
  CheckResult result;
  result.component = component.name;
  result.check = check;
  const auto required = required_params(component);
  if (!required.empty()) {
    // Without a value for a required key there is nothing principled to build.
    result.skipped = true;
    result.detail = "required parameter " + short_list(required) +
                    " has no default; components are checked with schema defaults only, so the " +
                    sdk::kind_name(component.kind()) + " checks did not run";
    return result;
  }
  if (check == kParametersCheck) {
    result.passed = true;
    return result;
  }
  CheckFn fn = nullptr;
  if (const auto* table = checks_for(component.kind()))
    for (const auto& [name, f] : *table)
      if (name == check) fn = f;
  if (fn == nullptr) {
    result.detail = std::string("no check named '") + check + "' for a " + sdk::kind_name(component.kind());
    return result;
  }
  try {
    fn(registry ? with_nested_defaults(component, *registry) : component, registry);
    result.passed = true;
  } catch (const CheckFailed& e) {
    result.detail = e.what();
  } catch (const std::exception& e) {
    result.detail = "threw: " + one_line(error_text(e));
  } catch (...) {
    result.detail = "threw an exception that is not a std::exception";
  }
  return result;
}

std::vector<CheckResult> check_component(const sdk::Component& component, const PluginRegistry* registry) {
  std::vector<CheckResult> out;
  for (const auto& check : applicable_checks(component)) out.push_back(run_check(component, check, registry));
  return out;
}

}  // namespace looplab::host
