// IndexStore: see index_store.h.
#include "index/index_store.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "core/tenant.h"
#include "core/time.h"

namespace skald::index {
namespace {

constexpr std::string_view kIndexPrefix = "index/";
// Up to this many days a query lists each day's directory; beyond, one
// tenant-wide listing filtered by day is cheaper.
constexpr int64_t kMaxPerDayLists = 8;

Status CheckTenant(std::string_view tenant) {
  if (tenant.empty()) return Status::InvalidArgument("tenant ID is empty");
  SKALD_RETURN_IF_ERROR(ValidateTenantID(tenant));
  if (tenant.find('/') != std::string_view::npos) {  // ValidateTenantID rejects it too
    return Status::InvalidArgument("tenant ID contains '/'");
  }
  return Status::OK();
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t RandomSeed() {
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device rd;
    seed ^= (static_cast<uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
    // No entropy source: the clock still makes names unique per process.
  }
  return seed;
}

// Parses a decimal day number (no sign, no leading zeros except "0").
bool ParseDay(std::string_view s, int64_t* day) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *day = v;
  return true;
}

bool ChunkLess(const ChunkRef& a, const ChunkRef& b) {
  if (a.min_ts != b.min_ts) return a.min_ts < b.min_ts;
  if (a.max_ts != b.max_ts) return a.max_ts < b.max_ts;
  return a.key < b.key;
}

}  // namespace

int64_t DayOf(int64_t unix_ns) {
  int64_t q = unix_ns / kNanosPerDay;
  if (unix_ns % kNanosPerDay < 0) --q;
  return q;
}

IndexStore::IndexStore(storage::ObjectStore* store, size_t cache_bytes)
    : store_(store), name_seed_(RandomSeed()), cache_limit_(cache_bytes) {}

IndexStore::ReaderPtr IndexStore::CacheLocked(const std::string& key, ReaderPtr reader) {
  auto [it, inserted] = cache_.try_emplace(key);
  if (!inserted) {  // another thread loaded it first: keep that one, now the most recent
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.reader;
  }
  lru_.push_front(key);
  it->second = Cached{std::move(reader), 0, lru_.begin()};
  it->second.bytes = it->second.reader->memory_bytes();
  cache_bytes_ += it->second.bytes;
  ReaderPtr out = it->second.reader;
  // The newest stays even when it alone is over the limit: the query needs it now.
  while (cache_bytes_ > cache_limit_ && lru_.size() > 1) {
    auto victim = cache_.find(lru_.back());
    cache_bytes_ -= victim->second.bytes;
    cache_.erase(victim);
    lru_.pop_back();
  }
  return out;
}

std::string IndexStore::DayPrefix(std::string_view tenant, int64_t day) {
  std::string key(kIndexPrefix);
  key.append(tenant);
  key.push_back('/');
  key.append(std::to_string(day));
  key.push_back('/');
  return key;
}

bool IndexStore::ParseKey(std::string_view key, std::string_view* tenant, int64_t* day) {
  if (key.substr(0, kIndexPrefix.size()) != kIndexPrefix) return false;
  std::string_view rest = key.substr(kIndexPrefix.size());
  const size_t a = rest.find('/');
  if (a == std::string_view::npos || a == 0) return false;
  const size_t b = rest.find('/', a + 1);
  if (b == std::string_view::npos || b + 1 >= rest.size()) return false;
  if (!ParseDay(rest.substr(a + 1, b - a - 1), day)) return false;
  *tenant = rest.substr(0, a);
  return true;
}

std::string IndexStore::NewFileName() {
  // Strictly increasing write time within this process.
  int64_t now = NowNanos();
  int64_t last = last_name_ns_.load();
  while (true) {
    int64_t next = std::max(now, last + 1);
    if (last_name_ns_.compare_exchange_weak(last, next)) {
      now = next;
      break;
    }
  }
  uint64_t random = SplitMix64(name_seed_ ^ SplitMix64(name_counter_.fetch_add(1)));
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%020" PRId64 "-%016" PRIx64, std::max<int64_t>(now, 0), random);
  return buf;
}

Status IndexStore::Write(std::string_view tenant, int64_t day, const std::string& file_bytes) {
  SKALD_RETURN_IF_ERROR(CheckTenant(tenant));
  if (day < 0) return Status::InvalidArgument("index day must not be negative");
  SKALD_ASSIGN_OR_RETURN(IndexFileReader reader, IndexFileReader::Open(file_bytes));
  std::string key = DayPrefix(tenant, day) + NewFileName();
  SKALD_RETURN_IF_ERROR(store_->Put(key, file_bytes));
  auto ptr = std::make_shared<const IndexFileReader>(std::move(reader));
  std::lock_guard<std::mutex> lock(mu_);
  CacheLocked(key, std::move(ptr));
  return Status::OK();
}

StatusOr<IndexStore::ReaderPtr> IndexStore::Load(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.reader;
    }
  }
  StatusOr<std::string> bytes = store_->Get(key);
  if (!bytes.ok()) {
    // Removed between List and Get (compaction, retention): skip it.
    if (bytes.status().code() == StatusCode::kNotFound) return ReaderPtr();
    return bytes.status();
  }
  StatusOr<IndexFileReader> reader = IndexFileReader::Open(std::move(bytes).value());
  if (!reader.ok()) {
    return Status(reader.status().code(), reader.status().message() + " (" + key + ")");
  }
  auto ptr = std::make_shared<const IndexFileReader>(std::move(reader).value());
  std::lock_guard<std::mutex> lock(mu_);
  return CacheLocked(key, std::move(ptr));
}

