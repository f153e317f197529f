#include "pattern/tee.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/metrics.h"
#include "pattern/level.h"

namespace skald::pattern {

// A copy of one push's teed streams: every byte in one arena, entries as offsets.
struct PatternTee::Batch {
  struct Entry {
    int64_t ts;
    size_t line_off, line_len;
    size_t meta_begin, meta_end;  // into metas
  };
  struct Meta {
    size_t name_off, name_len, value_off, value_len;
  };
  struct Stream {
    Labels labels;
    uint64_t fingerprint;
    size_t entry_begin, entry_end;
  };
  std::string tenant;
  std::string arena;
  std::vector<Stream> streams;
  std::vector<Entry> entries;
  std::vector<Meta> metas;
};

PatternTee::PatternTee(ingester::Pusher* next, PatternStore* store, PatternTeeOptions options)
    : next_(next), store_(store), opts_(options) {
  if (opts_.registry != nullptr) {
    dropped_counter_ =
        &opts_.registry
             ->AddCounter("skald_pattern_tee_dropped_entries_total",
                          "Lines not handed to the pattern store because its queue was full.")
             .WithLabels({});
  }
  paused_ = opts_.start_paused;
  if (opts_.async) worker_ = std::thread([this] { Run(); });
}

PatternTee::~PatternTee() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status PatternTee::PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) {
  Status st = next_->PushBatch(tenant, streams);
  if (!st.ok()) return st;
  auto b = std::make_unique<Batch>();
  b->tenant = std::string(tenant);
  size_t bytes = 0, count = 0;
  for (const ingester::StreamAppend& s : streams) {
    count += s.entries.size();
    for (const auto& e : s.entries) bytes += e.line.size();
  }
  b->arena.reserve(bytes + 64);
  b->entries.reserve(count);
  std::unordered_set<int64_t> rejected;
  for (const ingester::StreamAppend& s : streams) {
    if (s.labels == nullptr || s.entries.empty() || s.result.stream_limited) continue;
    if (s.labels->Has("__pattern__") || s.labels->Has("__aggregated_metric__")) continue;
    rejected.clear();
    for (const auto& r : s.result.rejected) rejected.insert(r.first);
    Batch::Stream bs{*s.labels, s.fingerprint, b->entries.size(), 0};
    for (const ingester::AppendEntry& e : s.entries) {
      if (!rejected.empty() && rejected.count(e.ts) > 0) continue;
      Batch::Entry be{e.ts, b->arena.size(), e.line.size(), b->metas.size(), 0};
      b->arena.append(e.line);
      for (const MetadataPair& m : e.metadata) {
        if (!IsLevelMetadata(m.name)) continue;
        Batch::Meta bm{b->arena.size(), m.name.size(), 0, m.value.size()};
        b->arena.append(m.name);
        bm.value_off = b->arena.size();
        b->arena.append(m.value);
        b->metas.push_back(bm);
      }
      be.meta_end = b->metas.size();
      b->entries.push_back(be);
    }
    bs.entry_end = b->entries.size();
    if (bs.entry_end > bs.entry_begin) b->streams.push_back(std::move(bs));
  }
  if (b->streams.empty()) return st;
  if (!opts_.async) {
    Apply(*b);
    return st;
  }
  const size_t size = b->arena.size();
  {
    std::lock_guard lock(mu_);
    if (queued_bytes_ + size > opts_.queue_max_bytes && !queue_.empty()) {
      dropped_ += b->entries.size();
      if (dropped_counter_) dropped_counter_->Inc(static_cast<double>(b->entries.size()));
      return st;
    }
    queued_bytes_ += size;
    queue_.push_back(std::move(b));
  }
  cv_.notify_one();
  return st;
}

void PatternTee::Apply(const Batch& b) {
  std::vector<EntryView> views;
  std::vector<MetadataPair> metas;
  std::string_view arena = b.arena;
  for (const Batch::Stream& s : b.streams) {
    views.clear();
    metas.clear();
    for (size_t i = s.entry_begin; i < s.entry_end; i++) {
      const Batch::Entry& e = b.entries[i];
      for (size_t m = e.meta_begin; m < e.meta_end; m++) {
        const Batch::Meta& bm = b.metas[m];
        metas.push_back(
            {arena.substr(bm.name_off, bm.name_len), arena.substr(bm.value_off, bm.value_len)});
      }
    }
    size_t mi = 0;
    for (size_t i = s.entry_begin; i < s.entry_end; i++) {
      const Batch::Entry& e = b.entries[i];
      const size_t n = e.meta_end - e.meta_begin;
      views.push_back({e.ts, arena.substr(e.line_off, e.line_len),
                       std::span<const MetadataPair>(metas.data() + mi, n)});
      mi += n;
    }
    store_->Push(b.tenant, s.labels, s.fingerprint, views);
  }
}

void PatternTee::Run() {
  auto next_prune =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(opts_.prune_period_ns);
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stop_ || !paused_; });
  while (!stop_) {
    if (queue_.empty()) {
      idle_cv_.notify_all();
      cv_.wait_until(lock, next_prune, [this] { return stop_ || !queue_.empty(); });
    }
    if (stop_) break;
    if (!queue_.empty()) {
      std::unique_ptr<Batch> b = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      Apply(*b);
      const size_t size = b->arena.size();
      b.reset();
      lock.lock();
      queued_bytes_ -= size;
      busy_ = false;
    }
    if (std::chrono::steady_clock::now() >= next_prune) {
      lock.unlock();
      store_->Prune();
      lock.lock();
      next_prune =
          std::chrono::steady_clock::now() + std::chrono::nanoseconds(opts_.prune_period_ns);
    }
  }
  idle_cv_.notify_all();
}

void PatternTee::WaitIdle() {
  if (!opts_.async) return;
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return stop_ || (queue_.empty() && !busy_); });
}

void PatternTee::Resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

uint64_t PatternTee::dropped_entries() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace skald::pattern
