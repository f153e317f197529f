// Keyed GCRA token buckets (see rate_limiter.h).
#include "limits/rate_limiter.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace skald::limits {

namespace {

constexpr double kNanos = 1e9;
// Time spans are capped here so tat arithmetic never overflows (~146 years).
constexpr double kMaxSpanNs = 4.6e18;

// limit <= 0 means "never refills" (Go's rate.Limiter with limit 0: the initial burst and
// nothing more). GCRA needs a positive rate, so such a bucket refills its burst in ~127
// years instead, which keeps every span finite and proportional.
double EffectiveLimit(const Rate& r) { return std::max({r.limit, r.burst * kNanos / 4e18, 1e-12}); }

// Nanoseconds the bucket needs to refill `tokens` at `limit`/s, capped.
double SpanNs(double tokens, double limit) { return std::min(tokens * kNanos / limit, kMaxSpanNs); }

// A rate as a bucket keeps it (RateBucket): in float's range.
float Narrow(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(v, -kMax, kMax));
}

// How far tat is ahead of now (0 when the bucket is full).
int64_t DebtNs(int64_t tat, int64_t now_ns) { return tat > now_ns ? tat - now_ns : 0; }

}  // namespace

RateLimiter::RateLimiter(int64_t idle_ns) : idle_ns_(std::max<int64_t>(idle_ns, 1)) {}

void RateBucket::Adopt(int64_t now_ns, Rate rate) {
  const float limit = Narrow(rate.limit), burst = Narrow(rate.burst);
  if (tat_ != INT64_MIN && (limit != limit_ || burst != burst_)) {
    const Rate old{static_cast<double>(limit_), static_cast<double>(burst_)};
    const double old_limit = EffectiveLimit(old);
    const double new_limit = EffectiveLimit(rate);
    // Keep the tokens the bucket holds now (as Go's SetLimitAt/SetBurstAt do), capped at the
    // new burst; from now on it refills at the new rate.
    double tokens = old.burst - static_cast<double>(DebtNs(tat_, now_ns)) * old_limit / kNanos;
    tokens = std::clamp(tokens, 0.0, std::max(rate.burst, 0.0));
    const double debt = SpanNs(std::max(rate.burst, 0.0) - tokens, new_limit);
    tat_ = now_ns + static_cast<int64_t>(std::ceil(debt));
  }
  limit_ = limit;
  burst_ = burst;
}

bool RateBucket::Take(int64_t now_ns, uint64_t n, Rate rate) {
  Adopt(now_ns, rate);
  const double need = static_cast<double>(n);
  if (need > rate.burst) return false;  // Go: a request above burst is never allowed
  if (n == 0) return true;
  const double limit = EffectiveLimit(rate);
  const double cost = SpanNs(need, limit);
  const double window = SpanNs(rate.burst, limit);
  const double debt = static_cast<double>(DebtNs(tat_, now_ns));
  // The decision is exact (in doubles); the new tat rounds up, so rounding can only ever
  // leave a bucket fractionally emptier, never let more through than the rate.
  if (debt + cost > window) return false;
  tat_ = now_ns + static_cast<int64_t>(std::ceil(debt + cost));
  return true;
}

void RateLimiter::SweepLocked(Shard& shard, int64_t now_ns) {
  shard.last_sweep = now_ns;
  // Full since tat: after idle_ns of that a bucket is the same as a new one.
  absl::erase_if(shard.map,
                 [&](const auto& kv) { return kv.second.full_at() < now_ns - idle_ns_; });
  if (shard.map.size() < shard.map.capacity() / 4) shard.map.rehash(0);  // shrink
}

RateLimiter::Key RateLimiter::KeyOf(std::string_view key) {
  return {XXH3_64bits(key.data(), key.size())};
}

template <typename Fn>
auto RateLimiter::WithBucket(Key key, int64_t now_ns, Fn&& fn) {
  // The shard comes from the top bits, the map's own slot from a hash of the whole key.
  Shard& shard = shards_[key.h >> 58 & (kShards - 1)];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) {
    if (shard.last_sweep == INT64_MIN || now_ns - shard.last_sweep >= idle_ns_ / 4) {
      SweepLocked(shard, now_ns);
    }
    it = shard.map.try_emplace(key).first;
  }
  return fn(it->second);
}

bool RateLimiter::AllowN(Key key, int64_t now_ns, uint64_t n, Rate rate) {
  return WithBucket(key, now_ns, [&](RateBucket& b) { return b.Take(now_ns, n, rate); });
}

void RateLimiter::EvictIdle(int64_t now_ns) {
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    SweepLocked(shard, now_ns);
  }
}

size_t RateLimiter::Size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

}  // namespace skald::limits
