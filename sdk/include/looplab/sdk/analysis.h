#pragma once
/// @file analysis.h
/// The Analysis interface and the context the host hands it: a trained model, its task,
/// a seeded generator, a logger and an output sink for tables and figure specs.

#include <looplab/sdk/logger.h>
#include <looplab/sdk/task.h>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace looplab::sdk {

/// A CSV table: header plus rows of already formatted cells.
struct Table {
  std::vector<std::string> columns;            ///< Header names.
  std::vector<std::vector<std::string>> rows;  ///< One entry per row, one cell per column.
  /// Formats a number the way every looplab CSV does (shortest round-trip form).
  static std::string num(double value);
};

/// One line of a figure: y against x from a table, optionally restricted to rows whose
/// `where_column` equals `where_value`.
struct Series {
  std::string label;         ///< Legend entry.
  std::string table;         ///< Name of a table written through the same sink.
  std::string x;             ///< Column for the x axis.
  std::string y;             ///< Column for the y axis.
  std::string where_column;  ///< Optional filter column ("" = all rows).
  std::string where_value;   ///< Value the filter column must equal.
  std::string band_lo;       ///< Optional column with the lower edge of a band.
  std::string band_hi;       ///< Optional column with the upper edge of a band.
};

/// How a figure draws its data.
enum class FigureKind {
  Lines,    ///< y against x for every series (the default).
  Contour,  ///< Colour map of `z` over the (x, y) grid of series[0], with contour lines.
  Surface,  ///< 3-D surface of `z` over the (x, y) grid of series[0].
};

/// A figure the host renders to PNG (gnuplot): axes, scales and series.
struct FigureSpec {
  std::string name;                     ///< File stem: the PNG is `<name>.png`.
  std::string title;                    ///< Title line.
  std::string xlabel;                   ///< X axis label.
  std::string ylabel;                   ///< Y axis label.
  bool log_x = false;                   ///< Logarithmic x axis.
  bool log_y = false;                   ///< Logarithmic y axis.
  std::vector<Series> series;           ///< Lines to draw (grid kinds: series[0] names table, x, y, filter).
  FigureKind kind = FigureKind::Lines;  ///< Lines, or a picture of a grid (Contour, Surface).
  std::string z{};                      ///< Grid kinds: column of series[0]'s table with the height over (x, y).
  std::string zlabel{};                 ///< Grid kinds: label of the height (colour box; z axis of a surface).
  bool log_z = false;                   ///< Grid kinds: logarithmic height and colour scale.
};

/// Where an analysis writes its results; the host owns the directory.
class OutputSink {
 public:
  virtual ~OutputSink();
  /// Writes `<name>.csv` and returns its path.
  virtual std::string write_table(const std::string& name, const Table& table) = 0;
  /// Queues a figure over tables written through this sink; rendered when the analysis ends.
  virtual void add_figure(const FigureSpec& figure) = 0;
  /// Adds a Markdown paragraph to the run report's section for this analysis.
  virtual void add_note(const std::string& markdown) = 0;
  /// Directory of this analysis' outputs.
  virtual std::string directory() const = 0;
};

/// The trained model as an analysis sees it.
class ModelHandle {
 public:
  virtual ~ModelHandle();
  /// Predictions [B, n] for prompts (xs [B, n, d], ys [B, n]) after `iterations` loop
  /// iterations (1 for a standard model). `state_mask`, when defined, is [B or 1, 2n] and
  /// multiplies the loop state Y at every iteration (the `state` token-ablation mode).
  /// `key_mask`, when defined, is [B or 1, 2n] (nonzero = visible): attention in every block
  /// ignores the hidden keys, each position still seeing itself (the `keys` mode); throws
  /// std::invalid_argument naming the block when a block cannot (Block::supports_key_mask()).
  virtual torch::Tensor predict(const torch::Tensor& xs, const torch::Tensor& ys, int64_t iterations,
                                const torch::Tensor& state_mask = torch::Tensor(),
                                const torch::Tensor& key_mask = torch::Tensor()) = 0;
  /// The `drop` token-ablation mode: only the tokens at indices `kept` ([S'] int64, ascending,
  /// in 0..2n-1 of the interleaved sequence x_1, y_1, x_2, ...) are fed, the others physically
  /// removed. Kept tokens take their original positional rows (`original_positions`) or
  /// 0..S'-1. Returns the read-out at every kept token, [B, S'], after `iterations`
  /// iterations; at a kept x_i token it is the prediction of y_i.
  virtual torch::Tensor predict_kept_tokens(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& kept,
                                            int64_t iterations, bool original_positions) = 0;
  /// Predictions after each of iterations 1..max_iterations, stacked as [K, B, n].
  virtual torch::Tensor predict_each_iteration(const torch::Tensor& xs, const torch::Tensor& ys,
                                               int64_t max_iterations) = 0;
  /// The training loss (mean squared error over the last min(b, T) iterations) for prompts.
  virtual torch::Tensor training_loss(const torch::Tensor& xs, const torch::Tensor& ys) = 0;
  /// The module whose parameters were trained (for perturbation analyses).
  virtual torch::nn::Module& module() = 0;
  /// Iterations b the model was trained with (1 when not looped).
  virtual int64_t trained_loops() const = 0;
  /// Whether the model loops its blocks.
  virtual bool looped() const = 0;
};

/// Everything an analysis may use.
class AnalysisContext {
 public:
  virtual ~AnalysisContext();
  /// The trained model.
  virtual ModelHandle& model() = 0;
  /// The task the model was trained on.
  virtual const Task& task() const = 0;
  /// Dimension d and number of points n of the evaluation prompts.
  virtual int64_t n_dims() const = 0;
  /// Points per evaluation prompt.
  virtual int64_t n_points() const = 0;
  /// Device the model lives on.
  virtual torch::Device device() const = 0;
  /// A generator seeded from the analysis' seed, on the model's device.
  virtual at::Generator& generator() = 0;
  /// The fixed evaluation prompts (the same set as the run's evaluation).
  virtual Prompts eval_prompts() = 0;
  /// Normalized squared error per prompt and position, [B, n]: (pred - y)^2 / E[y^2].
  virtual torch::Tensor normalized_error(const torch::Tensor& pred, const torch::Tensor& ys) = 0;
  /// The host's logger.
  virtual Logger& logger() = 0;
  /// Output sink for tables, figures and report notes.
  virtual OutputSink& output() = 0;
};

/// An analysis run against a trained model.
class Analysis {
 public:
  virtual ~Analysis();
  /// Runs the analysis; throws std::exception with a clear message on failure. The model
  /// arrives in eval mode with its trained weights; gradients are not switched off for it, so
  /// an analysis that needs none sets `torch::NoGradGuard` itself (one that needs them, such as
  /// a Hessian, must not).
  virtual void run(AnalysisContext& context) = 0;
};

}  // namespace looplab::sdk
