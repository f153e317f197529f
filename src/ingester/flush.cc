// Flushing: the periodic flush loop, cutting chunks that are due and writing them and
// their index entries to the store, then dropping what was written from memory.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/allocator.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "ingester/ingester.h"
#include "ingester/ingester_metrics.h"
#include "ingester/streams.h"

namespace skald::ingester {

namespace {

int64_t DayOf(int64_t ns) {
  int64_t d = ns / kNanosPerDay;
  if (ns < 0 && ns % kNanosPerDay != 0) d--;
  return d;
}

}  // namespace

void Ingester::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (flush_thread_.joinable()) return;
  stopping_ = false;
  flush_thread_ = std::thread([this] { FlushLoop(); });
}

void Ingester::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (flush_thread_.joinable()) flush_thread_.join();
}
void Ingester::FlushLoop() {
  // Pressure passes (a push found memory over the pressure share of a cap) run at once, but
  // at most every 250 ms, and every 5 s while flushes fail, so a store that is down is not
  // hammered.
  constexpr int64_t kPressureGap = 250 * kNanosPerMilli;
  constexpr int64_t kPressureGapAfterFailure = 5 * kNanosPerSecond;
  int64_t last_checkpoint = MonotonicNanos();
  int64_t last_pass = INT64_MIN / 2;
  bool last_failed = false;
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    loop_cv_.wait_for(lock, std::chrono::nanoseconds(opts_.flush_check_period), [this] {
      return stopping_ || pressure_flush_.load(std::memory_order_acquire);
    });
    if (stopping_) break;
    if (pressure_flush_.load(std::memory_order_acquire)) {
      const int64_t gap = last_failed ? kPressureGapAfterFailure : kPressureGap;
      const int64_t wait = last_pass + gap - MonotonicNanos();
      if (wait > 0) {
        loop_cv_.wait_for(lock, std::chrono::nanoseconds(wait), [this] { return stopping_; });
        if (stopping_) break;
      }
      pressure_flush_.store(false, std::memory_order_release);
      if (metrics_->pressure_passes) metrics_->pressure_passes->Inc();
    }
    lock.unlock();
    last_pass = MonotonicNanos();
    Status st = FlushPass(false);
    last_failed = !st.ok();
    if (!st.ok()) log::Warn("flush failed", {{"err", st.ToString()}});
    if (wal_ != nullptr && MonotonicNanos() - last_checkpoint >= opts_.checkpoint_duration) {
      last_checkpoint = MonotonicNanos();
      st = Checkpoint();
      if (!st.ok()) log::Warn("WAL checkpoint failed", {{"err", st.ToString()}});
    }
    lock.lock();
  }
}

Status Ingester::FlushAll() { return FlushPass(true); }

void Ingester::CloseForPressure() {
  const double ratio = opts_.flush_pressure_ratio;
  // Over the pressure share of a cap, or refused a push since the last pass (then memory is
  // freed even when under the share: the refused push may be large).
  const bool global = opts_.max_head_bytes > 0 &&
                      (refused_.exchange(false, std::memory_order_relaxed) ||
                       static_cast<double>(memory_bytes_.load(std::memory_order_relaxed)) >
                           ratio * static_cast<double>(opts_.max_head_bytes));
  // A stream with an open chunk, and the bytes that flushing it would release.
  struct Open {
    size_t bytes;
    TenantInstance* inst;
    std::shared_ptr<Stream> stream;
  };
  // Closes the largest first until what stays open is at most `target` bytes.
  auto close_largest = [&](std::vector<Open>& open, double target) {
    std::sort(open.begin(), open.end(),
              [](const Open& a, const Open& b) { return a.bytes > b.bytes; });
    double remaining = 0;
    for (const Open& o : open) remaining += static_cast<double>(o.bytes);
    for (const Open& o : open) {
      if (remaining <= target) break;
      remaining -= static_cast<double>(o.bytes);
      std::lock_guard<SmallMutex> lock(o.stream->mu_);
      Stream& s = *o.stream;
      if (s.head_.empty() && s.blocks_.empty()) continue;  // closed meanwhile
      const Stream::MemoryUse before = s.Usage();
      s.CloseChunk(o.inst->tenant_, Encoding(), "memory_pressure");
      s.ReleaseHead();
      AccountLocked(o.inst, before, s.Usage());
    }
  };
  std::vector<Open> all;
  for (TenantInstance* inst : AllTenants()) {
    const int64_t cap =
        opts_.max_head_bytes_per_tenant ? opts_.max_head_bytes_per_tenant(inst->tenant_) : 0;
    const bool tenant =
        cap > 0 && (inst->refused_.exchange(false, std::memory_order_relaxed) ||
                    static_cast<double>(inst->memory_bytes_.load(std::memory_order_relaxed)) >
                        ratio * static_cast<double>(cap));
    if (!tenant && !global) continue;
    std::vector<Open> open;
    for (auto& stream : inst->All()) {
      std::lock_guard<SmallMutex> lock(stream->mu_);
      const size_t bytes = stream->head_data_.size() +
                           stream->head_.size() * sizeof(Stream::HeadEntry) +
                           stream->open_compressed_;
      if (bytes > 0) open.push_back({bytes, inst, stream});
    }
    if (tenant) {
      close_largest(open, ratio / 2 * static_cast<double>(cap));
    } else {
      all.insert(all.end(), open.begin(), open.end());
    }
  }
  if (global) close_largest(all, ratio / 2 * static_cast<double>(opts_.max_head_bytes));
}

