#include "frontend/queue.h"

#include <chrono>

#include "core/metrics.h"
#include "core/time.h"

namespace skald::frontend {

void Task::Complete(Response r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    done_ = true;
    response_ = std::move(r);
  }
  cv_.notify_all();
}

bool Task::Wait(int64_t deadline_mono_ns, Response* out) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    const int64_t left = deadline_mono_ns - MonotonicNanos();
    if (left <= 0) {
      abandoned_ = true;
      return false;
    }
    cv_.wait_for(lock, std::chrono::nanoseconds(left));
  }
  *out = std::move(response_);
  return true;
}

void Task::Abandon() {
  std::lock_guard<std::mutex> lock(mu_);
  abandoned_ = true;
}

bool Task::abandoned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return abandoned_ || done_;
}

struct RequestQueue::Metrics {
  metrics::Family<metrics::Gauge>* length = nullptr;
  metrics::Family<metrics::Counter>* retries = nullptr;
};

RequestQueue::RequestQueue(QueueOptions opts, metrics::Registry* registry)
    : opts_(opts), metrics_(std::make_unique<Metrics>()) {
  if (registry != nullptr) {
    metrics_->length = &registry->AddGauge("loki_query_frontend_queue_length",
                                           "Number of queries in the queue.", {"tenant"});
    metrics_->retries =
        &registry->AddCounter("loki_query_frontend_retries_total",
                              "Queries handed to a querier again after one failed them.", {});
    registry->GaugeFunc("loki_query_frontend_connected_clients",
                        "Number of worker clients currently connected to the frontend.",
                        [this] { return static_cast<double>(connected_clients()); });
  }
}

RequestQueue::~RequestQueue() { Stop(); }

void RequestQueue::UpdateLengthLocked(const std::string& tenant) {
  if (metrics_->length == nullptr) return;
  auto it = queues_.find(tenant);
  metrics_->length->WithLabels({tenant}).Set(
      it == queues_.end() ? 0.0 : static_cast<double>(it->second.size()));
}

Status RequestQueue::Enqueue(std::shared_ptr<Task> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status::Unavailable("query frontend is stopping");
    auto& q = queues_[task->tenant()];
    if (static_cast<int>(q.size()) >= opts_.max_outstanding_per_tenant) {
      return Status::ResourceExhausted("too many outstanding requests");
    }
    if (q.empty()) turn_.push_back(task->tenant());
    task->enqueued_mono_ns = MonotonicNanos();
    const std::string tenant = task->tenant();
    q.push_back(std::move(task));
    UpdateLengthLocked(tenant);
  }
  cv_.notify_one();
  return Status::OK();
}

std::shared_ptr<Task> RequestQueue::Next(int64_t wait_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(wait_ns);
  for (;;) {
    while (!stopped_ && !turn_.empty()) {
      const std::string tenant = std::move(turn_.front());
      turn_.pop_front();
      auto& q = queues_[tenant];
      std::shared_ptr<Task> t = std::move(q.front());
      q.pop_front();
      if (!q.empty()) {
        turn_.push_back(tenant);
      } else {
        queues_.erase(tenant);
      }
      UpdateLengthLocked(tenant);
      if (!t->abandoned()) return t;
    }
    if (stopped_) return nullptr;
    if (cv_.wait_until(lock, until) == std::cv_status::timeout && turn_.empty()) return nullptr;
  }
}

void RequestQueue::Retry(std::shared_ptr<Task> task, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_ && ++task->attempts <= opts_.max_retries) {
      if (metrics_->retries != nullptr) metrics_->retries->WithLabels({}).Inc();
      auto& q = queues_[task->tenant()];
      if (q.empty()) turn_.push_front(task->tenant());
      const std::string tenant = task->tenant();
      q.push_front(std::move(task));
      UpdateLengthLocked(tenant);
      cv_.notify_one();
      return;
    }
  }
  Response r;
  r.code = 502;
  r.body = "querier failed the query: " + why;
  task->Complete(std::move(r));
}

void RequestQueue::Stop() {
  std::map<std::string, std::deque<std::shared_ptr<Task>>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    left.swap(queues_);
    turn_.clear();
  }
  cv_.notify_all();
  for (auto& [tenant, q] : left) {
    for (auto& t : q) {
      Response r;
      r.code = 503;
      r.body = "query frontend is stopping";
      t->Complete(std::move(r));
    }
  }
}

void RequestQueue::ClientConnected() {
  std::lock_guard<std::mutex> lock(mu_);
  clients_++;
}

void RequestQueue::ClientDisconnected() {
  std::lock_guard<std::mutex> lock(mu_);
  clients_--;
}

int RequestQueue::connected_clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_;
}

bool RequestQueue::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

size_t RequestQueue::length(const std::string& tenant) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = queues_.find(tenant);
  return it == queues_.end() ? 0 : it->second.size();
}

}  // namespace skald::frontend
