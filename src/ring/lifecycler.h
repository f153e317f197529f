// An instance's membership in the ring: registers its tokens, keeps its heartbeat fresh,
// moves through PENDING -> JOINING -> ACTIVE -> LEAVING, and removes itself on leave. Its
// key is `prefix + id` in the KV store, attached to a lease of `lease_ttl_seconds` that each
// heartbeat keeps alive: an instance that dies turns unhealthy after the heartbeat timeout
// (readers decide) and is forgotten when its lease runs out.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "ring/kv.h"
#include "ring/ring.h"

namespace skald::ring {

inline constexpr std::string_view kDefaultRingPrefix = "collectors/ring/";

struct LifecyclerConfig {
  std::string prefix = std::string(kDefaultRingPrefix);
  std::string id;
  std::string addr;
  std::string zone;
  int num_tokens = 128;
  int64_t heartbeat_period_ns = 5'000'000'000;
  int64_t lease_ttl_seconds = 600;
};

class Lifecycler {
 public:
  // `kv` must outlive the lifecycler.
  Lifecycler(KV* kv, LifecyclerConfig cfg);
  ~Lifecycler();  // stops heartbeating; does not leave (a crash looks the same)

  // Registers as JOINING and starts heartbeating. An entry left under the same id (a
  // restart) keeps its tokens; otherwise num_tokens new ones are drawn, avoiding the ring's.
  Status Join();
  // The address published from the next write on (e.g. once the gRPC port is bound).
  void SetAddr(std::string addr);
  // Publishes a new state at once.
  Status SetState(State s);
  // LEAVING, then removes the entry and stops heartbeating.
  Status Leave();

  InstanceDesc desc() const;
  // Whether Leave() succeeded (the entry is gone; Join() registers again).
  bool left() const;
  const std::string& id() const { return cfg_.id; }
  // Heartbeats published and failed so far.
  uint64_t heartbeats() const { return heartbeats_.load(); }
  uint64_t heartbeat_failures() const { return heartbeat_failures_.load(); }

 private:
  Status PublishLocked();
  void HeartbeatLoop();
  void StopHeartbeats();

  KV* kv_;
  const LifecyclerConfig cfg_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  InstanceDesc desc_;
  int64_t lease_ = 0;
  bool left_ = false;
  std::thread heartbeat_;
  std::atomic<uint64_t> heartbeats_{0}, heartbeat_failures_{0};
};

// The ring as stored under `prefix`; entries that do not parse are skipped.
StatusOr<Ring> ReadRing(KV* kv, std::string_view prefix, int64_t heartbeat_timeout_ns,
                        int64_t* revision = nullptr);
// Removes instance `id` from the ring (the /ring page's "Forget").
Status Forget(KV* kv, std::string_view prefix, std::string_view id);

}  // namespace skald::ring
