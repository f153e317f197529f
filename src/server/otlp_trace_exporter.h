// Exports finished spans (core/tracing.h) over OTLP/HTTP with the JSON encoding: a POST of an
// ExportTraceServiceRequest (`{"resourceSpans":[...]}`, Content-Type application/json) to the
// traces URL, usually `<tracing.otlp_endpoint>/v1/traces`. Off unless an endpoint is
// configured (docs/tracing.md).
//
// Export() never blocks a request: it appends to a bounded queue (spans that do not fit are
// dropped and counted). One sender thread posts batches of at most max_batch spans, as soon as
// a batch is full or flush_interval_ms after the first span waited; a post that fails with a
// connection error, a timeout, 429 or 5xx is retried up to max_retries times with doubling
// backoff, then its spans are dropped and counted. Plain http only (the project's one HTTP
// client has no TLS).
//
// Metrics (when a registry is given):
//   skald_tracing_spans_exported_total            spans the receiver accepted (2xx)
//   skald_tracing_spans_dropped_total{reason}     queue_full | export_failed | shutdown
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/queued_sender.h"
#include "core/status.h"
#include "core/tracing.h"

namespace skald::metrics {
class Registry;
class Counter;
}  // namespace skald::metrics
namespace skald::http {
class HttpClient;
}

namespace skald::server {

// Where spans go, in this order: `configured` (tracing.otlp_endpoint) + "/v1/traces";
// else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is (the OpenTelemetry spec: a signal-specific
// endpoint is the full URL); else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; else "" (export
// off). The env values are passed in (null = unset) so callers and tests choose the source.
// A trailing '/' of a base endpoint is dropped before "/v1/traces" is added.
std::string OtlpTracesUrl(std::string_view configured, const char* traces_env,
                          const char* base_env);

// The OTLP/JSON body for `spans`: one resource (service.name=skald, service.version), one
// scope (name "skald"), ids in lowercase hex, times and int attributes as decimal strings,
// enums as integers (the OTLP spec's JSON mapping).
std::string EncodeOtlpTracesJson(const std::vector<std::unique_ptr<trace::SpanData>>& spans,
                                 std::string_view service_version);

struct OtlpTraceExporterOptions {
  std::string url;  // the traces URL: http://host:4318/v1/traces
  std::string service_version;
  size_t queue_capacity = 4096;  // spans waiting to be sent
  size_t max_batch = 512;
  int64_t flush_interval_ms = 1000;
  int64_t timeout_ms = 10000;  // per POST (OTEL_EXPORTER_OTLP_TIMEOUT's default)
  int max_retries = 3;
  int64_t initial_backoff_ms = 100;
};

class OtlpTraceExporter final : public trace::SpanExporter, private QueuedSender {
 public:
  // Errors: InvalidArgument when the URL does not parse or is not http://.
  static StatusOr<std::unique_ptr<OtlpTraceExporter>> Create(OtlpTraceExporterOptions options,
                                                             metrics::Registry* registry);
  ~OtlpTraceExporter() override;  // Stop()
  OtlpTraceExporter(const OtlpTraceExporter&) = delete;
  OtlpTraceExporter& operator=(const OtlpTraceExporter&) = delete;

  // Queues a finished span; drops it (counted) when the queue is full or stopping. Never
  // blocks on the network. Thread-safe.
  void Export(std::unique_ptr<trace::SpanData> span) override;

  // Sends what is queued for at most timeout_ms (a post in flight may exceed it by its own
  // timeout), drops the rest (counted) and joins the sender thread. Idempotent.
  void Stop(int64_t timeout_ms = 5000);

  uint64_t spans_exported() const;
  uint64_t spans_dropped() const;

 private:
  OtlpTraceExporter(OtlpTraceExporterOptions options, metrics::Registry* registry);
  void Run();
  // Posts one body with retries. Returns true when the receiver accepted it.
  bool Send(http::HttpClient* client, const std::string& body, size_t spans);
  void CountDropped(metrics::Counter* metric, size_t n);

  OtlpTraceExporterOptions options_;
  std::string target_;  // the URL's path: the request target
  metrics::Counter* exported_metric_ = nullptr;
  metrics::Counter* dropped_queue_full_ = nullptr;
  metrics::Counter* dropped_export_failed_ = nullptr;
  metrics::Counter* dropped_shutdown_ = nullptr;

  // QueuedSender's mu_ guards these; its sent_ / dropped_ count exported and dropped spans.
  std::deque<std::unique_ptr<trace::SpanData>> queue_;
  int64_t last_error_log_ms_ = INT64_MIN / 2;
  uint64_t errors_not_logged_ = 0;
};

}  // namespace skald::server