StatusOr<std::vector<IndexStore::ReaderPtr>> IndexStore::FilesFor(std::string_view tenant,
                                                                  int64_t from, int64_t through) {
  SKALD_RETURN_IF_ERROR(CheckTenant(tenant));
  std::vector<ReaderPtr> readers;
  if (from > through) return readers;
  const int64_t last_day = DayOf(through);
  if (last_day < 0) return readers;
  // One day back: a file holds chunks starting on its day, which may run
  // into the next one.
  const int64_t first_day = std::max<int64_t>(0, DayOf(from) - 1);

  // A listed file can vanish before it is read: the compactor merged it into a new file
  // (written before the old ones are deleted) or dropped it. Then the listing is taken
  // again, so the new file is seen; a few rounds cover compactions racing with the query.
  for (int attempt = 0;; attempt++) {
    SKALD_ASSIGN_OR_RETURN(std::vector<std::string> keys, ListDays(tenant, first_day, last_day));
    readers.clear();
    bool vanished = false;
    for (const std::string& key : keys) {
      SKALD_ASSIGN_OR_RETURN(ReaderPtr reader, Load(key));
      if (reader == nullptr) {
        vanished = true;
        continue;
      }
      if (reader->Overlaps(from, through)) readers.push_back(std::move(reader));
    }
    if (!vanished || attempt >= 4) return readers;
  }
}

StatusOr<std::vector<std::string>> IndexStore::ListDays(std::string_view tenant, int64_t first_day,
                                                        int64_t last_day) {
  std::vector<std::string> keys;
  if (last_day - first_day < kMaxPerDayLists) {
    for (int64_t day = first_day; day <= last_day; ++day) {
      SKALD_ASSIGN_OR_RETURN(std::vector<std::string> day_keys,
                             store_->List(DayPrefix(tenant, day)));
      for (std::string& k : day_keys) keys.push_back(std::move(k));
    }
  } else {
    std::string prefix(kIndexPrefix);
    prefix.append(tenant);
    prefix.push_back('/');
    SKALD_ASSIGN_OR_RETURN(std::vector<std::string> all, store_->List(prefix));
    for (std::string& k : all) {
      std::string_view rest = std::string_view(k).substr(prefix.size());
      size_t slash = rest.find('/');
      int64_t day;
      if (slash == std::string_view::npos || !ParseDay(rest.substr(0, slash), &day)) continue;
      if (day < first_day || day > last_day) continue;
      keys.push_back(std::move(k));
    }
  }
  return keys;
}

namespace {

// Sorts a series' chunks gathered from several files and keeps the first ref of each key.
void SortUniqueChunks(std::vector<ChunkRef>* chunks) {
  std::sort(chunks->begin(), chunks->end(), ChunkLess);
  // Views of the kept keys where they stay: a slot below `kept` is never written again.
  absl::flat_hash_set<std::string_view> seen;
  size_t kept = 0;
  for (size_t i = 0; i < chunks->size(); ++i) {
    if (seen.contains((*chunks)[i].key)) continue;
    if (kept != i) (*chunks)[kept] = std::move((*chunks)[i]);
    seen.insert((*chunks)[kept].key);
    ++kept;
  }
  chunks->resize(kept);
}

}  // namespace

