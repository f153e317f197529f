// Ingester (the in-process implementation of ingester/interface.h): holds the recent data of every
// active stream in memory, cuts it into compressed blocks and chunks, and flushes closed chunks
// with their index entries to the object store.
//
// Streams are kept per tenant and sharded by fingerprint: a push locks one
// shard's map only long enough to find its stream, then the stream's own mutex,
// so pushes to different streams never contend on a global lock.
//
// Write-ahead logging slots in at Ingester::Push: a WAL record for the stream's
// accepted entries is appended (and made durable) before they are applied to the
// in-memory stream; replay calls the same apply path. See docs/formats/chunk.md
// and docs/formats/index.md for what a flush writes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chunk/block.h"
#include "chunk/block_ref.h"
#include "chunk/codec.h"
#include "core/entry.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/interface.h"
#include "storage/chunk_store.h"
#include "storage/object_store.h"
#include "wal/replay.h"
#include "wal/wal.h"

namespace skald::metrics {
class Registry;
}

namespace skald::ingester {

struct IngesterOptions {
  size_t block_size = 262144;    // chunk_block_size: uncompressed bytes per block
  size_t target_size = 1572864;  // chunk_target_size: compressed bytes per chunk
  chunk::Codec codec = chunk::Codec::kZstd;
  // Heads are cut at this many uncompressed bytes into provisional blocks (the codec at its
  // default level, no gram filter), so buffered data is held compressed early; a flush
  // re-encodes a chunk of provisional blocks into blocks of block_size with filters at
  // compression_level (chunk::ReencodeChunk). 0, or >= block_size: heads are cut at
  // block_size into final blocks and chunks are stored as they were built.
  size_t head_block_size = 32768;
  int compression_level = 0;  // level of stored blocks (chunk::CompressAppend; 0 = default)
  // Stored blocks whose lines total fewer bytes get no gram filter (chunk::BlockBuilder::
  // set_min_filter_bytes). 0 (default): every block gets one. Measured at 1,000,000 streams
  // of ~240 line bytes each: 512 stores 8% fewer bytes but needle searches cost 30-55% more
  // CPU (each tiny block is then decompressed).
  size_t block_filter_min_bytes = 0;
  // A stored chunk of one block whose filter is at most this many bytes has the filter in
  // its index entry instead of in the chunk (chunk::DetachFilter; docs/formats/index.md,
  // "Detached filters"): a query refutes it from the index without
  // fetching or opening it. 0: filters stay in chunks.
  size_t index_filter_max_bytes = 1024;
  int64_t max_chunk_age = 2 * kNanosPerHour;
  int64_t chunk_idle_period = 30 * kNanosPerMinute;
  int64_t flush_check_period = 30 * kNanosPerSecond;
  int concurrent_flushes = 32;  // threads of the flush pool (chunk writes in flight)
  // Replicated ingesters (docs/operations/scale-out.md, "Replica flushes"): true when this
  // ingester is the flush owner of a stream (the first healthy replica of its ring token).
  // Null: it owns every stream (one ingester, or no ring).
  std::function<bool(uint64_t fingerprint)> flush_owner;
  // A closed chunk of a stream this ingester does not own waits this long before the flush
  // checks whether the owner stored its entries (then it is dropped, not stored again) or not
  // (then it is stored). A forced flush (shutdown, /flush) checks at once.
  int64_t replica_flush_delay = 2 * kNanosPerMinute;
  // A flush pass writes a tenant's chunks into packed objects of about this many bytes each
  // (docs/formats/pack.md) instead of one object per chunk; 0 = one object per chunk.
  size_t pack_target_size = 32u << 20;
  // A flush pass closes, writes and indexes a tenant's streams (in fingerprint order) in
  // batches of about this many chunk bytes (each chunk counted with 1 KiB more for what the
  // flush holds beside it), each with its own index file per day, so its peak memory does
  // not grow with the number of streams; 0 = one batch per tenant.
  size_t flush_batch_size = 64u << 20;
  // Entries older than (newest entry of the stream - window) are rejected as
  // "too far behind". Loki: max_chunk_age / 2.
  int64_t out_of_order_window = kNanosPerHour;
  int shards = 64;
  // How often the in-memory streams are snapshotted into a WAL checkpoint (when a WAL is
  // attached); segments the checkpoint covers are then deleted.
  int64_t checkpoint_duration = 5 * kNanosPerMinute;
  // The most active (in-memory) streams a tenant may have; a push that would create one more
  // is refused for that stream (AppendResult::stream_limited). 0 or no callback = unlimited.
  // Loki: the smaller non-zero of max_streams_per_user and max_global_streams_per_user
  // (divided by the ingesters, times the replication factor). Asked only when a stream is
  // about to be created, at most once per push; never during WAL replay (replay restores
  // every stream the WAL holds, as Loki). Must be thread-safe.
  std::function<int64_t(std::string_view tenant)> max_streams;
  // The memory guard (docs/limits.md): caps on the bytes of unflushed data held in memory
  // (heads, blocks of open chunks, closed chunks waiting for their flush; Stream::Footprint).
  // A push that would take the process past max_head_bytes is refused whole (Unavailable,
  // 503), one that would take its tenant past max_head_bytes_per_tenant(tenant) likewise
  // (ResourceExhausted, 429); both before anything is logged to the WAL. 0 (or no callback)
  // = no cap. WAL replay is never refused. The callback is asked once per push; thread-safe.
  int64_t max_head_bytes = 0;
  std::function<int64_t(std::string_view tenant)> max_head_bytes_per_tenant;
  // Share of a cap past which the flush loop is woken at once to cut and flush the largest
  // streams of the tenant (or of every tenant, for the process cap) until it is back under
  // half of that share.
  double flush_pressure_ratio = 0.8;
};

// What WAL replay found and did (logged and exported as metrics at start-up).
struct ReplayReport {
  wal::ReplayStats checkpoint;  // the checkpoint's records
  wal::ReplayStats segments;    // the segments after it
  uint64_t checkpoint_segment = 0;
  uint64_t series = 0;
  uint64_t entries = 0;         // entries applied (duplicates of held entries are dropped)
  uint64_t orphan_entries = 0;  // entries records whose stream had no series record
  int64_t duration_ns = 0;
};

class Stream;
struct ClosedChunk;
struct StreamMemoryUse;
struct BlockEncoding;
class TenantInstance;

class Ingester : public Pusher, public StreamReader {
 public:
  // store and index must outlive the ingester. registry may be null.
  Ingester(IngesterOptions opts, storage::ObjectStore* store, index::IndexStore* index,
           metrics::Registry* registry);
  ~Ingester();
  Ingester(const Ingester&) = delete;
  Ingester& operator=(const Ingester&) = delete;

