// Queriers reading ingesters over gRPC (skald.ingesterpb.StreamReader, proto/skald/ingester.proto).
//
// The service (hosted by GrpcServer) answers from any ingester::StreamReader: a snapshot ships
// the matching streams' encoded blocks as they are held, in batches of about 4 MiB.
//
// RingStreamReader is the querier's ingester::StreamReader in a scaled-out cluster: it asks
// every ingester of the ring that may hold data (ACTIVE or LEAVING with a fresh heartbeat) in
// parallel and merges their answers. A stream held by several replicas comes back once, with
// the blocks of every replica: the querier's scan drops entries identical in (timestamp, line,
// structured metadata) across overlapping sources, so each line is returned or counted once.
// As Loki's querier: with replication factor RF, up to RF/2 - (instances unhealthy) ingesters
// may fail a call and the answer is still complete (each stream has a quorum of replicas that
// took every acknowledged push); more failures make the call Unavailable. Queries whose range
// ends before now - query_ingesters_within skip the ingesters (they flushed that data).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/thread_pool.h"
#include "ingester/interface.h"
#include "ring/ring.h"

namespace skald::rpc {

// One ingester, over gRPC.
class RemoteStreamReader : public ingester::StreamReader {
 public:
  // `target` is "host:port"; every call waits at most `timeout_ns`.
  RemoteStreamReader(const std::string& target, int64_t timeout_ns);
  ~RemoteStreamReader() override;

  StatusOr<std::vector<ingester::StreamSnapshot>> QuerySnapshot(
      std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through,
      ingester::StreamShard shard) override;
  StatusOr<std::vector<std::string>> QueryLabelNames(std::string_view tenant) override;
  StatusOr<std::vector<std::string>> QueryLabelValues(std::string_view tenant,
                                                      std::string_view name) override;
  StatusOr<std::vector<Labels>> QuerySeries(std::string_view tenant,
                                            const std::vector<Matcher>& matchers) override;
  StatusOr<std::vector<ingester::StreamVolume>> QueryVolumes(std::string_view tenant,
                                                             const std::vector<Matcher>& matchers,
                                                             int64_t from,
                                                             int64_t through) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct RingReaderOptions {
  int replication_factor = 3;
  int64_t timeout_ns = 30'000'000'000;
  // querier.query_ingesters_within: 0 = always ask the ingesters.
  int64_t query_ingesters_within_ns = 3 * 3600 * 1'000'000'000LL;
};

class RingStreamReader : public ingester::StreamReader {
 public:
  // `ring` returns the current ingester ring (a RingWatcher's snapshot).
  RingStreamReader(std::function<std::shared_ptr<const ring::Ring>()> ring, RingReaderOptions opts);
  ~RingStreamReader() override;

  StatusOr<std::vector<ingester::StreamSnapshot>> QuerySnapshot(
      std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through,
      ingester::StreamShard shard) override;
  StatusOr<std::vector<std::string>> QueryLabelNames(std::string_view tenant) override;
  StatusOr<std::vector<std::string>> QueryLabelValues(std::string_view tenant,
                                                      std::string_view name) override;
  StatusOr<std::vector<Labels>> QuerySeries(std::string_view tenant,
                                            const std::vector<Matcher>& matchers) override;
  StatusOr<std::vector<ingester::StreamVolume>> QueryVolumes(std::string_view tenant,
                                                             const std::vector<Matcher>& matchers,
                                                             int64_t from,
                                                             int64_t through) override;

 private:
  // Runs `call` on every ingester that may answer reads, in parallel; fails when more of them
  // failed than the replication factor tolerates. results[i] is set for the ones that answered.
  template <typename T>
  StatusOr<std::vector<T>> ForEachIngester(
      const std::function<StatusOr<T>(ingester::StreamReader*)>& call);
  RemoteStreamReader* ClientFor(const std::string& addr);
  bool Skip(int64_t through) const;

  const std::function<std::shared_ptr<const ring::Ring>()> ring_;
  const RingReaderOptions opts_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RemoteStreamReader>> clients_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace skald::rpc
