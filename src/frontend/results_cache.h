// The query frontend's results cache (Loki's query_range.results_cache with the embedded
// cache): merged answers of metric subqueries, keyed by tenant, query, step and the split's
// bounds, kept in memory up to a byte budget with least-recently-used eviction. Only splits
// that end before now - max_cache_freshness are stored (newer data may still arrive).
// Metrics: loki_embeddedcache_{requests,hits}_total style counters as
// skald_results_cache_{lookups,hits}_total, skald_results_cache_bytes (gauge).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace skald::metrics {
class Registry;
}

namespace skald::frontend {

class ResultsCache {
 public:
  ResultsCache(size_t max_bytes, metrics::Registry* registry);
  ~ResultsCache();

  std::optional<std::string> Get(const std::string& key);
  void Put(const std::string& key, std::string value);
  size_t bytes() const;

 private:
  struct Item {
    std::string key;
    std::string value;
  };
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Item> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Item>::iterator> index_;
  size_t bytes_ = 0;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace skald::frontend