  // Starts the background flush loop.
  void Start();
  // Stops the flush loop (does not flush; call FlushAll first for that).
  void Stop();

  // Appends entries to the streams of one push, creating streams when new.
  // Entries too far behind a stream's newest entry are rejected and entries equal
  // to the last one held are dropped (both reported per stream in result). With a
  // WAL attached the accepted entries of all streams are made durable with one
  // WAL append before they are applied; if that fails nothing is applied and the
  // call returns Unavailable (the client should retry). Thread-safe.
  Status PushBatch(std::string_view tenant, std::span<StreamAppend> streams) override;
  // PushBatch for one stream.
  Status Push(std::string_view tenant, const Labels& labels, std::span<const AppendEntry> entries,
              AppendResult* result);

  // Rebuilds in-memory streams from the WAL in dir: the newest checkpoint, then
  // every later segment (streamed, never loaded whole). Torn tails are truncated,
  // corrupt records counted and skipped (see docs/formats/wal.md). Must run
  // before AttachWal, and before pushes are accepted.
  Status ReplayWal(const std::string& dir, FileSystem* fs, ReplayReport* report);
  // From now on pushes go through this WAL (which writes to dir), and the flush
  // loop writes checkpoints there. wal must outlive the ingester (or DetachWal).
  void AttachWal(wal::Wal* wal, std::string dir, FileSystem* fs);
  // Snapshots every in-memory stream into checkpoint.N and deletes the WAL
  // segments before N. Called by the flush loop and at shutdown.
  Status Checkpoint();

