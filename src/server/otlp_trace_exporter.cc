// OTLP/HTTP JSON span exporter (see otlp_trace_exporter.h).
#include "server/otlp_trace_exporter.h"

#include <algorithm>
#include <chrono>

#include "core/json_escape.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "tools/http/http_client.h"

namespace skald::server {

namespace {

std::string WithTracesPath(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + "/v1/traces";
}

void AppendKeyValue(std::string* out, std::string_view key, std::string_view string_value) {
  out->append("{\"key\":");
  AppendJsonString(out, key);
  out->append(",\"value\":{\"stringValue\":");
  AppendJsonString(out, string_value);
  out->append("}}");
}

void AppendAttribute(std::string* out, const trace::Attribute& a) {
  if (!a.is_int) return AppendKeyValue(out, a.key, a.string_value);
  out->append("{\"key\":");
  AppendJsonString(out, a.key);
  // int64 is a JSON string in the protobuf JSON mapping.
  out->append(",\"value\":{\"intValue\":\"");
  out->append(std::to_string(a.int_value));
  out->append("\"}}");
}

void AppendSpan(std::string* out, const trace::SpanData& s) {
  out->append("{\"traceId\":\"");
  out->append(trace::TraceIdHex(s.context.trace_id));
  out->append("\",\"spanId\":\"");
  out->append(trace::SpanIdHex(s.context.span_id));
  out->push_back('"');
  if (s.parent_span_id != trace::SpanId{}) {
    out->append(",\"parentSpanId\":\"");
    out->append(trace::SpanIdHex(s.parent_span_id));
    out->push_back('"');
  }
  out->append(",\"name\":");
  AppendJsonString(out, s.name);
  out->append(",\"kind\":");
  out->append(std::to_string(static_cast<int>(s.kind)));
  out->append(",\"startTimeUnixNano\":\"");
  out->append(std::to_string(s.start_unix_nanos));
  out->append("\",\"endTimeUnixNano\":\"");
  out->append(std::to_string(std::max(s.end_unix_nanos, s.start_unix_nanos)));
  out->append("\",\"attributes\":[");
  for (size_t i = 0; i < s.attributes.size(); i++) {
    if (i > 0) out->push_back(',');
    AppendAttribute(out, s.attributes[i]);
  }
  out->append("]");
  if (s.error) {
    // STATUS_CODE_ERROR = 2.
    out->append(",\"status\":{\"code\":2,\"message\":");
    AppendJsonString(out, s.status_message);
    out->append("}");
  }
  out->push_back('}');
}

bool Retryable(int status) { return status == 429 || status / 100 == 5; }

}  // namespace

std::string OtlpTracesUrl(std::string_view configured, const char* traces_env,
                          const char* base_env) {
  if (!configured.empty()) return WithTracesPath(configured);
  if (traces_env != nullptr && *traces_env != '\0') return traces_env;
  if (base_env != nullptr && *base_env != '\0') return WithTracesPath(base_env);
  return "";
}

std::string EncodeOtlpTracesJson(const std::vector<std::unique_ptr<trace::SpanData>>& spans,
                                 std::string_view service_version) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  out.append("{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
  AppendKeyValue(&out, "service.name", "skald");
  if (!service_version.empty()) {
    out.push_back(',');
    AppendKeyValue(&out, "service.version", service_version);
  }
  out.append("]},\"scopeSpans\":[{\"scope\":{\"name\":\"skald\"},\"spans\":[");
  for (size_t i = 0; i < spans.size(); i++) {
    if (i > 0) out.push_back(',');
    AppendSpan(&out, *spans[i]);
  }
  out.append("]}]}]}");
  return out;
}

StatusOr<std::unique_ptr<OtlpTraceExporter>> OtlpTraceExporter::Create(
    OtlpTraceExporterOptions options, metrics::Registry* registry) {
  StatusOr<http::Url> url = http::ParseUrl(options.url);
  if (!url.ok()) {
    return Status::InvalidArgument("invalid OTLP traces endpoint \"" + options.url +
                                   "\": " + url.status().message());
  }
  std::unique_ptr<OtlpTraceExporter> e(new OtlpTraceExporter(std::move(options), registry));
  e->target_ = url->base_path.empty() ? "/" : url->base_path;
  e->thread_ = std::thread([p = e.get()] { p->Run(); });
  return e;
}

OtlpTraceExporter::OtlpTraceExporter(OtlpTraceExporterOptions options, metrics::Registry* registry)
    : options_(std::move(options)) {
  options_.max_batch = std::max<size_t>(options_.max_batch, 1);
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 1);
  if (registry != nullptr) {
    exported_metric_ =
        &registry
             ->AddCounter("skald_tracing_spans_exported_total", "Spans the OTLP receiver accepted.")
             .WithLabels();
    auto& dropped = registry->AddCounter(
        "skald_tracing_spans_dropped_total",
        "Spans not exported: the queue was full, the receiver kept failing, or shutdown.",
        {"reason"});
    dropped_queue_full_ = &dropped.WithLabels({"queue_full"});
    dropped_export_failed_ = &dropped.WithLabels({"export_failed"});
    dropped_shutdown_ = &dropped.WithLabels({"shutdown"});
  }
}

