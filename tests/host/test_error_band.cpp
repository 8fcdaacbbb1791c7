// The bootstrap error band of every eval.csv row.

#include "evaluation/error_band.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace looplab::host {
namespace {

using torch::indexing::Slice;

const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

TEST(ErrorBand, BracketsTheMeanWhichIsThePlainMean) {
  torch::manual_seed(9);
  const torch::Tensor err = torch::rand({300, 7}).pow(2);
  const ErrorBand band = error_band(err, 500, 17);
  for (const torch::Tensor* t : {&band.mean, &band.lo, &band.hi}) {
    EXPECT_EQ(t->scalar_type(), torch::kDouble);
    EXPECT_TRUE(t->device().is_cpu());
    ASSERT_EQ(t->sizes(), (std::vector<int64_t>{7}));
  }
  EXPECT_TRUE(torch::allclose(band.mean, err.to(torch::kDouble).mean(0), 1e-12, 1e-12));
  EXPECT_TRUE((band.lo <= band.mean).all().item<bool>());
  EXPECT_TRUE((band.mean <= band.hi).all().item<bool>());
  EXPECT_TRUE((band.lo < band.hi).all().item<bool>());
}

TEST(ErrorBand, SameSeedGivesTheSameBand) {
  torch::manual_seed(10);
  const torch::Tensor err = torch::rand({200, 5});
  const ErrorBand a = error_band(err, 300, 42);
  const ErrorBand b = error_band(err, 300, 42);
  const ErrorBand c = error_band(err, 300, 43);
  EXPECT_TRUE(torch::equal(a.lo, b.lo));
  EXPECT_TRUE(torch::equal(a.hi, b.hi));
  EXPECT_FALSE(torch::equal(a.lo, c.lo));
}

TEST(ErrorBand, NarrowsWithMorePrompts) {
  torch::manual_seed(11);
  const torch::Tensor err = torch::rand({4000, 3});
  const ErrorBand few = error_band(err.index({Slice(0, 100)}), 400, 1);
  const ErrorBand many = error_band(err, 400, 1);
  // Width scales like 1/sqrt(N): 40x the prompts should give about a sixth of the width.
  EXPECT_TRUE(((many.hi - many.lo) < 0.5 * (few.hi - few.lo)).all().item<bool>());
}

TEST(ErrorBand, ConstantColumnHasZeroWidth) {
  torch::manual_seed(12);
  torch::Tensor err = torch::rand({150, 4}, kF64);
  err.index_put_({Slice(), 2}, 0.3);
  const ErrorBand band = error_band(err, 200, 5);
  EXPECT_EQ(band.lo[2].item<double>(), band.mean[2].item<double>());
  EXPECT_EQ(band.hi[2].item<double>(), band.mean[2].item<double>());
  EXPECT_NEAR(band.mean[2].item<double>(), 0.3, 1e-15);
  EXPECT_THROW(error_band(err, 0, 5), std::invalid_argument);
  EXPECT_THROW(error_band(torch::rand({4}), 10, 5), std::invalid_argument);
}

}  // namespace
}  // namespace looplab::host
