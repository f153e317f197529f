// MemIndex: the in-memory inverted index of one tenant's head (unflushed)
// streams. The ingester adds a stream when it is created and removes it once
// it is flushed and idle; queries select streams with label matchers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/labels.h"
#include "core/matcher.h"

namespace skald::index {

// Postings: name=value -> fingerprints and name -> fingerprints. Adding a stream
// only appends its fingerprint to its lists (O(1)); a list is brought back to
// sorted, duplicate-free form, without the streams removed since, when a reader
// needs it (Normalize, under the shard's exclusive lock). Adds and removes of many
// streams (a push creating thousands, a flush dropping them) thus cost no sorted
// inserts; a query pays for sorting what was added since the previous one.
// Labels with an empty value are stored (LabelsOf returns them) but not
// indexed: for selection, an empty value is the same as an absent label.
//
// Thread-safe. Streams are spread over kShards shards by fingerprint, each with its
// own shared_mutex and postings, so pushes creating streams at once rarely wait for
// each other; readers (Select, LabelsOf, ...) visit the shards one at a time and
// merge what they answer.
class MemIndex {
 public:
  static constexpr size_t kShards = 16;

  MemIndex() = default;
  MemIndex(const MemIndex&) = delete;
  MemIndex& operator=(const MemIndex&) = delete;

  // Indexes stream `fp` with `labels` (shared, not copied: the ingester's stream holds the
  // same object). Idempotent: adding a known fingerprint again does nothing (the first
  // labels win).
  void Add(uint64_t fp, PackedLabels labels);
  void Add(uint64_t fp, const Labels& labels) { Add(fp, PackedLabels(labels)); }
  // Forgets stream `fp`; no-op when unknown. What it held is freed by the next read of
  // its shard, or by Compact.
  void Remove(uint64_t fp);
  // Frees now what removed streams still hold (after removing many, e.g. at a flush).
  void Compact();

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
  // Fingerprints, sorted and duplicate-free unless dirty (appended to, or holding removed
  // streams, since sorted). One fits inline: with a label value per stream (a request id, a
  // pod name), a million streams are a million single-entry lists, each of which would
  // otherwise be a heap block. 16 bytes.
  class PostingList {
   public:
    PostingList() = default;
    PostingList(const PostingList&) = delete;
    PostingList& operator=(const PostingList&) = delete;
    ~PostingList() {
      if (cap_ > 1) delete[] heap_;
    }
    bool dirty() const { return dirty_; }
    void set_dirty(bool dirty) { dirty_ = dirty; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    uint64_t* begin() { return cap_ > 1 ? heap_ : &one_; }
    const uint64_t* begin() const { return cap_ > 1 ? heap_ : &one_; }
    uint64_t* end() { return begin() + size_; }
    const uint64_t* end() const { return begin() + size_; }
    uint64_t back() const { return begin()[size_ - 1]; }
    void push_back(uint64_t fp);
    // Keeps the first n (n <= size()), then gives back room when much is unused.
    void Truncate(size_t n);
    std::vector<uint64_t> ToVector() const { return {begin(), end()}; }

   private:
    union {
      uint64_t one_ = 0;  // cap_ == 1
      uint64_t* heap_;    // cap_ > 1
    };
    uint32_t size_ = 0;
    uint32_t cap_ : 31 = 1;
    uint32_t dirty_ : 1 = 0;
  };
  static_assert(sizeof(PostingList) == 16);
  using ValueMap = std::map<std::string, PostingList, std::less<>>;  // node-stable
  struct NameEntry {
    PostingList all;  // streams having the name
    ValueMap values;
  };
  using NameMap = std::map<std::string, NameEntry, std::less<>>;
  struct Shard {
    mutable std::shared_mutex mu;
    absl::flat_hash_map<uint64_t, PackedLabels> series;
    PostingList all;
    NameMap postings;
    // Value and name lists that are dirty (each listed once), and whether a stream was
    // removed since the last Normalize (dirty lists then drop fingerprints no longer in
    // `series`).
    std::vector<std::pair<NameMap::iterator, ValueMap::iterator>> dirty_values;
    std::vector<NameMap::iterator> dirty_names;
    // Labels of the streams removed since the last Normalize, which finds their lists.
    std::vector<PackedLabels> removed;
    bool removals = false;
    bool Clean() const { return !all.dirty() && dirty_values.empty() && dirty_names.empty(); }
  };

  // Fingerprints are hashes: their top bits spread streams evenly.
  Shard& ShardOf(uint64_t fp) { return shards_[fp >> 60]; }
  const Shard& ShardOf(uint64_t fp) const { return shards_[fp >> 60]; }
  static_assert(kShards == 16, "ShardOf uses the top 4 bits");

  // Sorts every dirty list of `s` and drops removed streams and emptied entries.
  // REQUIRES: s.mu held exclusively.
  static void Normalize(Shard& s);
  // Marks dirty the lists that may hold streams removed since the last Normalize.
  // REQUIRES: s.mu held exclusively.
  static void MarkRemovedLists(Shard& s);
  // Runs read(s) with every list of `s` normalized: under the shared lock when it is
  // clean, else under the exclusive lock after normalizing.
  template <typename F>
  static void Read(Shard& s, F&& read);

  // mutable: readers normalize lists (no change visible through the public interface).
  mutable Shard shards_[kShards];
};

}  // namespace skald::index