  // Streams of the tenant matching all matchers that hold data overlapping
  // [from, through). Thread-safe; the snapshot stays valid after later pushes.
  std::vector<StreamSnapshot> Snapshot(std::string_view tenant,
                                       const std::vector<Matcher>& matchers, int64_t from,
                                       int64_t through);
  std::vector<std::string> LabelNames(std::string_view tenant);
  std::vector<std::string> LabelValues(std::string_view tenant, std::string_view name);
  std::vector<Labels> Series(std::string_view tenant, const std::vector<Matcher>& matchers);
  std::vector<StreamVolume> Volumes(std::string_view tenant, const std::vector<Matcher>& matchers,
                                    int64_t from, int64_t through);

  // StreamReader: the same, never failing.
  StatusOr<std::vector<StreamSnapshot>> QuerySnapshot(std::string_view tenant,
                                                      const std::vector<Matcher>& matchers,
                                                      int64_t from, int64_t through,
                                                      StreamShard shard) override {
    std::vector<StreamSnapshot> out = Snapshot(tenant, matchers, from, through);
    if (shard.count > 1) {
      std::erase_if(out, [&](const StreamSnapshot& s) { return shard.Excludes(s.fingerprint); });
    }
    return out;
  }
  StatusOr<std::vector<std::string>> QueryLabelNames(std::string_view tenant) override {
    return LabelNames(tenant);
  }
  StatusOr<std::vector<std::string>> QueryLabelValues(std::string_view tenant,
                                                      std::string_view name) override {
    return LabelValues(tenant, name);
  }
  StatusOr<std::vector<Labels>> QuerySeries(std::string_view tenant,
                                            const std::vector<Matcher>& matchers) override {
    return Series(tenant, matchers);
  }
  StatusOr<std::vector<StreamVolume>> QueryVolumes(std::string_view tenant,
                                                   const std::vector<Matcher>& matchers,
                                                   int64_t from, int64_t through) override {
    return Volumes(tenant, matchers, from, through);
  }

  // Cuts every head and open chunk and flushes everything to the store. A chunk (or an
  // index day) that cannot be written never stops the others: everything that can be
  // flushed is, what failed stays in memory (and in the next WAL checkpoint) and is
  // retried by the next flush. Returns the first error (with the count of failures).
  Status FlushAll();

  size_t ActiveStreams() const { return active_streams_.load(std::memory_order_relaxed); }
  // In-memory streams of one tenant (what max_streams limits).
  size_t ActiveStreams(std::string_view tenant);
  size_t MemoryBytes() const { return memory_bytes_.load(std::memory_order_relaxed); }
  // Bytes of unflushed data one tenant holds (what max_head_bytes_per_tenant caps).
  int64_t MemoryBytes(std::string_view tenant);

 private:
  friend class Stream;
  struct Metrics;

