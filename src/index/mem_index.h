// MemIndex: the in-memory inverted index of one tenant's head (unflushed)
// streams. The ingester adds a stream when it is created and removes it once
// it is flushed and idle; queries select streams with label matchers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "core/labels.h"
#include "core/matcher.h"

namespace skald::index {

// Postings: name=value -> fingerprints and name -> fingerprints, kept sorted
// (B-trees) so adds and removes are O(log n) and selection needs no sort.
// Labels with an empty value are stored (LabelsOf returns them) but not
// indexed: for selection, an empty value is the same as an absent label.
//
// Thread-safe: a shared_mutex lets many readers (Select, LabelsOf, ...) run
// concurrently; Add/Remove take it exclusively.
class MemIndex {
 public:
  MemIndex() = default;
  MemIndex(const MemIndex&) = delete;
  MemIndex& operator=(const MemIndex&) = delete;

  // Indexes stream `fp` with `labels`. Idempotent: adding a known fingerprint
  // again does nothing (the first labels win).
  void Add(uint64_t fp, const Labels& labels);
  // Forgets stream `fp`; no-op when unknown.
  void Remove(uint64_t fp);

  // Sorted fingerprints of the streams matching all matchers (Prometheus
  // semantics, see SelectPostings in postings.h). Empty list: all streams.
  std::vector<uint64_t> Select(const std::vector<Matcher>& matchers) const;
  // The labels `fp` was added with; nullopt when unknown.
  std::optional<Labels> LabelsOf(uint64_t fp) const;
  // Names of indexed labels (non-empty values), sorted.
  std::vector<std::string> LabelNames() const;
  // Distinct non-empty values of `name`, sorted.
  std::vector<std::string> LabelValues(std::string_view name) const;
  // Number of streams.
  size_t size() const;

 private:
  class Source;
  struct NameEntry {
    absl::btree_set<uint64_t> all;  // streams having the name
    absl::btree_map<std::string, absl::btree_set<uint64_t>, std::less<>> values;
  };

  mutable std::shared_mutex mu_;
  absl::flat_hash_map<uint64_t, Labels> series_;
  absl::btree_set<uint64_t> all_;
  absl::btree_map<std::string, NameEntry, std::less<>> postings_;
};

}  // namespace skald::index