OtlpTraceExporter::~OtlpTraceExporter() { Stop(); }

void OtlpTraceExporter::CountDropped(metrics::Counter* metric, size_t n) {
  if (n == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped_ += n;
  }
  if (metric != nullptr) metric->Inc(static_cast<double>(n));
}

void OtlpTraceExporter::Export(std::unique_ptr<trace::SpanData> span) {
  metrics::Counter* dropped = nullptr;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      dropped = stopping_ ? dropped_shutdown_ : dropped_queue_full_;
      dropped_++;
    } else {
      queue_.push_back(std::move(span));
      // Wake the sender for the first span (it starts the flush interval) and a full batch.
      wake = queue_.size() == 1 || queue_.size() == options_.max_batch;
    }
  }
  if (dropped != nullptr) dropped->Inc();
  if (wake) cv_.notify_one();
}

void OtlpTraceExporter::Stop(int64_t timeout_ms) { StopAndJoin(timeout_ms); }

uint64_t OtlpTraceExporter::spans_exported() const { return Read(sent_); }

uint64_t OtlpTraceExporter::spans_dropped() const { return Read(dropped_); }

void OtlpTraceExporter::Run() {
  // Parsed in Create(): cannot fail here. One keep-alive connection, reused across batches;
  // the URL's path is the request target (target_), not a prefix the client adds.
  http::Url url = *http::ParseUrl(options_.url);
  url.base_path.clear();
  http::HttpClient client(url, options_.timeout_ms);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    if (!stopping_ && queue_.size() < options_.max_batch) {
      // A partial batch waits for more spans, at most the flush interval.
      cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                   [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    }
    if (stopping_ && SteadyMs() >= stop_deadline_ms_) {
      const size_t n = queue_.size();
      queue_.clear();
      lock.unlock();
      CountDropped(dropped_shutdown_, n);
      return;
    }
    std::vector<std::unique_ptr<trace::SpanData>> batch;
    const size_t n = std::min(options_.max_batch, queue_.size());
    batch.reserve(n);
    for (size_t i = 0; i < n; i++) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    const std::string body = EncodeOtlpTracesJson(batch, options_.service_version);
    batch.clear();
    if (Send(&client, body, n)) {
      if (exported_metric_ != nullptr) exported_metric_->Inc(static_cast<double>(n));
      lock.lock();
      sent_ += n;
    } else {
      CountDropped(dropped_export_failed_, n);
      lock.lock();
    }
  }
}

bool OtlpTraceExporter::Send(http::HttpClient* client, const std::string& body, size_t spans) {
  const http::HeaderList headers = {{"Content-Type", "application/json"},
                                    {"User-Agent", "Skald-tracing"}};
  http::HttpResponse resp;
  std::string why;
  int64_t backoff = options_.initial_backoff_ms;
  for (int attempt = 0;; attempt++) {
    int64_t timeout = options_.timeout_ms;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        const int64_t left = stop_deadline_ms_ - SteadyMs();
        if (left <= 0) {
          why = "stopping";
          break;
        }
        timeout = timeout > 0 ? std::min(timeout, left) : left;
      }
    }
    client->set_timeout_ms(timeout);
    Status st = client->Post(target_, headers, body, &resp);
    bool retry = false;
    if (!st.ok()) {
      why = st.ToString();
      retry = true;
    } else if (resp.status / 100 == 2) {
      return true;
    } else {
      why = "HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 256);
      retry = Retryable(resp.status);
    }
    if (!retry || attempt >= options_.max_retries) break;
    std::unique_lock<std::mutex> lock(mu_);
    // Stop() cuts the backoff short; the loop then retries only within the deadline.
    cv_.wait_for(lock, std::chrono::milliseconds(backoff), [this] { return stopping_; });
    backoff *= 2;
  }
  uint64_t not_logged = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = SteadyMs();
    if (now - last_error_log_ms_ < 60'000) {
      errors_not_logged_++;
      return false;
    }
    last_error_log_ms_ = now;
    not_logged = errors_not_logged_;
    errors_not_logged_ = 0;
  }
  log::Warn("OTLP trace export failed, spans dropped",
            {{"endpoint", options_.url},
             {"spans", std::to_string(spans)},
             {"err", why},
             {"failures_not_logged", std::to_string(not_logged)}});
  return false;
}

}  // namespace skald::server
