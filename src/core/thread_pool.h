// Bounded worker pools: the one way Skald runs work off the calling thread. Queries run on
// a query pool, flushes on the ingester's flush pool, blocking HTTP handlers on a handler
// pool, so no request ever spawns threads of its own and the I/O threads never block.
//
// Executor is the narrow interface users depend on (so tests can run tasks inline);
// ThreadPool is the implementation: a fixed set of workers and a bounded FIFO queue.
// ParallelFor splits a loop over a pool and the calling thread without ever waiting for a
// task that has not started, so it is safe to call from a worker of the same pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tracing.h"

namespace skald {

class Executor {
 public:
  virtual ~Executor() = default;

  // Queues fn to run on another thread. Returns false (and never runs fn) when the
  // executor is full or shut down; the caller decides whether to run it itself, fail or
  // shed load. Thread-safe. Implementations run fn in the caller's trace context
  // (core/tracing.h), so a request's work on other threads logs its trace_id.
  virtual bool TrySubmit(std::function<void()> fn) = 0;
};

class ThreadPool : public Executor {
 public:
  // `threads` workers (at least 1), at most `max_queued` tasks waiting (0 = unbounded).
  // `name` shows in logs and thread names (truncated to 15 bytes).
  ThreadPool(std::string name, int threads, size_t max_queued);
  // Shutdown().
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  bool TrySubmit(std::function<void()> fn) override;

  // Stops accepting tasks, runs the ones already queued, joins the workers. Idempotent;
  // must not be called from one of this pool's workers.
  void Shutdown();

  int threads() const { return static_cast<int>(workers_.size()); }
  // Tasks waiting for a worker (not counting running ones). Thread-safe.
  size_t queued() const;
  // Tasks running right now. Thread-safe.
  size_t running() const;

 private:
  void Work();

  struct Task {
    std::function<void()> fn;
    trace::Context context;  // the submitter's, current while fn runs
  };

  const std::string name_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// Calls fn(i) for every i in [0, n), each exactly once, on the calling thread and on up
// to `max_helpers` tasks submitted to `pool` (nullptr = calling thread only). Returns when
// every call has returned. Helpers that start after the work is gone return at once
// without touching fn, and the caller never waits for a helper that has not started, so
// this never deadlocks, even when the calling thread is one of pool's workers and the
// pool is saturated. fn must be thread-safe.
void ParallelFor(Executor* pool, size_t n, size_t max_helpers,
                 const std::function<void(size_t)>& fn);

}  // namespace skald
