// The distributor's side of replication: an ingester::Pusher that writes each stream to the
// `replication_factor` ingesters the ring assigns its token to (unhealthy ones replaced by
// the next owners, ring/ring.h), over gRPC (RemotePusher), and succeeds for a stream once a
// quorum (rf/2 + 1) of them took it, as Loki's distributor does. Each ingester gets one
// request holding all of its streams; the requests run in parallel on a small pool.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/thread_pool.h"
#include "ingester/interface.h"
#include "ring/ring.h"
#include "rpc/pusher.h"

namespace skald::rpc {

class ReplicatingPusher : public ingester::Pusher {
 public:
  // `ring` returns the current ingester ring (a RingWatcher's snapshot).
  ReplicatingPusher(std::function<std::shared_ptr<const ring::Ring>()> ring, int replication_factor,
                    int64_t timeout_ns);
  ~ReplicatingPusher() override;

  // OK when every stream reached a quorum (its result then counts its entries appended).
  // Otherwise the first refusal an ingester gave (InvalidArgument, ResourceExhausted), or
  // Unavailable naming how many replicas took the stream; streams that did reach a quorum
  // are written regardless (as in Loki, a failed push may be retried whole: ingesters drop
  // the duplicates).
  Status PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) override;

 private:
  RemotePusher* ClientFor(const std::string& addr);

  const std::function<std::shared_ptr<const ring::Ring>()> ring_;
  const int rf_;
  const int64_t timeout_ns_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RemotePusher>> clients_;
  // Sends to the replicas side by side (the calling thread takes one).
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace skald::rpc
