#pragma once
/// @file options.h
/// The host's own pipeline sections as typed options. Each key is written once: its name, type,
/// default, range and doc are the ParamSpec bound to the field it fills (options.cpp), so the
/// schema that validates a section and the code that reads it cannot drift apart. Fields have
/// no defaults of their own: Section::read fills every one from validated parameters.

#include <looplab/sdk/params.h>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace looplab::host {

/// A section's keys, each bound to a field of `Options`.
template <class Options>
class Section {
 public:
  /// Binds `spec` (the key) to `member`; the member's type must match the spec's type.
  template <class V>
  Section& field(V Options::*member, sdk::ParamSpec spec) {
    const std::string name = spec.name;
    schema_.push_back(std::move(spec));
    readers_.push_back([member, name](Options& o, const sdk::Params& p) { o.*member = get<V>(p, name); });
    return *this;
  }
  /// The schema the section is validated against.
  const sdk::ParamSchema& schema() const { return schema_; }
  /// The options from validated parameters (every key present).
  Options read(const sdk::Params& params) const {
    Options out;
    for (const auto& reader : readers_) reader(out, params);
    return out;
  }

 private:
  template <class V>
  static V get(const sdk::Params& p, const std::string& name) {
    if constexpr (std::is_same_v<V, int64_t>)
      return p.get_int(name);
    else if constexpr (std::is_same_v<V, double>)
      return p.get_float(name);
    else if constexpr (std::is_same_v<V, bool>)
      return p.get_bool(name);
    else if constexpr (std::is_same_v<V, std::string>)
      return p.get_string(name);
    else if constexpr (std::is_same_v<V, std::vector<int64_t>>)
      return p.get_int_list(name);
    else if constexpr (std::is_same_v<V, std::vector<double>>)
      return p.get_float_list(name);
    else if constexpr (std::is_same_v<V, std::vector<std::string>>)
      return p.get_string_list(name);
    else
      static_assert(sizeof(V) == 0, "no Params getter for this field type");
  }
  sdk::ParamSchema schema_;
  std::vector<std::function<void(Options&, const sdk::Params&)>> readers_;
};

/// [run]: what the run is called, its seed, where and on how many threads it runs.
struct RunOptions {
  std::string name;                       ///< Run name; "" = the pipeline file's stem.
  int64_t seed{};                         ///< Seeds initialisation and the training data.
  std::string device{};                   ///< auto | cpu | cuda.
  int64_t threads{};                      ///< CPU threads for LibTorch; 0 = the cores free at the start.
  bool tf32{};                            ///< CUDA: allow TF32 matmuls and convolutions.
  std::vector<std::string> plugin_paths;  ///< Extra plugin directories (absolute once resolved).
  /// The section's keys.
  static const Section<RunOptions>& section();
};

/// [model]: the model around the blocks (the blocks are [[model.blocks]]).
struct ModelOptions {
  int64_t n_embd{};         ///< Residual width D.
  bool looped{};            ///< Loop the blocks b times with input injection.
  int64_t loops{};          ///< b of a looped model when no loops curriculum is given.
  int64_t window{};         ///< Truncated loss window T; 0 = every iteration.
  std::string positions{};  ///< Learned positional table: auto | on | off.
  /// The section's keys.
  static const Section<ModelOptions>& section();
};

/// [training]: the optimizer and the step schedule (curricula are [training.curriculum.*]).
struct TrainingOptions {
  int64_t steps{};             ///< Optimizer steps.
  int64_t batch_size{};        ///< Prompts per step.
  double lr{};                 ///< Adam learning rate.
  double beta1{};              ///< Adam beta1.
  double beta2{};              ///< Adam beta2.
  double eps{};                ///< Adam epsilon.
  double weight_decay{};       ///< Adam L2 weight decay.
  int64_t warmup_steps{};      ///< Linear warm-up: lr * (k + 1) / warmup_steps for 0-based steps k < warmup_steps.
  std::string decay{};         ///< none | cosine | linear: from the end of warm-up to the last step.
  double min_lr_ratio{};       ///< Where the decay ends, as a fraction of lr.
  double clip_grad_norm{};     ///< Clip the global gradient L2 norm to this; 0 = off.
  std::string on_nonfinite{};  ///< stop | skip_step: what a NaN/inf loss or gradient does.
  double max_loss_ratio{};     ///< Diverged when loss / E[y^2] stays above this ...; 0 = never.
  int64_t max_loss_intervals{};  ///< ... for this many consecutive log intervals.
  int64_t log_every{};         ///< Steps between progress lines (the loop's only host syncs).
  int64_t checkpoint_every{};  ///< Steps between checkpoints; 0 = only at the end.
  bool cuda_graphs{};          ///< CUDA: replay each curriculum stage's step from a graph.
  /// The section's keys.
  static const Section<TrainingOptions>& section();
};

/// [evaluation]: the fixed prompt set and the bootstrap band.
struct EvaluationOptions {
  int64_t prompts{};                ///< Evaluation prompts (a fixed, seeded set).
  int64_t seed{};                   ///< Seed of the prompts and of the bootstrap.
  int64_t batch_size{};             ///< Prompts per forward pass.
  int64_t bootstrap{};              ///< Bootstrap resamples of the 90% band.
  std::vector<int64_t> iterations;  ///< Extra iteration counts beyond the trained b.
  /// The section's keys.
  static const Section<EvaluationOptions>& section();
};

/// [outputs]: what a run writes besides its metrics.
struct OutputOptions {
  bool figures{};              ///< Render PNG figures with gnuplot.
  bool report{};               ///< Write report.md.
  int64_t moving_average{};    ///< Window of the training loss' moving average.
  int64_t keep_checkpoints{};  ///< Most recent checkpoints kept; 0 keeps all.
  bool tensorboard{};          ///< Write TensorBoard event files into tb/.
  /// The section's keys.
  static const Section<OutputOptions>& section();
};

}  // namespace looplab::host
