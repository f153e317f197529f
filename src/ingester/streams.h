// Internal to the ingester: one stream's in-memory data (its unsorted head block, the
// blocks of its open chunk and the chunks closed but not yet flushed) and the per-tenant
// sharded map of streams. Not for other modules: roles see the ingester through
// ingester/interface.h.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "chunk/block.h"
#include "chunk/chunk.h"
#include "chunk/codec.h"
#include "core/labels.h"
#include "core/small_mutex.h"
#include "index/mem_index.h"
#include "limits/rate_limiter.h"

namespace skald::metrics {
class Counter;
class Gauge;
}  // namespace skald::metrics

namespace skald::ingester {

// Head metadata is stored after the line as (uvarint len, bytes) name/value pairs; appends
// that encoding to *out.
void AppendHeadMetadata(std::span<const MetadataPair> pairs, std::string* out);
// Bytes AppendHeadMetadata appends for `pairs`.
size_t HeadMetadataSize(std::span<const MetadataPair> pairs);
// Identity of an entry for duplicate detection: a hash of its line and its metadata (as the
// hash of the head encoding, computed without building it). Computed once per entry: on
// push before the WAL write, on replay once per record entry.
uint64_t EntryHash(std::string_view line, std::span<const MetadataPair> metadata);

// What a stream holds unflushed (Stream::Usage).
struct StreamMemoryUse {
  size_t held = 0;  // bytes in memory: Stream::Footprint, what the memory guard counts
  size_t raw = 0;   // raw bytes behind them (head bytes, uncompressed size of blocks, chunks)
};

// How a stream's blocks are encoded when cut (IngesterOptions: codec, compression_level,
// block_filter_min_bytes, index_filter_max_bytes).
struct BlockEncoding {
  chunk::Codec codec = chunk::Codec::kZstd;
  int level = 0;                // of final blocks; provisional ones use the codec's default
  size_t min_filter_bytes = 0;  // final blocks with fewer line bytes get no filter
  // A chunk closed with one final block whose filter is at most this many bytes keeps the
  // filter beside its bytes (ClosedChunk::filter), for the index; 0: in the chunk.
  size_t detach_filter_max_bytes = 0;
};

// A chunk that was cut and waits for (or is being) flushed. Immutable.
struct ClosedChunk {
  std::shared_ptr<const std::string> bytes;
  std::vector<chunk::BlockMeta> blocks;  // offsets into *bytes
  int64_t min_ts = 0, max_ts = 0;
  uint32_t entries = 0;
  uint64_t uncompressed = 0;
  // Built from provisional head blocks (small, no filters): the flush stores a re-encoding.
  bool provisional = false;
  // The filter of the chunk's one block, left out of `bytes` (whose filter entry is empty)
  // to go in the chunk's index entry (docs/formats/index.md, "Detached filters"); empty
  // when the chunk holds its filters itself.
  std::string filter;
  const char* reason = "";  // why it was cut: Loki's flush reasons (full, idle, max_age, forced)
  int64_t closed_ns = 0;    // Unix ns when it was cut
};

// One stream's in-memory data. Guarded by mu_.
class Stream {
 public:
  Stream(Labels labels, uint64_t fp) : labels_(labels), fp_(fp) {}

  // Members are laid out small fields last, so a stream object stays 208 bytes (224 with
  // make_shared's control block, one jemalloc size class; a million streams are a million of
  // them). The tenant is not held: every caller has its TenantInstance.
  SmallMutex mu_;  // 4 bytes: a million streams are a million of them

  const PackedLabels labels_;  // shared with the tenant's MemIndex
  const uint64_t fp_;

  // Head block: unsorted entries whose bytes live in head_data_.
  struct HeadEntry {
    int64_t ts;
    uint32_t offset;  // line starts here in head_data_
    uint32_t line_len;
    uint32_t meta_len;  // encoded metadata bytes following the line
    uint32_t seq;       // arrival order, keeps sort stable
  };
  std::string head_data_;
  std::vector<HeadEntry> head_;

  // Open chunk: blocks already cut, shared so snapshots can hold them.
  std::vector<std::shared_ptr<const chunk::EncodedBlock>> blocks_;
  size_t open_compressed_ = 0;
  size_t open_raw_ = 0;            // uncompressed bytes of the open chunk's blocks
  int64_t open_first_append_ = 0;  // wall clock of the first entry of the open chunk

  std::vector<std::shared_ptr<const ClosedChunk>> closed_;

  int64_t newest_ts_ = INT64_MIN;
  int64_t last_append_ = 0;  // wall clock
  // Last appended entry, for dropping exact duplicates cheaply.
  // Identity of the last appended entry (timestamp and a hash of line +
  // metadata), kept across block cuts, so a retried push is not stored twice.
  int64_t last_ts_ = INT64_MIN;
  uint64_t last_hash_ = 0;

  // Loki's per-stream rate limit (StreamAppend::rate), held by the stream as Loki's
  // ingester holds it: a million streams need no million-entry table of buckets.
  limits::RateBucket rate_;

  int pending_ = 0;       // pushes between accept and apply; keeps the stream alive
  bool removed_ = false;  // set under the shard lock + mu_ when dropped from the map
  bool head_sorted_ = true;
  bool open_provisional_ = false;  // the open chunk holds a provisional block
  bool series_logged_ = false;     // the WAL holds this stream's series record

