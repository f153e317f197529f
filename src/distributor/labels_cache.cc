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
  }
  return found->discover == discover ? found : nullptr;
}

void LabelsCache::Put(std::string_view text, std::shared_ptr<const ParsedLabels> parsed) {
  Shard& s = ShardOf(text);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.map.size() >= per_shard_ && !s.map.contains(text)) {
    s.map.clear();
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
