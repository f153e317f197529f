// PatternStore: the pattern ingester's state (Loki's pkg/pattern instance and stream): per
// tenant, per stream, one Drain per level, fed with the lines pushed and asked for the
// patterns of the streams matching a selector, with their counts summed into step buckets.
//
// Memory: a Drain keeps at most max_clusters clusters (LRU), each at most retain_for /
// sample_interval samples; Prune() (run every prune_period by the tee's worker) drops
// samples older than retain_for, clusters without samples and streams without clusters,
// then, while a tenant's estimated bytes exceed max_bytes_per_tenant, its least recently
// pushed streams. A tenant holds at most max_streams_per_tenant streams (lines of new
// streams beyond it are dropped and counted).
//
// Thread-safe: tenants and streams are looked up under short locks; each stream has its own
// mutex, so pushes to different streams and queries run in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "pattern/drain.h"

namespace skald::metrics {
class Registry;
}

namespace skald::pattern {

struct PatternStoreOptions {
  DrainConfig drain;
  int64_t retain_for_ns = 3LL * 3600 * 1000000000;  // -pattern-ingester.retain-for
  size_t max_streams_per_tenant = 100000;
  size_t max_bytes_per_tenant = 256u << 20;
  // Loki's pattern querier keeps patterns with at least this many lines in the range, the
  // max_patterns most frequent.
  int64_t min_cluster_size = 30;
  size_t max_patterns = 300;
  metrics::Registry* registry = nullptr;  // optional
  std::function<int64_t()> now_ns;        // wall clock (tests pass a fake); null = real
};

struct PatternSeries {
  std::string pattern;
  std::string level;
  std::vector<Sample> samples;  // time order; ts in ms
};

struct PatternStoreStats {
  size_t tenants = 0, streams = 0, clusters = 0, bytes = 0;
};

class PatternStore {
 public:
  explicit PatternStore(PatternStoreOptions options);
  ~PatternStore();
  PatternStore(const PatternStore&) = delete;
  PatternStore& operator=(const PatternStore&) = delete;

  // Trains the stream's drains with its entries (entries older than the stream's newest
  // entry are ignored, as Loki does). fingerprint 0 = computed from labels.
  void Push(std::string_view tenant, const Labels& labels, uint64_t fingerprint,
            std::span<const EntryView> entries);

  // Patterns of the tenant's streams matching all matchers over [start_ns, end_ns), in
  // step buckets (step < sample interval is raised to it), grouped by (pattern, level),
  // most frequent first; at most max_patterns, each with >= min_cluster_size lines.
  std::vector<PatternSeries> Query(std::string_view tenant, const std::vector<Matcher>& matchers,
                                   int64_t start_ns, int64_t end_ns, int64_t step_ns) const;

  // Drops what is older than retain_for and enforces the per-tenant byte budget.
  void Prune();

  PatternStoreStats Stats() const;
  const PatternStoreOptions& options() const { return opts_; }

 private:
  struct Stream;
  struct Tenant;
  std::shared_ptr<Tenant> GetTenant(std::string_view tenant, bool create);
  std::shared_ptr<const Tenant> FindTenant(std::string_view tenant) const;

  PatternStoreOptions opts_;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Tenant>> tenants_;
};

// Loki's patterns response: {"status":"success","data":[{"pattern":..,"level":..,
// "samples":[[<unix s>,<count>],...]},...]} (no trailing newline).
std::string EncodePatternsResponse(const std::vector<PatternSeries>& series);

}  // namespace skald::pattern
