// Unit tests for the keyed token buckets behind the ingestion rate limits: Go's
// rate.Limiter.AllowN semantics (start full, refill at limit up to burst, n > burst never
// allowed, a refused request takes nothing), limit changes, idle eviction, and that many
// threads together never get more than limit * t + burst.
#include "limits/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"

namespace skald::limits {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
const Rate k100{100, 300};  // 100 tokens/s, burst 300

TEST(RateLimiterTest, NewBucketStartsFullAndRefillsAtTheLimit) {
  RateLimiter rl;
  const int64_t t = 1000 * kSec;
  EXPECT_TRUE(rl.AllowN("a", t, 300, k100));
  EXPECT_FALSE(rl.AllowN("a", t, 1, k100));
  EXPECT_TRUE(rl.AllowN("a", t + kSec / 2, 50, k100));  // 0.5 s refilled 50
  EXPECT_FALSE(rl.AllowN("a", t + kSec / 2, 1, k100));
  EXPECT_FALSE(rl.AllowN("a", t + kSec, 51, k100));  // refused: takes nothing
  EXPECT_TRUE(rl.AllowN("a", t + kSec, 50, k100));
}

TEST(RateLimiterTest, RefillIsCappedAtBurst) {
  RateLimiter rl;
  const int64_t t = 1000 * kSec;
  EXPECT_TRUE(rl.AllowN("a", t, 300, k100));
  // An hour idle refills to 300, not 360000.
  EXPECT_TRUE(rl.AllowN("a", t + 3600 * kSec, 300, k100));
  EXPECT_FALSE(rl.AllowN("a", t + 3600 * kSec, 1, k100));
}

TEST(RateLimiterTest, MoreThanBurstIsNeverAllowed) {
  RateLimiter rl;
  EXPECT_FALSE(rl.AllowN("a", 0, 301, k100));
  EXPECT_FALSE(rl.AllowN("a", 3600 * kSec, 301, k100));
  EXPECT_TRUE(rl.AllowN("a", 3600 * kSec, 300, k100));  // the refusals took nothing
  EXPECT_TRUE(rl.AllowN("a", 3600 * kSec, 0, k100));
}

TEST(RateLimiterTest, KeysHaveTheirOwnBuckets) {
  RateLimiter rl;
  EXPECT_TRUE(rl.AllowN("a", 0, 300, k100));
  EXPECT_FALSE(rl.AllowN("a", 0, 1, k100));
  EXPECT_TRUE(rl.AllowN("b", 0, 300, k100));
  EXPECT_EQ(rl.Size(), 2u);
}

TEST(RateLimiterTest, ChangedLimitAndBurstApplyAtOnce) {
  RateLimiter rl;
  const int64_t t = 1000 * kSec;
  EXPECT_TRUE(rl.AllowN("a", t, 300, k100));  // empty
  // The limit goes to 1000/s, burst 2000: the bucket keeps its (zero) tokens and refills
  // at the new rate.
  const Rate fast{1000, 2000};
  EXPECT_FALSE(rl.AllowN("a", t, 1, fast));
  EXPECT_TRUE(rl.AllowN("a", t + kSec, 1000, fast));
  EXPECT_FALSE(rl.AllowN("a", t + kSec, 1, fast));
  // A request between the old and the new burst is allowed once the bucket holds it.
  EXPECT_TRUE(rl.AllowN("a", t + 3 * kSec, 2000, fast));
  // Lowering the burst caps what the bucket holds.
  const Rate small{10, 20};
  EXPECT_FALSE(rl.AllowN("a", t + 100 * kSec, 21, small));
  EXPECT_TRUE(rl.AllowN("a", t + 100 * kSec, 20, small));
  EXPECT_FALSE(rl.AllowN("a", t + 100 * kSec + kSec / 2, 6, small));
  EXPECT_TRUE(rl.AllowN("a", t + 100 * kSec + kSec / 2, 5, small));
}

// A bucket keeps its configured rate as floats: rates beyond float's range, and rates that
// differ below float's precision, still decide exactly (with the caller's rate) and change
// over cleanly.
TEST(RateLimiterTest, RatesBeyondFloatRangeAndPrecision) {
  RateLimiter rl;
  const int64_t t = 1000 * kSec;
  const Rate huge{1e300, 1e300};
  EXPECT_TRUE(rl.AllowN("a", t, uint64_t{1} << 62, huge));
  EXPECT_TRUE(rl.AllowN("a", t, uint64_t{1} << 62, huge));
  // From a huge rate to a small one: the bucket holds at most the new burst (300).
  EXPECT_FALSE(rl.AllowN("a", t, 301, k100));
  EXPECT_TRUE(rl.AllowN("a", t, 300, k100));
  EXPECT_FALSE(rl.AllowN("a", t, 1, k100));
  // Bursts one byte apart near 2^40 are the same float, yet each decides by its own value.
  const Rate b1{1, 1099511627776.0}, b2{1, 1099511627777.0};
  EXPECT_FALSE(rl.AllowN("b", t, 1099511627777, b1));
  EXPECT_TRUE(rl.AllowN("c", t, 1099511627777, b2));
}

TEST(RateLimiterTest, ZeroLimitNeverRefills) {
  RateLimiter rl;
  const Rate none{0, 10};
  EXPECT_TRUE(rl.AllowN("a", 0, 10, none));
  EXPECT_FALSE(rl.AllowN("a", 3600 * kSec, 1, none));
}

// A bucket held by its owner (an ingester stream's): entries are taken in order, each if
// it fits, a refused one taking nothing.
TEST(RateBucketTest, TakesWhatFitsInOrder) {
  RateBucket b;
  std::vector<char> allowed;
  for (uint64_t size : {100, 150, 100, 50, 400}) allowed.push_back(b.Take(0, size, k100));
  EXPECT_EQ(allowed, (std::vector<char>{1, 1, 0, 1, 0}));
  // It refills at the limit, as a RateLimiter bucket does.
  EXPECT_FALSE(b.Take(kSec / 2, 51, k100));
  EXPECT_TRUE(b.Take(kSec / 2, 50, k100));
}

TEST(RateLimiterTest, IdleBucketsAreEvicted) {
  RateLimiter rl(10 * kNanosPerMinute);
  const int64_t t = 1000 * kSec;
  EXPECT_TRUE(rl.AllowN("a", t, 300, k100));
  EXPECT_TRUE(rl.AllowN("b", t, 1, k100));
  rl.EvictIdle(t + 5 * kNanosPerMinute);  // full again, but not idle long enough
  EXPECT_EQ(rl.Size(), 2u);
  rl.EvictIdle(t + 11 * kNanosPerMinute);
  EXPECT_EQ(rl.Size(), 0u);
  // A bucket still refilling is kept however long ago it was created.
  const Rate slow{1, 1000};
  EXPECT_TRUE(rl.AllowN("c", t, 1000, slow));  // full again after 1000 s
  rl.EvictIdle(t + 15 * kNanosPerMinute);
  EXPECT_EQ(rl.Size(), 1u);
  EXPECT_FALSE(rl.AllowN("c", t + 15 * kNanosPerMinute, 1000, slow));
}

TEST(RateLimiterTest, InsertsSweepIdleBucketsOfTheirShard) {
  RateLimiter rl(kSec);
  for (int i = 0; i < 1000; i++) rl.AllowN("k" + std::to_string(i), 0, 1, k100);
  EXPECT_EQ(rl.Size(), 1000u);
  // Much later, new keys sweep the shards they land in: the map never keeps the old ones.
  for (int i = 0; i < 1000; i++) rl.AllowN("n" + std::to_string(i), 100 * kSec, 1, k100);
  EXPECT_LT(rl.Size(), 1100u);
}

TEST(RateLimiterTest, ManyThreadsNeverExceedLimitTimesTimePlusBurst) {
  RateLimiter rl;
  const Rate rate{1e6, 2e5};  // 1 MB/s, 200 KB burst
  constexpr int kThreads = 8;
  std::atomic<uint64_t> granted{0};
  const int64_t start = MonotonicNanos();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([&, i] {
      uint64_t mine = 0;
      while (MonotonicNanos() - start < kSec / 5) {
        const uint64_t n = 100 + 37 * i;
        if (rl.AllowN("tenant", MonotonicNanos(), n, rate)) mine += n;
      }
      granted += mine;
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = static_cast<double>(MonotonicNanos() - start) / kSec;
  EXPECT_LE(static_cast<double>(granted.load()), rate.limit * elapsed + rate.burst);
  // And it does let the rate through (loose: a loaded CI machine may stall threads).
  EXPECT_GE(static_cast<double>(granted.load()), rate.burst);
}

}  // namespace
}  // namespace skald::limits
