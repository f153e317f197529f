// Token buckets for ingestion rate limits: RateBucket, one bucket its owner guards (an
// ingester stream holds its per-stream bucket), and RateLimiter, buckets found by key (the
// tenant limit in the distributor).
//
// Semantics are those of Go's golang.org/x/time/rate `Limiter.AllowN`, which Loki uses:
// tokens refill at `limit` per second up to `burst`; a new bucket starts full; a request
// for n tokens is allowed when n tokens are available and then takes them; a refused
// request takes nothing; a request for more than `burst` is never allowed.
//
// Each bucket is one "theoretical arrival time" (GCRA, the single-word form of a token
// bucket): tokens = burst - max(tat - now, 0) * limit. Buckets are held by value in 64
// hash-map shards and read and updated under their shard's mutex (24 bytes a map slot,
// without an allocation or atomics apiece). A bucket is found by the 64-bit XXH3 of its key,
// not the key itself: no string is built, stored or compared per call, and two keys meet on
// one bucket with a probability of ~2^-64 per pair (then they share a rate).
//
// limit and burst come with every call (the caller reads them from the tenant's current
// limits), so a changed limit is adopted at once: the bucket keeps its current tokens
// (capped at the new burst) and refills at the new rate from then on.
//
// Buckets that have been full for `idle` are indistinguishable from new ones, so they are
// dropped: a shard is swept when a new key is inserted into it (at most once per `idle`/4),
// and EvictIdle sweeps every shard. The map therefore holds only keys used recently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/time.h"

namespace skald::limits {

// A rate: `limit` tokens per second, at most `burst` tokens at once. limit <= 0 never
// refills (the bucket holds its initial burst only, as Go's rate.Limiter with limit 0).
struct Rate {
  double limit = 0;
  double burst = 0;
  bool operator==(const Rate&) const = default;
};

// One bucket, held by its owner and guarded by the owner's lock (an ingester stream keeps its
// own per-stream bucket): the state of a RateLimiter bucket, 16 bytes. A new bucket is full.
// The rate it was last used with is kept as floats: it only tells a changed configuration
// apart (then the bucket keeps its current tokens, capped at the new burst, and refills at the
// new rate) and carries the tokens over; every decision uses the caller's exact rate.
class RateBucket {
 public:
  // Takes n tokens at now_ns if the bucket holds them; returns whether it did (Go's AllowN).
  bool Take(int64_t now_ns, uint64_t n, Rate rate);
  // Full since (no earlier than) this time: a bucket full for a while is the same as a new one.
  int64_t full_at() const { return tat_; }

 private:
  void Adopt(int64_t now_ns, Rate rate);

  int64_t tat_ = INT64_MIN;  // when the bucket is full again (GCRA); INT64_MIN: never used
  float limit_ = 0;
  float burst_ = 0;
};

class RateLimiter {
 public:
  // Buckets full for longer than idle_ns are dropped.
  explicit RateLimiter(int64_t idle_ns = 10 * kNanosPerMinute);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // What a bucket is found by: the 64-bit hash of its key. Two keys that collide share a
  // bucket (about one chance in 2^64 / n² for n keys: 3e-8 at a million streams).
  struct Key {
    uint64_t h = 0;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.h);
    }
  };
  static Key KeyOf(std::string_view key);

  // Takes n tokens from key's bucket at time now_ns (wall or monotonic, but the same
  // clock for every call) if it holds them; returns whether it did. Thread-safe.
  bool AllowN(std::string_view key, int64_t now_ns, uint64_t n, Rate rate) {
    return AllowN(KeyOf(key), now_ns, n, rate);
  }
  bool AllowN(Key key, int64_t now_ns, uint64_t n, Rate rate);

  // Drops every bucket that has been full for idle_ns at now_ns. Thread-safe.
  void EvictIdle(int64_t now_ns);

  // Buckets currently held. Thread-safe.
  size_t Size() const;

 private:
  // Buckets change only under their shard's lock. Held by value in a flat map: a million
  // keys keep a million buckets, at 24 bytes a slot (key included) and no allocation apiece.
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<Key, RateBucket> map;
    int64_t last_sweep = INT64_MIN;  // guarded by mu
  };
  static constexpr size_t kShards = 64;

  // Runs fn(bucket) under the shard's lock, creating the bucket when new.
  template <typename Fn>
  auto WithBucket(Key key, int64_t now_ns, Fn&& fn);
  void SweepLocked(Shard& shard, int64_t now_ns);

  const int64_t idle_ns_;
  Shard shards_[kShards];
};

}  // namespace skald::limits
