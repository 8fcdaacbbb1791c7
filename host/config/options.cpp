#include "config/options.h"

namespace looplab::host {

const Section<RunOptions>& RunOptions::section() {
  static const auto s =
      Section<RunOptions>()
          .field(&RunOptions::name, sdk::string_param("name", "", "run name; default: the pipeline file's stem"))
          .field(&RunOptions::seed, sdk::int_param("seed", 0, "seed for initialisation and training data").at_least(0))
          .field(&RunOptions::device,
                 sdk::string_param("device", "auto", "where to train: auto picks cuda when available")
                     .one_of({"auto", "cpu", "cuda"}))
          .field(&RunOptions::threads,
                 sdk::int_param("threads", 0,
                                "CPU threads for LibTorch; 0 = the cores other processes leave free at the start").at_least(0))
          .field(&RunOptions::tf32,
                 sdk::bool_param("tf32", false, "CUDA: allow TF32 (10-bit mantissa) matmuls and convolutions"))
          .field(&RunOptions::plugin_paths,
                 sdk::string_list_param("plugin_paths", {}, "extra plugin directories, searched after --plugin-path"));
  return s;
}

const Section<ModelOptions>& ModelOptions::section() {
  static const auto s =
      Section<ModelOptions>()
          .field(&ModelOptions::n_embd, sdk::int_param("n_embd", 64, "residual width D").at_least(1).at_most(65536))
          .field(&ModelOptions::looped,
                 sdk::bool_param("looped", false, "loop the blocks b times with input injection"))
          .field(&ModelOptions::loops,
                 sdk::int_param("loops", 1, "iterations b of a looped model (a loops curriculum overrides it)")
                     .at_least(1)
                     .at_most(100000))
          .field(
              &ModelOptions::window,
              sdk::int_param("window", 0, "truncated loss window T: loss over the last min(b, T) iterations; 0 = all")
                  .at_least(0))
          .field(&ModelOptions::positions,
                 sdk::string_param("positions", "auto", "learned positional table: auto asks the blocks")
                     .one_of({"auto", "on", "off"}));
  return s;
}

const Section<TrainingOptions>& TrainingOptions::section() {
  static const auto s =
      Section<TrainingOptions>()
          .field(&TrainingOptions::steps, sdk::int_param("steps", 1000, "optimizer steps").at_least(1))
          .field(&TrainingOptions::batch_size, sdk::int_param("batch_size", 64, "prompts per step").at_least(1))
          .field(&TrainingOptions::lr, sdk::float_param("lr", 1e-4, "Adam learning rate").at_least(0.0))
          .field(&TrainingOptions::beta1, sdk::float_param("beta1", 0.9, "Adam beta1").at_least(0.0).at_most(1.0))
          .field(&TrainingOptions::beta2, sdk::float_param("beta2", 0.999, "Adam beta2").at_least(0.0).at_most(1.0))
          .field(&TrainingOptions::eps, sdk::float_param("eps", 1e-8, "Adam epsilon").at_least(0.0))
          .field(&TrainingOptions::weight_decay,
                 sdk::float_param("weight_decay", 0.0, "Adam L2 weight decay").at_least(0.0))
          .field(&TrainingOptions::warmup_steps,
                 sdk::int_param("warmup_steps", 0,
                                "linear warm-up: lr * (k + 1) / warmup_steps at 0-based steps k before it")
                     .at_least(0))
          .field(&TrainingOptions::decay,
                 sdk::string_param("decay", "none", "learning-rate decay from the end of warm-up to the last step")
                     .one_of({"none", "cosine", "linear"}))
          .field(&TrainingOptions::min_lr_ratio,
                 sdk::float_param("min_lr_ratio", 0.0, "the decay ends at min_lr_ratio * lr at the last step")
                     .at_least(0.0)
                     .at_most(1.0))
          .field(
              &TrainingOptions::clip_grad_norm,
              sdk::float_param("clip_grad_norm", 0.0, "clip the global gradient L2 norm to this before each step; 0 = off")
                  .at_least(0.0))
          .field(&TrainingOptions::on_nonfinite,
                 sdk::string_param("on_nonfinite", "stop",
                                   "a NaN/inf loss or gradient: stop the run (status diverged) or skip_step (drop "
                                   "that update and count it in train.csv)")
                     .one_of({"stop", "skip_step"}))
          .field(&TrainingOptions::max_loss_ratio,
                 sdk::float_param("max_loss_ratio", 1000.0,
                                  "the run has diverged once loss / E[y^2] averages above this over "
                                  "max_loss_intervals consecutive log intervals; 0 = never")
                     .at_least(0.0))
          .field(&TrainingOptions::max_loss_intervals,
                 sdk::int_param("max_loss_intervals", 3, "consecutive log intervals above max_loss_ratio")
                     .at_least(1))
          .field(&TrainingOptions::log_every,
                 sdk::int_param("log_every", 50, "steps between progress lines (and the only host syncs)").at_least(1))
          .field(&TrainingOptions::checkpoint_every,
                 sdk::int_param("checkpoint_every", 1000, "steps between checkpoints; 0 = only at the end").at_least(0))
          .field(&TrainingOptions::cuda_graphs,
                 sdk::bool_param("cuda_graphs", false,
                                 "CUDA: capture each curriculum stage's step in a CUDA graph and replay it"));
  return s;
}

const Section<EvaluationOptions>& EvaluationOptions::section() {
  static const auto s =
      Section<EvaluationOptions>()
          .field(&EvaluationOptions::prompts,
                 sdk::int_param("prompts", 1280, "evaluation prompts (a fixed, seeded set)").at_least(1))
          .field(&EvaluationOptions::seed,
                 sdk::int_param("seed", 1234567, "seed of the evaluation prompts and the bootstrap").at_least(0))
          .field(&EvaluationOptions::batch_size,
                 sdk::int_param("batch_size", 256, "prompts per forward pass").at_least(1))
          .field(&EvaluationOptions::bootstrap,
                 sdk::int_param("bootstrap", 1000, "bootstrap resamples for the 90% band").at_least(1))
          .field(&EvaluationOptions::iterations,
                 sdk::int_list_param("iterations", {}, "extra iteration counts to evaluate a looped model at")
                     .at_least(1));
  return s;
}

const Section<OutputOptions>& OutputOptions::section() {
  static const auto s =
      Section<OutputOptions>()
          .field(&OutputOptions::figures, sdk::bool_param("figures", true, "render PNG figures with gnuplot"))
          .field(&OutputOptions::report, sdk::bool_param("report", true, "write report.md"))
          .field(&OutputOptions::moving_average,
                 sdk::int_param("moving_average", 100, "window of the training-loss moving average").at_least(1))
          .field(&OutputOptions::keep_checkpoints,
                 sdk::int_param("keep_checkpoints", 3, "most recent checkpoints kept; 0 keeps all").at_least(0))
          .field(&OutputOptions::tensorboard,
                 sdk::bool_param("tensorboard", true, "write TensorBoard event files into tb/ while training"));
  return s;
}

}  // namespace looplab::host
