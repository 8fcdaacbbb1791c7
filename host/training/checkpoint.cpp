#include "training/checkpoint.h"

#include "common/files.h"

#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
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

int64_t Checkpoint::step_of(const std::string& path) {
  const auto name = fs::path(path).filename().string();
  const size_t prefix = 5, suffix = 3;  // "step_", ".pt"
  if (name.size() <= prefix + suffix || name.rfind("step_", 0) != 0 || name.compare(name.size() - suffix, suffix, ".pt"))
    return -1;
  const auto digits = name.substr(prefix, name.size() - prefix - suffix);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return -1;
  return std::stoll(digits);
}

std::vector<std::string> Checkpoint::all(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".pt") out.push_back(e.path().string());
  }
  std::sort(out.rbegin(), out.rend());  // names sort by step
  return out;
}

std::string Checkpoint::latest(const std::string& dir) {
  const auto every = all(dir);
  return every.empty() ? std::string() : every.front();
}

void Checkpoint::remove_partial(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.find(".pt.tmp") != std::string::npos) fs::remove(e.path(), ec);
  }
}

void Checkpoint::prune(const std::string& dir, int64_t keep) {
  if (keep <= 0) return;
  const auto every = all(dir);
  for (size_t i = static_cast<size_t>(keep); i < every.size(); ++i) fs::remove(every[i]);
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
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
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
