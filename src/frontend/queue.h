// The query frontend's work queue: queries (as HTTP requests) wait here, per tenant, until a
// querier pulls them (rpc: frontend.Frontend/Process). Tenants are served round-robin, so one
// tenant's burst of subqueries does not starve another's; each tenant may have at most
// max_outstanding_per_tenant queries waiting (Loki's 429 "too many outstanding requests").
// A query a querier failed to answer (the querier went away) goes back to the front of its
// tenant's queue, up to max_retries times.
//
// Metrics: loki_query_frontend_queue_length{tenant} (gauge),
// loki_query_frontend_connected_clients (gauge), loki_query_frontend_retries_total (counter).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::metrics {
class Registry;
}

namespace skald::frontend {

struct Request {
  std::string method = "GET";
  std::string url;  // path and query string
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  int code = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// One query waiting for, or being run by, a querier. Completes once.
class Task {
 public:
  Task(std::string tenant, Request request)
      : tenant_(std::move(tenant)), request_(std::move(request)) {}

  const std::string& tenant() const { return tenant_; }
  const Request& request() const { return request_; }

  // The first call wins; later ones are ignored.
  void Complete(Response r);
  // Waits until completed or `deadline_mono_ns` (core/time.h MonotonicNanos) passed. False on
  // timeout (the task is then abandoned: a querier that pulls it skips it).
  bool Wait(int64_t deadline_mono_ns, Response* out);
  void Abandon();
  bool abandoned() const;
  int attempts = 0;  // guarded by the queue's lock
  int64_t enqueued_mono_ns = 0;

 private:
  const std::string tenant_;
  const Request request_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool abandoned_ = false;
  Response response_;
};

struct QueueOptions {
  int max_outstanding_per_tenant = 2048;  // Loki's default
  int max_retries = 5;                    // Loki's frontend max_retries
};

class RequestQueue {
 public:
  explicit RequestQueue(QueueOptions opts, metrics::Registry* registry = nullptr);
  ~RequestQueue();

  // Queues a task at the back of its tenant's queue. ResourceExhausted ("too many outstanding
  // requests") when the tenant already has max_outstanding_per_tenant waiting; Unavailable once
  // stopped.
  Status Enqueue(std::shared_ptr<Task> task);
  // The next task, tenants taken in turn; waits up to `wait_ns`. Null on timeout or once
  // stopped. Abandoned tasks are dropped, never returned.
  std::shared_ptr<Task> Next(int64_t wait_ns);
  // A querier could not answer `task`: back to the front of its tenant's queue, or (after
  // max_retries) completed with 502 and `why`.
  void Retry(std::shared_ptr<Task> task, const std::string& why);
  // Wakes every waiter; Next returns null from now on, Enqueue fails. Waiting tasks are
  // completed with 503.
  void Stop();

  // Queriers connected (Process streams open).
  void ClientConnected();
  void ClientDisconnected();
  int connected_clients() const;
  bool stopped() const;
  size_t length(const std::string& tenant) const;

 private:
  void UpdateLengthLocked(const std::string& tenant);

  const QueueOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<std::shared_ptr<Task>>> queues_;
  std::deque<std::string> turn_;  // tenants with waiting tasks, in serving order
  bool stopped_ = false;
  int clients_ = 0;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace skald::frontend
