#pragma once
// `looplab bench`: training-step time, throughput and peak memory of named model sizes, built
// through the plugin registry exactly as `looplab run` builds them, plus evaluation throughput.

#include <cstdint>
#include <string>
#include <vector>

namespace looplab::host {

/// A named benchmark size (docs/experiments.md#sizes, docs/performance.md).
struct BenchSize {
  std::string name;
  std::string block;  ///< block plugin ("gpt", "mamba"); "" for the evaluation rows
  std::string task;   ///< task plugin
  int64_t n_dims, n_points, n_embd, n_head, layers, loops, window, batch;
  bool looped;
  int64_t default_reps;  ///< timed steps when --reps is not given
};

/// Every named size, in the order `looplab bench` runs them by default.
const std::vector<BenchSize>& bench_sizes();

/// One measured row.
struct BenchRow {
  std::string config;
  std::string device;
  double ms = 0;            ///< median ms per training step (per evaluation for eval rows)
  double ms_min = 0;        ///< fastest rep
  double cpu_ms = 0;        ///< median process CPU time per step (all threads)
  double tokens_per_s = 0;  ///< prompt tokens (batch * 2n) per second; prompts/s for eval rows
  double peak_mb = 0;       ///< RSS high-water mark during this row (CUDA: max allocated)
  int64_t reps = 0, threads = 0;
  double loss = 0;     ///< last step's loss (a sanity check that it trains)
  std::string note{};  ///< why a row was skipped, or what it measured
  bool skipped = false;
};

/// `looplab bench [--config NAME]... [--reps N] [--warmup N] [--threads N] [--device cpu|cuda]
/// [--json] [--csv FILE] [--profile] [--plugin-path DIR]...`
int bench_command(const std::vector<std::string>& args);

}  // namespace looplab::host
