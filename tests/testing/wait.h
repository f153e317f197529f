// WaitFor: block until a condition holds, instead of sleeping and hoping.
#pragma once

#include <chrono>
#include <thread>

namespace skald::testing {

// Polls `cond` (every millisecond at first, backing off to 20 ms) until it
// returns true or timeout_ms pass; returns its last value. The timeout is a
// safety net for a broken build, never the thing a test relies on.
template <class Cond>
bool WaitFor(Cond&& cond, int timeout_ms = 30000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::milliseconds(20)) pause *= 2;
  }
}

}  // namespace skald::testing
