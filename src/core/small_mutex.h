// SmallMutex: a 4-byte mutex (std::mutex is 40 bytes) for objects there are millions of, such
// as the ingester's streams, whose locks are almost never contended. Linux futex based: the
// word is 0 (free), 1 (held) or 2 (held, and a thread may be waiting); unlock wakes one
// waiter only in the last case. Meets the Lockable requirements (std::lock_guard,
// std::unique_lock, std::scoped_lock). Not recursive; not usable with
// std::condition_variable.
//
// Acquisition is an acquire compare-and-swap and release a release exchange on the word, so
// ThreadSanitizer sees the ordering through the atomics themselves.
#pragma once

#include <atomic>
#include <cstdint>

namespace skald {

class SmallMutex {
 public:
  SmallMutex() = default;
  SmallMutex(const SmallMutex&) = delete;
  SmallMutex& operator=(const SmallMutex&) = delete;

  void lock() {
    uint32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      LockSlow();
    }
  }

  bool try_lock() {
    uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) Wake();
  }

 private:
  void LockSlow();
  void Wake();

  std::atomic<uint32_t> state_{0};
};

static_assert(sizeof(SmallMutex) == 4);

}  // namespace skald