// What a flush batch holds per chunk besides the chunk's bytes (ClosedChunk, FlushItem, pack
// item, index writer entry with its key and filter), counted against flush_batch_size.
constexpr size_t kFlushBytesPerChunk = 1024;

// A flushed chunk on its way to the store: its stream, the closed chunk, what is stored and
// where it went.
struct Ingester::FlushItem {
  std::shared_ptr<Stream> stream;
  std::shared_ptr<const ClosedChunk> chunk;
  // What is stored: the chunk's bytes, or their re-encoding when it is provisional
  // (held only while its object is written), and its size.
  std::shared_ptr<const std::string> stored;
  uint64_t stored_size = 0;
  uint64_t stored_uncompressed = 0;  // sum of the stored blocks' uncompressed sizes
  std::string filter;  // the stored chunk's filter when it goes in the index (detached)
  StatusOr<std::string> key = Status::Unavailable("not written");
};

namespace {

// An entry's identity (what a query returns once): timestamp, line and structured metadata.
void AppendIdentity(const chunk::DecodedBlock& d, size_t i, std::string* out) {
  out->clear();
  const int64_t ts = d.ts(i);
  out->append(reinterpret_cast<const char*>(&ts), sizeof ts);
  const std::string_view line = d.line(i);
  const uint32_t n = static_cast<uint32_t>(line.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(line);
  for (size_t j = 0; j < d.metadata_count(i); j++) {
    const MetadataPair p = d.metadata(i, j);
    out->push_back('\0');
    out->append(p.name);
    out->push_back('\0');
    out->append(p.value);
  }
}

}  // namespace

std::vector<bool> Ingester::StoredByOwners(std::string_view tenant,
                                           const std::vector<const FlushItem*>& check) {
  std::vector<bool> out(check.size(), false);
  if (check.empty()) return out;
  // One index query for the batch: the stored chunks of these streams over its time span.
  int64_t from = INT64_MAX, through = INT64_MIN;
  std::unordered_map<uint64_t, std::vector<size_t>> items_of;  // fingerprint -> check indexes
  for (size_t k = 0; k < check.size(); k++) {
    from = std::min(from, check[k]->chunk->min_ts);
    through = std::max(through, check[k]->chunk->max_ts);
    items_of[check[k]->stream->fp_].push_back(k);
  }
  auto series = index_->Query(tenant, from, through, {});
  if (!series.ok()) return out;
  std::vector<storage::ChunkStore::Want> wants;
  std::vector<uint64_t> want_fp;
  for (const auto& s : *series) {
    if (items_of.count(s.fingerprint) == 0) continue;
    for (const index::ChunkRef& c : s.chunks) {
      wants.push_back({c.key, s.fingerprint});
      want_fp.push_back(s.fingerprint);
    }
  }
  if (wants.empty()) return out;
  // Every stored entry of these streams, by stream; a chunk that cannot be read counts as
  // missing (its stream's chunks are stored again).
  std::unordered_map<uint64_t, std::unordered_set<std::string>> stored;
  std::unordered_set<uint64_t> unreadable;
  std::string key;
  chunk::DecodedBlock d;
  auto opened = chunks_.OpenMany(tenant, wants);
  for (size_t w = 0; w < opened.size(); w++) {
    const uint64_t fp = want_fp[w];
    if (!opened[w].ok()) {
      unreadable.insert(fp);
      continue;
    }
    const storage::StoredChunk& sc = **opened[w];
    auto& set = stored[fp];
    for (size_t b = 0; b < sc.blocks().size(); b++) {
      if (!sc.ReadBlock(b, &d).ok()) {
        unreadable.insert(fp);
        break;
      }
      for (size_t i = 0; i < d.size(); i++) {
        AppendIdentity(d, i, &key);
        set.insert(key);
      }
    }
  }
  for (size_t k = 0; k < check.size(); k++) {
    const ClosedChunk& c = *check[k]->chunk;
    const uint64_t fp = check[k]->stream->fp_;
    auto it = stored.find(fp);
    if (it == stored.end() || unreadable.count(fp) > 0) continue;
    bool all = true;
    for (const chunk::BlockMeta& m : c.blocks) {
      if (!chunk::DecodeBlock(std::string_view(c.bytes->data() + m.offset, m.length), &d,
                              chunk::BlockColumns::kAll)
               .ok()) {
        all = false;
        break;
      }
      for (size_t i = 0; all && i < d.size(); i++) {
        AppendIdentity(d, i, &key);
        all = it->second.count(key) > 0;
      }
      if (!all) break;
    }
    out[k] = all;
  }
  return out;
}

void Ingester::FlushBatch(TenantInstance* inst, std::vector<FlushItem>& pending, int64_t now,
                          const std::function<void(const Status&)>& note_failure,
                          bool* released_any, bool force) {
  // Replica flushes: a stream's flush owner stores its chunks; the other replicas wait
  // replica_flush_delay, then drop a chunk whose every entry the store holds and store the
  // ones it does not (the owner was down, or missed a push), so nothing is lost either way.
  if (opts_.flush_owner) {
    std::vector<FlushItem> store;
    std::vector<const FlushItem*> check;
    store.reserve(pending.size());
    for (FlushItem& p : pending) {
      if (opts_.flush_owner(p.stream->fp_)) {
        store.push_back(std::move(p));
      } else if (force || now - p.chunk->closed_ns >= opts_.replica_flush_delay) {
        check.push_back(&p);
      }  // else: too early, kept for a later pass
    }
    const std::vector<bool> held = StoredByOwners(inst->tenant_, check);
    for (size_t k = 0; k < check.size(); k++) {
      if (held[k]) {
        if (metrics_->replica_chunks_deduped) metrics_->replica_chunks_deduped->Inc();
        DropFlushed(inst, *check[k]);
        *released_any = true;
      } else {
        if (metrics_->replica_chunks_stored) metrics_->replica_chunks_stored->Inc();
        store.push_back(std::move(*const_cast<FlushItem*>(check[k])));
      }
    }
    pending.swap(store);
    if (pending.empty()) return;
  }
  // Chunks of provisional head blocks are re-encoded into blocks of block_size with
  // filters at the stored compression level, by the worker that writes them. The
  // in-memory chunk stays as it is until the write succeeds; a failed write re-encodes
  // again next pass.
  auto finalize = [&](FlushItem& p) {
    p.stored = p.chunk->bytes;
    p.stored_uncompressed = p.chunk->uncompressed;
    p.filter.clear();  // a re-encoding's detached filter (a closed chunk's own: chunk->filter)
    if (p.chunk->provisional) {
      chunk::ReencodeOptions ro;
      ro.block_size = opts_.block_size;
      ro.codec = opts_.codec;
      ro.level = opts_.compression_level;
      ro.min_filter_bytes = opts_.block_filter_min_bytes;
      std::vector<chunk::BlockMeta> blocks;
      auto bytes = chunk::ReencodeChunk(*p.chunk->bytes, ro, &blocks);
      if (bytes.ok()) {
        p.stored = std::make_shared<const std::string>(std::move(*bytes));
        // Merged blocks share a symbol table and a first timestamp: their own sizes.
        if (metrics_->chunks_reencoded) metrics_->chunks_reencoded->Inc();
        p.stored_uncompressed = 0;
        for (const chunk::BlockMeta& m : blocks) p.stored_uncompressed += m.uncompressed_size;
        // A re-encoding of one block: its small filter goes in the index entry too.
        if (opts_.index_filter_max_bytes > 0 && blocks.size() == 1) {
          std::string rewritten;
          auto detached =
              chunk::DetachFilter(*p.stored, opts_.index_filter_max_bytes, &rewritten, &p.filter);
          if (detached.ok() && *detached) {
            p.stored = std::make_shared<const std::string>(std::move(rewritten));
          }
        }
      } else {  // cannot happen for bytes we built; store them as they are
        log::Warn("re-encoding a chunk for flush failed; stored as built",
                  {{"err", bytes.status().ToString()}});
      }
    }
    p.stored_size = p.stored->size();
  };

  // 1. Write chunks on the flush pool (bounded by concurrent_flushes), then one index
  // file per day touched. With packing, consecutive chunks up to pack_target_size go into
  // one object (a pack that fails is retried whole by the next pass); otherwise each chunk
  // is its own object.
  // Packs hold chunks in fingerprint order, the order queries read streams in, so a query
  // over many streams reads neighbouring chunks of a pack together (ChunkStore::OpenMany).
  std::sort(pending.begin(), pending.end(), [](const FlushItem& a, const FlushItem& b) {
    return a.stream->fp_ != b.stream->fp_ ? a.stream->fp_ < b.stream->fp_
                                          : a.chunk->min_ts < b.chunk->min_ts;
  });
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) of pending per object
  for (size_t i = 0; i < pending.size();) {
    // Grouped by their in-memory size: a provisional chunk's re-encoding is about as large.
    size_t end = i + 1, bytes = pending[i].chunk->bytes->size();
    while (opts_.pack_target_size > 0 && end < pending.size() &&
           bytes + pending[end].chunk->bytes->size() <= opts_.pack_target_size) {
      bytes += pending[end++].chunk->bytes->size();
    }
    groups.emplace_back(i, end);
    i = end;
  }
  ParallelFor(flush_pool_.get(), groups.size(), static_cast<size_t>(flush_pool_->threads()),
              [&](size_t g) {
                const size_t begin = groups[g].first, end = groups[g].second;
                for (size_t i = begin; i < end; i++) finalize(pending[i]);
                // The re-encodings are dropped once written (the index needs only sizes).
                auto release = [&] {
                  for (size_t i = begin; i < end; i++) pending[i].stored.reset();
                };
                if (opts_.pack_target_size == 0) {
                  FlushItem& p = pending[begin];
                  p.key = chunks_.Put(inst->tenant_, p.stream->fp_, p.chunk->min_ts,
                                      p.chunk->max_ts, *p.stored);
                  release();
                  return;
                }
                std::vector<storage::PackItem> items;
                items.reserve(end - begin);
                for (size_t i = begin; i < end; i++) {
                  const ClosedChunk& c = *pending[i].chunk;
                  items.push_back({pending[i].stream->fp_, c.min_ts, c.max_ts,
                                   static_cast<uint32_t>(c.entries), *pending[i].stored});
                }
                auto locators = chunks_.PutPack(inst->tenant_, items);
                for (size_t i = begin; i < end; i++) {
                  if (locators.ok()) {
                    pending[i].key = std::move((*locators)[i - begin]);
                  } else {
                    pending[i].key = locators.status();
                  }
                }
                items.clear();
                release();
                if (locators.ok() && metrics_->packs_written) metrics_->packs_written->Inc();
              });

