// Live tail (Loki's /loki/api/v1/tail): entries pushed for streams a tail selects are run
// through the tail query's pipeline and sent to its connection as Loki's tail messages.
//
// TailHub sits on the push path as an ingester::Pusher decorator: after the ingester has
// accepted a push, each open tail whose matchers select a pushed stream gets a copy of that
// stream's accepted entries in its pending buffer. Nothing on the push path waits for a tail:
// a tail's pending buffer is bounded (kMaxPendingEntries); entries past it are dropped and
// reported to the client as `dropped_entries` (at most kMaxDroppedMarkers kept), as Loki
// reports entries it could not deliver to a slow client.
//
// One hub thread delivers: every 100 ms (10 ms while a connection has a backlog) it takes each
// tail's entries that are at least `delay_for` old, runs the pipeline (line filters, parsers,
// label filters, formatting) and queues messages of at most 100 entries on the connection while
// it takes them (10 at a time, Loki's buffer). What the connection has not taken yet waits in
// the tail's outbox, bounded like the pending entries; beyond the bound the oldest are dropped
// and reported. A tail whose connection takes no message for slow_client_timeout_ns while
// entries wait is closed with 1011 "slow client". A tail ends when its connection closes, at
// `max_duration` (1011 "reached tail max duration limit", Loki's text) or when the hub stops.
//
// Message (text frame): {"streams":[{"stream":{...},"values":[["<ns>","<line>"]]}],
// "dropped_entries":[{"labels":{...},"timestamp":"<ns>"}]} — the stream object holds the
// entry's stream labels, structured metadata and parsed labels (Loki's default encoding).
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "ingester/interface.h"
#include "logql/ast.h"
#include "wire/query_result.h"

namespace skald::metrics {
class Registry;
class Gauge;
class Counter;
}  // namespace skald::metrics

namespace skald::tail {

// Where a tail's messages go (the server adapts its WebSocket to this). Thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues a message; false when the connection is closed or its queue is full.
  virtual bool Send(std::string text) = 0;
  virtual void Close(uint16_t code, std::string reason) = 0;
  virtual bool closed() const = 0;
};

struct TailOptions {
  int64_t delay_ns = 0;                        // delay_for
  int64_t max_duration_ns = 3600'000'000'000;  // tail_max_duration (Loki: 1h)
  int max_per_tenant = 10;                     // max_concurrent_tail_requests; <= 0: unlimited
  // A connection that takes no message this long while entries wait is closed (1011 "slow
  // client").
  int64_t slow_client_timeout_ns = 10'000'000'000;
};

class TailHub final : public ingester::Pusher {
 public:
  static constexpr size_t kMaxPendingEntries = 10000;  // per tail, waiting for delivery
  static constexpr size_t kMaxDroppedMarkers = 1000;   // per tail, Loki's maxDroppedEntries
  static constexpr size_t kMaxEntriesPerMessage = 100;

  // next and registry (may be null) must outlive the hub. Starts the delivery thread.
  TailHub(ingester::Pusher* next, metrics::Registry* registry);
  ~TailHub() override;  // Stop()s
  TailHub(const TailHub&) = delete;
  TailHub& operator=(const TailHub&) = delete;

  // Forwards to the next pusher, then hands accepted entries to matching tails.
  Status PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) override;

  // Whether the tenant may open one more tail: InvalidArgument with Loki's text
  // `max concurrent tail requests limit exceeded, count > limit (N > L)` when not.
  Status CheckLimit(std::string_view tenant, int max_per_tenant) const;

  // Opens a tail for a log selector (its pipeline compiled here; InvalidArgument when it does
  // not build, or CheckLimit's error when the tenant has opts.max_per_tenant tails already)
  // and sends `history` first (the last entries before now, any order; sent oldest
  // first). The tail lives until its connection closes, max_duration passes or Stop().
  Status Open(std::string_view tenant, const logql::LogSelector& selector,
              const std::vector<wire::ResultStream>& history, const TailOptions& opts,
              std::shared_ptr<Connection> conn);

  // Tails open now (all tenants).
  size_t open_tails() const;
  // Closes every tail (1001 "server shutting down") and joins the delivery thread. Idempotent.
  void Stop();

  struct Tail;  // internal

 private:
  void Run();
  // One delivery round for a tail; true when its connection left entries waiting.
  bool Deliver(Tail& t, int64_t now_mono);

  ingester::Pusher* next_;
  mutable std::mutex mu_;  // tails_
  std::map<std::string, std::vector<std::shared_ptr<Tail>>, std::less<>> tails_;
  std::atomic<size_t> count_{0};
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  metrics::Gauge* active_ = nullptr;
  metrics::Counter* dropped_ = nullptr;
  metrics::Counter* sent_ = nullptr;
};

}  // namespace skald::tail
