// Parsed stream labels by text (see labels_cache.h).
#include "distributor/labels_cache.h"

namespace skald::distributor {

std::shared_ptr<const ParsedLabels> LabelsCache::Get(
    std::string_view text, const std::vector<std::string>& discover) const {
  Shard& s = ShardOf(text);
  std::shared_ptr<const ParsedLabels> found;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(text);
    if (it == s.map.end()) return nullptr;
    found = it->second;
    s.hits++;
  }
  return found->discover == discover ? found : nullptr;
}

void LabelsCache::Put(std::string_view text, std::shared_ptr<const ParsedLabels> parsed) {
  Shard& s = ShardOf(text);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.map.size() >= per_shard_ && !s.map.contains(text)) {
    // Full: start over only if the entries were used (on average once each since the last
    // start). Under a load of ever new streams they are not, and clearing and refilling the
    // shard would only cost allocations (at 1,000,000 streams, a third more push CPU).
    if (s.hits < s.map.size()) return;
    s.map.clear();
    s.hits = 0;
  }
  s.map.insert_or_assign(std::string(text), std::move(parsed));
}

size_t LabelsCache::Size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace skald::distributor
