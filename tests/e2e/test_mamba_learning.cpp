// A tiny looped Mamba pipeline run by the looplab executable learns linear regression in
// context: at i = 2d examples its error is well below the averaging estimator's.
#include "common/csv.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace looplab {
namespace {

const std::string kTinyMamba = std::string(LOOPLAB_SOURCE_DIR) + "/tests/e2e/data/tiny_mamba.toml";

/// err_mean of one (predictor, iterations, examples) row of eval.csv.
double error_of(const sdk::Table& eval, const std::string& predictor, int64_t iterations, int64_t examples) {
  for (const auto& row : eval.rows)
    if (row[0] == predictor && std::stoll(row[1]) == iterations && std::stoll(row[2]) == examples)
      return std::stod(row[3]);
  throw std::runtime_error("eval.csv has no row " + predictor + "@" + std::to_string(iterations));
}

TEST(MambaLearning, TinyLoopedMambaBeatsAveraging) {
  const auto dir = test::temp_dir("mamba-tiny");
  int rc;
  const auto out = test::looplab("run " + kTinyMamba + " --out " + dir + "/run", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto eval = host::read_csv(dir + "/run/eval.csv");
  // i = 2d = 6 examples, at the trained b = 4.
  const double model = error_of(eval, "model", 4, 6), averaging = error_of(eval, "averaging", 0, 6);
  EXPECT_LE(model, 0.5 * averaging) << "looped mamba " << model << ", averaging " << averaging;
}

}  // namespace
}  // namespace looplab
