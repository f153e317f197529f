#include "core/thread_pool.h"

#include <atomic>
#include <future>
#include <vector>

#include <gtest/gtest.h>

namespace skald {
namespace {

TEST(ThreadPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool("test", 3, 0);
    for (int i = 0; i < 100; i++) ASSERT_TRUE(pool.TrySubmit([&] { ran++; }));
    pool.Shutdown();  // runs what is queued before joining
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolTest, RefusesTasksBeyondTheQueueBound) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ThreadPool pool("test", 1, 2);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is now busy
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // queue holds 2
  EXPECT_EQ(pool.queued(), 2u);
  release.set_value();
  pool.Shutdown();
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(ThreadPoolTest, RefusesTasksAfterShutdown) {
  ThreadPool pool("test", 2, 0);
  pool.Shutdown();
  bool ran = false;
  EXPECT_FALSE(pool.TrySubmit([&] { ran = true; }));
  pool.Shutdown();  // idempotent
  EXPECT_FALSE(ran);
}

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  ThreadPool pool("test", 4, 0);
  std::vector<std::atomic<int>> hits(1000);
  ParallelFor(&pool, hits.size(), 8, [&](size_t i) { hits[i]++; });
  for (size_t i = 0; i < hits.size(); i++) ASSERT_EQ(hits[i].load(), 1) << i;
}

TEST(ParallelForTest, RunsOnTheCallerWithoutAPool) {
  std::vector<int> hits(10, 0);
  ParallelFor(nullptr, hits.size(), 4, [&](size_t i) { hits[i]++; });
  for (int h : hits) EXPECT_EQ(h, 1);
}

TEST(ParallelForTest, NeverWaitsForHelpersThatDidNotStart) {
  // Every worker of a one-thread pool runs a ParallelFor over the same pool: its helper
  // can never start while the worker is busy, so waiting for it would deadlock.
  std::promise<int> result;
  ThreadPool pool("test", 1, 0);
  ASSERT_TRUE(pool.TrySubmit([&] {
    std::atomic<int> sum{0};
    ParallelFor(&pool, 50, 4, [&](size_t i) { sum += static_cast<int>(i); });
    result.set_value(sum.load());
  }));
  EXPECT_EQ(result.get_future().get(), 50 * 49 / 2);
}

TEST(ParallelForTest, FallsBackToTheCallerWhenThePoolIsFull) {
  // The worker waits on these: they are declared before the pool so they outlive it.
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ThreadPool pool("test", 1, 1);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();
  ASSERT_TRUE(pool.TrySubmit([] {}));  // queue now full
  std::vector<int> hits(20, 0);        // plain ints: only the caller may run them
  ParallelFor(&pool, hits.size(), 4, [&](size_t i) { hits[i]++; });
  for (int h : hits) EXPECT_EQ(h, 1);
  release.set_value();
  pool.Shutdown();
}

}  // namespace
}  // namespace skald
