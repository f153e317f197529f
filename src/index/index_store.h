// IndexStore: every flushed index file of every tenant, in an ObjectStore.
//
// Keys: "index/<tenant>/<day>/<file name>" where <day> = floor(unix_ns /
// 86400e9) in decimal (Loki's table number) and <file name> is
// "<20-digit zero-padded write time in unix ns>-<16 hex random>", so names
// are unique and sort by write time. See docs/formats/object-keys.md.
//
// Which day a file belongs to: the ingester writes a chunk into the file of
// the day of its min_ts (it may also write it into later days it overlaps;
// duplicates are merged by chunk key). Queries therefore also read the files
// of the day before `from`, which is enough as long as no chunk spans more
// than 24h (max_chunk_age is far smaller).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "index/chunk_ref.h"
#include "index/index_file.h"
#include "storage/object_store.h"

namespace skald::index {

// floor(unix_ns / kNanosPerDay): the day (period) number of a timestamp.
int64_t DayOf(int64_t unix_ns);

// Thread-safe. Opened readers are cached in memory by key (files are
// immutable), up to cache_bytes of them (IndexFileReader::memory_bytes): past that
// the least recently used are dropped, and read again when a query needs them.
// Files removed from the store are forgotten via Forget(). Every method touches
// only the keys of the tenant it is given, so one tenant's data is never read for
// another.
class IndexStore {
 public:
  static constexpr size_t kDefaultCacheBytes = size_t{1} << 30;

  // `store` must outlive the IndexStore.
  explicit IndexStore(storage::ObjectStore* store, size_t cache_bytes = kDefaultCacheBytes);

  // Stores a new index file (IndexFileWriter::Finish() output) for (tenant,
  // day) under a fresh unique name. InvalidArgument for a bad tenant ID or a
  // negative day; the file is parsed first and a Corruption error is returned
  // (nothing written) if it does not open; store errors are passed through.
  Status Write(std::string_view tenant, int64_t day, const std::string& file_bytes);

  // A series' labels, decoded from its index file only when asked for: a query over a
  // million series needs the labels of those that produce output only.
  class LazyLabels {
   public:
    LazyLabels() = default;
    LazyLabels(std::shared_ptr<const IndexFileReader> file, uint64_t ordinal)
        : file_(std::move(file)), ordinal_(ordinal) {}
    bool has_value() const { return file_ != nullptr; }
    Labels Get() const { return file_ == nullptr ? Labels() : file_->LabelsAt(ordinal_); }

   private:
    std::shared_ptr<const IndexFileReader> file_;
    uint64_t ordinal_ = 0;
  };
  struct SeriesChunks {
    uint64_t fingerprint;
    LazyLabels labels;
    std::vector<ChunkRef> chunks;  // sorted by (min_ts, max_ts, key), unique keys
  };
  // Series matching matchers that have chunks overlapping [from, through]
  // (inclusive ns), merged across every file of every day in range: one entry
  // per fingerprint, chunks deduplicated by key. Sorted by fingerprint. An
  // empty range (from > through) gives no series. With `probe`, chunks whose detached
  // filter it refutes are left out (a series left without chunks is left out too) and
  // counted in *refuted (optional). The refs carry no filter (ChunkRef::filter is empty).
  // Errors: InvalidArgument (tenant), Corruption (a stored file is damaged), store errors.
  StatusOr<std::vector<SeriesChunks>> Query(std::string_view tenant, int64_t from, int64_t through,
                                            const std::vector<Matcher>& matchers,
                                            const FilterProbe* probe = nullptr,
                                            uint64_t* refuted = nullptr);
  // Label names of the files overlapping the range (file granularity), sorted.
  StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant, int64_t from,
                                                int64_t through);
  // Values of `name` in the files overlapping the range (file granularity), sorted.
  StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant, std::string_view name,
                                                 int64_t from, int64_t through);
  // Label sets of the series matching matchers with chunks in range, sorted
  // by fingerprint.
  StatusOr<std::vector<Labels>> Series(std::string_view tenant, int64_t from, int64_t through,
                                       const std::vector<Matcher>& matchers);

  // Key prefix of one tenant's files of one day: "index/<tenant>/<day>/".
  static std::string DayPrefix(std::string_view tenant, int64_t day);
  // The tenant and day of an index file key "index/<tenant>/<day>/<name>"; false for
  // anything else.
  static bool ParseKey(std::string_view key, std::string_view* tenant, int64_t* day);
  // Drops the cached reader of `key` (call after deleting the file).
  void Forget(std::string_view key);
  // Number of cached readers, and their memory_bytes in all.
  size_t cached_files() const;
  size_t cached_bytes() const;

 private:
  using ReaderPtr = std::shared_ptr<const IndexFileReader>;
  // Readers of the tenant's files that may hold chunks overlapping the range.
  StatusOr<std::vector<ReaderPtr>> FilesFor(std::string_view tenant, int64_t from, int64_t through);
  StatusOr<ReaderPtr> Load(const std::string& key);
  // Caches `reader` under `key` as the most recently used, then drops the least recently
  // used others while the cache holds more than cache_limit_. Returns the cached reader
  // (another thread's when it got there first).
  ReaderPtr CacheLocked(const std::string& key, ReaderPtr reader);
  // Keys of the tenant's files of days [first_day, last_day].
  StatusOr<std::vector<std::string>> ListDays(std::string_view tenant, int64_t first_day,
                                              int64_t last_day);
  std::string NewFileName();

  storage::ObjectStore* const store_;
  const uint64_t name_seed_;
  std::atomic<int64_t> last_name_ns_{0};
  std::atomic<uint64_t> name_counter_{0};
  const size_t cache_limit_;
  mutable std::mutex mu_;
  struct Cached {
    ReaderPtr reader;
    size_t bytes;
    std::list<std::string>::iterator lru;  // its key in lru_
  };
  absl::flat_hash_map<std::string, Cached> cache_;  // guarded by mu_
  std::list<std::string> lru_;                      // keys, most recently used first
  size_t cache_bytes_ = 0;                          // sum of Cached::bytes
};

}  // namespace skald::index
