// Unit tests for Loki's step policy: the default step (max(floor(range/250s), 1s)),
// the zero/negative step and 11,000-points errors with Loki's exact texts, and the
// query frontend's step alignment of metric range queries (start down, end up, step
// truncated to ms). Expected values come from Loki's documented rules and its
// loghttp / queryrange behaviour (pkg/loghttp/params.go, metricQuerySplitter).
#include "querier/step_policy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "core/time.h"

namespace skald::querier {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
constexpr int64_t kMs = kNanosPerMilli;

constexpr const char* kNonPositive =
    "zero or negative query resolution step widths are not accepted. Try a positive integer";
constexpr const char* kTooManyPoints =
    "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of "
    "the step parameter";

TEST(StepPolicyTest, DefaultStepIsRangeOver250InWholeSecondsAtLeastOne) {
  struct Case {
    int64_t range_ns;
    int64_t want_ns;
  };
  const Case cases[] = {
      {0, 1 * kSec},                        // empty range still steps by 1s
      {249 * kSec, 1 * kSec},               // below 250s
      {499 * kSec + 999 * kMs, 1 * kSec},   // floor(1.999...) = 1
      {500 * kSec, 2 * kSec},               // exact boundary
      {3600 * kSec, 14 * kSec},             // 1h: floor(14.4)
      {6 * 3600 * kSec, 86 * kSec},         // 6h: floor(86.4)
      {24 * 3600 * kSec, 345 * kSec},       // 24h: floor(345.6)
      {7 * 24 * 3600 * kSec, 2419 * kSec},  // 7d: floor(2419.2)
      {-10 * kSec, 1 * kSec},               // end before start: max(..., 1)
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DefaultStepNs(1000 * kSec, 1000 * kSec + c.range_ns), c.want_ns) << c.range_ns;
  }
}

TEST(StepPolicyTest, DefaultStepSaturatesForRangesBeyondInt64) {
  // Go's time.Time.Sub saturates at the longest Duration (~292 years).
  EXPECT_EQ(DefaultStepNs(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()),
            36893488 * kSec);
}

TEST(StepPolicyTest, DefaultStepNeverExceedsTheMaximumResolution) {
  for (int64_t range : {1 * kSec, 3600 * kSec, 30 * 24 * 3600 * kSec, 365 * 24 * 3600 * kSec}) {
    EXPECT_TRUE(ValidateStep(0, range, DefaultStepNs(0, range)).ok()) << range;
  }
}

TEST(StepPolicyTest, ZeroOrNegativeStepIsRejectedWithLokisText) {
  for (int64_t step : {int64_t{0}, int64_t{-1}, -15 * kSec, std::numeric_limits<int64_t>::min()}) {
    Status st = ValidateStep(0, 3600 * kSec, step);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << step;
    EXPECT_EQ(st.message(), kNonPositive) << step;
  }
}

TEST(StepPolicyTest, MoreThan11000PointsIsRejectedWithLokisText) {
  struct Case {
    int64_t range_ns;
    int64_t step_ns;
    bool ok;
  };
  const Case cases[] = {
      {11000 * kSec, 1 * kSec, true},                // exactly 11,000 steps: accepted
      {11000 * kSec + 999'999'999, 1 * kSec, true},  // integer division: still 11,000
      {11001 * kSec, 1 * kSec, false},               // one more step
      {3600 * kSec, 1 * kMs, false},                 // 3.6M points
      {3600 * kSec, 327 * kMs, false},               // 11009 points
      {3600 * kSec, 328 * kMs, true},                // 10975 points
      {0, 1, true},                                  // empty range, 1ns step
  };
  for (const auto& c : cases) {
    Status st = ValidateStep(5 * kSec, 5 * kSec + c.range_ns, c.step_ns);
    if (c.ok) {
      EXPECT_TRUE(st.ok()) << c.range_ns << "/" << c.step_ns << ": " << st.message();
    } else {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.range_ns << "/" << c.step_ns;
      EXPECT_EQ(st.message(), kTooManyPoints) << c.range_ns << "/" << c.step_ns;
    }
  }
}

TEST(StepPolicyTest, NonPositiveStepIsReportedBeforeResolution) {
  // Loki checks step <= 0 first; a zero step must never reach the division.
  EXPECT_EQ(ValidateStep(0, std::numeric_limits<int64_t>::max(), 0).message(), kNonPositive);
}

TEST(StepPolicyTest, ResolutionCheckSaturatesInsteadOfOverflowing) {
  Status st = ValidateStep(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                           1 * kSec);
  EXPECT_EQ(st.message(), kTooManyPoints);
  // INT64_MAX ns / 11000 points: the smallest step that passes the saturated range.
  EXPECT_TRUE(ValidateStep(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::max() / 11000 + 1)
                  .ok());
}

TEST(StepPolicyTest, AlignRoundsStartDownAndEndUpToStepMultiples) {
  struct Case {
    int64_t start, end, step;
    StepGrid want;
  };
  const Case cases[] = {
      // Already aligned: unchanged.
      {60 * kSec, 120 * kSec, 60 * kSec, {60 * kSec, 120 * kSec, 60 * kSec}},
      // logcli-style unaligned range with a 1m step.
      {61 * kSec + 5, 179 * kSec, 60 * kSec, {60 * kSec, 180 * kSec, 60 * kSec}},
      // Step multiples count from the epoch, not from start.
      {1'700'000'007 * kSec,
       1'700'000'100 * kSec,
       15 * kSec,
       {1'699'999'995 * kSec, 1'700'000'100 * kSec, 15 * kSec}},
      // Sub-ms parts of the step are dropped, as the frontend carries steps in ms.
      {1 * kSec + 500, 2 * kSec + 1, 250 * kMs + 7, {1 * kSec, 2 * kSec + 250 * kMs, 250 * kMs}},
      // start == end inside a step: start goes down, end up.
      {10 * kSec + 1, 10 * kSec + 1, 1 * kSec, {10 * kSec, 11 * kSec, 1 * kSec}},
      // Go's truncating % (Loki's arithmetic, kept on purpose): a negative start rounds
      // toward zero, and a negative end moves up by step - mod, here -30s + 90s = 60s.
      {-90 * kSec, -30 * kSec, 60 * kSec, {-60 * kSec, 60 * kSec, 60 * kSec}},
  };
  for (const auto& c : cases) {
    StepGrid g = AlignMetricRange(c.start, c.end, c.step);
    EXPECT_EQ(g.start_ns, c.want.start_ns) << c.start << " " << c.end << " " << c.step;
    EXPECT_EQ(g.end_ns, c.want.end_ns) << c.start << " " << c.end << " " << c.step;
    EXPECT_EQ(g.step_ns, c.want.step_ns) << c.start << " " << c.end << " " << c.step;
  }
}

TEST(StepPolicyTest, AlignLeavesSubMillisecondStepsAlone) {
  // Deliberate: Loki's frontend would carry such a step as 0ms; we keep the request as is.
  EXPECT_EQ(AlignMetricRange(1001, 5003, 999'999), (StepGrid{1001, 5003, 999'999}));
}

TEST(StepPolicyTest, AlignSaturatesAtTheEndOfTime) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  StepGrid g = AlignMetricRange(0, max - 5, 1 * kSec);
  EXPECT_EQ(g.end_ns, max);
  EXPECT_EQ(g.start_ns, 0);
}

}  // namespace
}  // namespace skald::querier
