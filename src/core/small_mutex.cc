#include "core/small_mutex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace skald {

namespace {

void FutexWait(std::atomic<uint32_t>* word, uint32_t value) {
  // Returns at once when *word != value; spurious wakeups are handled by the caller's loop.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr,
          0);
}

void FutexWakeOne(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

void SmallMutex::LockSlow() {
  // A short spin first: a stream is held for one push's appends, microseconds.
  for (int i = 0; i < 64; i++) {
    uint32_t expected = 0;
    if (state_.load(std::memory_order_relaxed) == 0 &&
        state_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // Mark the word contended (2) and sleep until it is free; taking it with 2 keeps the
  // "someone may wait" mark, so our unlock wakes the next waiter.
  while (state_.exchange(2, std::memory_order_acquire) != 0) FutexWait(&state_, 2);
}

void SmallMutex::Wake() { FutexWakeOne(&state_); }

}  // namespace skald
