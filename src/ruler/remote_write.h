// Prometheus remote write (protocol 1.0) for recording-rule results: a `prometheus.WriteRequest`
// protobuf, snappy block-compressed, POSTed with `Content-Encoding: snappy`,
// `Content-Type: application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0`
// (plus `X-Scope-OrgID: <tenant>`, as Loki's ruler sends it).
//
// Delivery is asynchronous: Enqueue never blocks the evaluator. One sender thread drains a
// bounded queue, one request per tenant batch; 5xx, 429 and connection failures are retried
// with exponential backoff (min_backoff doubling to max_backoff) until max_retries, other 4xx
// are dropped at once (Prometheus' rules). When the queue is full the oldest batch is dropped
// and counted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "core/metrics.h"
#include "core/queued_sender.h"
#include "core/status.h"

namespace skald::http {
class HttpClient;
}  // namespace skald::http

namespace skald::ruler {

struct RemoteSample {
  Labels labels;  // including __name__
  double value = 0;
  int64_t timestamp_ms = 0;
};

// The uncompressed protobuf WriteRequest: one TimeSeries per sample (labels sorted by name,
// as Labels keeps them).
std::string EncodeWriteRequest(const std::vector<RemoteSample>& samples);
// EncodeWriteRequest, then snappy (block format).
std::string EncodeWriteRequestSnappy(const std::vector<RemoteSample>& samples);

struct RemoteWriteOptions {
  std::string url;  // http://host:port/api/v1/write (no TLS)
  int64_t timeout_ms = 30000;
  size_t queue_capacity = 10000;  // batches
  int max_retries = 10;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5000;
  bool send_tenant_header = true;  // X-Scope-OrgID
};

class RemoteWriter : private QueuedSender {
 public:
  // Starts the sender thread. Metrics (when `metrics` is non-null) are registered there:
  // loki_ruler_remote_write_samples_total{status="sent|failed|dropped"}, ..._requests_total.
  RemoteWriter(RemoteWriteOptions options, metrics::Registry* metrics);
  ~RemoteWriter();  // Stop()
  RemoteWriter(const RemoteWriter&) = delete;
  RemoteWriter& operator=(const RemoteWriter&) = delete;

  // Queues one tenant's samples (one evaluation's worth). Never blocks on the network.
  void Enqueue(std::string tenant, std::vector<RemoteSample> samples);
  // Tries to send what is queued for at most `timeout_ms`, then stops the thread.
  void Stop(int64_t timeout_ms = 5000) { StopAndJoin(timeout_ms); }

  // For tests and /metrics: samples acknowledged by the receiver so far.
  uint64_t samples_sent() const { return Read(sent_); }
  uint64_t samples_failed() const { return Read(failed_); }
  uint64_t samples_dropped() const { return Read(dropped_); }

 private:
  struct Batch {
    std::string tenant;
    std::vector<RemoteSample> samples;
  };
  enum class Outcome { kSent, kFailed };
  void Run();
  // Sends one request body (n samples) with the retry rules above; returns when it is
  // acknowledged, refused, out of retries, or the stop deadline has passed.
  Outcome SendWithRetries(http::HttpClient* client, const std::string& request, size_t n);
  // Waits up to ms (less when the stop deadline comes first); false when the deadline passed.
  bool Backoff(int64_t ms);
  // Adds n samples to the sent or failed counters. REQUIRES: mu_ not held.
  void Count(Outcome outcome, size_t n);

  RemoteWriteOptions options_;
  std::deque<Batch> queue_;
  metrics::Counter* sent_metric_ = nullptr;
  metrics::Counter* failed_metric_ = nullptr;
  metrics::Counter* dropped_metric_ = nullptr;
  // loki_ruler_remote_write_requests_total{status="sent|retried|failed"}: one per HTTP attempt.
  metrics::Counter* requests_sent_metric_ = nullptr;
  metrics::Counter* requests_retried_metric_ = nullptr;
  metrics::Counter* requests_failed_metric_ = nullptr;
};

}  // namespace skald::ruler
