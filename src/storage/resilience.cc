#include "storage/resilience.h"

#include <algorithm>

namespace skald::storage {

Backoff::Backoff(const BackoffConfig& cfg, uint64_t seed) : cfg_(cfg), rng_(seed) {}

int64_t Backoff::Delay(int retry) {
  int64_t cap = std::max<int64_t>(cfg_.min_period_ns, 0);
  for (int i = 0; i < retry && cap < cfg_.max_period_ns; i++) cap *= 2;
  cap = std::min(cap, cfg_.max_period_ns);
  if (cap <= 0) return 0;
  return static_cast<int64_t>(rng_() % static_cast<uint64_t>(cap + 1));
}

Status CircuitBreaker::Allow(int64_t now_ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state()) {
    case State::kClosed:
      return Status::OK();
    case State::kOpen:
      if (now_ns < open_until_ns_) {
        return Status::Unavailable("circuit breaker for " + name + " is open");
      }
      state_.store(static_cast<int>(State::kHalfOpen), std::memory_order_relaxed);
      probe_in_flight_ = true;
      return Status::OK();
    case State::kHalfOpen:
      if (probe_in_flight_) {
        return Status::Unavailable("circuit breaker for " + name + " is half-open");
      }
      probe_in_flight_ = true;
      return Status::OK();
  }
  return Status::OK();
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_ = 0;
  probe_in_flight_ = false;
  state_.store(static_cast<int>(State::kClosed), std::memory_order_relaxed);
}

void CircuitBreaker::RecordFailure(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  const State s = state();
  if (s == State::kClosed && ++failures_ < cfg_.failure_threshold) return;
  if (s == State::kOpen) return;  // a request admitted before it opened
  failures_ = 0;
  probe_in_flight_ = false;
  open_until_ns_ = now_ns + cfg_.open_duration_ns;
  state_.store(static_cast<int>(State::kOpen), std::memory_order_relaxed);
  opened_.fetch_add(1, std::memory_order_relaxed);
}

std::string_view CircuitBreakerStateName(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "unknown";
}

}  // namespace skald::storage
