#include "training/checkpoint.h"

#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {
// Archive keys; changing one makes older run directories unresumable.
constexpr const char* kModel = "model";
constexpr const char* kOptimizer = "optimizer";
constexpr const char* kDataRng = "data_rng";
constexpr const char* kStep = "step";
constexpr const char* kElapsed = "elapsed_s";
}  // namespace

std::string Checkpoint::file_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%07lld.pt", static_cast<long long>(step));
  return buf;
}

std::string Checkpoint::latest(const std::string& dir) {
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".pt" && name > fs::path(best).filename().string())
      best = e.path().string();
  }
  return best;
}

void Checkpoint::prune(const std::string& dir, int64_t keep) {
  if (keep <= 0) return;
  std::vector<std::string> all;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".pt") all.push_back(e.path().string());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove(all[i]);
}

std::string Checkpoint::save(const std::string& dir, SequenceModel& model, torch::optim::Optimizer& optimizer) const {
  torch::serialize::OutputArchive archive, model_archive, opt_archive;
  model->save(model_archive);
  optimizer.save(opt_archive);
  archive.write(kModel, model_archive);
  archive.write(kOptimizer, opt_archive);
  archive.write(kDataRng, data_rng);
  archive.write(kStep, torch::tensor(step, torch::kInt64));
  archive.write(kElapsed, torch::tensor(elapsed_s, torch::kFloat64));
  const auto path = (fs::path(dir) / file_name(step)).string();
  const auto tmp = path + ".tmp";
  archive.save_to(tmp);
  fs::rename(tmp, path);
  return path;
}

Checkpoint Checkpoint::load(const std::string& path, SequenceModel& model, torch::optim::Optimizer* optimizer,
                            const c10::Device& device) {
  torch::serialize::InputArchive archive, model_archive;
  archive.load_from(path, device);
  archive.read(kModel, model_archive);
  model->load(model_archive);
  if (optimizer) {
    torch::serialize::InputArchive opt_archive;
    archive.read(kOptimizer, opt_archive);
    optimizer->load(opt_archive);
  }
  Checkpoint out;
  torch::Tensor step, elapsed;
  archive.read(kDataRng, out.data_rng);
  archive.read(kStep, step);
  archive.read(kElapsed, elapsed);
  out.step = step.item<int64_t>();
  out.elapsed_s = elapsed.item<double>();
  return out;
}

}  // namespace looplab::host