StatusOr<std::vector<IndexStore::SeriesChunks>> IndexStore::Query(
    std::string_view tenant, int64_t from, int64_t through, const std::vector<Matcher>& matchers,
    const FilterProbe* probe, uint64_t* refuted) {
  SKALD_ASSIGN_OR_RETURN(std::vector<ReaderPtr> files, FilesFor(tenant, from, through));
  std::vector<SeriesChunks> out;
  std::vector<ChunkRef> chunks;
  // Refuted chunks are dropped while the refs are decoded, before any per-series
  // bookkeeping: a needle search over a million small streams builds none for most of them.
  ChunkSelection selection;
  selection.probe = probe;
  selection.copy_filters = false;
  if (files.size() == 1) {  // each series once, in fingerprint order
    const ReaderPtr& file = files[0];
    // By ordinal: a million matching series cost no search each.
    for (uint64_t ord : file->SelectOrdinals(matchers)) {
      chunks.clear();
      if (file->AppendChunksAt(ord, from, through, &chunks, &selection) == 0) continue;
      out.push_back(
          SeriesChunks{file->FingerprintAt(ord), LazyLabels(file, ord), std::move(chunks)});
      chunks = {};
    }
    if (refuted != nullptr) *refuted += selection.refuted;
    return out;
  }
  // Several files (a day's flushes, several days): each file's matches are in fingerprint
  // order, so the runs are merged (stable: files keep their order within a fingerprint) and
  // a series found in several files gathers their chunks.
  struct Hit {
    uint64_t fp;
    uint32_t file;
    uint64_t ordinal;
  };
  std::vector<Hit> hits;
  std::vector<size_t> run_ends;
  for (size_t f = 0; f < files.size(); ++f) {
    for (uint64_t ord : files[f]->SelectOrdinals(matchers)) {
      hits.push_back({files[f]->FingerprintAt(ord), static_cast<uint32_t>(f), ord});
    }
    if (run_ends.empty() || run_ends.back() != hits.size()) run_ends.push_back(hits.size());
  }
  auto by_fp = [](const Hit& a, const Hit& b) { return a.fp < b.fp; };
  while (run_ends.size() > 1) {
    std::vector<size_t> merged;
    size_t begin = 0;
    for (size_t r = 0; r < run_ends.size(); r += 2) {
      if (r + 1 < run_ends.size()) {
        std::inplace_merge(hits.begin() + static_cast<ptrdiff_t>(begin),
                           hits.begin() + static_cast<ptrdiff_t>(run_ends[r]),
                           hits.begin() + static_cast<ptrdiff_t>(run_ends[r + 1]), by_fp);
        merged.push_back(run_ends[r + 1]);
      } else {
        merged.push_back(run_ends[r]);
      }
      begin = merged.back();
    }
    run_ends = std::move(merged);
  }
  for (size_t h = 0; h < hits.size();) {
    const uint64_t fp = hits[h].fp;
    chunks.clear();
    LazyLabels labels;
    size_t files_with_chunks = 0;
    for (; h < hits.size() && hits[h].fp == fp; ++h) {
      const ReaderPtr& file = files[hits[h].file];
      if (file->AppendChunksAt(hits[h].ordinal, from, through, &chunks, &selection) == 0) {
        continue;
      }
      if (files_with_chunks++ == 0) labels = LazyLabels(file, hits[h].ordinal);
    }
    if (files_with_chunks == 0) continue;
    if (files_with_chunks > 1) SortUniqueChunks(&chunks);
    out.push_back(SeriesChunks{fp, std::move(labels), std::move(chunks)});
    chunks = {};
  }
  if (refuted != nullptr) *refuted += selection.refuted;
  return out;
}

StatusOr<std::vector<std::string>> IndexStore::LabelNames(std::string_view tenant, int64_t from,
                                                          int64_t through) {
  SKALD_ASSIGN_OR_RETURN(std::vector<ReaderPtr> files, FilesFor(tenant, from, through));
  std::vector<std::string> out;
  for (const ReaderPtr& file : files) {
    for (std::string& n : file->LabelNames()) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

StatusOr<std::vector<std::string>> IndexStore::LabelValues(std::string_view tenant,
                                                           std::string_view name, int64_t from,
                                                           int64_t through) {
  SKALD_ASSIGN_OR_RETURN(std::vector<ReaderPtr> files, FilesFor(tenant, from, through));
  std::vector<std::string> out;
  for (const ReaderPtr& file : files) {
    for (std::string& v : file->LabelValues(name)) out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

StatusOr<std::vector<Labels>> IndexStore::Series(std::string_view tenant, int64_t from,
                                                 int64_t through,
                                                 const std::vector<Matcher>& matchers) {
  SKALD_ASSIGN_OR_RETURN(std::vector<ReaderPtr> files, FilesFor(tenant, from, through));
  std::vector<std::pair<uint64_t, Labels>> found;
  absl::flat_hash_set<uint64_t> seen;
  for (const ReaderPtr& file : files) {
    for (uint64_t fp : file->Select(matchers)) {
      if (seen.contains(fp) || !file->HasChunks(fp, from, through)) continue;
      std::optional<Labels> labels = file->LabelsOf(fp);
      if (!labels.has_value()) continue;
      seen.insert(fp);
      found.emplace_back(fp, std::move(*labels));
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Labels> out;
  out.reserve(found.size());
  for (auto& [fp, labels] : found) out.push_back(std::move(labels));
  return out;
}

void IndexStore::Forget(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(std::string(key));
  if (it == cache_.end()) return;
  cache_bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  cache_.erase(it);
}

size_t IndexStore::cached_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

size_t IndexStore::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_bytes_;
}

}  // namespace skald::index
