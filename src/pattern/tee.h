// PatternTee: an ingester::Pusher that forwards every push to the real ingester and, when
// the ingester took it, hands a copy of the lines to a PatternStore (Loki's distributor
// "tee" to the pattern ingester). In async mode (the default) the copy goes into a bounded
// queue that one worker thread drains, so a push pays only for the copy; when the queue is
// full the copy is dropped and counted (skald_pattern_tee_dropped_entries_total), never
// blocking ingest. The worker also runs PatternStore::Prune every prune_period.
//
// Streams carrying Loki's __pattern__ or __aggregated_metric__ labels are not teed (Loki
// skips them too). Entries the ingester rejected are not teed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "ingester/interface.h"
#include "pattern/store.h"

namespace skald::metrics {
class Counter;
}

namespace skald::pattern {

struct PatternTeeOptions {
  bool async = true;
  size_t queue_max_bytes = 64u << 20;           // bytes of lines waiting for the worker
  int64_t prune_period_ns = 60LL * 1000000000;  // Loki's flush_check_period
  metrics::Registry* registry = nullptr;
  // The worker waits for Resume() before taking anything (benchmarks: the push path alone).
  bool start_paused = false;
};

class PatternTee : public ingester::Pusher {
 public:
  // next and store must outlive the tee.
  PatternTee(ingester::Pusher* next, PatternStore* store, PatternTeeOptions options = {});
  ~PatternTee() override;  // stops the worker; queued lines are dropped

  Status PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) override;

  // Blocks until everything queued so far has reached the store (tests, benchmarks).
  void WaitIdle();
  uint64_t dropped_entries() const;
  void Resume();  // see PatternTeeOptions::start_paused

 private:
  struct Batch;
  void Run();
  void Apply(const Batch& b);

  ingester::Pusher* next_;
  PatternStore* store_;
  PatternTeeOptions opts_;
  metrics::Counter* dropped_counter_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::unique_ptr<Batch>> queue_;
  size_t queued_bytes_ = 0;
  bool busy_ = false;
  bool stop_ = false;
  bool paused_ = false;
  uint64_t dropped_ = 0;
  std::thread worker_;
};

}  // namespace skald::pattern
