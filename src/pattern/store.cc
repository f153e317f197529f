#include "pattern/store.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <map>

#include "core/json_escape.h"
#include "core/metrics.h"
#include "pattern/level.h"

namespace skald::pattern {

namespace {

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct PatternStore::Metrics {
  metrics::Family<metrics::Counter>* detected = nullptr;
  metrics::Family<metrics::Counter>* evicted = nullptr;
  metrics::Family<metrics::Counter>* dropped = nullptr;
};

struct PatternStore::Stream {
  Labels labels;
  uint64_t fingerprint = 0;
  std::mutex mu;
  LineFormat format = LineFormat::kUnknown;
  int stream_level = -1;
  std::unique_ptr<Drain> drains[kLevelCount];
  DrainStats stats, reported;
  int64_t last_ts = INT64_MIN;
  int64_t last_push_ns = 0;
  size_t bytes = 0;  // estimate, refreshed by Prune
};

struct PatternStore::Tenant {
  std::string id;
  mutable std::mutex mu;
  std::unordered_map<uint64_t, std::vector<std::shared_ptr<Stream>>> streams;
  size_t stream_count = 0;
};

PatternStore::PatternStore(PatternStoreOptions options)
    : opts_(std::move(options)), metrics_(std::make_unique<Metrics>()) {
  if (!opts_.now_ns) opts_.now_ns = WallNowNs;
  if (opts_.drain.sample_interval_ms <= 0) opts_.drain.sample_interval_ms = 10000;
  if (opts_.drain.max_chunk_age_ms <= 0) opts_.drain.max_chunk_age_ms = 3600 * 1000;
  if (metrics::Registry* r = opts_.registry) {
    metrics_->detected = &r->AddCounter("loki_pattern_ingester_patterns_detected_total",
                                        "The total number of patterns detected from incoming log "
                                        "lines.",
                                        {"tenant", "format"});
    metrics_->evicted = &r->AddCounter("loki_pattern_ingester_patterns_evicted_total",
                                       "The total number of patterns evicted from the LRU cache.",
                                       {"tenant", "format", "pruned"});
    metrics_->dropped = &r->AddCounter("loki_pattern_ingester_patterns_dropped_total",
                                       "The total number of log lines skipped for pattern "
                                       "recognition.",
                                       {"tenant", "reason"});
    r->GaugeFunc("skald_pattern_streams", "Streams held by the pattern store.",
                 [this] { return static_cast<double>(Stats().streams); });
    r->GaugeFunc("skald_pattern_memory_bytes",
                 "Estimated bytes held by the pattern store (refreshed by each prune).",
                 [this] { return static_cast<double>(Stats().bytes); });
  }
}

PatternStore::~PatternStore() = default;

std::shared_ptr<PatternStore::Tenant> PatternStore::GetTenant(std::string_view tenant,
                                                              bool create) {
  {
    std::shared_lock lock(mu_);
    auto it = tenants_.find(std::string(tenant));
    if (it != tenants_.end() || !create) return it == tenants_.end() ? nullptr : it->second;
  }
  std::unique_lock lock(mu_);
  auto& t = tenants_[std::string(tenant)];
  if (!t) {
    t = std::make_shared<Tenant>();
    t->id = std::string(tenant);
  }
  return t;
}

std::shared_ptr<const PatternStore::Tenant> PatternStore::FindTenant(
    std::string_view tenant) const {
  std::shared_lock lock(mu_);
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? nullptr : it->second;
}

void PatternStore::Push(std::string_view tenant, const Labels& labels, uint64_t fingerprint,
                        std::span<const EntryView> entries) {
  if (entries.empty()) return;
  std::shared_ptr<Tenant> t = GetTenant(tenant, true);
  if (fingerprint == 0) fingerprint = labels.Fingerprint();
  std::shared_ptr<Stream> s;
  {
    std::lock_guard lock(t->mu);
    auto& bucket = t->streams[fingerprint];
    for (const auto& c : bucket) {
      if (c->labels == labels) s = c;
    }
    if (!s) {
      if (t->stream_count >= opts_.max_streams_per_tenant) {
        if (bucket.empty()) t->streams.erase(fingerprint);
        if (metrics_->dropped) {
          metrics_->dropped->WithLabels({t->id, "stream_limit"})
              .Inc(static_cast<double>(entries.size()));
        }
        return;
      }
      s = std::make_shared<Stream>();
      s->labels = labels;
      s->fingerprint = fingerprint;
      s->format = DetectLogFormat(entries.front().line);
      s->stream_level = StreamLevel(labels);
      bucket.push_back(s);
      t->stream_count++;
    }
  }
  std::lock_guard lock(s->mu);
  s->last_push_ns = opts_.now_ns();
  for (const EntryView& e : entries) {
    if (e.ts < s->last_ts) continue;
    s->last_ts = e.ts;
    const int lvl = EntryLevel(e.line, e.metadata, s->stream_level);
    auto& d = s->drains[lvl];
    if (!d) d = std::make_unique<Drain>(opts_.drain, s->format, &s->stats);
    d->Train(e.line, e.ts);
  }
  if (metrics_->detected) {
    const std::string format(LineFormatName(s->format));
    DrainStats& now = s->stats;
    DrainStats& was = s->reported;
    auto inc = [](metrics::Counter& c, uint64_t a, uint64_t b) {
      if (a > b) c.Inc(static_cast<double>(a - b));
    };
    if (now.detected != was.detected) {
      inc(metrics_->detected->WithLabels({t->id, format}), now.detected, was.detected);
    }
    if (now.evicted != was.evicted) {
      inc(metrics_->evicted->WithLabels({t->id, format, "false"}), now.evicted, was.evicted);
    }
    auto drop = [&](const char* reason, uint64_t a, uint64_t b) {
      if (a != b) inc(metrics_->dropped->WithLabels({t->id, reason}), a, b);
    };
    drop("too_few_tokens", now.skipped_too_few, was.skipped_too_few);
    drop("too_many_tokens", now.skipped_too_many, was.skipped_too_many);
    drop("line_too_long", now.skipped_too_long, was.skipped_too_long);
    drop("unparsable", now.skipped_unparsed, was.skipped_unparsed);
    drop("throttled", now.skipped_throttled, was.skipped_throttled);
    was = now;
  }
}

std::vector<PatternSeries> PatternStore::Query(std::string_view tenant,
                                               const std::vector<Matcher>& matchers,
                                               int64_t start_ns, int64_t end_ns,
                                               int64_t step_ns) const {
  std::shared_ptr<const Tenant> t = FindTenant(tenant);
  if (!t) return {};
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(t->mu);
    for (const auto& [fp, bucket] : t->streams) {
      for (const auto& s : bucket) {
        bool ok = true;
        for (const Matcher& m : matchers) {
          if (!m.Matches(s->labels.Get(m.name()))) {
            ok = false;
            break;
          }
        }
        if (ok) streams.push_back(s);
      }
    }
  }
  // Loki: from = start in ms (truncated), through = end in ms (rounded up).
  const int64_t from_ms = start_ns / 1000000;
  const int64_t through_ms = end_ns / 1000000 + (end_ns % 1000000 > 0 ? 1 : 0);
  const int64_t interval = opts_.drain.sample_interval_ms;
  const int64_t step_ms = std::max(step_ns / 1000000, interval);
  // (level, pattern) -> ts -> count
  std::map<std::pair<int, std::string>, std::map<int64_t, int64_t>> acc;
  std::vector<Sample> samples;
  for (const auto& s : streams) {
    std::lock_guard lock(s->mu);
    for (int lvl = 0; lvl < kLevelCount; lvl++) {
      if (!s->drains[lvl]) continue;
      const Drain& d = *s->drains[lvl];
      for (const LogCluster* c : d.Clusters()) {
        samples.clear();
        c->AppendRange(from_ms, through_ms, step_ms, interval, &samples);
        if (samples.empty()) continue;
        std::string text = d.PatternOf(*c);
        if (text.empty()) continue;
        auto& series = acc[{lvl, std::move(text)}];
        for (const Sample& x : samples) series[x.ts_ms] += x.count;
      }
    }
  }
  struct Ranked {
    int64_t total;
    PatternSeries series;
  };
  std::vector<Ranked> ranked;
  for (auto& [key, by_ts] : acc) {
    Ranked r{0, {key.second, std::string(kLevels[key.first]), {}}};
    for (const auto& [ts, n] : by_ts) {
      r.total += n;
      r.series.samples.push_back({ts, n});
    }
    if (r.total >= opts_.min_cluster_size) ranked.push_back(std::move(r));
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.total > b.total; });
  if (ranked.size() > opts_.max_patterns) ranked.resize(opts_.max_patterns);
  std::vector<PatternSeries> out;
  out.reserve(ranked.size());
  for (auto& r : ranked) out.push_back(std::move(r.series));
  return out;
}

