#include "trainer.h"

#include "devices.h"
#include "fused_adam.h"
#include "train_step.h"

#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/serialize/archive.h>


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

std::string checkpoint_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%07lld.pt", static_cast<long long>(step));
  return buf;
}

std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

// Keeps the rows of train.csv up to `steps_done`, so a resumed run appends where the checkpoint was.
void truncate_train_csv(const std::string& path, int64_t steps_done) {
  std::ifstream in(path);
  if (!in) return;
  std::string header, line, kept;
  std::getline(in, header);
  kept = header + "\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::stoll(line.substr(0, line.find(','))) > steps_done) break;
    kept += line + "\n";
  }
  in.close();
  std::ofstream(path, std::ios::trunc) << kept;
}

struct PendingRow {
  int64_t step, loops, dims, points;
  double elapsed_s;
  double norm;
};

}  // namespace

Trainer::Trainer(const PipelineConfig& cfg, SequenceModel model, std::shared_ptr<sdk::Task> task, c10::Device device,
                 std::string run_dir, std::shared_ptr<sdk::Logger> log)
    : cfg_(cfg), model_(std::move(model)), task_(std::move(task)), device_(device), run_dir_(std::move(run_dir)),
      log_(std::move(log)) {}

std::string Trainer::latest_checkpoint(const std::string& run_dir) {
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(run_dir) / "checkpoints", ec)) {
    auto name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".pt" && name > fs::path(best).filename().string())
      best = e.path().string();
  }
  return best;
}

void load_model_weights(SequenceModel& model, const std::string& checkpoint, const c10::Device& device) {
  torch::serialize::InputArchive archive, model_archive;
  archive.load_from(checkpoint, device);
  archive.read("model", model_archive);
  model->load(model_archive);
}

