// ThreadPool and ParallelFor: see thread_pool.h.
#include "core/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <memory>

namespace skald {

ThreadPool::ThreadPool(std::string name, int threads, size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued) {
  const int n = std::max(1, threads);
  workers_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    workers_.emplace_back([this] { Work(); });
    std::string tn = name_.substr(0, 15);
    pthread_setname_np(workers_.back().native_handle(), tn.c_str());
  }
}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::TrySubmit(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    if (max_queued_ != 0 && queue_.size() >= max_queued_) return false;
    queue_.push_back(Task{std::move(fn), trace::CurrentContext()});
  }
  cv_.notify_one();
  return true;
}

void ThreadPool::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  workers_.clear();
}

size_t ThreadPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t ThreadPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void ThreadPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    Task task = std::move(queue_.front());
    queue_.pop_front();
    running_++;
    lock.unlock();
    {
      trace::ScopedContext trace_context(task.context);
      task.fn();
      task.fn = nullptr;  // destroy captures outside the lock, before counting the task done
    }
    lock.lock();
    running_--;
  }
}

namespace {

// Shared by the caller and its helpers; outlives the call when a helper starts late.
struct ParallelForState {
  std::atomic<size_t> next{0};
  size_t n = 0;
  const std::function<void(size_t)>* fn = nullptr;  // valid while !done
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;     // helpers inside the loop
  bool done = false;  // the caller ran out of work; late helpers must not start

  void Drain() {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) (*fn)(i);
  }
};

}  // namespace

void ParallelFor(Executor* pool, size_t n, size_t max_helpers,
                 const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  const size_t helpers = pool == nullptr ? 0 : std::min(max_helpers, n - 1);
  if (helpers == 0) {
    for (size_t i = 0; i < n; i++) fn(i);
    return;
  }
  auto st = std::make_shared<ParallelForState>();
  st->n = n;
  st->fn = &fn;
  for (size_t h = 0; h < helpers; h++) {
    bool queued = pool->TrySubmit([st] {
      {
        std::lock_guard<std::mutex> lock(st->mu);
        if (st->done) return;
        st->active++;
      }
      st->Drain();
      std::lock_guard<std::mutex> lock(st->mu);
      if (--st->active == 0) st->cv.notify_all();
    });
    if (!queued) break;  // pool full: the caller does the rest
  }
  st->Drain();
  std::unique_lock<std::mutex> lock(st->mu);
  st->done = true;
  st->cv.wait(lock, [&] { return st->active == 0; });
}

}  // namespace skald
