#include "querier/querier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <tuple>

#include <xxhash.h>

#include <unordered_map>
#include <unordered_set>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/time.h"

namespace skald::querier {

namespace {

struct PairHash {
  size_t operator()(const std::pair<int64_t, uint64_t>& p) const {
    return static_cast<size_t>(p.second ^ (static_cast<uint64_t>(p.first) * 0x9e3779b97f4a7c15ULL));
  }
};

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

  // `set` indexes the stream's post-pipeline label sets (StreamWork::label_sets).
  void Add(ResultEntry e, Arrival at, uint32_t set) {
    entries_.push_back({std::move(e), at, set});
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
        if (x.line != y.line) return x.line < y.line;
        if (entries_[a].set != entries_[b].set) return entries_[a].set < entries_[b].set;
        return x.metadata != y.metadata ? x.metadata < y.metadata : x.parsed < y.parsed;
      });
      for (size_t k = 1; k < run_.size(); k++) {
        const ResultEntry& x = entries_[run_[k - 1]].e;
        const ResultEntry& y = entries_[run_[k]].e;
        if (x.line == y.line && entries_[run_[k - 1]].set == entries_[run_[k]].set &&
            x.metadata == y.metadata && x.parsed == y.parsed) {
          drop_[run_[k]] = 1;
        }
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

  // The kept entries with their label-set index, in result order (call Compact first).
  std::vector<std::pair<ResultEntry, uint32_t>> Take() {
    std::vector<std::pair<ResultEntry, uint32_t>> out;
    out.reserve(entries_.size());
    for (auto& it : entries_) out.emplace_back(std::move(it.e), it.set);
    entries_.clear();
    return out;
  }
  uint64_t duplicates() const { return duplicates_; }

 private:
  struct Item {
    ResultEntry e;
    Arrival at;
    uint32_t set = 0;
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

}  // namespace

struct Querier::StreamWork {
  uint64_t fp = 0;
  // The stream's labels: the ingester's, or read from the store's index on first use
  // (Resolve), since most streams of a needle search produce nothing and never need them.
  Labels labels;
  index::IndexStore::LazyLabels lazy_labels;
  const Labels& Resolve() {
    if (lazy_labels.has_value()) {
      labels = lazy_labels.Get();
      lazy_labels = {};
    }
    return labels;
  }
  std::vector<chunk::BlockRef> ingester_blocks;
  std::vector<index::ChunkRef> chunks;
  // Chunks already fetched for this stream (Preload), by index into `chunks`; empty or null
  // = not fetched yet.
  std::vector<std::shared_ptr<const storage::StoredChunk>> opened;
  // Log queries: the kept entries, each with its index into label_sets (the stream's
  // labels as the pipeline left them; label_sets[0] = `labels` without label stages).
  std::vector<std::pair<ResultEntry, uint32_t>> result;
  std::vector<Labels> label_sets;
  // The tenant's erasure rules (null: none); each scan takes its own per-stream state.
  std::shared_ptr<const logql::Erasure> erasure;
};

namespace {

using StreamWork = Querier::StreamWork;

struct ScanContext {
  const logql::LineFilter* filter;
  const logql::LiteralRequirement* need;  // what a block must hold to match; null: anything
  const logql::Pipeline* pipeline;        // stages after the leading line filters; null if none
  const storage::ChunkStore* chunks;
  std::string_view tenant;
  int64_t start, end;
  uint32_t limit;
  bool forward;
  QueryControl* control;  // may be null
};

// False when the block's filter proves that none of its lines holds what the query's leading
// line filters require (`need`; null = nothing required), counting the outcome in stats.
// `filter` is a serialized block filter validated by whoever produced it (the ingester built
// it; ChunkReader::Open checked a stored one); empty = the block has none.
bool BlockMayMatch(const logql::LiteralRequirement* need, std::string_view filter,
                   QueryStats* stats) {
  if (need == nullptr || filter.empty()) return true;
  stats->used_block_filters = true;
  const chunk::GramFilter f = chunk::GramFilter::Trusted(filter);
  if (need->MayMatch([&f](std::string_view lit) { return f.MayContain(lit); })) return true;
  stats->blocks_filtered++;
  return false;
}

// The requirement to probe block filters with, or null when it could never refute a block.
const logql::LiteralRequirement* ProbeWith(const logql::LiteralRequirement& need) {
  return need.Trivial() ? nullptr : &need;
}

// Opens a stored chunk through the chunk store (tenant and stream checked), counting the
// download in the query's stats.
StatusOr<std::shared_ptr<const storage::StoredChunk>> OpenChunk(const storage::ChunkStore& chunks,
                                                                std::string_view tenant,
                                                                const index::ChunkRef& ref,
                                                                QueryStats* stats) {
  const int64_t t0 = MonotonicNanos();
  auto stored = chunks.Open(ref.key, tenant, ref.fingerprint);
  stats->chunk_download_seconds += static_cast<double>(MonotonicNanos() - t0) / 1e9;
  if (!stored.ok()) return stored.status();
  stats->chunks_downloaded++;
  stats->compressed_bytes += (*stored)->size();
  return stored;
}

// Chunk `ref` (an element of w->chunks): the copy Preload fetched, handed over (the stream
// holds it no longer), or else opened now.
StatusOr<std::shared_ptr<const storage::StoredChunk>> OpenChunk(const storage::ChunkStore& chunks,
                                                                std::string_view tenant,
                                                                StreamWork* w,
                                                                const index::ChunkRef& ref,
                                                                QueryStats* stats) {
  const auto i = static_cast<size_t>(&ref - w->chunks.data());
  if (i < w->opened.size() && w->opened[i] != nullptr) return std::move(w->opened[i]);
  return OpenChunk(chunks, tenant, ref, stats);
}

// Fetches, with few ranged reads (ChunkStore::OpenMany), the chunks of works[0, n) that
// `wanted(work, chunk)` selects, into each work's `opened`; counts the downloads in stats. A
// chunk that fails here is left for OpenChunk, which reports the error where it is needed.
template <typename Wanted>
void Preload(const storage::ChunkStore& chunks, std::string_view tenant, StreamWork* const* works,
             size_t n, Wanted&& wanted, QueryStats* stats) {
  std::vector<storage::ChunkStore::Want> wants;
  std::vector<std::pair<StreamWork*, size_t>> where;
  for (size_t k = 0; k < n; k++) {
    StreamWork* w = works[k];
    for (size_t c = 0; c < w->chunks.size(); c++) {
      if (!wanted(*w, w->chunks[c])) continue;
      wants.push_back({w->chunks[c].key, w->chunks[c].fingerprint});
      where.emplace_back(w, c);
    }
  }
  if (wants.size() < 2) return;  // nothing to coalesce
  const int64_t t0 = MonotonicNanos();
  auto opened = chunks.OpenMany(tenant, wants);
  stats->chunk_download_seconds += static_cast<double>(MonotonicNanos() - t0) / 1e9;
  for (size_t i = 0; i < opened.size(); i++) {
    if (!opened[i].ok()) continue;
    auto [w, c] = where[i];
    if (w->opened.size() < w->chunks.size()) w->opened.resize(w->chunks.size());
    stats->chunks_downloaded++;
    stats->compressed_bytes += (*opened[i])->size();
    w->opened[c] = std::move(opened[i]).value();
  }
}

// Preloads in batches of streams whose wanted chunks add up to about this many stored bytes,
// and only chunks up to kPreloadChunkBytes (a larger chunk is read efficiently on its own).
constexpr uint64_t kPreloadBatchBytes = 8u << 20;
constexpr uint64_t kPreloadChunkBytes = 256u << 10;
// Log queries preload a stream's chunks only when it has at most this many in the window
// (replicas' copies of one chunk: the replication factor).
constexpr size_t kPreloadChunksPerStream = 3;

// Where a stream's first stored chunk lies: (object, offset) of its locator; ("", 0) for a
// stream with nothing stored.
std::pair<std::string_view, uint64_t> StoredPosition(const StreamWork& w) {
  if (w.chunks.empty()) return {std::string_view(), 0};
  std::string_view object;
  bool packed = false;
  uint64_t offset = 0, length = 0;
  if (!storage::ParseLocator(w.chunks.front().key, &object, &packed, &offset, &length)) {
    return {w.chunks.front().key, 0};
  }
  return {object, offset};
}

// Reorders *items by where their first stored chunk lies: grouped by object (objects in the
// order they first appear), by offset within one. Each locator is parsed once and objects are
// numbered, so the sort compares integers (a million streams sort in tens of milliseconds).
void SortByStoredPosition(std::vector<StreamWork>* items) {
  std::unordered_map<std::string_view, uint32_t> object_ids;
  std::vector<std::tuple<uint32_t, uint64_t, uint32_t>> keys;  // object id, offset, index
  keys.reserve(items->size());
  for (size_t i = 0; i < items->size(); i++) {
    const auto [object, offset] = StoredPosition((*items)[i]);
    const uint32_t id =
        object_ids.try_emplace(object, static_cast<uint32_t>(object_ids.size())).first->second;
    keys.emplace_back(id, offset, static_cast<uint32_t>(i));
  }
  if (std::is_sorted(keys.begin(), keys.end())) return;
  std::sort(keys.begin(), keys.end());
  std::vector<StreamWork> sorted;
  sorted.reserve(items->size());
  for (const auto& k : keys) sorted.push_back(std::move((*items)[std::get<2>(k)]));
  items->swap(sorted);
}

// The next preload batch: items[*i], items[*i + 1], ... (before `end`) until their wanted
// chunks add up to kPreloadBatchBytes (at least one stream); advances *i past them.
template <typename Wanted>
void TakePreloadBatch(std::vector<StreamWork>* items, size_t* i, size_t end, Wanted&& wanted,
                      std::vector<StreamWork*>* batch) {
  batch->clear();
  uint64_t bytes = 0;
  for (; *i < end && (batch->empty() || bytes < kPreloadBatchBytes); ++*i) {
    StreamWork& w = (*items)[*i];
    for (const index::ChunkRef& c : w.chunks) bytes += wanted(w, c) ? c.compressed_bytes : 0;
    batch->push_back(&w);
  }
}

// The index of `labels` in *sets, appending it when new. Streams have one or a few
// post-pipeline label sets, so a linear search is the cheap choice.
uint32_t InternLabelSet(std::span<const logql::LabelRef> labels, std::vector<Labels>* sets) {
  for (size_t i = 0; i < sets->size(); i++) {
    const auto& items = (*sets)[i].items();
    if (items.size() != labels.size()) continue;
    bool same = true;
    for (size_t j = 0; j < items.size() && same; j++) {
      same = items[j].name == labels[j].name && items[j].value == labels[j].value;
    }
    if (same) return static_cast<uint32_t>(i);
  }
  sets->push_back(logql::ToLabels(labels));
  return static_cast<uint32_t>(sets->size() - 1);
}

void CopyPairs(std::span<const logql::LabelRef> from,
               std::vector<std::pair<std::string, std::string>>* to) {
  to->reserve(from.size());
  for (const auto& l : from) to->emplace_back(std::string(l.name), std::string(l.value));
}

// The entry's metadata as one contiguous span (what pipelines take).
std::span<const MetadataPair> EntryMetadata(const chunk::DecodedBlock& d, size_t i,
                                            std::vector<MetadataPair>* scratch) {
  size_t n = d.metadata_count(i);
  scratch->resize(n);
  for (size_t j = 0; j < n; j++) (*scratch)[j] = d.metadata(i, j);
  return {scratch->data(), n};
}

// The stream's erasure state, or nullopt when nothing of it is erased.
std::optional<logql::Erasure::Stream> StreamErasure(StreamWork& w) {
  if (w.erasure == nullptr) return std::nullopt;
  logql::Erasure::Stream s = w.erasure->ForStream(w.Resolve());
  if (s.empty()) return std::nullopt;
  return s;
}

// Feeds the entries of a decoded block in [start, end) that pass the filter to the
// collector. `at` names the block (its entry field is filled in here).
Status ScanBlock(const ScanContext& ctx, bool from_ingester, Arrival at,
                 const chunk::DecodedBlock* decoded, std::vector<uint32_t>* hits, Collector* col,
                 logql::StreamPipeline* sp, logql::Erasure::Stream* erase, StreamWork* w,
                 QueryStats* stats) {
  thread_local std::vector<MetadataPair> md;
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
    if (erase != nullptr && (erase->needs_lines() ? erase->Erased(ts[i], decoded->line(i),
                                                                  EntryMetadata(*decoded, i, &md))
                                                  : erase->ErasedByTime(ts[i]))) {
      return;
    }
    ResultEntry e;
    e.ts = ts[i];
    uint32_t set = 0;
    if (sp != nullptr) {
      std::string_view line;
      if (!sp->Process(ts[i], decoded->line(i), EntryMetadata(*decoded, i, &md), &line)) return;
      const logql::EntryLabels& labels = sp->labels();
      e.line = std::string(line);
      CopyPairs(labels.structured_metadata, &e.metadata);
      CopyPairs(labels.parsed, &e.parsed);
      set = InternLabelSet(labels.stream, &w->label_sets);
    } else {
      e.line = std::string(decoded->line(i));
      size_t n = decoded->metadata_count(i);
      e.metadata.reserve(n);
      for (size_t j = 0; j < n; j++) {
        MetadataPair p = decoded->metadata(i, j);
        // A metadata key equal to a stream label's name shows as `<key>_extracted`
        // (Loki's rule; the pipeline applies the same).
        std::string name(p.name);
        if (w->labels.Has(p.name)) name += "_extracted";
        e.metadata.emplace_back(std::move(name), std::string(p.value));
      }
    }
    stats->post_filter_lines++;
    at.entry = static_cast<uint32_t>(i);
    col->Add(std::move(e), at, set);
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
  w->label_sets.assign(1, w->Resolve());
  std::unique_ptr<logql::StreamPipeline> sp;
  if (ctx.pipeline != nullptr) sp = ctx.pipeline->ForStream(w->labels);
  std::optional<logql::Erasure::Stream> erase = StreamErasure(*w);
  logql::Erasure::Stream* er = erase.has_value() ? &*erase : nullptr;

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
    if (ctx.control != nullptr && ctx.control->Expired()) return ctx.control->Why();
    if (!col.AdmitsRange(s.min_ts, s.max_ts) || (er != nullptr && er->Covers(s.min_ts, s.max_ts))) {
      stats->blocks_skipped++;
      continue;
    }
    if (s.chunk == nullptr) {
      if (!BlockMayMatch(ctx.need, s.block.filter, stats)) continue;
      stats->blocks_read++;
      SKALD_RETURN_IF_ERROR(chunk::DecodeBlock(s.block.bytes, &decoded));
      SKALD_RETURN_IF_ERROR(
          ScanBlock(ctx, true, {s.rank, 0, 0}, &decoded, &hits, &col, sp.get(), er, w, stats));
      continue;
    }
    SKALD_ASSIGN_OR_RETURN(auto stored, OpenChunk(*ctx.chunks, ctx.tenant, w, *s.chunk, stats));
    const storage::StoredChunk& chunk = *stored;
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
      if (!BlockMayMatch(ctx.need, chunk.block_filter(bi), stats)) continue;
      stats->blocks_read++;
      Status st = chunk.ReadBlock(bi, &decoded);
      if (!st.ok()) return Status::Corruption("chunk " + s.chunk->key + ": " + st.message());
      SKALD_RETURN_IF_ERROR(
          ScanBlock(ctx, false, {s.rank, bi, 0}, &decoded, &hits, &col, sp.get(), er, w, stats));
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
  into->blocks_filtered += s.blocks_filtered;
  into->blocks_read += s.blocks_read;
  into->used_block_filters = into->used_block_filters || s.used_block_filters;
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

StatusOr<std::vector<Querier::StreamWork>> Querier::Gather(
    std::string_view tenant, const std::vector<Matcher>& matchers, int64_t start, int64_t end,
    const logql::LiteralRequirement* need, QueryStats* stats, const QueryControl* control) {
  ingester::StreamShard shard;
  if (control != nullptr) {
    shard.index = control->shard;
    shard.count = control->shard_count;
  }
  // The ingesters give only the shard's streams; the index is filtered here.
  SKALD_ASSIGN_OR_RETURN(auto snaps, ingester_->QuerySnapshot(tenant, matchers, start, end, shard));
  auto by_fp = [](const auto& a, const auto& b) { return a.fingerprint < b.fingerprint; };
  // The local ingester gives them in fingerprint order already.
  if (!std::is_sorted(snaps.begin(), snaps.end(), by_fp)) {
    std::sort(snaps.begin(), snaps.end(), by_fp);
  }
  // A small chunk's filter is in the index: chunks it refutes are never fetched, and a
  // stream left without chunks costs no work at all.
  index::FilterProbe probe;
  bool probed = false;
  if (need != nullptr) {
    probe = [need, &probed](std::string_view filter) {
      probed = true;
      const chunk::GramFilter f = chunk::GramFilter::Trusted(filter);
      return need->MayMatch([&f](std::string_view lit) { return f.MayContain(lit); });
    };
  }
  uint64_t refuted = 0;
  SKALD_ASSIGN_OR_RETURN(auto series, index_->Query(tenant, start, end - 1, matchers,
                                                    need != nullptr ? &probe : nullptr, &refuted));
  if (probed) stats->used_block_filters = true;
  if (shard.count > 1) {
    std::erase_if(series, [&](const auto& s) { return shard.Excludes(s.fingerprint); });
  }
  // A refuted chunk is one refuted block (filters are detached from one-block chunks only).
  stats->chunks_ref += refuted;
  stats->blocks_filtered += refuted;
  std::shared_ptr<const logql::Erasure> erasure;
  if (opts_.erasure) {
    erasure = opts_.erasure(tenant);
    if (erasure != nullptr && erasure->empty()) erasure.reset();
  }
  // Both lists are in fingerprint order: merged, a stream in both gets the ingester's labels
  // and blocks and the store's chunks.
  std::vector<StreamWork> out;
  out.reserve(std::max(snaps.size(), series.size()));
  size_t i = 0, j = 0;
  while (i < snaps.size() || j < series.size()) {
    const bool from_snap =
        j == series.size() || (i < snaps.size() && snaps[i].fingerprint <= series[j].fingerprint);
    const bool from_store =
        i == snaps.size() || (j < series.size() && series[j].fingerprint <= snaps[i].fingerprint);
    StreamWork& w = out.emplace_back();
    if (from_snap) {
      w.fp = snaps[i].fingerprint;
      w.labels = std::move(snaps[i].labels);
      w.ingester_blocks = std::move(snaps[i].blocks);
      ++i;
    }
    if (from_store) {
      w.fp = series[j].fingerprint;
      if (!from_snap) w.lazy_labels = std::move(series[j].labels);
      stats->chunks_ref += series[j].chunks.size();
      w.chunks = std::move(series[j].chunks);
      ++j;
    }
    w.erasure = erasure;
  }
  stats->streams += out.size();
  return out;
}

namespace {

// The streams' sources that hold data in [start, end): a copy of each stream's work limited
// to them (streams without any are left out).
std::vector<StreamWork> Overlapping(const std::vector<StreamWork>& items, int64_t start,
                                    int64_t end) {
  std::vector<StreamWork> out;
  for (const StreamWork& w : items) {
    StreamWork c;
    for (const chunk::BlockRef& b : w.ingester_blocks) {
      if (b.max_ts >= start && b.min_ts < end) c.ingester_blocks.push_back(b);
    }
    for (const index::ChunkRef& r : w.chunks) {
      if (r.Overlaps(start, end - 1)) c.chunks.push_back(r);
    }
    if (c.ingester_blocks.empty() && c.chunks.empty()) continue;
    c.fp = w.fp;
    c.labels = w.labels;
    c.lazy_labels = w.lazy_labels;
    c.erasure = w.erasure;
    out.push_back(std::move(c));
  }
  return out;
}

// Pool tasks one query may add to its own thread: the querier's parallelism, lowered by the
// tenant's max_query_parallelism (which counts the query's own thread too).
size_t HelpersFor(const QuerierOptions& opts, const QueryControl* control) {
  size_t helpers = static_cast<size_t>(opts.parallelism);
  if (control != nullptr && control->max_parallelism > 0) {
    helpers = std::min(helpers, static_cast<size_t>(control->max_parallelism) - 1);
  }
  return helpers;
}

// The best `limit` entries of one time window across its streams, in result order: time in
// query direction, then the entry's label string, the stream's index, the entry's index in its
// stream's result. Streams merge their results in as they finish and the set is cut back to
// `limit` whenever it holds twice that, so a window holds O(limit) entries (plus those of the
// streams being scanned) whatever the number of streams. The order is total, so the entries
// kept are those a single cut over every stream's result would keep. Thread-safe.
class WindowTop {
 public:
  struct Pick {
    int64_t ts;
    std::shared_ptr<const std::pair<std::string, Labels>> set;  // label string, labels
    size_t stream;
    size_t entry;
    ResultEntry e;
  };
  WindowTop(uint32_t limit, bool forward) : limit_(limit), forward_(forward) {}

  // Takes stream `stream`'s kept entries (each with its index into label_sets).
  void Merge(size_t stream, std::vector<std::pair<ResultEntry, uint32_t>> result,
             const std::vector<Labels>& label_sets) {
    if (result.empty()) return;
    std::vector<std::shared_ptr<const std::pair<std::string, Labels>>> sets(label_sets.size());
    std::vector<Pick> picks;
    picks.reserve(result.size());
    for (size_t j = 0; j < result.size(); j++) {
      auto& [e, set] = result[j];
      if (!sets[set]) {
        sets[set] = std::make_shared<const std::pair<std::string, Labels>>(
            label_sets[set].ToString(), label_sets[set]);
      }
      picks.push_back({e.ts, sets[set], stream, j, std::move(e)});
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (Pick& p : picks) picks_.push_back(std::move(p));
    if (picks_.size() >= 2 * static_cast<size_t>(limit_) + 16) Cut();
  }

  // The kept entries in result order. REQUIRES: every Merge has returned.
  std::vector<Pick>& Finish() {
    Cut();
    std::sort(picks_.begin(), picks_.end(), Better{forward_});
    return picks_;
  }

 private:
  struct Better {
    bool forward;
    bool operator()(const Pick& a, const Pick& b) const {
      if (a.ts != b.ts) return forward ? a.ts < b.ts : a.ts > b.ts;
      if (a.set->first != b.set->first) return a.set->first < b.set->first;
      if (a.stream != b.stream) return a.stream < b.stream;
      return a.entry < b.entry;
    }
  };
  void Cut() {  // REQUIRES: mu_ held (or no concurrent Merge)
    if (picks_.size() <= limit_) return;
    std::nth_element(picks_.begin(), picks_.begin() + limit_, picks_.end(), Better{forward_});
    picks_.resize(limit_);
  }

  const uint32_t limit_;
  const bool forward_;
  std::mutex mu_;
  std::vector<Pick> picks_;  // guarded by mu_
};

// Scans one time window's streams (ctx.start, ctx.end, ctx.limit) in parallel and appends the
// best ctx.limit entries, grouped by label string, to *by_key. Returns how many it appended.
// Each stream's result is merged into a WindowTop as soon as its scan ends, so memory is
// bounded by the limit (times the streams scanned at once), not by the number of streams.
StatusOr<uint32_t> ScanWindow(const ScanContext& ctx, const QuerierOptions& opts,
                              std::vector<StreamWork>* window, QueryStats* stats,
                              std::map<std::string, ResultStream>* by_key) {
  std::vector<StreamWork>& items = *window;
  // Streams are scanned on the query pool (and this thread); no thread of our own.
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  WindowTop top(ctx.limit, ctx.forward);
  // A stream whose only sources in the window (the window's works hold only what overlaps
  // it) are a few small stored chunks reads them whatever the limit: such chunks (many small
  // streams; with replication, the copies replicas stored of one chunk) are fetched ahead in
  // batches, neighbours of a pack in one read.
  auto wanted = [](const StreamWork& w, const index::ChunkRef& c) {
    return w.ingester_blocks.empty() && w.chunks.size() <= kPreloadChunksPerStream &&
           c.compressed_bytes <= kPreloadChunkBytes;
  };
  std::vector<StreamWork*> batch;
  for (size_t b = 0; b < items.size() && !failed.load();) {
    TakePreloadBatch(&items, &b, items.size(), wanted, &batch);
    {
      QueryStats local;
      Preload(*ctx.chunks, ctx.tenant, batch.data(), batch.size(), wanted, &local);
      AddStats(stats, local);
    }
    ParallelFor(opts.pool, batch.size(), HelpersFor(opts, ctx.control), [&](size_t k) {
      if (failed.load(std::memory_order_relaxed)) return;
      const size_t i = static_cast<size_t>(batch[k] - items.data());
      QueryStats local;
      Status st = ScanStream(ctx, &items[i], &local);
      std::vector<std::shared_ptr<const storage::StoredChunk>>().swap(items[i].opened);
      if (st.ok()) {
        top.Merge(i, std::move(items[i].result), items[i].label_sets);
        std::vector<std::pair<ResultEntry, uint32_t>>().swap(items[i].result);
        std::vector<Labels>().swap(items[i].label_sets);
      }
      std::lock_guard<std::mutex> lock(mu);
      AddStats(stats, local);
      if (!st.ok() && first_error.ok()) {
        first_error = st;
        failed = true;
      }
    });
  }
  SKALD_RETURN_IF_ERROR(first_error);

  // Grouped by label string; the map's order is the result order Loki uses. Windows come in
  // query direction, so appending keeps each stream's entries in order.
  std::vector<WindowTop::Pick>& picks = top.Finish();
  for (WindowTop::Pick& p : picks) {
    auto [it, inserted] = by_key->try_emplace(p.set->first);
    if (inserted) it->second.labels = p.set->second;
    it->second.entries.push_back(std::move(p.e));
  }
  return static_cast<uint32_t>(picks.size());
}

}  // namespace

StatusOr<std::vector<ResultStream>> Querier::SelectLogs(std::string_view tenant,
                                                        const logql::LogSelector& selector,
                                                        int64_t start, int64_t end, uint32_t limit,
                                                        bool forward, QueryStats* stats,
                                                        QueryControl* control) {
  const int64_t t0 = MonotonicNanos();
  std::vector<ResultStream> out;
  SKALD_ASSIGN_OR_RETURN(logql::LineFilter filter, logql::CompileLeadingLineFilters(selector));
  // Blocks whose filter refutes what the leading line filters need are never decompressed.
  const logql::LiteralRequirement need = filter.Requirement();
  // The leading line filters run over whole blocks (filter); the pipeline runs the rest.
  std::shared_ptr<const logql::Pipeline> pipeline;
  if (!selector.stages.empty()) {
    logql::LogSelector rest = selector;
    rest.line_filters.clear();
    SKALD_ASSIGN_OR_RETURN(pipeline, logql::Pipeline::Compile(rest));
  }
  if (limit == 0 || end <= start) return out;

  SKALD_ASSIGN_OR_RETURN(
      std::vector<StreamWork> items,
      Gather(tenant, selector.matchers, start, end, ProbeWith(need), stats, control));

  // Time windows from the query's end (its start when forward): once `limit` entries were
  // found, the rest of the range cannot contribute, so a query whose matches are dense reads
  // only the recent end of its range, as Loki's frontend does with its time splits. The first
  // window is 1/64 of the range; each next one is sized from the match density seen so far
  // (with a margin), at least twice the last, and the whole rest when nothing matched yet — so
  // a sparse query reads its range in two windows, a dense one in one or two small ones.
  // Windows are disjoint, so each entry (and each of its duplicates, which share its
  // timestamp) belongs to exactly one.
  std::map<std::string, ResultStream> by_key;
  uint32_t remaining = limit;
  // Distances in unsigned arithmetic: end - start may exceed INT64_MAX (start < 0 < end).
  auto dist = [](int64_t lo, int64_t hi) {
    return static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  };
  uint64_t span = std::max<uint64_t>(dist(start, end) / 64, uint64_t{60} * 1000000000);
  int64_t cursor = forward ? start : end;
  while (remaining > 0 && (forward ? cursor < end : cursor > start)) {
    if (control != nullptr && control->Expired()) return control->Why();
    int64_t ws, we;
    if (forward) {
      ws = cursor;
      we = dist(cursor, end) > span ? static_cast<int64_t>(static_cast<uint64_t>(cursor) + span)
                                    : end;
      cursor = we;
    } else {
      we = cursor;
      ws = dist(start, cursor) > span ? static_cast<int64_t>(static_cast<uint64_t>(cursor) - span)
                                      : start;
      cursor = ws;
    }
    std::vector<StreamWork> window = Overlapping(items, ws, we);
    if (!window.empty()) {
      SKALD_ASSIGN_OR_RETURN(
          uint32_t found, ScanWindow(ScanContext{&filter, ProbeWith(need), pipeline.get(), &chunks_,
                                                 tenant, ws, we, remaining, forward, control},
                                     opts_, &window, stats, &by_key));
      remaining -= found;
    }
    const double covered = static_cast<double>(forward ? dist(start, cursor) : dist(cursor, end));
    const double rest = static_cast<double>(forward ? dist(cursor, end) : dist(start, cursor));
    const uint32_t found_all = limit - remaining;
    double next = rest;  // nothing found yet: read the rest at once
    if (found_all > 0) {
      next = covered * (static_cast<double>(limit) / found_all) * 1.25 - covered;
      next = std::max(next, 2.0 * static_cast<double>(span));
    }
    span = next >= rest ? UINT64_MAX : static_cast<uint64_t>(next);
  }
  out.reserve(by_key.size());
  for (auto& [key, stream] : by_key) out.push_back(std::move(stream));
  stats->entries_returned = limit - remaining;
  stats->exec_seconds = static_cast<double>(MonotonicNanos() - t0) / 1e9;
  return out;
}

namespace {

struct SampleContext {
  const logql::SampleExtractor* extractor;
  bool value_is_length;  // bytes_over_time / bytes_rate
  // The extractor needs no line bytes (SampleExtractor::StreamLabelsOnly, fast path on):
  // blocks are decoded with `no_line_columns` and LINES is never decompressed, except for
  // blocks holding entries whose identity must be checked against another copy.
  bool no_lines;
  chunk::BlockColumns no_line_columns;
  const logql::LiteralRequirement* need;  // what a block must hold to match; null: anything
  const storage::ChunkStore* chunks;
  std::string_view tenant;
  int64_t after, through;  // samples with after < ts <= through
  QueryControl* control;
};

bool Cancelled(const SampleContext& ctx) {
  return ctx.control != nullptr && ctx.control->Expired();
}

// One block a stream's feed reads: an ingester block, or block `index` of a stored chunk
// opened for the group being read.
struct FeedBlock {
  const chunk::BlockRef* ingester = nullptr;
  const storage::StoredChunk* stored = nullptr;
  const index::ChunkRef* ref = nullptr;
  size_t index = 0;

  Status Read(chunk::BlockColumns cols, chunk::DecodedBlock* out) const {
    if (ingester != nullptr) return chunk::DecodeBlock(ingester->bytes, out, cols);
    Status st = stored->ReadColumns(index, out, cols);
    if (!st.ok()) return Status::Corruption("chunk " + ref->key + ": " + st.message());
    return st;
  }
  // Counts a decoded block in the query's stats: entries read, and line bytes when the line
  // column was decompressed (a block decoded without lines adds no bytes: Loki's
  // decompressedBytes / headChunkBytes count what was decompressed).
  void Count(const chunk::DecodedBlock& d, QueryStats* stats) const {
    const uint64_t bytes = d.has_lines() ? d.lines_data().size() : 0;
    if (ingester != nullptr) {
      stats->head_chunk_bytes += bytes;
      stats->head_chunk_lines += d.size();
    } else {
      stats->decompressed_bytes += bytes;
      stats->decompressed_lines += d.size();
    }
  }
};

// One stream's sample feed: its extractor, and the series of its metadata-free entries
// when the extractor depends on nothing else (StreamLabelsOnly), found once.
struct StreamFeed {
  StreamFeed(const SampleContext* c, logql::StreamSampleExtractor* e, logql::RangeAccumulator* a,
             bool f)
      : ctx(c), ex(e), acc(a), fast(f) {}

  const SampleContext* ctx;
  logql::StreamSampleExtractor* ex;
  logql::RangeAccumulator* acc;
  bool fast;
  // The stream's erased entries (null: none). With needs_lines(), blocks are read with lines.
  logql::Erasure::Stream* erase = nullptr;
  bool have_plain_ref = false;
  logql::RangeAccumulator::SeriesRef plain_ref = 0;
  // Set while reading a group of sources that overlap in time: (ts, entry hash) of what
  // was fed, so an entry present in two sources (a chunk still in the ingester and already
  // in the store, two replicas' copies) counts once.
  std::unordered_set<std::pair<int64_t, uint64_t>, PairHash>* seen = nullptr;
  std::vector<MetadataPair> md;
  // Without lines: the metadata of the last entry with metadata in the current block and its
  // series. Symbols are interned per block, so equal views (same pointer and size) mean equal
  // pairs; valid only within one decoded block (ResetBlockCache).
  std::vector<MetadataPair> cached_md;
  logql::RangeAccumulator::SeriesRef cached_ref = 0;
  bool have_cached = false;

  void Entry(const chunk::DecodedBlock& d, size_t i) {
    const int64_t ts = d.ts(i);
    if (seen != nullptr && !seen->insert({ts, EntryIdentity(d, i)}).second) return;
    const std::string_view line = d.line(i);
    if (fast && d.metadata_count(i) == 0 && have_plain_ref) {
      acc->Add(plain_ref, ts, ctx->value_is_length ? static_cast<double>(line.size()) : 1.0);
      return;
    }
    double v = 0;
    if (!ex->Process(ts, line, EntryMetadata(d, i, &md), &v)) return;
    const auto ref = acc->Series(ex->labels());
    if (fast && d.metadata_count(i) == 0) {
      plain_ref = ref;
      have_plain_ref = true;
    }
    acc->Add(ref, ts, v);
  }

  static uint64_t EntryIdentity(const chunk::DecodedBlock& d, size_t i) {
    std::string_view line = d.line(i);
    uint64_t h = XXH3_64bits(line.data(), line.size());
    for (size_t j = 0; j < d.metadata_count(i); j++) {
      MetadataPair p = d.metadata(i, j);
      h = XXH3_64bits_withSeed(p.name.data(), p.name.size(), h);
      h = XXH3_64bits_withSeed(p.value.data(), p.value.size(), h ^ 0x9e3779b97f4a7c15ULL);
    }
    return h;
  }

  // --- Without lines (ctx->no_lines): the extractor's sample is 1 (or the line's length)
  // and its labels are the stream's plus the entry's metadata, whatever the line says, so
  // the extractor runs on an empty line only to build those labels.

  double NoLineValue(const chunk::DecodedBlock& d, size_t i) const {
    return ctx->value_is_length ? static_cast<double>(d.line_size(i)) : 1.0;
  }

  logql::RangeAccumulator::SeriesRef PlainRef(int64_t ts) {
    if (!have_plain_ref) {
      double v = 0;
      if (!ex->Process(ts, std::string_view(), {}, &v)) return plain_ref;  // cannot happen
      plain_ref = acc->Series(ex->labels());
      have_plain_ref = true;
    }
    return plain_ref;
  }

  void ResetBlockCache() { have_cached = false; }

  bool SameAsCached(const chunk::DecodedBlock& d, size_t i) const {
    const size_t n = d.metadata_count(i);
    if (!have_cached || n != cached_md.size()) return false;
    for (size_t j = 0; j < n; j++) {
      const MetadataPair p = d.metadata(i, j);
      const MetadataPair& c = cached_md[j];
      if (p.name.data() != c.name.data() || p.name.size() != c.name.size() ||
          p.value.data() != c.value.data() || p.value.size() != c.value.size()) {
        return false;
      }
    }
    return true;
  }

  void NoLineEntry(const chunk::DecodedBlock& d, size_t i) {
    const int64_t ts = d.ts(i);
    if (d.metadata_count(i) == 0) {
      acc->Add(PlainRef(ts), ts, NoLineValue(d, i));
      return;
    }
    if (!SameAsCached(d, i)) {
      double v = 0;
      have_cached = false;
      EntryMetadata(d, i, &cached_md);
      if (!ex->Process(ts, std::string_view(), cached_md, &v)) return;  // cannot happen
      cached_ref = acc->Series(ex->labels());
      have_cached = true;
    }
    acc->Add(cached_ref, ts, NoLineValue(d, i));
  }

  // Feeds the entries of a decoded block with after < ts <= through. Without lines, entries
  // whose timestamp is in `shared` (sorted; timestamps another entry of the group also has)
  // go through the identity check, which reads their lines: the block was then decoded
  // with lines.
  void Block(const chunk::DecodedBlock& d, std::span<const int64_t> shared) {
    auto ts = d.timestamps();
    const size_t lo = std::upper_bound(ts.begin(), ts.end(), ctx->after) - ts.begin();
    const size_t hi = std::upper_bound(ts.begin(), ts.end(), ctx->through) - ts.begin();
    if (erase != nullptr) {
      // Entry by entry, erased ones left out (lines were decoded when the check needs them).
      ResetBlockCache();
      for (size_t i = lo; i < hi; i++) {
        if (erase->needs_lines() ? erase->Erased(ts[i], d.line(i), EntryMetadata(d, i, &md))
                                 : erase->ErasedByTime(ts[i])) {
          continue;
        }
        if (!ctx->no_lines || (d.has_lines() && !shared.empty() &&
                               std::binary_search(shared.begin(), shared.end(), ts[i]))) {
          Entry(d, i);
        } else {
          NoLineEntry(d, i);
        }
      }
      return;
    }
    if (!ctx->no_lines) {
      for (size_t i = lo; i < hi; i++) Entry(d, i);
      return;
    }
    ResetBlockCache();
    if (d.has_lines() && !shared.empty()) {
      for (size_t i = lo; i < hi; i++) {
        if (std::binary_search(shared.begin(), shared.end(), ts[i])) {
          Entry(d, i);
        } else {
          NoLineEntry(d, i);
        }
      }
      return;
    }
    if (d.has_metadata()) {
      for (size_t i = lo; i < hi; i++) NoLineEntry(d, i);
      return;
    }
    if (lo >= hi) return;
    // The common case: no metadata, one series for the whole block.
    const auto ref = PlainRef(ts[lo]);
    if (ctx->value_is_length) {
      for (size_t i = lo; i < hi; i++) acc->Add(ref, ts[i], static_cast<double>(d.line_size(i)));
    } else {
      for (size_t i = lo; i < hi; i++) acc->Add(ref, ts[i], 1.0);
    }
  }
};

// For a group of overlapping sources read without lines: the timestamps (within the range)
// that more than one entry of the group has, sorted and unique, and per block whether it
// holds one of them. Only entries sharing a timestamp can be duplicates of each other, so
// only those blocks need their lines for the identity check; usually there are none. Reads
// the timestamp column of every block.
Status SharedTimestamps(const SampleContext& ctx, const std::vector<FeedBlock>& blocks,
                        chunk::DecodedBlock* d, std::vector<int64_t>* shared,
                        std::vector<char>* holds) {
  thread_local std::vector<int64_t> all;
  thread_local std::vector<size_t> ends;
  all.clear();
  ends.clear();
  shared->clear();
  for (const FeedBlock& b : blocks) {
    SKALD_RETURN_IF_ERROR(b.Read(chunk::BlockColumns::kTimestampsOnly, d));
    for (int64_t t : d->timestamps()) {
      if (t > ctx.after && t <= ctx.through) all.push_back(t);
    }
    ends.push_back(all.size());
  }
  std::vector<int64_t> sorted(all);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); i++) {
    if (sorted[i] == sorted[i - 1] && (shared->empty() || shared->back() != sorted[i])) {
      shared->push_back(sorted[i]);
    }
  }
  holds->assign(blocks.size(), 0);
  if (shared->empty()) return Status::OK();
  size_t begin = 0;
  for (size_t b = 0; b < blocks.size(); b++) {
    for (size_t k = begin; k < ends[b] && !(*holds)[b]; k++) {
      (*holds)[b] = std::binary_search(shared->begin(), shared->end(), all[k]);
    }
    begin = ends[b];
  }
  return Status::OK();
}

Status FeedStream(const SampleContext& stream_ctx, StreamWork* w, logql::RangeAccumulator* acc,
                  QueryStats* stats) {
  thread_local chunk::DecodedBlock decoded;
  std::optional<logql::Erasure::Stream> erase = StreamErasure(*w);
  // An erasure that looks at lines needs them decoded: this stream takes the full path.
  SampleContext ctx = stream_ctx;
  if (erase.has_value() && erase->needs_lines()) ctx.no_lines = false;
  std::unordered_set<std::pair<int64_t, uint64_t>, PairHash> seen;
  // The extractor (and so the stream's labels) is set up when a block may hold samples: a
  // needle search over many streams skips most of them on their filters alone.
  std::unique_ptr<logql::StreamSampleExtractor> ex;
  std::optional<StreamFeed> feed_storage;
  auto get_feed = [&]() -> StreamFeed& {
    if (!feed_storage.has_value()) {
      ex = ctx.extractor->ForStream(w->Resolve());
      feed_storage.emplace(&ctx, ex.get(), acc, ctx.extractor->StreamLabelsOnly());
      if (erase.has_value()) feed_storage->erase = &*erase;
    }
    return *feed_storage;
  };

  // Sources in time order, grouped where they overlap. Sources and blocks wholly outside
  // (after, through] are never fetched nor decoded.
  struct Src {
    int64_t min_ts, max_ts;
    const chunk::BlockRef* block;
    const index::ChunkRef* chunk;
  };
  std::vector<Src> srcs;
  auto erased = [&](int64_t min_ts, int64_t max_ts) {
    return erase.has_value() && erase->Covers(min_ts, max_ts);
  };
  for (const auto& b : w->ingester_blocks) {
    if (b.max_ts > ctx.after && b.min_ts <= ctx.through && !erased(b.min_ts, b.max_ts))
      srcs.push_back({b.min_ts, b.max_ts, &b, nullptr});
  }
  for (const auto& c : w->chunks) {
    if (c.max_ts > ctx.after && c.min_ts <= ctx.through && !erased(c.min_ts, c.max_ts))
      srcs.push_back({c.min_ts, c.max_ts, nullptr, &c});
  }
  std::stable_sort(srcs.begin(), srcs.end(),
                   [](const Src& a, const Src& b) { return a.min_ts < b.min_ts; });
  std::vector<std::shared_ptr<const storage::StoredChunk>> opened;
  std::vector<FeedBlock> blocks;
  std::vector<int64_t> shared;
  std::vector<char> holds_shared;
  for (size_t g = 0; g < srcs.size();) {
    size_t end = g + 1;
    int64_t group_max = srcs[g].max_ts;
    while (end < srcs.size() && srcs[end].min_ts <= group_max) {
      group_max = std::max(group_max, srcs[end].max_ts);
      end++;
    }
    // The group's blocks in reading order (its chunks stay open until the group is done).
    opened.clear();
    blocks.clear();
    for (size_t k = g; k < end; k++) {
      if (Cancelled(ctx)) return Status::OK();
      const Src& src = srcs[k];
      if (src.block != nullptr) {
        if (BlockMayMatch(ctx.need, src.block->filter, stats)) {
          blocks.push_back({src.block, nullptr, nullptr, 0});
        }
        continue;
      }
      SKALD_ASSIGN_OR_RETURN(auto stored, OpenChunk(*ctx.chunks, ctx.tenant, w, *src.chunk, stats));
      const std::vector<chunk::BlockMeta>& metas = stored->blocks();
      for (size_t bi = 0; bi < metas.size(); bi++) {
        if (metas[bi].max_ts <= ctx.after || metas[bi].min_ts > ctx.through) {
          stats->blocks_skipped++;
          continue;
        }
        if (!BlockMayMatch(ctx.need, stored->block_filter(bi), stats)) continue;
        blocks.push_back({nullptr, stored.get(), src.chunk, bi});
      }
      opened.push_back(std::move(stored));
    }
    if (blocks.empty()) {
      g = end;
      continue;
    }
    StreamFeed& feed = get_feed();
    const bool overlap = end - g > 1;
    seen.clear();
    shared.clear();
    holds_shared.assign(blocks.size(), 0);
    if (ctx.no_lines) {
      if (overlap) {
        SKALD_RETURN_IF_ERROR(SharedTimestamps(ctx, blocks, &decoded, &shared, &holds_shared));
      }
      feed.seen = shared.empty() ? nullptr : &seen;
    } else {
      feed.seen = overlap ? &seen : nullptr;
    }
    for (size_t b = 0; b < blocks.size(); b++) {
      if (Cancelled(ctx)) return Status::OK();
      const chunk::BlockColumns cols =
          ctx.no_lines && !holds_shared[b] ? ctx.no_line_columns : chunk::BlockColumns::kAll;
      SKALD_RETURN_IF_ERROR(blocks[b].Read(cols, &decoded));
      stats->blocks_read++;
      blocks[b].Count(decoded, stats);
      feed.Block(decoded, shared);
    }
    g = end;
  }
  return Status::OK();
}

}  // namespace

Status Querier::FeedSamples(std::string_view tenant, const logql::RangeAggregationExpr& expr,
                            logql::RangeAccumulator* acc, QueryStats* stats,
                            QueryControl* control) {
  // With the accumulator's grouping (its own or an outer sum's), parsers extract only the
  // labels that grouping keeps and the pipeline reads.
  SKALD_ASSIGN_OR_RETURN(auto extractor, logql::SampleExtractor::Compile(expr, acc->grouping()));
  int64_t after = acc->first_exclusive_nanos();
  const int64_t through = acc->last_inclusive_nanos();
  if (control != nullptr && control->min_ts != INT64_MIN) {
    after = std::max(after, control->min_ts - 1);  // max_query_lookback
  }
  if (through <= after) return Status::OK();
  // Streams with data in (after, through]: Gather takes [start, end).
  const int64_t end = through == INT64_MAX ? INT64_MAX : through + 1;
  const int64_t start = after == INT64_MAX ? INT64_MAX : after + 1;
  // Blocks whose filter refutes what the leading line filters need hold no sample.
  SKALD_ASSIGN_OR_RETURN(logql::LineFilter leading,
                         logql::CompileLeadingLineFilters(*expr.selector));
  const logql::LiteralRequirement need = leading.Requirement();
  SKALD_ASSIGN_OR_RETURN(
      std::vector<StreamWork> items,
      Gather(tenant, expr.selector->matchers, start, end, ProbeWith(need), stats, control));
  const bool by_length =
      expr.op == logql::RangeOp::kBytesOverTime || expr.op == logql::RangeOp::kBytesRate;
  // Without a pipeline a sample needs the entry's timestamp, its metadata (labels) and, for
  // bytes_*, its line length: the line bytes, most of a block, stay compressed.
  const bool no_lines = opts_.metric_fast_path && extractor->StreamLabelsOnly();
  const chunk::BlockColumns no_line_columns =
      by_length ? chunk::BlockColumns::kLengths | chunk::BlockColumns::kMetadata
                : chunk::BlockColumns::kMetadata;
  SampleContext ctx{extractor.get(), by_length, no_lines, no_line_columns, ProbeWith(need),
                    &chunks_,        tenant,    after,    through,         control};

  // Each task feeds a fixed slice of the streams into its own fork; forks merge in task
  // order, so the result does not depend on scheduling.
  const size_t helpers = HelpersFor(opts_, control);
  const size_t tasks = std::max<size_t>(1, std::min(items.size(), helpers + 1));
  std::vector<logql::RangeAccumulator> forks;
  forks.reserve(tasks);
  for (size_t t = 0; t < tasks; t++) forks.push_back(acc->Fork());
  std::vector<QueryStats> task_stats(tasks);
  std::vector<Status> errors(tasks);
  std::atomic<bool> failed{false};
  // Small chunks in (after, through] are fetched ahead, a batch of streams at a time, so that
  // neighbouring chunks of a pack come in one read (many small streams: one read per chunk
  // would cost more than scanning it).
  auto wanted = [&](const StreamWork&, const index::ChunkRef& c) {
    return c.max_ts > after && c.min_ts <= through && c.compressed_bytes <= kPreloadChunkBytes;
  };
  // Streams in the order their first stored chunk lies in the store, and each task a
  // contiguous slice of them: a preload batch then holds neighbours of a pack, which one
  // ranged read fetches (on object storage, one request instead of one per chunk).
  SortByStoredPosition(&items);
  ParallelFor(opts_.pool, tasks, helpers, [&](size_t t) {
    std::vector<StreamWork*> batch;
    const size_t slice_end = items.size() * (t + 1) / tasks;
    for (size_t i = items.size() * t / tasks; i < slice_end;) {
      TakePreloadBatch(&items, &i, slice_end, wanted, &batch);
      Preload(chunks_, tenant, batch.data(), batch.size(), wanted, &task_stats[t]);
      for (StreamWork* w : batch) {
        // A fork over the series limit fails the query anyway: stop reading.
        if (failed.load(std::memory_order_relaxed) || Cancelled(ctx) || forks[t].Full()) return;
        Status st = FeedStream(ctx, w, &forks[t], &task_stats[t]);
        std::vector<std::shared_ptr<const storage::StoredChunk>>().swap(w->opened);
        if (!st.ok()) {
          errors[t] = st;
          failed = true;
          return;
        }
      }
    }
  });
  for (const Status& st : errors) SKALD_RETURN_IF_ERROR(st);
  if (Cancelled(ctx)) return ctx.control->Why();
  for (size_t t = 0; t < tasks; t++) {
    acc->Merge(std::move(forks[t]));
    AddStats(stats, task_stats[t]);
  }
  return Status::OK();
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
  SKALD_ASSIGN_OR_RETURN(auto held, ingester_->QueryLabelNames(tenant));
  return SortedUnion(std::move(held), stored);
}

StatusOr<std::vector<std::string>> Querier::LabelValues(std::string_view tenant,
                                                        std::string_view name, int64_t start,
                                                        int64_t end,
                                                        const std::vector<Matcher>& matchers) {
  if (matchers.empty()) {
    SKALD_ASSIGN_OR_RETURN(auto stored, index_->LabelValues(tenant, name, start, end - 1));
    SKALD_ASSIGN_OR_RETURN(auto held, ingester_->QueryLabelValues(tenant, name));
    return SortedUnion(std::move(held), stored);
  }
  SKALD_ASSIGN_OR_RETURN(auto series, Series(tenant, {matchers}, start, end));
  std::vector<std::string> values;
  for (const auto& l : series) {
    std::string_view v = l.Get(name);
    if (!v.empty()) values.emplace_back(v);
  }
  return SortedUnion(std::move(values), {});
}

StatusOr<std::vector<ingester::StreamVolume>> Querier::Volumes(std::string_view tenant,
                                                               const std::vector<Matcher>& matchers,
                                                               int64_t start, int64_t end) {
  std::map<uint64_t, ingester::StreamVolume> by_fp;
  SKALD_ASSIGN_OR_RETURN(auto held, ingester_->QueryVolumes(tenant, matchers, start, end));
  for (auto& v : held) {
    const uint64_t fp = v.fingerprint;
    by_fp.emplace(fp, std::move(v));
  }
  SKALD_ASSIGN_OR_RETURN(auto series, index_->Query(tenant, start, end - 1, matchers));
  for (auto& s : series) {
    ingester::StreamVolume& v = by_fp[s.fingerprint];
    v.fingerprint = s.fingerprint;
    if (v.labels.empty()) v.labels = s.labels.Get();
    for (const index::ChunkRef& c : s.chunks) {
      v.chunks++;
      v.pieces.push_back({c.min_ts, c.max_ts, c.entries, c.uncompressed_bytes});
    }
  }
  std::vector<ingester::StreamVolume> out;
  out.reserve(by_fp.size());
  for (auto& [fp, v] : by_fp) out.push_back(std::move(v));
  return out;
}

StatusOr<std::vector<Labels>> Querier::Series(std::string_view tenant,
                                              const std::vector<std::vector<Matcher>>& match_sets,
                                              int64_t start, int64_t end) {
  std::map<std::string, Labels> found;
  std::vector<std::vector<Matcher>> sets = match_sets;
  if (sets.empty()) sets.emplace_back();
  for (const auto& matchers : sets) {
    SKALD_ASSIGN_OR_RETURN(auto held, ingester_->QuerySeries(tenant, matchers));
    for (auto& l : held) found.emplace(l.ToString(), std::move(l));
    SKALD_ASSIGN_OR_RETURN(auto stored, index_->Series(tenant, start, end - 1, matchers));
    for (auto& l : stored) found.emplace(l.ToString(), std::move(l));
  }
  std::vector<Labels> out;
  out.reserve(found.size());
  for (auto& [k, l] : found) out.push_back(std::move(l));
  return out;
}

}  // namespace skald::querier