void PatternStore::Prune() {
  const int64_t now_ns = opts_.now_ns();
  const int64_t cutoff_ms = (now_ns - opts_.retain_for_ns) / 1000000;
  std::vector<std::shared_ptr<Tenant>> tenants;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, t] : tenants_) tenants.push_back(t);
  }
  for (const auto& t : tenants) {
    std::vector<std::shared_ptr<Stream>> streams;
    {
      std::lock_guard lock(t->mu);
      for (const auto& [fp, bucket] : t->streams) {
        streams.insert(streams.end(), bucket.begin(), bucket.end());
      }
    }
    std::vector<std::shared_ptr<Stream>> empty;
    size_t total = 0;
    for (const auto& s : streams) {
      std::lock_guard lock(s->mu);
      size_t clusters = 0, bytes = sizeof(Stream);
      for (auto& d : s->drains) {
        if (!d) continue;
        clusters += d->Prune(cutoff_ms);
        bytes += d->MemoryBytes();
      }
      s->bytes = bytes;
      total += bytes;
      if (metrics_->evicted && s->stats.pruned != s->reported.pruned) {
        metrics_->evicted->WithLabels({t->id, std::string(LineFormatName(s->format)), "true"})
            .Inc(static_cast<double>(s->stats.pruned - s->reported.pruned));
        s->reported.pruned = s->stats.pruned;
      }
      if (clusters == 0) empty.push_back(s);
    }
    // Over budget: the least recently pushed streams go first.
    if (total > opts_.max_bytes_per_tenant) {
      std::vector<std::pair<int64_t, std::shared_ptr<Stream>>> by_age;
      for (const auto& s : streams) {
        std::lock_guard lock(s->mu);
        by_age.emplace_back(s->last_push_ns, s);
      }
      std::sort(by_age.begin(), by_age.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [ts, s] : by_age) {
        if (total <= opts_.max_bytes_per_tenant) break;
        total -= std::min(total, s->bytes);
        empty.push_back(s);
        if (metrics_->dropped) metrics_->dropped->WithLabels({t->id, "memory_limit"}).Inc();
      }
    }
    std::lock_guard lock(t->mu);
    for (const auto& s : empty) {
      auto it = t->streams.find(s->fingerprint);
      if (it == t->streams.end()) continue;
      auto& bucket = it->second;
      const size_t before = bucket.size();
      std::erase(bucket, s);
      t->stream_count -= before - bucket.size();
      if (bucket.empty()) t->streams.erase(it);
    }
  }
}

