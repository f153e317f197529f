#include "querier/querier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <tuple>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/time.h"

namespace skald::querier {

namespace {

// Where an entry came from, in arrival order: sources are ranked oldest first
// (store chunks, then the ingester's blocks in snapshot order), then the block
// within the source and the entry within the block. Orders entries that share
// a timestamp (Loki keeps them in arrival order; reversed when backward).
struct Arrival {
  uint32_t source = 0;
  uint32_t block = 0;
  uint32_t entry = 0;
  bool operator<(const Arrival& o) const {
    return std::tie(source, block, entry) < std::tie(o.source, o.block, o.entry);
  }
};

// Keeps the best `limit` entries of one stream in query direction, dropping
// exact duplicates. Amortized: compacts when it holds 2*limit candidates.
class Collector {
 public:
  Collector(uint32_t limit, bool forward) : limit_(limit), forward_(forward) {}

  // Could an entry at ts still make it into the result?
  bool Admits(int64_t ts) const {
    if (!full_) return true;
    return forward_ ? ts <= bound_ : ts >= bound_;
  }
  // Could any entry of a source spanning [min_ts, max_ts] make it?
  bool AdmitsRange(int64_t min_ts, int64_t max_ts) const {
    if (!full_) return true;
    return forward_ ? min_ts <= bound_ : max_ts >= bound_;
  }

  void Add(ResultEntry e, Arrival at) {
    entries_.push_back({std::move(e), at});
    if (entries_.size() >= 2 * static_cast<size_t>(limit_) + 16) Compact();
  }

  // Sorts in direction (equal timestamps by arrival, reversed when backward),
  // removes duplicates (keeping the first in that order), truncates to limit.
  // Returns the number of duplicates removed.
  uint64_t Compact() {
    std::sort(entries_.begin(), entries_.end(), [this](const Item& a, const Item& b) {
      if (a.e.ts != b.e.ts) return forward_ ? a.e.ts < b.e.ts : a.e.ts > b.e.ts;
      return forward_ ? a.at < b.at : b.at < a.at;
    });
    // Duplicates share a timestamp: look for them within each run of equal ts.
    drop_.assign(entries_.size(), 0);
    for (size_t i = 0, j = 0; i < entries_.size(); i = j) {
      for (j = i + 1; j < entries_.size() && entries_[j].e.ts == entries_[i].e.ts;) j++;
      if (j - i == 1) continue;
      run_.resize(j - i);
      for (size_t k = i; k < j; k++) run_[k - i] = k;
      // Stable: among equal entries the first in result order stays first.
      std::stable_sort(run_.begin(), run_.end(), [this](size_t a, size_t b) {
        const ResultEntry& x = entries_[a].e;
        const ResultEntry& y = entries_[b].e;
        return x.line != y.line ? x.line < y.line : x.metadata < y.metadata;
      });
      for (size_t k = 1; k < run_.size(); k++) {
        const ResultEntry& x = entries_[run_[k - 1]].e;
        const ResultEntry& y = entries_[run_[k]].e;
        if (x.line == y.line && x.metadata == y.metadata) drop_[run_[k]] = 1;
      }
    }
    size_t out = 0;
    uint64_t dups = 0;
    for (size_t k = 0; k < entries_.size(); k++) {
      if (drop_[k]) {
        dups++;
        continue;
      }
      if (out != k) entries_[out] = std::move(entries_[k]);
      out++;
    }
    entries_.resize(out);
    duplicates_ += dups;
    if (entries_.size() >= limit_) {
      entries_.resize(limit_);
      full_ = true;
      bound_ = entries_.back().e.ts;
    }
    return dups;
  }

  // The kept entries, in result order (call Compact first).
  std::vector<ResultEntry> Take() {
    std::vector<ResultEntry> out;
    out.reserve(entries_.size());
    for (auto& it : entries_) out.push_back(std::move(it.e));
    entries_.clear();
    return out;
  }
  uint64_t duplicates() const { return duplicates_; }

