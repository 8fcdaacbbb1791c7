#include "training/train_log.h"

#include "common/files.h"
#include "common/run_dir.h"
#include "common/text.h"

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// Keeps the rows of train.csv up to `steps_done` and returns its header ("" for an empty file,
// which is removed); replaced atomically, so a crash while resuming leaves the old file whole.
std::string truncate_train_csv(const std::string& path, int64_t steps_done) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string header, line, kept;
  std::getline(in, header);
  if (header.empty()) {
    in.close();
    fs::remove(path);
    return header;
  }
  kept = header + "\n";
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (std::stoll(line.substr(0, line.find(','))) > steps_done) break;
    kept += line + "\n";
  }
  in.close();
  write_file_atomic(path, kept);
  return header;
}

std::vector<std::string> header_cells(const std::string& header) {
  std::vector<std::string> cells;
  std::stringstream in(header);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  return cells;
}

}  // namespace

TrainLog::TrainLog(const std::string& path, const std::vector<std::string>& scalar_names, int64_t steps_done)
    : path_(path) {
  // Also at step 0: a run stopped before its first checkpoint logged rows it will take again.
  const std::string header = fs::exists(path) ? truncate_train_csv(path, steps_done) : "";
  const bool fresh = header.empty();
  if (fresh) {
    columns_ = train_columns::all();
    columns_.insert(columns_.end(), scalar_names.begin(), scalar_names.end());
  } else {
    columns_ = header_cells(header);
  }
  with_last_ = std::find(columns_.begin(), columns_.end(), train_columns::kLossLast) != columns_.end();
  csv_.open(path, std::ios::app);
  if (!csv_) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  if (fresh) csv_ << join(columns_, ",") << '\n';
}

void TrainLog::add(const StepRow& row, torch::Tensor loss, torch::Tensor loss_last,
                   const std::vector<torch::Tensor>& scalars) {
  rows_.push_back(row);
  losses_.push_back(std::move(loss));
  last_losses_.push_back(std::move(loss_last));
  scalars_.insert(scalars_.end(), scalars.begin(), scalars.end());
}

bool TrainLog::flush() {
  if (rows_.empty()) return false;
  // One copy to the host for both losses.
  const auto n = static_cast<int64_t>(rows_.size());
  auto both = torch::cat({torch::stack(losses_), torch::stack(last_losses_)}).to(torch::kCPU, torch::kFloat64);
  auto loss_values = both.narrow(0, 0, n).contiguous(), last_values = both.narrow(0, n, n).contiguous();
  torch::Tensor scalar_values;
  if (!scalars_.empty())
    scalar_values =
        torch::stack(scalars_).to(torch::kCPU, torch::kFloat64).view({static_cast<int64_t>(rows_.size()), -1});
  auto lv = loss_values.accessor<double, 1>();
  auto llv = last_values.accessor<double, 1>();
  interval_ = Interval{n};
  written_.clear();
  double sum = 0;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const auto& row = rows_[r];
    if (std::isfinite(lv[r])) {
      ++interval_.finite;
      sum += lv[r] / row.y_second_moment;
    } else if (interval_.first_nonfinite < 0) {
      interval_.first_nonfinite = row.step;
    }
    // One value per column, for written(); the CSV prints the integer columns as integers.
    const double y2 = row.y_second_moment;
    std::vector<double> values = {static_cast<double>(row.step), lv[r], lv[r] / y2};
    if (with_last_) values.insert(values.end(), {llv[r], llv[r] / y2});
    values.insert(values.end(), {static_cast<double>(row.loops), static_cast<double>(row.dims),
                                 static_cast<double>(row.points), row.elapsed_s});
    const size_t first_scalar = values.size();
    for (int64_t k = 0; scalar_values.defined() && k < scalar_values.size(1); ++k)
      values.push_back(scalar_values[static_cast<int64_t>(r)][k].item<double>());
    csv_ << row.step << ',' << lv[r] << ',' << lv[r] / y2;
    if (with_last_) csv_ << ',' << llv[r] << ',' << llv[r] / y2;
    csv_ << ',' << row.loops << ',' << row.dims << ',' << row.points << ',' << row.elapsed_s;
    for (size_t k = first_scalar; k < values.size(); ++k) csv_ << ',' << values[k];
    csv_ << '\n';
    written_.push_back(std::move(values));
  }
  csv_.flush();
  if (!csv_) throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
  interval_.mean_loss_norm = interval_.finite > 0 ? sum / static_cast<double>(interval_.finite) : 0.0;
  last_ = rows_.back();
  last_loss_ = lv[static_cast<int64_t>(rows_.size()) - 1];
  rows_.clear();
  losses_.clear();
  last_losses_.clear();
  scalars_.clear();
  return true;
}

}  // namespace looplab::host
