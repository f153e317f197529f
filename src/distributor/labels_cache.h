// The parsed form of the label texts pushes carry, by text: most pushes repeat the same few
// thousand streams, and parsing, sorting, naming the service and formatting each one anew
// cost about a tenth of a push's CPU (Loki's distributor keeps such a cache too).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/labels.h"
#include "core/string_hash.h"

namespace skald::distributor {

// A stream's labels as the distributor validates and forwards them.
struct ParsedLabels {
  Labels labels;          // parsed, with service_name discovered
  std::string canonical;  // labels.ToString()
  uint64_t fingerprint;   // FingerprintOf(canonical)
  // The discover_service_name list `labels` was made with: a tenant whose list differs
  // (another tenant, or a runtime change) parses the text again.
  std::vector<std::string> discover;
};

// Bounded: each of its shards holds at most max_entries / kShards texts. A full shard is
// emptied for new texts only when its entries have been found as often as it holds them;
// otherwise new texts are not kept (a load of ever new streams then costs no allocations).
// Thread-safe.
class LabelsCache {
 public:
  explicit LabelsCache(size_t max_entries = 32768)
      : per_shard_(std::max<size_t>(max_entries / kShards, 1)) {}

  // The entry for `text` made with `discover`; null when there is none.
  std::shared_ptr<const ParsedLabels> Get(std::string_view text,
                                          const std::vector<std::string>& discover) const;
  void Put(std::string_view text, std::shared_ptr<const ParsedLabels> parsed);
  size_t Size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, std::shared_ptr<const ParsedLabels>, StringViewHash,
                        StringViewEq>
        map;
    size_t hits = 0;  // Gets that found an entry since the map was last emptied
  };
  Shard& ShardOf(std::string_view text) const {
    return shards_[StringViewHash{}(text)*0x9E3779B97F4A7C15ull >> 60];
  }
  static_assert(kShards == 16, "ShardOf uses the top 4 bits");

  const size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace skald::distributor