 private:
  struct Item {
    ResultEntry e;
    Arrival at;
  };
  uint32_t limit_;
  bool forward_;
  bool full_ = false;
  int64_t bound_ = 0;
  uint64_t duplicates_ = 0;
  std::vector<Item> entries_;
  std::vector<size_t> run_;  // scratch for Compact
  std::vector<char> drop_;   // scratch for Compact
};

// One source of a stream's data: an in-memory block or a chunk in the store.
struct Source {
  int64_t min_ts = 0, max_ts = 0;
  uint32_t rank = 0;  // Arrival::source
  bool from_ingester = false;
  chunk::BlockRef block;                   // when block.bytes is set
  const index::ChunkRef* chunk = nullptr;  // otherwise
};

struct StreamWork {
  uint64_t fp = 0;
  Labels labels;
  std::vector<chunk::BlockRef> ingester_blocks;
  std::vector<index::ChunkRef> chunks;
  std::vector<ResultEntry> result;
};

struct ScanContext {
  const logql::LineFilter* filter;
  const storage::ChunkStore* chunks;
  std::string_view tenant;
  int64_t start, end;
  uint32_t limit;
  bool forward;
};

// Feeds the entries of a decoded block in [start, end) that pass the filter to the
// collector. `at` names the block (its entry field is filled in here).
Status ScanBlock(const ScanContext& ctx, bool from_ingester, Arrival at,
                 const chunk::DecodedBlock* decoded, std::vector<uint32_t>* hits, Collector* col,
                 QueryStats* stats) {
  auto ts = decoded->timestamps();
  size_t lo = std::lower_bound(ts.begin(), ts.end(), ctx.start) - ts.begin();
  size_t hi = std::lower_bound(ts.begin(), ts.end(), ctx.end) - ts.begin();
  if (from_ingester) {
    stats->head_chunk_bytes += decoded->lines_data().size();
    stats->head_chunk_lines += decoded->size();
  } else {
    stats->decompressed_bytes += decoded->lines_data().size();
    stats->decompressed_lines += decoded->size();
  }
  if (lo >= hi) return Status::OK();
  auto emit = [&](size_t i) {
    if (!col->Admits(ts[i])) return;
    ResultEntry e;
    e.ts = ts[i];
    e.line = std::string(decoded->line(i));
    size_t n = decoded->metadata_count(i);
    e.metadata.reserve(n);
    for (size_t j = 0; j < n; j++) {
      MetadataPair p = decoded->metadata(i, j);
      e.metadata.emplace_back(std::string(p.name), std::string(p.value));
    }
    stats->post_filter_lines++;
    at.entry = static_cast<uint32_t>(i);
    col->Add(std::move(e), at);
  };
  if (ctx.filter->IsNoop()) {
    if (ctx.forward) {
      for (size_t i = lo; i < hi; i++) emit(i);
    } else {
      for (size_t i = hi; i-- > lo;) emit(i);
    }
    return Status::OK();
  }
  hits->clear();
  ctx.filter->Select(decoded->lines_data(), decoded->line_offsets(), hits);
  for (uint32_t i : *hits) {
    if (i >= lo && i < hi) emit(i);
  }
  return Status::OK();
}

Status ScanStream(const ScanContext& ctx, StreamWork* w, QueryStats* stats) {
  thread_local chunk::DecodedBlock decoded;
  thread_local std::vector<uint32_t> hits;
  Collector col(ctx.limit, ctx.forward);

  std::vector<Source> sources;
  sources.reserve(w->ingester_blocks.size() + w->chunks.size());
  // Arrival ranks: store chunks (flushed earlier) first, then the ingester's
  // blocks, which the snapshot lists oldest first.
  for (auto& b : w->ingester_blocks) {
    Source s;
    s.rank = static_cast<uint32_t>(w->chunks.size() + sources.size());
    s.min_ts = b.min_ts;
    s.max_ts = b.max_ts;
    s.from_ingester = true;
    s.block = b;
    sources.push_back(std::move(s));
  }
  for (const auto& c : w->chunks) {
    Source s;
    s.rank = static_cast<uint32_t>(&c - w->chunks.data());
    s.min_ts = c.min_ts;
    s.max_ts = c.max_ts;
    s.chunk = &c;
    sources.push_back(std::move(s));
  }
  // Visit sources in query direction so the collector fills with the best
  // entries first and later sources can be skipped without reading them.
  auto order = [&](const Source& a, const Source& b) {
    return ctx.forward ? a.min_ts < b.min_ts : a.max_ts > b.max_ts;
  };
  std::sort(sources.begin(), sources.end(), order);

  for (const Source& s : sources) {
    if (!col.AdmitsRange(s.min_ts, s.max_ts)) {
      stats->blocks_skipped++;
      continue;
    }
    if (s.chunk == nullptr) {
      SKALD_RETURN_IF_ERROR(chunk::DecodeBlock(s.block.bytes, &decoded));
      SKALD_RETURN_IF_ERROR(ScanBlock(ctx, true, {s.rank, 0, 0}, &decoded, &hits, &col, stats));
      continue;
    }
    int64_t t0 = MonotonicNanos();
    auto stored = ctx.chunks->Open(s.chunk->key, ctx.tenant, s.chunk->fingerprint);
    stats->chunk_download_seconds += static_cast<double>(MonotonicNanos() - t0) / 1e9;
    if (!stored.ok()) return stored.status();
    const storage::StoredChunk& chunk = **stored;
    stats->chunks_downloaded++;
    stats->compressed_bytes += chunk.size();
    const std::vector<chunk::BlockMeta>& blocks = chunk.blocks();
    std::vector<uint32_t> visit(blocks.size());
    std::iota(visit.begin(), visit.end(), 0u);
    std::sort(visit.begin(), visit.end(), [&](uint32_t a, uint32_t b) {
      return ctx.forward ? blocks[a].min_ts < blocks[b].min_ts
                         : blocks[a].max_ts > blocks[b].max_ts;
    });
    for (uint32_t bi : visit) {
      const chunk::BlockMeta& m = blocks[bi];
      if (m.max_ts < ctx.start || m.min_ts >= ctx.end || !col.AdmitsRange(m.min_ts, m.max_ts)) {
        stats->blocks_skipped++;
        continue;
      }
      Status st = chunk.ReadBlock(bi, &decoded);
      if (!st.ok()) return Status::Corruption("chunk " + s.chunk->key + ": " + st.message());
      SKALD_RETURN_IF_ERROR(ScanBlock(ctx, false, {s.rank, bi, 0}, &decoded, &hits, &col, stats));
    }
  }
  col.Compact();
  stats->total_duplicates += col.duplicates();
  w->result = col.Take();
  return Status::OK();
}

void AddStats(QueryStats* into, const QueryStats& s) {
  into->head_chunk_bytes += s.head_chunk_bytes;
  into->head_chunk_lines += s.head_chunk_lines;
  into->decompressed_bytes += s.decompressed_bytes;
  into->decompressed_lines += s.decompressed_lines;
  into->compressed_bytes += s.compressed_bytes;
  into->total_duplicates += s.total_duplicates;
  into->post_filter_lines += s.post_filter_lines;
  into->chunks_downloaded += s.chunks_downloaded;
  into->blocks_skipped += s.blocks_skipped;
  into->chunk_download_seconds += s.chunk_download_seconds;
}

}  // namespace

Querier::Querier(QuerierOptions opts, ingester::StreamReader* ingester, index::IndexStore* index,
                 storage::ObjectStore* store)
    : opts_(opts), ingester_(ingester), index_(index), chunks_(store) {
  if (opts_.parallelism <= 0) {
    opts_.parallelism = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
}

StatusOr<std::vector<ResultStream>> Querier::SelectLogs(std::string_view tenant,
                                                        const logql::LogSelector& selector,
                                                        int64_t start, int64_t end, uint32_t limit,
                                                        bool forward, QueryStats* stats) {
  const int64_t t0 = MonotonicNanos();
  std::vector<ResultStream> out;
  if (limit == 0 || end <= start) return out;
  SKALD_ASSIGN_OR_RETURN(logql::LineFilter filter,
                         logql::LineFilter::Compile(selector.line_filters));

  // Gather every stream's sources, keyed by fingerprint.
  std::map<uint64_t, StreamWork> work;
  for (auto& snap : ingester_->Snapshot(tenant, selector.matchers, start, end)) {
    StreamWork& w = work[snap.fingerprint];
    w.fp = snap.fingerprint;
    w.labels = std::move(snap.labels);
    w.ingester_blocks = std::move(snap.blocks);
  }
  SKALD_ASSIGN_OR_RETURN(auto series, index_->Query(tenant, start, end - 1, selector.matchers));
  for (auto& s : series) {
    StreamWork& w = work[s.fingerprint];
    w.fp = s.fingerprint;
    if (w.labels.empty()) w.labels = std::move(s.labels);
    stats->chunks_ref += s.chunks.size();
    for (auto& c : s.chunks) w.chunks.push_back(std::move(c));
  }
  stats->streams = work.size();

  std::vector<StreamWork*> items;
  items.reserve(work.size());
  for (auto& [fp, w] : work) items.push_back(&w);

  ScanContext ctx{&filter, &chunks_, tenant, start, end, limit, forward};
  // Streams are scanned on the query pool (and this thread); no thread of our own.
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  ParallelFor(opts_.pool, items.size(), static_cast<size_t>(opts_.parallelism), [&](size_t i) {
    if (failed.load(std::memory_order_relaxed)) return;
    QueryStats local;
    Status st = ScanStream(ctx, items[i], &local);
    std::lock_guard<std::mutex> lock(mu);
    AddStats(stats, local);
    if (!st.ok() && first_error.ok()) {
      first_error = st;
      failed = true;
    }
  });
  SKALD_RETURN_IF_ERROR(first_error);

  // Global limit across streams: order by time in direction, ties by stream labels.
  struct Pick {
    int64_t ts;
    const std::string* key;
    size_t stream;
    size_t entry;
  };
  std::vector<std::string> keys(items.size());
  std::vector<Pick> picks;
  for (size_t i = 0; i < items.size(); i++) {
    keys[i] = items[i]->labels.ToString();
    for (size_t j = 0; j < items[i]->result.size(); j++) {
      picks.push_back({items[i]->result[j].ts, &keys[i], i, j});
    }
  }
  auto better = [forward](const Pick& a, const Pick& b) {
    if (a.ts != b.ts) return forward ? a.ts < b.ts : a.ts > b.ts;
    if (*a.key != *b.key) return *a.key < *b.key;
    return a.entry < b.entry;
  };
  if (picks.size() > limit) {
    std::nth_element(picks.begin(), picks.begin() + limit, picks.end(), better);
    picks.resize(limit);
  }
  std::sort(picks.begin(), picks.end(), better);
  // Grouped by label string; the map's order is the result order Loki uses.
  std::map<std::string_view, ResultStream> by_key;
  for (const Pick& p : picks) {
    auto [it, inserted] = by_key.try_emplace(*p.key);
    if (inserted) it->second.labels = items[p.stream]->labels;
    it->second.entries.push_back(std::move(items[p.stream]->result[p.entry]));
  }
  out.reserve(by_key.size());
  for (auto& [key, stream] : by_key) out.push_back(std::move(stream));
  stats->entries_returned = picks.size();
  stats->exec_seconds = static_cast<double>(MonotonicNanos() - t0) / 1e9;
  return out;
}

namespace {
std::vector<std::string> SortedUnion(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}
}  // namespace

StatusOr<std::vector<std::string>> Querier::LabelNames(std::string_view tenant, int64_t start,
                                                       int64_t end) {
  SKALD_ASSIGN_OR_RETURN(auto stored, index_->LabelNames(tenant, start, end - 1));
  return SortedUnion(ingester_->LabelNames(tenant), stored);
}

StatusOr<std::vector<std::string>> Querier::LabelValues(std::string_view tenant,
                                                        std::string_view name, int64_t start,
                                                        int64_t end,
                                                        const std::vector<Matcher>& matchers) {
  if (matchers.empty()) {
    SKALD_ASSIGN_OR_RETURN(auto stored, index_->LabelValues(tenant, name, start, end - 1));
    return SortedUnion(ingester_->LabelValues(tenant, name), stored);
  }
  SKALD_ASSIGN_OR_RETURN(auto series, Series(tenant, {matchers}, start, end));
  std::vector<std::string> values;
  for (const auto& l : series) {
    std::string_view v = l.Get(name);
    if (!v.empty()) values.emplace_back(v);
  }
  return SortedUnion(std::move(values), {});
}

StatusOr<std::vector<Labels>> Querier::Series(std::string_view tenant,
                                              const std::vector<std::vector<Matcher>>& match_sets,
                                              int64_t start, int64_t end) {
  std::map<std::string, Labels> found;
  std::vector<std::vector<Matcher>> sets = match_sets;
  if (sets.empty()) sets.emplace_back();
  for (const auto& matchers : sets) {
    for (auto& l : ingester_->Series(tenant, matchers)) found.emplace(l.ToString(), std::move(l));
    SKALD_ASSIGN_OR_RETURN(auto stored, index_->Series(tenant, start, end - 1, matchers));
    for (auto& l : stored) found.emplace(l.ToString(), std::move(l));
  }
  std::vector<Labels> out;
  out.reserve(found.size());
  for (auto& [k, l] : found) out.push_back(std::move(l));
  return out;
}

}  // namespace skald::querier
