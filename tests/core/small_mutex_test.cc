// core/small_mutex.h: mutual exclusion under contention (threads sleep on the futex and are
// woken), try_lock, and the Lockable interface the standard guards use.
#include "core/small_mutex.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace skald {
namespace {

TEST(SmallMutexTest, TryLockFailsWhileHeld) {
  SmallMutex mu;
  EXPECT_TRUE(mu.try_lock());
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  std::unique_lock<SmallMutex> lock(mu);
  EXPECT_TRUE(lock.owns_lock());
  std::thread other([&] { EXPECT_FALSE(mu.try_lock()); });
  other.join();
}

// A non-atomic counter: a lost update means two threads were inside at once. Each holder
// also yields inside, so others pile up, spin out and sleep on the futex.
TEST(SmallMutexTest, ExcludesUnderContention) {
  SmallMutex mu;
  int64_t counter = 0;
  int inside = 0;
  bool overlap = false;
  constexpr int kThreads = 8, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; i++) {
        std::lock_guard<SmallMutex> lock(mu);
        if (++inside != 1) overlap = true;
        counter++;
        if (i % 64 == 0) std::this_thread::yield();
        --inside;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(overlap);
  EXPECT_EQ(counter, int64_t{kThreads} * kRounds);
  EXPECT_TRUE(mu.try_lock());  // left free
  mu.unlock();
}

}  // namespace
}  // namespace skald