TrainResult Trainer::train(const std::atomic<bool>& stop) {
  model_->to(device_);
  model_->train();
  auto optimizer = make_optimizer(cfg_, *model_);
  auto& opt = *optimizer;
  // Data has its own generator so that resuming restores exactly the prompts to come.
  at::Generator gen = make_generator(device_, static_cast<uint64_t>(cfg_.seed) * 2654435761ULL + 1);
  const auto ckpt_dir = fs::path(run_dir_) / "checkpoints";
  const auto csv_path = (fs::path(run_dir_) / "train.csv").string();
  fs::create_directories(ckpt_dir);

  TrainResult result;
  double elapsed_before = 0;
  if (auto latest = latest_checkpoint(run_dir_); !latest.empty()) {
    torch::serialize::InputArchive archive, model_archive, opt_archive;
    archive.load_from(latest, device_);
    archive.read("model", model_archive);
    model_->load(model_archive);
    archive.read("optimizer", opt_archive);
    opt.load(opt_archive);
    torch::Tensor rng, step, elapsed;
    archive.read("data_rng", rng);
    archive.read("step", step);
    archive.read("elapsed_s", elapsed);
    gen.set_state(rng.cpu());
    result.steps_done = step.item<int64_t>();
    elapsed_before = elapsed.item<double>();
    truncate_train_csv(csv_path, result.steps_done);
    log_->info("resuming from " + latest + " (step " + std::to_string(result.steps_done) + ")");
  }

  auto scalars = model_->traced_scalars();
  const bool fresh_csv = !fs::exists(csv_path);
  std::ofstream csv(csv_path, std::ios::app);
  if (!csv) throw std::runtime_error("cannot write " + csv_path);
  if (fresh_csv) {
    csv << "step,loss,loss_norm,loops,dims,points,elapsed_s";
    for (const auto& [name, value] : scalars) csv << ',' << name;
    csv << '\n';
  }

  TrainStep step(model_, task_, opt, device_, cfg_.batch_size, cfg_.window, cfg_.cuda_graphs, log_);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto elapsed = [&] { return elapsed_before + std::chrono::duration<double>(clock::now() - t0).count(); };
  const int64_t start_step = result.steps_done;
  std::vector<PendingRow> rows;
  std::vector<torch::Tensor> losses, traced;

  // The only host syncs: one per log interval, to print and write the pending rows.
  auto flush = [&] {
    if (rows.empty()) return;
    auto loss_values = torch::stack(losses).to(torch::kCPU, torch::kFloat64);
    torch::Tensor traced_values;
    if (!traced.empty()) traced_values = torch::stack(traced).to(torch::kCPU, torch::kFloat64).view({static_cast<int64_t>(rows.size()), -1});
    auto lv = loss_values.accessor<double, 1>();
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& row = rows[r];
      csv << row.step << ',' << lv[r] << ',' << lv[r] / row.norm << ',' << row.loops << ',' << row.dims << ','
          << row.points << ',' << row.elapsed_s;
      for (int64_t k = 0; traced_values.defined() && k < traced_values.size(1); ++k)
        csv << ',' << traced_values[r][k].item<double>();
      csv << '\n';
    }
    csv.flush();
    const auto& last = rows.back();
    result.last_loss = lv[rows.size() - 1];
    const double rate = (last.step - start_step) / std::max(1e-9, elapsed() - elapsed_before);
    std::ostringstream line;
    line << std::fixed << std::setprecision(4) << "step " << last.step << "/" << cfg_.steps << " | loss "
         << result.last_loss << " | loss/E[y^2] " << result.last_loss / last.norm << " | b " << last.loops
         << " | dims " << last.dims << " | points " << last.points << std::setprecision(1) << " | " << rate
         << " step/s | ETA " << format_duration((cfg_.steps - last.step) / std::max(rate, 1e-9));
    log_->info(line.str());
    rows.clear();
    losses.clear();
    traced.clear();
  };

  auto checkpoint = [&] {
    flush();
    torch::serialize::OutputArchive archive, model_archive, opt_archive;
    model_->save(model_archive);
    opt.save(opt_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", opt_archive);
    archive.write("data_rng", gen.get_state());
    archive.write("step", torch::tensor(result.steps_done, torch::kInt64));
    archive.write("elapsed_s", torch::tensor(elapsed(), torch::kFloat64));
    const auto path = ckpt_dir / checkpoint_name(result.steps_done);
    const auto tmp = path.string() + ".tmp";
    archive.save_to(tmp);
    fs::rename(tmp, path);  // a crash never leaves a truncated checkpoint under the real name
    if (cfg_.keep_checkpoints > 0) {
      std::vector<std::string> all;
      for (const auto& e : fs::directory_iterator(ckpt_dir))
        if (e.path().extension() == ".pt") all.push_back(e.path().string());
      std::sort(all.begin(), all.end());
      for (size_t i = 0; i + cfg_.keep_checkpoints < all.size(); ++i) fs::remove(all[i]);
    }
  };

  while (result.steps_done < cfg_.steps) {
    if (stop.load()) {
      checkpoint();
      log_->warn("interrupted at step " + std::to_string(result.steps_done) +
                 "; resume with: looplab run --resume " + run_dir_);
      result.elapsed_s = elapsed();
      return result;
    }
    const int64_t i = result.steps_done;
    const int64_t b = cfg_.loops.at(i), dims = cfg_.dims.at(i), pts = cfg_.points.at(i);
    losses.push_back(step(b, dims, pts, gen));
    ++result.steps_done;

    // A copy: the optimizer updates a learned scalar in place before the rows are flushed.
    for (auto& [name, value] : scalars) traced.push_back(value.detach().reshape({}).clone());
    rows.push_back({result.steps_done, b, dims, pts, elapsed(), task_->y_second_moment(dims)});
    if (result.steps_done % cfg_.log_every == 0) flush();
    if (cfg_.checkpoint_every > 0 && result.steps_done % cfg_.checkpoint_every == 0 && result.steps_done < cfg_.steps)
      checkpoint();
  }
  checkpoint();
  result.completed = true;
  result.elapsed_s = elapsed();
  return result;
}

}  // namespace looplab::host