  TenantInstance* GetOrCreateTenant(std::string_view tenant);
  // Finds or creates the stream and pins it (pending_++) so the flusher keeps it. With
  // limit non-null, a stream is only created while the tenant holds fewer than *limit
  // streams (*limit < 0: not looked up yet, done here once; 0: unlimited); otherwise
  // returns null. limit null (WAL replay): always created.
  std::shared_ptr<Stream> AcquireStream(TenantInstance* inst, const Labels& labels, uint64_t fp,
                                        int64_t* limit = nullptr);
  // Appends one entry to the head, cutting blocks/chunks as due. REQUIRES: s.mu_ held.
  // `hash` is EntryHash(line, metadata).
  void AppendLocked(std::string_view tenant, Stream& s, int64_t ts, std::string_view line,
                    std::span<const MetadataPair> metadata, uint64_t hash, int64_t now);
  // Moves the stream's footprint from `before` to `after` in the tenant's and the process'
  // memory counters. REQUIRES: the stream's mu_ held.
  void AccountLocked(TenantInstance* inst, const StreamMemoryUse& before,
                     const StreamMemoryUse& after);
  // The memory guard's admission of a push of `bytes` (estimated footprint): reserves them
  // against the tenant's and the process' caps, or returns the refusal (nothing reserved).
  // The reservation is released by ReleaseReservation once the push is applied (or failed).
  Status ReservePush(TenantInstance* inst, int64_t bytes, size_t lines, int64_t* tenant_cap);
  void ReleaseReservation(TenantInstance* inst, int64_t bytes, int64_t tenant_cap);
  // True when the tenant (or the process) holds more than flush_pressure_ratio of its cap.
  bool UnderPressure(TenantInstance* inst, int64_t tenant_cap) const;
  // Wakes the flush loop for a pressure pass (at most one request pending).
  void RequestPressureFlush();
  // The memory guard's flush priority: for each tenant over flush_pressure_ratio of its cap
  // (and, when the process is over that share of max_head_bytes, for all tenants together)
  // closes the open chunks of the largest streams until what stays open is under half that
  // share, so the pass that follows writes and releases them. REQUIRES: flush_mu_ held.
  void CloseForPressure();
  void NoteWalFailure(const Status& st);
  TenantInstance* FindTenant(std::string_view tenant);
  // Fills *snap with stream s's data overlapping [from, through] (Snapshot's work for one
  // stream). REQUIRES: s.mu_ held.
  static void SnapshotLocked(uint64_t fp, Stream& s, int64_t from, int64_t through,
                             StreamSnapshot* snap);
  std::vector<TenantInstance*> AllTenants();
  void FlushLoop();
  // One flush pass. force: close every chunk regardless of age/size.
  Status FlushPass(bool force);
  struct FlushItem;
  // Replica flushes: for each chunk, whether every entry of it (timestamp, line, metadata) is
  // in the store already (stored by the stream's flush owner): one index query and one
  // coalesced read for the batch. Errors count as "no" (the chunk is stored).
  std::vector<bool> StoredByOwners(std::string_view tenant,
                                   const std::vector<const FlushItem*>& check);
  // Writes one batch of a tenant's closed chunks (packs, or an object each), then one index
  // file per day they touch, and drops from memory what was written; what fails is passed
  // to note_failure and stays in memory. REQUIRES: flush_mu_ held.
  void FlushBatch(TenantInstance* inst, std::vector<FlushItem>& pending, int64_t now,
                  const std::function<void(const Status&)>& note_failure, bool* released_any,
                  bool force);
  // Drops a flushed (or owner-stored) chunk from its stream's memory.
  void DropFlushed(TenantInstance* inst, const FlushItem& p);
  BlockEncoding Encoding() const;  // of the streams' blocks, from opts_

  IngesterOptions opts_;
  storage::ChunkStore chunks_;
  index::IndexStore* index_;
  std::unique_ptr<ThreadPool> flush_pool_;
  std::unique_ptr<Metrics> metrics_;

  std::shared_mutex tenants_mu_;
  std::unordered_map<std::string, std::unique_ptr<TenantInstance>> tenants_;

  std::mutex flush_mu_;  // one flush pass at a time
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread flush_thread_;

  wal::Wal* wal_ = nullptr;
  std::string wal_dir_;
  FileSystem* wal_fs_ = nullptr;
  // Pushes hold it shared from WAL append to apply; a checkpoint holds it
  // exclusively around the segment rotation, so segments < N are all applied.
  std::shared_mutex wal_order_mu_;
  std::mutex checkpoint_mu_;
  std::atomic<int64_t> last_wal_error_log_{INT64_MIN / 2};

  std::atomic<size_t> active_streams_{0};
  std::atomic<size_t> memory_bytes_{0};
  // Memory guard: bytes reserved by pushes between admission and apply (process-wide), and
  // a pending request for a pressure flush pass.
  std::atomic<int64_t> reserved_bytes_{0};
  std::atomic<bool> pressure_flush_{false};
  std::atomic<bool> refused_{false};  // a push was refused by the process cap
};

}  // namespace skald::ingester
