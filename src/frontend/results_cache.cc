#include "frontend/results_cache.h"

#include "core/metrics.h"

namespace skald::frontend {

struct ResultsCache::Metrics {
  metrics::Counter* lookups = nullptr;
  metrics::Counter* hits = nullptr;
};

ResultsCache::ResultsCache(size_t max_bytes, metrics::Registry* registry)
    : max_bytes_(max_bytes), metrics_(std::make_unique<Metrics>()) {
  if (registry != nullptr) {
    metrics_->lookups = &registry
                             ->AddCounter("skald_results_cache_lookups_total",
                                          "Subquery results looked up in the results cache.", {})
                             .WithLabels({});
    metrics_->hits = &registry
                          ->AddCounter("skald_results_cache_hits_total",
                                       "Subquery results found in the results cache.", {})
                          .WithLabels({});
    registry->GaugeFunc("skald_results_cache_bytes", "Bytes held by the results cache.",
                        [this] { return static_cast<double>(bytes()); });
  }
}

ResultsCache::~ResultsCache() = default;

std::optional<std::string> ResultsCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (metrics_->lookups != nullptr) metrics_->lookups->Inc();
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  if (metrics_->hits != nullptr) metrics_->hits->Inc();
  return it->second->value;
}

void ResultsCache::Put(const std::string& key, std::string value) {
  const size_t size = key.size() + value.size();
  if (size > max_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->key.size() + it->second->value.size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front({key, std::move(value)});
  index_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    const Item& last = lru_.back();
    bytes_ -= last.key.size() + last.value.size();
    index_.erase(last.key);
    lru_.pop_back();
  }
}

size_t ResultsCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace skald::frontend
