#include "ruler/remote_write.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <iterator>
#include <optional>
#include <utility>

#include "core/coding.h"
#include "core/logging.h"
#include "tools/http/http_client.h"

namespace skald::ruler {
namespace {

// Prometheus' queue manager sends at most max_samples_per_send (2000 by default) per request;
// a little more is fine for the ruler, whose batches are one evaluation's results.
constexpr size_t kMaxSamplesPerRequest = 5000;

// Protobuf wire types in a field's tag byte.
constexpr uint8_t kWireVarint = 0;
constexpr uint8_t kWireFixed64 = 1;
constexpr uint8_t kWireBytes = 2;

constexpr char Tag(int field, uint8_t wire_type) {
  return static_cast<char>((field << 3) | wire_type);
}

// Size of a length-delimited field (tag byte, length, payload).
size_t BytesFieldSize(size_t payload) { return 1 + UvarintSize(payload) + payload; }

// proto3 leaves fields with default values out (as Prometheus' gogo-generated marshaller does);
// decoders read an absent field as the default.
size_t StringFieldSize(std::string_view s) { return s.empty() ? 0 : BytesFieldSize(s.size()); }

void PutStringField(std::string* out, int field, std::string_view s) {
  if (s.empty()) return;
  out->push_back(Tag(field, kWireBytes));
  PutLengthPrefixed(out, s);
}

size_t LabelSize(const Label& l) { return StringFieldSize(l.name) + StringFieldSize(l.value); }

// The double's bits decide "default", not ==0: -0.0 must survive, and NaN (Prometheus'
// staleness marker) compares unequal to everything but is not a default either.
size_t SampleSize(const RemoteSample& s) {
  size_t n = 0;
  if (std::bit_cast<uint64_t>(s.value) != 0) n += 1 + 8;
  // int64 is a plain (two's complement) varint, not zigzag: negative values take 10 bytes.
  if (s.timestamp_ms != 0) n += 1 + UvarintSize(static_cast<uint64_t>(s.timestamp_ms));
  return n;
}

size_t TimeSeriesSize(const RemoteSample& s) {
  size_t n = 0;
  for (const Label& l : s.labels) n += BytesFieldSize(LabelSize(l));
  return n + BytesFieldSize(SampleSize(s));
}

void EncodeRange(const RemoteSample* begin, const RemoteSample* end, std::string* out) {
  size_t total = 0;
  for (const RemoteSample* s = begin; s != end; ++s) total += BytesFieldSize(TimeSeriesSize(*s));
  out->clear();
  out->reserve(total);
  for (const RemoteSample* s = begin; s != end; ++s) {
    out->push_back(Tag(1, kWireBytes));  // WriteRequest.timeseries
    PutUvarint(out, TimeSeriesSize(*s));
    for (const Label& l : s->labels) {
      out->push_back(Tag(1, kWireBytes));  // TimeSeries.labels
      PutUvarint(out, LabelSize(l));
      PutStringField(out, 1, l.name);
      PutStringField(out, 2, l.value);
    }
    out->push_back(Tag(2, kWireBytes));  // TimeSeries.samples
    PutUvarint(out, SampleSize(*s));
    if (std::bit_cast<uint64_t>(s->value) != 0) {
      out->push_back(Tag(1, kWireFixed64));
      PutFixed64(out, std::bit_cast<uint64_t>(s->value));
    }
    if (s->timestamp_ms != 0) {
      out->push_back(Tag(2, kWireVarint));
      PutUvarint(out, static_cast<uint64_t>(s->timestamp_ms));
    }
  }
}

}  // namespace

std::string EncodeWriteRequest(const std::vector<RemoteSample>& samples) {
  std::string out;
  EncodeRange(samples.data(), samples.data() + samples.size(), &out);
  return out;
}

std::string EncodeWriteRequestSnappy(const std::vector<RemoteSample>& samples) {
  std::string raw = EncodeWriteRequest(samples);
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

RemoteWriter::RemoteWriter(RemoteWriteOptions options, metrics::Registry* metrics)
    : options_(std::move(options)) {
  if (metrics != nullptr) {
    auto& samples = metrics->AddCounter("loki_ruler_remote_write_samples_total",
                                        "Samples of recording rules sent by remote write, by "
                                        "outcome (sent, failed after retries or refused, "
                                        "dropped from a full queue).",
                                        {"status"});
    sent_metric_ = &samples.WithLabels({"sent"});
    failed_metric_ = &samples.WithLabels({"failed"});
    dropped_metric_ = &samples.WithLabels({"dropped"});
    auto& requests = metrics->AddCounter("loki_ruler_remote_write_requests_total",
                                         "Remote write HTTP attempts, by outcome (sent, retried, "
                                         "failed for good).",
                                         {"status"});
    requests_sent_metric_ = &requests.WithLabels({"sent"});
    requests_retried_metric_ = &requests.WithLabels({"retried"});
    requests_failed_metric_ = &requests.WithLabels({"failed"});
  }
  options_.max_retries = std::max(options_.max_retries, 0);
  options_.min_backoff_ms = std::max<int64_t>(options_.min_backoff_ms, 1);
  options_.max_backoff_ms = std::max(options_.max_backoff_ms, options_.min_backoff_ms);
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 1);
  thread_ = std::thread([this] { Run(); });
}

RemoteWriter::~RemoteWriter() { Stop(); }

void RemoteWriter::Enqueue(std::string tenant, std::vector<RemoteSample> samples) {
  if (samples.empty()) return;
  size_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      dropped = samples.size();
    } else {
      queue_.push_back(Batch{std::move(tenant), std::move(samples)});
      while (queue_.size() > options_.queue_capacity) {
        dropped += queue_.front().samples.size();
        queue_.pop_front();
      }
    }
    dropped_ += dropped;
  }
  if (dropped > 0 && dropped_metric_ != nullptr) dropped_metric_->Inc(static_cast<double>(dropped));
  cv_.notify_all();
}