  struct Day {
    index::IndexFileWriter writer;
    std::vector<size_t> chunks;  // indexes into pending
  };
  std::map<int64_t, Day> days;
  std::vector<bool> written(pending.size(), false);
  for (size_t i = 0; i < pending.size(); i++) {
    const FlushItem& p = pending[i];
    if (!p.key.ok()) {
      note_failure(p.key.status());
      continue;
    }
    index::ChunkRef ref;
    ref.fingerprint = p.stream->fp_;
    ref.min_ts = p.chunk->min_ts;
    ref.max_ts = p.chunk->max_ts;
    ref.entries = p.chunk->entries;
    ref.compressed_bytes = p.stored_size;
    ref.uncompressed_bytes = p.stored_uncompressed;
    ref.key = *p.key;
    // Detached from the re-encoding, or when the chunk was closed.
    ref.filter = !p.filter.empty() ? std::move(pending[i].filter) : p.chunk->filter;
    const int64_t first_day = DayOf(ref.min_ts), last_day = DayOf(ref.max_ts);
    for (int64_t day = first_day; day <= last_day; day++) {
      Day& d = days[day];
      d.writer.AddSeries(ref.fingerprint, p.stream->labels_);
      d.chunks.push_back(i);
      // The last day's writer takes the ref (its key and filter are not copied again).
      if (day == last_day) {
        d.writer.AddChunk(std::move(ref));
      } else {
        d.writer.AddChunk(ref);
      }
    }
    written[i] = true;
    *released_any = true;
  }
  for (auto& [day, d] : days) {
    auto bytes = d.writer.Finish();
    Status st = bytes.ok() ? index_->Write(inst->tenant_, day, *bytes) : bytes.status();
    if (st.ok()) continue;
    // Not findable through the index for this day: keep the chunks for the next pass
    // (their objects are rewritten under the same keys then).
    note_failure(st);
    for (size_t i : d.chunks) written[i] = false;
  }