  bool Empty() const { return head_.empty() && blocks_.empty() && closed_.empty(); }

  // Bytes of log data this stream holds in memory (the memory guard's accounting): the
  // head's bytes and entry index, the open chunk's blocks and the closed chunks.
  // What the stream holds unflushed: Footprint() (the memory guard's bytes) and the raw
  // bytes behind them (head bytes, plus the uncompressed size of every block and chunk).
  using MemoryUse = StreamMemoryUse;
  MemoryUse Usage() const {
    MemoryUse u{Footprint(), head_data_.size() + open_raw_};
    for (const auto& c : closed_) u.raw += c->uncompressed;
    return u;
  }

  size_t Footprint() const {
    size_t n = head_data_.size() + head_.size() * sizeof(HeadEntry) + open_compressed_;
    for (const auto& c : closed_) n += c->bytes->size() + c->filter.size();
    return n;
  }

  std::string_view HeadLine(const HeadEntry& e) const {
    return std::string_view(head_data_.data() + e.offset, e.line_len);
  }
  std::string_view HeadMeta(const HeadEntry& e) const {
    return std::string_view(head_data_.data() + e.offset + e.line_len, e.meta_len);
  }

  // Sorts the head in place by (ts, arrival). Later appends keep larger seq
  // numbers, so sorting early never changes the final order. REQUIRES: mu_ held.
  void SortHead() {
    if (head_sorted_) return;
    std::sort(head_.begin(), head_.end(), [](const HeadEntry& a, const HeadEntry& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    });
    head_sorted_ = true;
  }

  // Encodes the (sorted) head into a block, dropping exact duplicates; the head
  // itself is kept. `filter`: build the block's gram filter. REQUIRES: mu_ held, head
  // non-empty.
  chunk::EncodedBlock EncodeHead(chunk::Codec codec, uint32_t* duplicates, bool filter = true,
                                 int level = 0, size_t min_filter_bytes = 0);

  // Cuts the head into a block of the open chunk: a provisional one (default level, no
  // filter; the flush re-encodes its chunk) or a final one (filter, `level`). REQUIRES: mu_
  // held.
  void CutHead(const BlockEncoding& enc, bool provisional = false);

  // Closes the open chunk (cutting the head first: into a final block at `level` when it is
  // the chunk's only block, else into a provisional one); `reason` is a string literal (the
  // chunks_flushed_total label). REQUIRES: mu_ held.
  void CloseChunk(std::string_view tenant, const BlockEncoding& enc, const char* reason);

  // Frees the (empty) head's buffers. After a chunk is closed for any reason but being full
  // (a full stream is busy and would grow them again), so an idle stream holds nothing while
  // its chunk waits to be written. REQUIRES: mu_ held, head empty.
  void ReleaseHead() {
    std::string().swap(head_data_);
    std::vector<HeadEntry>().swap(head_);
  }
};

struct Shard {
  std::mutex mu;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Stream>> streams;
};

class TenantInstance {
 public:
  TenantInstance(std::string tenant, int shards) : tenant_(std::move(tenant)), shards_(shards) {}

  const std::string tenant_;
  std::vector<Shard> shards_;
  index::MemIndex index_;
  // Streams in the shards' maps: changed only under the stream's shard lock, by a
  // compare-and-swap so that creations in different shards never pass a stream limit.
  std::atomic<int64_t> streams_{0};
  // Memory guard: bytes of unflushed data the tenant holds (sum of its streams' Footprint)
  // and bytes reserved by its pushes between admission and apply.
  std::atomic<int64_t> memory_bytes_{0};
  std::atomic<int64_t> reserved_bytes_{0};
  std::atomic<bool> refused_{false};        // a push was refused: the next pass frees memory
  metrics::Gauge* memory_gauge_ = nullptr;  // skald_ingester_tenant_memory_bytes{tenant}
  metrics::Gauge* raw_gauge_ = nullptr;     // skald_ingester_tenant_buffered_bytes{tenant}
  // The tenant's children of the per-tenant families (looked up once, not per stream/chunk).
  metrics::Gauge* streams_gauge_ = nullptr;         // loki_ingester_memory_streams
  metrics::Counter* streams_created_ = nullptr;     // loki_ingester_streams_created_total
  metrics::Counter* streams_removed_ = nullptr;     // loki_ingester_streams_removed_total
  metrics::Counter* chunks_stored_ = nullptr;       // loki_ingester_chunks_stored_total
  metrics::Counter* chunk_stored_bytes_ = nullptr;  // loki_ingester_chunk_stored_bytes_total

  // Counts one more stream unless that would exceed limit (0 = unlimited).
  bool ReserveStream(int64_t limit) {
    int64_t n = streams_.load(std::memory_order_relaxed);
    do {
      if (limit > 0 && n >= limit) return false;
    } while (!streams_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
  }

  Shard& ShardFor(uint64_t fp) { return shards_[fp % shards_.size()]; }

  std::shared_ptr<Stream> Find(uint64_t fp) {
    Shard& s = ShardFor(fp);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.streams.find(fp);
    return it == s.streams.end() ? nullptr : it->second;
  }

  std::vector<std::shared_ptr<Stream>> All() {
    std::vector<std::shared_ptr<Stream>> out;
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (auto& [fp, st] : s.streams) out.push_back(st);
    }
    return out;
  }
};

}  // namespace skald::ingester
