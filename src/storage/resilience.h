// Retries with exponential backoff and full jitter, and a circuit breaker, for requests to a
// remote store. Both are engine-side building blocks with no I/O of their own.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "core/status.h"

namespace skald::storage {

// Loki's backoff_config: the n-th retry (n from 0) waits a uniformly random time in
// [0, min(max_period, min_period * 2^n)] ("full jitter"), at most max_retries retries.
struct BackoffConfig {
  int64_t min_period_ns = 100'000'000;    // 100ms
  int64_t max_period_ns = 3'000'000'000;  // 3s
  int max_retries = 5;
};

class Backoff {
 public:
  explicit Backoff(const BackoffConfig& cfg, uint64_t seed);
  // The wait before retry number `retry` (0-based), in nanoseconds.
  int64_t Delay(int retry);

 private:
  BackoffConfig cfg_;
  std::mt19937_64 rng_;
};

// Closed: requests pass; `failure_threshold` consecutive failures open it. Open: requests fail
// fast (Unavailable) for `open_duration_ns`, then the breaker is half-open: one request at a
// time passes as a probe; its success closes the breaker, its failure opens it again.
struct CircuitBreakerConfig {
  int failure_threshold = 5;
  int64_t open_duration_ns = 10'000'000'000;  // 10s
};

class CircuitBreaker {
 public:
  enum class State : int { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  explicit CircuitBreaker(CircuitBreakerConfig cfg) : cfg_(cfg) {}

  // OK when a request may go now (in half-open: this caller is the probe and must report
  // its outcome); Unavailable naming `name` while open or while another probe is in flight.
  Status Allow(int64_t now_ns, const std::string& name);
  void RecordSuccess();
  void RecordFailure(int64_t now_ns);

  State state() const { return static_cast<State>(state_.load(std::memory_order_relaxed)); }
  // How many times the breaker has opened.
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }

 private:
  const CircuitBreakerConfig cfg_;
  std::mutex mu_;
  int failures_ = 0;              // consecutive, while closed
  int64_t open_until_ns_ = 0;     // while open
  bool probe_in_flight_ = false;  // while half-open
  std::atomic<int> state_{0};
  std::atomic<uint64_t> opened_{0};
};

std::string_view CircuitBreakerStateName(CircuitBreaker::State s);

}  // namespace skald::storage