PatternStoreStats PatternStore::Stats() const {
  PatternStoreStats st;
  std::vector<std::shared_ptr<Tenant>> tenants;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, t] : tenants_) tenants.push_back(t);
  }
  st.tenants = tenants.size();
  for (const auto& t : tenants) {
    std::vector<std::shared_ptr<Stream>> streams;
    {
      std::lock_guard lock(t->mu);
      for (const auto& [fp, bucket] : t->streams) {
        streams.insert(streams.end(), bucket.begin(), bucket.end());
      }
    }
    st.streams += streams.size();
    for (const auto& s : streams) {
      std::lock_guard lock(s->mu);
      st.bytes += s->bytes;
      for (const auto& d : s->drains) {
        if (d) st.clusters += d->cluster_count();
      }
    }
  }
  return st;
}

std::string EncodePatternsResponse(const std::vector<PatternSeries>& series) {
  std::string out = R"({"status":"success","data":[)";
  for (size_t i = 0; i < series.size(); i++) {
    if (i > 0) out.push_back(',');
    out.append(R"({"pattern":)");
    AppendJsonString(&out, series[i].pattern, JsonEscaping::kGo);
    out.append(R"(,"level":)");
    AppendJsonString(&out, series[i].level, JsonEscaping::kGo);
    out.append(R"(,"samples":[)");
    for (size_t j = 0; j < series[i].samples.size(); j++) {
      const Sample& s = series[i].samples[j];
      if (j > 0) out.push_back(',');
      out.push_back('[');
      // model.Time.Unix(): milliseconds / 1000, truncated.
      out.append(std::to_string(s.ts_ms / 1000));
      out.push_back(',');
      out.append(std::to_string(s.count));
      out.push_back(']');
    }
    out.append("]}");
  }
  out.append("]}");
  return out;
}

}  // namespace skald::pattern
