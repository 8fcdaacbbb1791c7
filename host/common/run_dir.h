#pragma once
/// @file run_dir.h
/// The on-disk format of a run directory and of a sweep directory: every path, run.json and
/// the train.csv columns. Everything that reads or writes a run goes through this file.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace looplab::host {

/// A run directory (README "What the quickstart does" lists what each file holds).
struct RunDir {
  std::string path;                                                 ///< Absolute, normalised.
  std::string resolved() const { return path + "/resolved.toml"; }  ///< The pipeline, every default written out.
  std::string status() const { return path + "/run.json"; }         ///< RunStatus as JSON.
  std::string train_csv() const { return path + "/train.csv"; }     ///< One row per step (train_columns).
  std::string eval_csv() const { return path + "/eval.csv"; }       ///< One row per predictor and context size.
  std::string report() const { return path + "/report.md"; }
  std::string figures() const { return path + "/figures"; }
  std::string log() const { return path + "/log.txt"; }
  std::string console() const { return path + "/console.txt"; }  ///< A sweep child's stdout and stderr.
  std::string checkpoints() const { return path + "/checkpoints"; }
  /// TensorBoard event files (tb_tags), one per session: a resume adds one.
  std::string tensorboard() const { return path + "/tb"; }
  std::string analyses() const { return path + "/analyses"; }
  /// Where analysis `name` writes its tables and figures.
  std::string analysis(const std::string& name) const { return analyses() + "/" + name; }
  /// Where `looplab export` writes by default (weights for torch.load, docs/model.md#exported-weights).
  std::string export_file() const { return path + "/export/model.pt"; }
};

/// A sweep directory: the manifest `sweep.csv` (index, id, label), a run directory per member
/// and, once two members are complete, `compare/`.
struct SweepDir {
  std::string path;  ///< Absolute, normalised.
  std::string manifest() const { return path + "/sweep.csv"; }
  std::string member(const std::string& id) const { return path + "/" + id; }
  std::string compare() const { return path + "/compare"; }
  /// `looplab sweep sbatch`: the tasks' logs, the array script (`sweep.sbatch`, or
  /// `sweep-K.sbatch` for part K of `parts` when the sweep exceeds one array) and the job
  /// that compares the members.
  std::string logs() const { return path + "/logs"; }
  std::string array_script(size_t part, size_t parts) const {
    return parts <= 1 ? path + "/sweep.sbatch" : path + "/sweep-" + std::to_string(part) + ".sbatch";
  }
  std::string compare_script() const { return path + "/compare.sbatch"; }
};

/// What run.json holds.
struct RunStatus {
  /// "pending", "running", "interrupted", "diverged", "failed" or "complete" ("complete" only once every
  /// output exists); "" when the file is missing or unreadable.
  std::string status;
  std::string message;        ///< Why it failed, or how to resume; may be empty.
  int64_t trained_loops = 0;  ///< Loop iterations b at the end of training (1: standard model; 0: not recorded).
  /// LibTorch threads the run trains with (0: not recorded): a resume keeps them, so that it
  /// continues with the same numbers as an uninterrupted run.
  int64_t threads = 0;
  /// Legend label of each baseline id of eval.csv ("nearest_neighbours" -> "3-NN"), as its
  /// plugin gives it, so that `compare` writes what the run's own figures write without loading
  /// plugins; recorded with the status `complete` (empty before, and for runs from before it was
  /// recorded).
  std::vector<std::pair<std::string, std::string>> labels;
};

/// Reads run.json; a missing or unreadable file gives a RunStatus with an empty status.
RunStatus read_run_status(const RunDir& dir);
/// The status word alone ("" if none).
std::string read_status(const RunDir& dir);
/// Rewrites run.json atomically with `status` and `message`, keeping what else it records.
void write_status(const RunDir& dir, const std::string& status, const std::string& message = "");
/// Writes run.json atomically.
void write_run_status(const RunDir& dir, const RunStatus& status);

/// The fixed leading columns of train.csv, in order; learned scalars (e.g. `lr`) follow them.
namespace train_columns {
inline constexpr const char* kStep = "step";           ///< Optimizer steps taken (1-based).
inline constexpr const char* kLoss = "loss";           ///< The step's training loss.
inline constexpr const char* kLossNorm = "loss_norm";  ///< loss / E[y^2] at the step's dims.
/// MSE after the step's last (b-th) iteration alone (= loss when the window is one iteration).
inline constexpr const char* kLossLast = "loss_last";
inline constexpr const char* kLossLastNorm = "loss_last_norm";  ///< loss_last / E[y^2] at the step's dims.
inline constexpr const char* kLoops = "loops";                  ///< Loop iterations b of the step.
inline constexpr const char* kDims = "dims";                    ///< Active dimensions of the step.
inline constexpr const char* kPoints = "points";                ///< Points per prompt of the step.
inline constexpr const char* kElapsed = "elapsed_s";            ///< Training wall time so far.
/// With on_nonfinite = "skip_step" only, the last column (after the learned scalars): 1 for a
/// step whose update was dropped because its loss or a gradient was not finite, else 0.
inline constexpr const char* kSkipped = "skipped";
/// All of the above but kSkipped, in file order.
const std::vector<std::string>& all();
/// The columns of a train.csv written before loss_last existed (all() without loss_last and
/// loss_last_norm); resuming such a run keeps writing them.
const std::vector<std::string>& without_loss_last();
}  // namespace train_columns

/// The tags of tb/'s event files; TensorBoard groups tags by what precedes their first '/'.
namespace tb_tags {
/// + a train.csv column (all but step): its value at each logged step.
inline constexpr const char* kTrain = "train/";
/// + a predictor (eval_series): its err_mean in eval.csv, the step being the examples i.
inline constexpr const char* kEval = "eval/";
inline constexpr const char* kKeyNumbers = "report/key_numbers";    ///< report.md's key-number table (text).
inline constexpr const char* kPipeline = "pipeline/resolved.toml";  ///< resolved.toml (text, step 0).
/// "eval/model_b4" for the model at 4 iterations, "eval/least_squares" for a baseline (iterations 0).
std::string eval_series(const std::string& predictor, int64_t iterations);
}  // namespace tb_tags

/// Creates `path` unless it exists with something in it (then throws, naming it as `what`);
/// returns its absolute, normalised path.
std::string create_empty_directory(const std::string& path, const std::string& what);

/// `path` made absolute and normalised, as RunDir and SweepDir hold it.
std::string absolute_path(const std::string& path);

}  // namespace looplab::host
