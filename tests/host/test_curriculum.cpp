// Curriculum staircases (docs/model.md#curriculum-staircase): value at step i is
// min(start + floor(i / interval) * inc, end).

#include "config/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

namespace looplab::host {
namespace {

TEST(CurriculumStaircase, StudyLoopSchedule) {
  // The study's b scheduling: 5 -> 15, +1 every 1000 steps.
  const Staircase s{5, 15, 1, 1000};
  EXPECT_EQ(s.at(0), 5);
  EXPECT_EQ(s.at(1), 5);
  EXPECT_EQ(s.at(999), 5);
  EXPECT_EQ(s.at(1000), 6);
  EXPECT_EQ(s.at(1999), 6);
  EXPECT_EQ(s.at(2000), 7);
  EXPECT_EQ(s.at(9999), 14);
  EXPECT_EQ(s.at(10000), 15);
  EXPECT_EQ(s.at(10001), 15);
  EXPECT_EQ(s.at(99999), 15);
}

TEST(CurriculumStaircase, StepsLargerThanOneAreCappedAtEnd) {
  // Garg et al.'s dims curriculum shape: +2 every 3 steps, capped at an end that the steps overshoot.
  const Staircase s{1, 6, 2, 3};
  const int64_t expected[] = {1, 1, 1, 3, 3, 3, 5, 5, 5, 6, 6, 6, 6};
  for (int64_t i = 0; i < static_cast<int64_t>(std::size(expected)); ++i) EXPECT_EQ(s.at(i), expected[i]) << i;
}

TEST(CurriculumStaircase, IntervalOneMovesEveryStep) {
  const Staircase s{11, 41, 2, 1};
  EXPECT_EQ(s.at(0), 11);
  EXPECT_EQ(s.at(1), 13);
  EXPECT_EQ(s.at(14), 39);
  EXPECT_EQ(s.at(15), 41);
  EXPECT_EQ(s.at(16), 41);
  EXPECT_EQ(s.at(1000000), 41);
}

TEST(CurriculumStaircase, ZeroIncrementStaysAtStart) {
  const Staircase s{7, 20, 0, 5};
  for (int64_t i : {0, 4, 5, 100, 123456}) EXPECT_EQ(s.at(i), 7) << i;
}

TEST(CurriculumStaircase, MatchesTheFormulaOverARange) {
  for (const Staircase& s : {Staircase{5, 15, 1, 1000}, Staircase{2, 20, 3, 7}, Staircase{10, 10, 4, 2}}) {
    for (int64_t i = 0; i < 20000; ++i)
      ASSERT_EQ(s.at(i), std::min(s.start + (i / s.interval) * s.inc, s.end))
          << "step " << i << " of " << s.start << "->" << s.end;
  }
}

TEST(CurriculumStaircase, FixedIsConstant) {
  const Staircase s = Staircase::fixed(12);
  EXPECT_EQ(s.start, 12);
  EXPECT_EQ(s.end, 12);
  EXPECT_EQ(s.inc, 0);
  for (int64_t i : {0, 1, 999, 1000, 1000000000}) EXPECT_EQ(s.at(i), 12) << i;
  EXPECT_EQ(Staircase::fixed(1).at(5000), 1);
}

}  // namespace
}  // namespace looplab::host
