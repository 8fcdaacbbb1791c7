#pragma once
/// @file seeds.h
/// The seed tree: every generator a run uses is derived here from `[run] seed` or
/// `[evaluation] seed`, under a name, so that each stream is independent of the others and the
/// same stream is drawn wherever the same thing runs (a pipeline's analysis and `looplab
/// analyze` of the same analysis, a resumed run and an uninterrupted one).

#include <cstdint>
#include <string>

namespace looplab::host::seeds {

/// The training prompts (a generator of their own, saved in checkpoints, so a resumed run
/// draws exactly the prompts it would have drawn). Model initialisation uses `[run] seed`
/// itself, through LibTorch's global generator.
inline uint64_t training_data(int64_t run_seed) { return static_cast<uint64_t>(run_seed) * 2654435761ULL + 1; }

/// The fixed evaluation prompts: `[evaluation] seed` itself, on the CPU, whatever the device.
inline uint64_t evaluation_prompts(int64_t eval_seed) { return static_cast<uint64_t>(eval_seed); }

/// Bootstrap resampling of the evaluation errors.
inline uint64_t bootstrap(int64_t eval_seed) { return static_cast<uint64_t>(eval_seed) + 17; }

/// The generator a baseline receives (nn_gd's initialisations and minibatches), derived from
/// `[evaluation] seed` and the baseline's predictor id, so adding a baseline changes no other.
inline uint64_t baseline(int64_t eval_seed, const std::string& id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ULL;
  return static_cast<uint64_t>(eval_seed) + 5000 + (h % 1000003ULL);
}

/// The generator an analysis receives: derived from the run's seed and the analysis' type
/// (FNV-1a of the name), not from its position in `[[analyses]]`, so `looplab analyze` draws
/// what the pipeline drew.
inline uint64_t analysis(int64_t run_seed, const std::string& type) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : type) h = (h ^ c) * 1099511628211ULL;
  return static_cast<uint64_t>(run_seed) + 1000 + (h % 1000003ULL);
}

}  // namespace looplab::host::seeds
