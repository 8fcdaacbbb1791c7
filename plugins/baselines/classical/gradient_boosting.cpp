#include "gradient_boosting.h"

#include "predictions.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace looplab::baselines {
namespace {

/// Throws std::runtime_error with XGBoost's message unless `rc` (an XGBoost C API result) is 0.
void check(int rc, const char* call) {
  if (rc != 0)
    throw std::runtime_error(std::string("gradient_boosting_predictions: ") + call + ": " + XGBGetLastError());
}

/// Owns a DMatrixHandle.
class DMatrix {
 public:
  /// Rows x [rows, cols] row-major float32; NaN marks a missing value (XGBRegressor's default).
  DMatrix(const float* x, int64_t rows, int64_t cols) {
    check(XGDMatrixCreateFromMat_omp(x, static_cast<bst_ulong>(rows), static_cast<bst_ulong>(cols),
                                     std::numeric_limits<float>::quiet_NaN(), &handle_, /*nthread=*/1),
          "XGDMatrixCreateFromMat_omp");
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() { XGDMatrixFree(handle_); }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

/// Owns a BoosterHandle.
class Booster {
 public:
  explicit Booster(const DMatrix& train) {
    DMatrixHandle cache[] = {train.get()};
    check(XGBoosterCreate(cache, 1, &handle_), "XGBoosterCreate");
  }
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() { XGBoosterFree(handle_); }
  BoosterHandle get() const { return handle_; }
  void set(const char* name, const std::string& value) {
    check(XGBoosterSetParam(handle_, name, value.c_str()), "XGBoosterSetParam");
  }

 private:
  BoosterHandle handle_ = nullptr;
};

/// A double as XGBoost's parameter parser reads it back exactly.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The parameters XGBRegressor(max_depth, n_estimators, learning_rate) ends up with in XGBoost
/// 1.7: its own objective plus the library defaults, written out; nthread 1 (prompts run in
/// parallel instead).
std::vector<std::pair<const char*, std::string>> booster_params(const GradientBoostingOptions& o) {
  return {{"booster", "gbtree"},
          {"objective", "reg:squarederror"},
          {"base_score", "0.5"},
          {"tree_method", "exact"},  // what "auto" picks on a single machine for data this small
          {"max_depth", std::to_string(o.max_depth())},
          {"learning_rate", number(o.learning_rate())},
          {"nthread", "1"}};
}

constexpr const char* kPredictConfig =
    R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";

/// The booster trained on rows 0..rows-1 of x / y, evaluated at `query`.
float fit_predict(const float* x, const float* y, int64_t rows, int64_t cols, const float* query,
                  const std::vector<std::pair<const char*, std::string>>& params, int64_t rounds) {
  DMatrix train(x, rows, cols);
  check(XGDMatrixSetFloatInfo(train.get(), "label", y, static_cast<bst_ulong>(rows)), "XGDMatrixSetFloatInfo");
  Booster booster(train);
  for (const auto& [name, value] : params) booster.set(name, value);
  for (int64_t r = 0; r < rounds; ++r) {
    check(XGBoosterUpdateOneIter(booster.get(), static_cast<int>(r), train.get()), "XGBoosterUpdateOneIter");
  }
  DMatrix test(query, 1, cols);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDMatrix(booster.get(), test.get(), kPredictConfig, &shape, &dim, &result),
        "XGBoosterPredictFromDMatrix");
  return result[0];
}

}  // namespace

torch::Tensor gradient_boosting_predictions(const torch::Tensor& xs, const torch::Tensor& ys,
                                            const GradientBoostingOptions& options) {
  check_prompts("gradient_boosting_predictions", xs, ys);
  if (options.max_depth() < 1) {
    throw std::invalid_argument("gradient_boosting_predictions: max_depth must be >= 1, got " +
                                std::to_string(options.max_depth()));
  }
  if (options.n_estimators() < 1) {
    throw std::invalid_argument("gradient_boosting_predictions: n_estimators must be >= 1, got " +
                                std::to_string(options.n_estimators()));
  }
  if (!(options.learning_rate() > 0.0) || !std::isfinite(options.learning_rate())) {
    throw std::invalid_argument("gradient_boosting_predictions: learning_rate must be > 0, got " +
                                std::to_string(options.learning_rate()));
  }
  const int64_t N = xs.size(0), n = xs.size(1), d = xs.size(2);
  if (N == 0 || n == 0) return zero_predictions(xs);
  if (d == 0) throw std::invalid_argument("gradient_boosting_predictions: needs d >= 1 input dimensions");
  // XGBoost stores features and labels as float32.
  const torch::Tensor x = xs.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor y = ys.detach().to(torch::kCPU, torch::kFloat).contiguous();
  torch::Tensor out = torch::zeros({N, n}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const auto params = booster_params(options);
  const int64_t rounds = options.n_estimators();

  at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* px = xp + p * n * d;
      const float* py = yp + p * n;
      for (int64_t i = 1; i < n; ++i) op[p * n + i] = fit_predict(px, py, i, d, px + i * d, params, rounds);
    }
  });
  return out.to(xs.device());
}

}  // namespace looplab::baselines
