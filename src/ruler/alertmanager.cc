#include "ruler/alertmanager.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include "core/json_escape.h"
#include "core/logging.h"
#include "tools/http/http_client.h"

namespace skald::ruler {
namespace {

// 2026-12-06T05:10:00.123Z: Alertmanager's strfmt.DateTime form (milliseconds, UTC).
void AppendRfc3339Millis(std::string* out, int64_t unix_ms) {
  // Floor division, so that times before 1970 keep a non-negative millisecond part.
  int64_t secs = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<int>(ms));
  out->append(buf, static_cast<size_t>(std::max(n, 0)));
}

void AppendLabelSet(std::string* out, const Labels& labels) {
  out->push_back('{');
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

}  // namespace

std::string EncodeAlertsJson(const std::vector<NotifiedAlert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const NotifiedAlert& a = alerts[i];
    if (i > 0) out.push_back(',');
    out.append("{\"labels\":");
    AppendLabelSet(&out, a.labels);
    out.append(",\"annotations\":");
    AppendLabelSet(&out, a.annotations);
    // Zero means "not set": Alertmanager then uses the time it received the alert for
    // startsAt, and treats a missing endsAt as "firing until resolve_timeout".
    if (a.starts_at_ms != 0) {
      out.append(",\"startsAt\":\"");
      AppendRfc3339Millis(&out, a.starts_at_ms);
      out.push_back('"');
    }
    if (a.ends_at_ms != 0) {
      out.append(",\"endsAt\":\"");
      AppendRfc3339Millis(&out, a.ends_at_ms);
      out.push_back('"');
    }
    if (!a.generator_url.empty()) {
      out.append(",\"generatorURL\":");
      AppendJsonString(&out, a.generator_url);
    }
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

AlertmanagerNotifier::AlertmanagerNotifier(AlertmanagerOptions options, metrics::Registry* metrics)
    : options_(std::move(options)) {
  options_.max_batch = std::max<size_t>(options_.max_batch, 1);
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 1);
  if (metrics != nullptr) {
    sent_metric_ = &metrics
                        ->AddCounter("loki_prometheus_notifications_sent_total",
                                     "Total number of alerts sent (once per Alertmanager).")
                        .WithLabels();
    failed_metric_ = &metrics
                          ->AddCounter("loki_prometheus_notifications_errors_total",
                                       "Total number of errors sending alert notifications "
                                       "(alerts, once per Alertmanager).")
                          .WithLabels();
    dropped_metric_ = &metrics
                           ->AddCounter("loki_prometheus_notifications_dropped_total",
                                        "Total number of alerts dropped due to errors when "
                                        "sending to Alertmanager or a full queue.")
                           .WithLabels();
    queue_length_metric_ = &metrics
                                ->AddGauge("loki_prometheus_notifications_queue_length",
                                           "The number of alert notifications in the queue.")
                                .WithLabels();
  }
  thread_ = std::thread([this] { Run(); });
}

AlertmanagerNotifier::~AlertmanagerNotifier() { Stop(); }

size_t AlertmanagerNotifier::TrimQueueLocked() {
  size_t dropped = 0;
  while (queue_.size() > options_.queue_capacity) {
    queue_.pop_front();
    ++dropped;
  }
  return dropped;
}

void AlertmanagerNotifier::Send(std::vector<NotifiedAlert> alerts) {
  if (alerts.empty()) return;
  size_t dropped = 0;
  size_t length = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      dropped = alerts.size();
    } else {
      for (NotifiedAlert& a : alerts) queue_.push_back(std::move(a));
      dropped = TrimQueueLocked();
    }
    dropped_ += dropped;
    length = queue_.size();
  }
  if (dropped > 0) {
    if (dropped_metric_ != nullptr) dropped_metric_->Inc(static_cast<double>(dropped));
    log::Warn("Alert notification queue full, dropping alerts",
              {{"num_dropped", std::to_string(dropped)}});
  }
  if (queue_length_metric_ != nullptr) queue_length_metric_->Set(static_cast<double>(length));
  cv_.notify_all();
}

void AlertmanagerNotifier::Run() {
  struct Target {
    std::string url;                           // as configured, for logs
    std::unique_ptr<http::HttpClient> client;  // null when the URL does not parse
    std::string target;
  };
  std::vector<Target> targets;
  for (const std::string& u : options_.urls) {
    Target t{u, nullptr, "/api/v2/alerts"};
    StatusOr<http::Url> url = http::ParseUrl(u);
    if (url.ok()) {
      t.client = std::make_unique<http::HttpClient>(*url, options_.timeout_ms);
    } else {
      log::Error("invalid Alertmanager URL", {{"url", u}, {"err", url.status().ToString()}});
    }
    targets.push_back(std::move(t));
  }

  const http::HeaderList headers = {{"Content-Type", "application/json"},
                                    {"User-Agent", "Skald-ruler"}};
  http::HttpResponse resp;
  for (;;) {
    std::vector<NotifiedAlert> batch;
    size_t length = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      if (stopping_ && SteadyMs() >= stop_deadline_ms_) {
        const size_t n = queue_.size();
        queue_.clear();
        dropped_ += n;
        lock.unlock();
        if (dropped_metric_ != nullptr) dropped_metric_->Inc(static_cast<double>(n));
        if (queue_length_metric_ != nullptr) queue_length_metric_->Set(0);
        return;
      }
      const size_t n = std::min(options_.max_batch, queue_.size());
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      length = queue_.size();
    }
    if (queue_length_metric_ != nullptr) queue_length_metric_->Set(static_cast<double>(length));

    const std::string body = EncodeAlertsJson(batch);
    for (Target& t : targets) {
      bool ok = false;
      std::string why = "invalid URL";
      int64_t timeout = options_.timeout_ms;
      bool out_of_time = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) {
          const int64_t left = stop_deadline_ms_ - SteadyMs();
          out_of_time = left <= 0;
          // Once stopping, no post may outlive the deadline Stop() promised its caller.
          timeout = timeout > 0 ? std::min(timeout, left) : left;
        }
      }
      if (out_of_time) {
        why = "stopping";
      } else if (t.client != nullptr) {
        t.client->set_timeout_ms(timeout);
        Status st = t.client->Post(t.target, headers, body, &resp);
        if (!st.ok()) {
          why = st.ToString();
        } else if (resp.status / 100 != 2) {
          why = "bad response status " + std::to_string(resp.status) + ": " +
                resp.body.substr(0, 256);
        } else {
          ok = true;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        (ok ? sent_ : failed_) += batch.size();
      }
      metrics::Counter* c = ok ? sent_metric_ : failed_metric_;
      if (c != nullptr) c->Inc(static_cast<double>(batch.size()));
      if (!ok) {
        log::Error(
            "Error sending alerts",
            {{"alertmanager", t.url}, {"count", std::to_string(batch.size())}, {"err", why}});
      }
    }
  }
}

}  // namespace skald::ruler
