// Sends alerts to Alertmanager's v2 API (`POST <url>/api/v2/alerts`, a JSON array of
// postableAlert: labels, annotations, startsAt, endsAt, generatorURL), as Prometheus' notifier
// does for Loki's ruler.
//
// Asynchronous: Send never blocks the evaluator. A bounded queue (Loki's
// `ruler.notification_queue_capacity`, 10000 alerts) drops the oldest alerts when full; a
// sender thread posts batches of at most 64 alerts to every configured Alertmanager, with
// `ruler.notification_timeout` per request. A failed post is counted and not retried (the
// ruler re-sends active alerts every resend delay anyway, as Prometheus does).
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

namespace skald::ruler {

struct NotifiedAlert {
  Labels labels;       // alertname, rule labels, result labels
  Labels annotations;  // expanded
  int64_t starts_at_ms = 0;
  int64_t ends_at_ms = 0;  // 0: unset (firing); set when resolved (or to now + 4 resend delays)
  std::string generator_url;
};

// The JSON body: RFC 3339 times with milliseconds in UTC (`2026-12-06T05:10:00.123Z`).
std::string EncodeAlertsJson(const std::vector<NotifiedAlert>& alerts);

struct AlertmanagerOptions {
  std::vector<std::string> urls;  // http://host:port[/prefix]; /api/v2/alerts is appended
  int64_t timeout_ms = 10000;
  size_t queue_capacity = 10000;  // alerts
  size_t max_batch = 64;
};

class AlertmanagerNotifier : private QueuedSender {
 public:
  // Metrics (when non-null): loki_prometheus_notifications_sent_total,
  // loki_prometheus_notifications_errors_total, loki_prometheus_notifications_dropped_total,
  // loki_prometheus_notifications_queue_length (names of Prometheus' notifier, Loki-prefixed).
  AlertmanagerNotifier(AlertmanagerOptions options, metrics::Registry* metrics);
  ~AlertmanagerNotifier();  // Stop()
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  void Send(std::vector<NotifiedAlert> alerts);
  // Sends what is queued for at most `timeout_ms`, then stops the thread.
  void Stop(int64_t timeout_ms = 5000) { StopAndJoin(timeout_ms); }

  uint64_t alerts_sent() const {
    return Read(sent_);
  }  // per Alertmanager: an alert posted to two counts twice
  uint64_t alerts_failed() const { return Read(failed_); }
  uint64_t alerts_dropped() const { return Read(dropped_); }

 private:
  void Run();
  // Drops the oldest alerts beyond the capacity. REQUIRES: mu_ held. Returns how many.
  size_t TrimQueueLocked();

  AlertmanagerOptions options_;
  std::deque<NotifiedAlert> queue_;
  metrics::Counter* sent_metric_ = nullptr;
  metrics::Counter* failed_metric_ = nullptr;
  metrics::Counter* dropped_metric_ = nullptr;
  metrics::Gauge* queue_length_metric_ = nullptr;
};

}  // namespace skald::ruler
