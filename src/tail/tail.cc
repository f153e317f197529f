#include "tail/tail.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <span>
#include <unordered_map>
#include <utility>

#include "core/labels.h"
#include "core/logging.h"
#include "core/matcher.h"
#include "core/metrics.h"
#include "core/time.h"
#include "logql/pipeline.h"
#include "wire/json_writer.h"

namespace skald::tail {

namespace {

constexpr int64_t kTickNs = 100'000'000;
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseInternalError = 1011;

// One pushed stream's accepted entries, copied once and shared by every tail selecting it.
struct Batch {
  std::shared_ptr<const Labels> labels;
  uint64_t fingerprint = 0;
  struct Entry {
    int64_t ts = 0;
    std::string_view line;
    std::span<const MetadataPair> md;
  };
  std::vector<Entry> entries;
  std::string bytes;                   // lines and metadata
  std::vector<MetadataPair> md_pairs;  // views into bytes
  int64_t arrived_mono = 0;
};

// Builds the shared copy of one stream append (entries the ingester rejected left out).
std::shared_ptr<const Batch> CopyBatch(const ingester::StreamAppend& sa, uint64_t fp, int64_t now) {
  auto b = std::make_shared<Batch>();
  b->labels = std::make_shared<const Labels>(*sa.labels);
  b->fingerprint = fp;
  b->arrived_mono = now;
  size_t bytes = 0, pairs = 0;
  for (const auto& e : sa.entries) {
    bytes += e.line.size();
    pairs += e.metadata.size();
    for (const auto& m : e.metadata) bytes += m.name.size() + m.value.size();
  }
  b->bytes.reserve(bytes);  // no reallocation: the views below stay valid
  b->md_pairs.reserve(pairs);
  auto copy = [&](std::string_view v) {
    size_t off = b->bytes.size();
    b->bytes.append(v);
    return std::string_view(b->bytes).substr(off, v.size());
  };
  for (const auto& e : sa.entries) {
    bool rejected = false;
    for (const auto& r : sa.result.rejected) rejected |= r.first == e.ts;
    if (rejected) continue;
    Batch::Entry& out = b->entries.emplace_back();
    out.ts = e.ts;
    out.line = copy(e.line);
    size_t first = b->md_pairs.size();
    for (const auto& m : e.metadata) {
      std::string_view name = copy(m.name);
      b->md_pairs.push_back({name, copy(m.value)});
    }
    out.md = std::span<const MetadataPair>(b->md_pairs.data() + first, e.metadata.size());
  }
  return b;
}

// One entry ready to send: its labels after the pipeline and its line.
struct OutEntry {
  std::vector<std::pair<std::string, std::string>> labels;
  int64_t ts = 0;
  std::string line;
  std::shared_ptr<const Labels> stream;  // for a dropped marker
};

void WriteLabelsObject(wire::JsonWriter& w,
                       const std::vector<std::pair<std::string, std::string>>& l) {
  w.BeginObject();
  for (const auto& [k, v] : l) {
    w.Key(k);
    w.String(v);
  }
  w.EndObject();
}

std::vector<std::pair<std::string, std::string>> Pairs(const Labels& l) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& x : l) out.emplace_back(x.name, x.value);
  return out;
}