  std::map<const char*, metrics::Counter*> reason_counters;
  // 2. Drop flushed chunks from memory (FlushPass then drops streams left empty).
  for (size_t i = 0; i < pending.size(); i++) {
    if (!written[i]) continue;
    FlushItem& p = pending[i];
    if (metrics_->chunks_flushed) {
      const ClosedChunk& c = *p.chunk;
      const double size = static_cast<double>(p.stored_size);
      // Reasons are a handful of string literals: one family lookup per reason per pass.
      metrics::Counter*& by_reason = reason_counters[c.reason];
      if (by_reason == nullptr) by_reason = &metrics_->chunks_flushed->WithLabels({c.reason});
      by_reason->Inc();
      inst->chunks_stored_->Inc();
      inst->chunk_stored_bytes_->Inc(size);
      metrics_->chunk_size->Observe(size);
      metrics_->chunk_entries->Observe(static_cast<double>(c.entries));
      // Loki's MemChunk.Utilization (10 blocks per chunk when there is no target size).
      metrics_->chunk_utilization->Observe(
          opts_.target_size > 0 ? size / static_cast<double>(opts_.target_size)
                                : static_cast<double>(p.stored_uncompressed) /
                                      (10.0 * static_cast<double>(opts_.block_size)));
      metrics_->chunk_age->Observe(static_cast<double>(now - c.min_ts) / 1e9);
    }
    DropFlushed(inst, p);
  }
}

