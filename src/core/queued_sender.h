// What the ruler's Alertmanager notifier and remote writer and the OTLP span exporter share: one
// sender thread draining a bounded queue, counts of what it sent, failed to send and dropped, and a
// Stop that gives the thread a deadline to drain the queue and then joins it.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace skald {

class QueuedSender {
 protected:
  QueuedSender() = default;
  ~QueuedSender() = default;
  QueuedSender(const QueuedSender&) = delete;
  QueuedSender& operator=(const QueuedSender&) = delete;

  static int64_t SteadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Lets the thread send what is queued for at most `timeout_ms`, then joins it. A second call
  // can only shorten the time left, never extend it. Attempts started after this get at most
  // the time left; one already in flight keeps its own per-call timeout (HttpClient cannot be
  // interrupted from another thread), so that request is the only way past the deadline.
  void StopAndJoin(int64_t timeout_ms) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t deadline = SteadyMs() + std::max<int64_t>(timeout_ms, 0);
      stop_deadline_ms_ = stopping_ ? std::min(stop_deadline_ms_, deadline) : deadline;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  uint64_t Read(const uint64_t& counter) const {
    std::lock_guard<std::mutex> lock(mu_);
    return counter;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t stop_deadline_ms_ = 0;
  uint64_t sent_ = 0, failed_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace skald