// Loki's tail message: consecutive entries with equal labels share a `streams` element.
template <class Entries>
std::string EncodeMessage(
    const Entries& entries, size_t begin, size_t end,
    const std::vector<std::pair<std::shared_ptr<const Labels>, int64_t>>& dropped) {
  std::string out;
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("streams");
  w.BeginArray();
  for (size_t i = begin; i < end;) {
    size_t j = i;
    while (j < end && entries[j].labels == entries[i].labels) j++;
    w.BeginObject();
    w.Key("stream");
    WriteLabelsObject(w, entries[i].labels);
    w.Key("values");
    w.BeginArray();
    for (size_t k = i; k < j; k++) {
      w.BeginArray();
      w.String(std::to_string(entries[k].ts));
      w.String(entries[k].line);
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    i = j;
  }
  w.EndArray();
  if (!dropped.empty()) {
    w.Key("dropped_entries");
    w.BeginArray();
    for (const auto& [labels, ts] : dropped) {
      w.BeginObject();
      w.Key("labels");
      WriteLabelsObject(w, Pairs(*labels));
      w.Key("timestamp");
      w.String(std::to_string(ts));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return out;
}

}  // namespace

struct TailHub::Tail {
  std::string tenant;
  std::vector<Matcher> matchers;
  std::shared_ptr<const logql::Pipeline> pipeline;
  std::shared_ptr<Connection> conn;
  TailOptions opts;
  int64_t opened_mono = 0;

  std::mutex mu;  // pending, pending_entries, dropped
  struct Ref {    // entries [begin, end) of a shared batch
    std::shared_ptr<const Batch> batch;
    size_t begin = 0, end = 0;
  };
  std::deque<Ref> pending;
  size_t pending_entries = 0;
  std::vector<std::pair<std::shared_ptr<const Labels>, int64_t>> dropped;

  // Delivery thread only.
  std::unordered_map<uint64_t, std::unique_ptr<logql::StreamPipeline>> pipes;  // by fingerprint
  std::deque<OutEntry> outbox;  // run through the pipeline, not yet taken by the connection
  int64_t full_since_mono = 0;  // since when the connection took nothing (0 = it did)
  bool ended = false;

  void Drop(const std::shared_ptr<const Labels>& labels, int64_t ts) {
    if (dropped.size() < kMaxDroppedMarkers) dropped.emplace_back(labels, ts);
  }
};

TailHub::TailHub(ingester::Pusher* next, metrics::Registry* registry) : next_(next) {
  if (registry != nullptr) {
    // Loki's querier metric (the hub is the single binary's querier-side tail).
    active_ = &registry->AddGauge("loki_querier_tail_active", "Number of active tailers", {})
                   .WithLabels();
    dropped_ = &registry
                    ->AddCounter("skald_tail_dropped_entries_total",
                                 "Entries a tail could not deliver (slow client).", {})
                    .WithLabels();
    sent_ = &registry
                 ->AddCounter("skald_tail_entries_sent_total",
                              "Entries queued to tail connections.", {})
                 .WithLabels();
  }
  thread_ = std::thread([this] { Run(); });
}

TailHub::~TailHub() { Stop(); }

void TailHub::Stop() {
  std::vector<std::shared_ptr<Tail>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    stop_ = true;
    for (auto& [tenant, list] : tails_) all.insert(all.end(), list.begin(), list.end());
    tails_.clear();
    count_.store(0);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& t : all) t->conn->Close(kCloseGoingAway, "server shutting down");
  if (active_) active_->Set(0);
}

size_t TailHub::open_tails() const { return count_.load(); }

Status TailHub::CheckLimit(std::string_view tenant, int max_per_tenant) const {
  if (max_per_tenant <= 0) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  auto it = tails_.find(tenant);
  const size_t n = it == tails_.end() ? 0 : it->second.size();
  if (n + 1 > static_cast<size_t>(max_per_tenant)) {
    return Status::InvalidArgument("max concurrent tail requests limit exceeded, count > limit (" +
                                   std::to_string(n + 1) + " > " + std::to_string(max_per_tenant) +
                                   ")");
  }
  return Status::OK();
}

Status TailHub::Open(std::string_view tenant, const logql::LogSelector& selector,
                     const std::vector<wire::ResultStream>& history, const TailOptions& opts,
                     std::shared_ptr<Connection> conn) {
  SKALD_RETURN_IF_ERROR(CheckLimit(tenant, opts.max_per_tenant));
  SKALD_ASSIGN_OR_RETURN(auto pipeline, logql::Pipeline::Compile(selector));
  auto t = std::make_shared<Tail>();
  t->tenant = std::string(tenant);
  t->matchers = selector.matchers;
  t->pipeline = std::move(pipeline);
  t->conn = std::move(conn);
  t->opts = opts;
  t->opened_mono = MonotonicNanos();

  // History, oldest first, in messages of at most kMaxEntriesPerMessage entries.
  std::vector<OutEntry> hist;
  for (const wire::ResultStream& s : history) {
    for (const wire::ResultEntry& e : s.entries) {
      OutEntry o;
      o.labels = Pairs(s.labels);
      for (const auto& kv : e.metadata) o.labels.push_back(kv);
      for (const auto& kv : e.parsed) o.labels.push_back(kv);
      std::sort(o.labels.begin(), o.labels.end());
      o.ts = e.ts;
      o.line = e.line;
      hist.push_back(std::move(o));
    }
  }
  std::stable_sort(hist.begin(), hist.end(),
                   [](const OutEntry& a, const OutEntry& b) { return a.ts < b.ts; });
  for (size_t i = 0; i < hist.size(); i += kMaxEntriesPerMessage) {
    size_t end = std::min(hist.size(), i + kMaxEntriesPerMessage);
    if (!t->conn->Send(EncodeMessage(hist, i, end, {}))) break;  // the live part reports drops
  }

  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return Status::Unavailable("server shutting down");
    auto& list = tails_[t->tenant];
    if (opts.max_per_tenant > 0 && list.size() >= static_cast<size_t>(opts.max_per_tenant)) {
      return Status::InvalidArgument(
          "max concurrent tail requests limit exceeded, count > limit (" +
          std::to_string(list.size() + 1) + " > " + std::to_string(opts.max_per_tenant) + ")");
    }
    list.push_back(t);
    count_.fetch_add(1);
    if (active_) active_->Set(static_cast<double>(count_.load()));
  }
  return Status::OK();
}

