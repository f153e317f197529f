// Keeps a fresh snapshot of a ring for readers on hot paths (the distributor's rate limit,
// the ingester's stream limit): a background thread re-reads the ring whenever the KV store
// reports a change under its prefix (a watch) and at least every `refresh` (heartbeats age
// without changing keys' presence). Readers never touch the KV store.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ring/kv.h"
#include "ring/ring.h"

namespace skald::ring {

class RingWatcher {
 public:
  // `kv` must outlive the watcher.
  RingWatcher(KV* kv, std::string prefix, int64_t heartbeat_timeout_ns,
              std::chrono::milliseconds refresh);
  ~RingWatcher();

  // Reads the ring once (the first snapshot), then keeps it fresh in the background.
  Status Start();
  void Stop();

  // The latest snapshot (an empty ring before Start).
  std::shared_ptr<const Ring> ring() const;
  // Instances healthy for `op` when the latest snapshot was taken (at most `refresh` ago),
  // at least `floor`. A load of an atomic: cheap enough for every push.
  int Healthy(Operation op, int floor = 1) const;

 private:
  Status Refresh(int64_t* revision);
  void Loop(int64_t revision);

  KV* kv_;
  const std::string prefix_;
  const int64_t heartbeat_timeout_ns_;
  const std::chrono::milliseconds refresh_;
  mutable std::mutex mu_;
  std::shared_ptr<const Ring> ring_;
  std::atomic<int> healthy_write_{0}, healthy_read_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace skald::ring
