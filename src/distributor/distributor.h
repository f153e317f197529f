// Distributor: validates pushed streams and entries with Loki's rules and
// messages, enriches labels (service_name), and hands accepted entries to the
// ingester. Invalid streams/entries are dropped one by one and reported; the
// valid rest of the request is still written (Loki's partial acceptance).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "distributor/labels_cache.h"
#include "distributor/refusal_log.h"
#include "ingester/interface.h"
#include "limits/limits.h"
#include "limits/rate_limiter.h"
#include "wire/push.h"

namespace skald::metrics {
class Registry;
class Counter;
template <class T>
class Family;
}  // namespace skald::metrics

namespace skald::distributor {

class Distributor {
 public:
  // limits and ingester must outlive the distributor; registry may be null.
  Distributor(const limits::Overrides* limits, ingester::Pusher* ingester,
              metrics::Registry* registry);

  // Validates and writes a decoded push for tenant. Returns:
  //  OK                  -> 204: everything accepted
  //  InvalidArgument     -> 400: some streams/entries were rejected (the rest was written);
  //                         the message groups the reasons as Loki does
  //  Unprocessable       -> 422: the request carried no streams
  //  ResourceExhausted   -> 429: the tenant's ingestion rate limit refused the whole request
  //                         (nothing written), or a stream's rate limit refused some of its
  //                         entries (the rest of the request was written), or the ingester's
  //                         memory guard refused it for the tenant's max_head_bytes_per_user
  //  Unavailable         -> 503: the ingester could not take it (WAL failure, or the memory
  //                         guard's process cap); nothing written
  // Thread-safe.
  Status Push(std::string_view tenant, const wire::PushRequest& req);

  // Loki's "global" ingestion_rate_strategy: a tenant's ingestion_rate_mb is divided by the
  // number of healthy distributors this returns (the distributor ring; at least 1; the burst
  // is not divided, as in Loki). Unset: 1. Called on every push: keep it cheap.
  void SetHealthyDistributors(std::function<int()> count) {
    healthy_distributors_ = std::move(count);
  }

  // Loki's grouping of validation errors: one error -> its text; otherwise
  // "N errors like: <msg>" per distinct message joined with "; ".
  static std::string GroupErrors(const std::vector<std::string>& errors);

 private:
  struct Metrics;
  // Counts refused lines in loki_discarded_{samples,bytes}_total and in the running push's
  // RefusalReport (logged when the push ends).
  void Discard(std::string_view reason, std::string_view tenant, uint64_t lines, uint64_t bytes);

  const limits::Overrides* limits_;
  ingester::Pusher* ingester_;
  // Loki's "local" ingestion_rate_strategy: one bucket per tenant on this distributor.
  limits::RateLimiter tenant_rates_;
  std::function<int()> healthy_distributors_;
  // Loki's per-stream limit is its ingester's: each push carries the tenant's rate to the
  // ingester (StreamAppend::rate), whose stream holds the bucket and refuses entries before
  // its WAL append.
  LabelsCache labels_cache_;
  // Per-tenant log lines for what Discard counts (refusal_log.h).
  RefusalLog refusal_log_{10 * kNanosPerSecond};
  // Metric families, resolved once (null without a registry).
  metrics::Family<metrics::Counter>* lines_received_ = nullptr;
  metrics::Family<metrics::Counter>* bytes_received_ = nullptr;
  metrics::Family<metrics::Counter>* discarded_samples_ = nullptr;
  metrics::Family<metrics::Counter>* discarded_bytes_ = nullptr;
  metrics::Family<metrics::Counter>* mutated_samples_ = nullptr;  // max_line_size_truncate
  metrics::Family<metrics::Counter>* mutated_bytes_ = nullptr;
};

}  // namespace skald::distributor