Status TailHub::PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) {
  SKALD_RETURN_IF_ERROR(next_->PushBatch(tenant, streams));
  if (count_.load(std::memory_order_relaxed) == 0) return Status::OK();
  std::vector<std::shared_ptr<Tail>> tails;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tails_.find(tenant);
    if (it == tails_.end()) return Status::OK();
    tails = it->second;
  }
  const int64_t now = MonotonicNanos();
  for (const ingester::StreamAppend& sa : streams) {
    if (sa.result.appended == 0) continue;
    std::shared_ptr<const Batch> batch;
    for (const auto& t : tails) {
      if (!MatchesAll(t->matchers, *sa.labels)) continue;
      if (!batch) {
        const uint64_t fp = sa.fingerprint != 0 ? sa.fingerprint : sa.labels->Fingerprint();
        batch = CopyBatch(sa, fp, now);
      }
      std::lock_guard<std::mutex> l(t->mu);
      // What does not fit is lost to this (lagging) client and reported as dropped.
      const size_t room = kMaxPendingEntries - std::min(kMaxPendingEntries, t->pending_entries);
      const size_t take = std::min(room, batch->entries.size());
      if (take > 0) {
        t->pending.push_back({batch, 0, take});
        t->pending_entries += take;
      }
      for (size_t i = take; i < batch->entries.size(); i++) {
        t->Drop(batch->labels, batch->entries[i].ts);
      }
      if (dropped_ && take < batch->entries.size()) {
        dropped_->Inc(static_cast<double>(batch->entries.size() - take));
      }
    }
  }
  return Status::OK();
}

void TailHub::Run() {
  pthread_setname_np(pthread_self(), "skald-tail");
  std::unique_lock<std::mutex> l(mu_);
  bool backlog = false;
  while (!stop_) {
    // A connection that could not take everything is retried soon; otherwise every tick.
    cv_.wait_for(l, std::chrono::nanoseconds(backlog ? kTickNs / 10 : kTickNs));
    if (stop_) break;
    std::vector<std::shared_ptr<Tail>> all;
    for (auto& [tenant, list] : tails_) all.insert(all.end(), list.begin(), list.end());
    l.unlock();
    const int64_t mono = MonotonicNanos();
    backlog = false;
    for (auto& t : all) backlog |= Deliver(*t, mono);
    l.lock();
    size_t removed = 0;
    for (auto it = tails_.begin(); it != tails_.end();) {
      auto& list = it->second;
      size_t before = list.size();
      std::erase_if(list, [](const std::shared_ptr<Tail>& t) { return t->ended; });
      removed += before - list.size();
      it = list.empty() ? tails_.erase(it) : std::next(it);
    }
    if (removed > 0) {
      count_.fetch_sub(removed);
      if (active_) active_->Set(static_cast<double>(count_.load()));
    }
  }
}