void RemoteWriter::Count(Outcome outcome, size_t n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    (outcome == Outcome::kSent ? sent_ : failed_) += n;
  }
  metrics::Counter* c = outcome == Outcome::kSent ? sent_metric_ : failed_metric_;
  if (c != nullptr) c->Inc(static_cast<double>(n));
}

bool RemoteWriter::Backoff(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t wake = SteadyMs() + ms;
  for (;;) {
    const int64_t now = SteadyMs();
    if (stopping_ && now >= stop_deadline_ms_) return false;
    if (now >= wake) return true;
    // Stop() wakes us to shorten the wait to its deadline; Enqueue's wakeups just loop.
    const int64_t until = stopping_ ? std::min(wake, stop_deadline_ms_) : wake;
    cv_.wait_for(lock, std::chrono::milliseconds(until - now));
  }
}

RemoteWriter::Outcome RemoteWriter::SendWithRetries(http::HttpClient* client,
                                                    const std::string& request, size_t n) {
  int64_t backoff = options_.min_backoff_ms;
  http::HttpResponse resp;
  for (int attempt = 0;; ++attempt) {
    int64_t timeout = options_.timeout_ms;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        const int64_t left = stop_deadline_ms_ - SteadyMs();
        if (left <= 0) return Outcome::kFailed;
        // Once stopping, no attempt may outlive the deadline Stop() promised its caller.
        timeout = timeout > 0 ? std::min(timeout, left) : left;
      }
    }
    client->set_timeout_ms(timeout);
    Status st = client->RoundTrip(request, &resp);
    bool retry = true;
    std::string why;
    if (st.ok()) {
      if (resp.status / 100 == 2) {
        if (requests_sent_metric_ != nullptr) requests_sent_metric_->Inc();
        return Outcome::kSent;
      }
      // Prometheus' rule: 5xx and 429 are the receiver's temporary trouble; any other
      // status says the data itself is unacceptable, and resending it cannot help.
      retry = resp.status / 100 == 5 || resp.status == 429;
      why = "HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 256);
    } else {
      why = st.ToString();
    }
    if (!retry || attempt >= options_.max_retries) {
      if (requests_failed_metric_ != nullptr) requests_failed_metric_->Inc();
      log::Warn("remote write failed, dropping samples", {{"url", options_.url},
                                                          {"samples", std::to_string(n)},
                                                          {"attempts", std::to_string(attempt + 1)},
                                                          {"err", why}});
      return Outcome::kFailed;
    }
    if (requests_retried_metric_ != nullptr) requests_retried_metric_->Inc();
    if (!Backoff(backoff)) return Outcome::kFailed;
    backoff = std::min(backoff * 2, options_.max_backoff_ms);
  }
}

void RemoteWriter::Run() {
  StatusOr<http::Url> url = http::ParseUrl(options_.url);
  if (!url.ok()) {
    log::Error("invalid remote write URL",
               {{"url", options_.url}, {"err", url.status().ToString()}});
  }
  // BuildRequest prefixes the URL's path; an empty path still needs a request target.
  const std::string target = url.ok() && url->base_path.empty() ? "/" : "";
  std::optional<http::HttpClient> client;
  if (url.ok()) client.emplace(*url, options_.timeout_ms);

  std::string raw;
  std::string body;
  for (;;) {
    std::string tenant;
    std::vector<RemoteSample> samples;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      if (stopping_ && SteadyMs() >= stop_deadline_ms_) {
        // Out of time: what was never attempted counts as dropped, like a queue overflow.
        size_t n = 0;
        for (const Batch& b : queue_) n += b.samples.size();
        queue_.clear();
        dropped_ += n;
        lock.unlock();
        if (dropped_metric_ != nullptr) dropped_metric_->Inc(static_cast<double>(n));
        return;
      }
      Batch first = std::move(queue_.front());
      queue_.pop_front();
      tenant = std::move(first.tenant);
      samples = std::move(first.samples);
      // Several evaluations queued up behind a slow receiver: send one tenant's batches in
      // one request. A batch that does not fit ends the scan, so that no later batch of the
      // tenant overtakes it (a series' samples must arrive in time order).
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->tenant != tenant) {
          ++it;
          continue;
        }
        if (samples.size() + it->samples.size() > kMaxSamplesPerRequest) break;
        std::move(it->samples.begin(), it->samples.end(), std::back_inserter(samples));
        it = queue_.erase(it);
      }
    }

    http::HeaderList headers = {
        {"Content-Encoding", "snappy"},
        {"Content-Type", "application/x-protobuf"},
        {"User-Agent", "Skald-ruler"},
        {"X-Prometheus-Remote-Write-Version", "0.1.0"},
    };
    if (options_.send_tenant_header && !tenant.empty())
      headers.emplace_back("X-Scope-OrgID", tenant);
    // A single evaluation may exceed the per-request cap by itself: split it.
    for (size_t off = 0; off < samples.size(); off += kMaxSamplesPerRequest) {
      const size_t n = std::min(kMaxSamplesPerRequest, samples.size() - off);
      if (!client) {
        Count(Outcome::kFailed, n);
        continue;
      }
      EncodeRange(samples.data() + off, samples.data() + off + n, &raw);
      body.clear();
      snappy::Compress(raw.data(), raw.size(), &body);
      const std::string request = http::BuildRequest("POST", *url, target, headers, body);
      Count(SendWithRetries(&*client, request, n), n);
    }
  }
}

}  // namespace skald::ruler