void Ingester::DropFlushed(TenantInstance* inst, const FlushItem& p) {
  std::lock_guard<SmallMutex> lock(p.stream->mu_);
  auto& closed = p.stream->closed_;
  auto it = std::find(closed.begin(), closed.end(), p.chunk);
  if (it != closed.end()) {
    Stream::MemoryUse before = p.stream->Usage();
    metrics_->memory_chunks.fetch_sub(1, std::memory_order_relaxed);
    closed.erase(it);
    AccountLocked(inst, before, p.stream->Usage());
  }
}

Status Ingester::FlushPass(bool force) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  const int64_t now = NowNanos();
  Status first_error;
  size_t failed = 0;
  auto note_failure = [&](const Status& st) {
    failed++;
    if (first_error.ok()) first_error = st;
    if (metrics_->flush_failures) metrics_->flush_failures->Inc();
  };
  if (!force) CloseForPressure();
  bool released_any = false;
  // Each tenant, and within it each chunk and each index day, succeeds or fails on its
  // own: what fails stays in memory (and so in the next WAL checkpoint) and is retried by
  // the next pass, while everything else is written and released.
  for (TenantInstance* inst : AllTenants()) {
    // Streams are taken in fingerprint order, in batches of about flush_batch_size chunk
    // bytes: each batch's due chunks are closed and collected with those closed before,
    // then written, indexed and released (FlushBatch) before the next batch is closed, so
    // the pass holds one batch's closed chunks and index entries at a time.
    std::vector<FlushItem> pending;
    std::vector<std::shared_ptr<Stream>> streams = inst->All();
    std::sort(streams.begin(), streams.end(),
              [](const auto& a, const auto& b) { return a->fp_ < b->fp_; });
    for (size_t next_stream = 0; next_stream < streams.size();) {
      pending.clear();
      size_t batch_bytes = 0;
      for (; next_stream < streams.size(); ++next_stream) {
        if (opts_.flush_batch_size > 0 && batch_bytes >= opts_.flush_batch_size) break;
        const std::shared_ptr<Stream>& stream = streams[next_stream];
        std::lock_guard<SmallMutex> lock(stream->mu_);
        Stream& s = *stream;
        bool has_open = !s.head_.empty() || !s.blocks_.empty();
        // Loki's order of flush reasons: forced, then idle, then max_age.
        const char* reason =
            force                                             ? "forced"
            : now - s.last_append_ >= opts_.chunk_idle_period ? "idle"
            : s.open_first_append_ != 0 && now - s.open_first_append_ >= opts_.max_chunk_age
                ? "max_age"
                : nullptr;
        if (reason != nullptr && has_open) {
          Stream::MemoryUse before = s.Usage();
          s.CloseChunk(inst->tenant_, Encoding(), reason);
          s.ReleaseHead();
          AccountLocked(inst, before, s.Usage());
        }
        for (const auto& c : s.closed_) {
          FlushItem& p = pending.emplace_back();
          p.stream = stream;
          p.chunk = c;
          // A chunk's bytes, and what the flush holds for each chunk besides (its closed
          // chunk, pack item, index entry): at many small streams that is most of a batch.
          batch_bytes += c->bytes->size() + kFlushBytesPerChunk;
        }
      }
      if (!pending.empty()) FlushBatch(inst, pending, now, note_failure, &released_any, force);
    }
    // Drop streams left empty (those of the pass's snapshot: a stream created since holds
    // what it was created for).
    size_t removed = 0;
    for (auto& stream : streams) {
      Shard& shard = inst->ShardFor(stream->fp_);
      std::lock_guard<std::mutex> shard_lock(shard.mu);
      std::lock_guard<SmallMutex> lock(stream->mu_);
      if (!stream->Empty() || stream->removed_ || stream->pending_ > 0) continue;
      if (!force && now - stream->last_append_ < opts_.chunk_idle_period) continue;
      stream->removed_ = true;
      shard.streams.erase(stream->fp_);
      inst->index_.Remove(stream->fp_);
      removed++;
      inst->streams_.fetch_sub(1, std::memory_order_relaxed);
      active_streams_.fetch_sub(1, std::memory_order_relaxed);
      if (metrics_->streams) {
        inst->streams_gauge_->Dec();
        inst->streams_removed_->Inc();
      }
    }
    if (removed > 0) {
      // Removed streams' index entries and map slots are freed now, not at the next query
      // or never (hash maps keep their size when emptied).
      inst->index_.Compact();
      for (Shard& shard : inst->shards_) {
        std::lock_guard<std::mutex> lock(shard.mu);
        if (shard.streams.size() < shard.streams.capacity() / 4) shard.streams.rehash(0);
      }
    }
  }
  // What the pass released (chunks, re-encodings, pack buffers) goes back to the system:
  // glibc keeps freed memory in its arenas otherwise, and the process's RSS would stay at
  // the pass's peak.
  if (released_any) allocator::ReleaseFreeMemory();
  if (failed > 1) {
    return Status(first_error.code(),
                  std::to_string(failed) +
                      " flush writes failed (kept in memory), first: " + first_error.message());
  }
  return first_error;
}

}  // namespace skald::ingester