bool TailHub::Deliver(Tail& t, int64_t now_mono) {
  if (t.ended) return false;
  if (t.conn->closed()) {
    t.ended = true;
    return false;
  }
  if (t.opts.max_duration_ns > 0 && now_mono - t.opened_mono >= t.opts.max_duration_ns) {
    t.conn->Close(kCloseInternalError, "reached tail max duration limit");
    t.ended = true;
    return false;
  }
  std::vector<Tail::Ref> ready;
  std::vector<std::pair<std::shared_ptr<const Labels>, int64_t>> dropped;
  {
    std::lock_guard<std::mutex> l(t.mu);
    while (!t.pending.empty() &&
           now_mono - t.pending.front().batch->arrived_mono >= t.opts.delay_ns) {
      t.pending_entries -= t.pending.front().end - t.pending.front().begin;
      ready.push_back(std::move(t.pending.front()));
      t.pending.pop_front();
    }
    dropped.swap(t.dropped);
  }
  std::vector<OutEntry> fresh;
  for (const Tail::Ref& ref : ready) {
    const Batch* b = ref.batch.get();
    auto it = t.pipes.find(b->fingerprint);
    if (it == t.pipes.end()) {
      if (t.pipes.size() >= 10000) t.pipes.clear();  // bound the per-stream state
      it = t.pipes.emplace(b->fingerprint, t.pipeline->ForStream(*b->labels)).first;
    }
    for (size_t i = ref.begin; i < ref.end; i++) {
      const Batch::Entry& e = b->entries[i];
      std::string_view line;
      if (!it->second->Process(e.ts, e.line, e.md, &line)) continue;
      OutEntry o;
      for (const auto& l : it->second->labels().all) o.labels.emplace_back(l.name, l.value);
      o.ts = e.ts;
      o.line = std::string(line);
      o.stream = b->labels;
      fresh.push_back(std::move(o));
    }
  }
  // Entries of a push arrive in push order; each delivery is sent sorted by time.
  std::stable_sort(fresh.begin(), fresh.end(),
                   [](const OutEntry& a, const OutEntry& b) { return a.ts < b.ts; });
  for (auto& o : fresh) t.outbox.push_back(std::move(o));
  // The outbox is bounded like the pending entries: the oldest beyond it are lost to this
  // client and reported.
  while (t.outbox.size() > kMaxPendingEntries) {
    if (dropped.size() < kMaxDroppedMarkers) {
      dropped.emplace_back(t.outbox.front().stream, t.outbox.front().ts);
    }
    if (dropped_) dropped_->Inc();
    t.outbox.pop_front();
  }
  // Send while the connection takes messages; what it does not take waits for the next tick.
  bool progress = false;
  while (!t.outbox.empty() || !dropped.empty()) {
    const size_t n = std::min(t.outbox.size(), kMaxEntriesPerMessage);
    if (!t.conn->Send(EncodeMessage(t.outbox, 0, n, dropped))) break;
    progress = true;
    dropped.clear();
    if (sent_) sent_->Inc(static_cast<double>(n));
    t.outbox.erase(t.outbox.begin(), t.outbox.begin() + static_cast<ptrdiff_t>(n));
  }
  if (!dropped.empty()) {  // not sent yet: they go with the next message
    std::lock_guard<std::mutex> l(t.mu);
    for (auto& d : dropped) t.Drop(d.first, d.second);
  }
  // A client that takes nothing at all while entries wait is stuck, not just behind.
  const bool full = !t.outbox.empty();
  if (!full || progress) {
    t.full_since_mono = 0;
  } else if (t.full_since_mono == 0) {
    t.full_since_mono = now_mono;
  } else if (now_mono - t.full_since_mono >= t.opts.slow_client_timeout_ns) {
    log::Warn("closing slow tail client", {{"tenant", t.tenant}});
    t.conn->Close(kCloseInternalError, "slow client");
    t.ended = true;
  }
  return full;
}

}  // namespace skald::tail
