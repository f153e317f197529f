// What other roles may ask of an ingester, and nothing more: the seam between the
// distributor / querier and the ingester. Today the in-process Ingester (ingester.h)
// implements both interfaces; a gRPC ingester client will implement them later, so
// everything that crosses them is a value type (or a view the callee only reads during
// the call) and nothing here exposes how an ingester stores, logs or flushes data.
//
// Include this header, never ingester/ingester.h, from a role other than the ingester.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chunk/block.h"
#include "chunk/block_ref.h"
#include "core/entry.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "limits/rate_limiter.h"

namespace skald::ingester {

// One entry to append; views are only read during the call.
struct AppendEntry {
  int64_t ts;
  std::string_view line;
  std::span<const MetadataPair> metadata;
};

struct AppendResult {
  uint32_t appended = 0;
  uint32_t duplicates = 0;  // identical (ts, line, metadata) to an entry already held
  // Entries refused by the ingester: (timestamp, reason).
  std::vector<std::pair<int64_t, std::string>> rejected;
  // Entries refused by the stream's rate limit (StreamAppend::rate): (timestamp, size).
  std::vector<std::pair<int64_t, uint64_t>> rate_limited;
  // The stream was not held and the tenant already has its maximum number of active
  // (in-memory) streams: the stream was not created and none of its entries was taken
  // (nothing else is set). Loki's "stream_limit" refusal.
  bool stream_limited = false;
  // The ingester's memory guard refused the whole push (set on every stream of it; PushBatch
  // returned ResourceExhausted for the tenant's cap, Unavailable for the process'): nothing
  // of the push was written.
  bool memory_limited = false;
};

// One stream's part of a push (Pusher::PushBatch).
struct StreamAppend {
  const Labels* labels = nullptr;  // canonical, validated by the caller
  uint64_t fingerprint = 0;        // labels->Fingerprint(); 0 = the callee computes it
  std::span<const AppendEntry> entries;
  // Loki's per-stream rate limit, applied by the ingester to the entries it would take
  // (after dropping duplicates and entries too far behind, as Loki's ingester does), with the
  // stream's own bucket; null: no limit. sizes[i] is entry i's cost in bytes (Loki's
  // util.EntryTotalSize); without sizes an entry costs its line and metadata bytes.
  const limits::Rate* rate = nullptr;
  std::span<const uint64_t> sizes;
  AppendResult result;  // filled by PushBatch
};

// What a query sees of one stream held by an ingester: its blocks, each owning (or
// keeping alive) its bytes, so the snapshot stays valid after later pushes and flushes.
struct StreamSnapshot {
  uint64_t fingerprint = 0;
  Labels labels;
  std::vector<chunk::BlockRef> blocks;  // may overlap in time; each sorted internally
  uint64_t head_bytes = 0;              // bytes that came from the unsorted head block
  uint64_t head_lines = 0;
};

// How much of one stream an ingester holds over a time range, from block metadata and the
// head's entry index (no line is read): what index/stats and index/volume count.
struct DataPiece {
  int64_t min_ts = 0, max_ts = 0;  // inclusive
  uint64_t entries = 0;
  uint64_t bytes = 0;  // line bytes
};
struct StreamVolume {
  uint64_t fingerprint = 0;
  Labels labels;
  uint32_t chunks = 0;            // in-memory chunks (closed or open) holding data in the range
  std::vector<DataPiece> pieces;  // blocks and the head overlapping the range
};

// What a distributor may call.
class Pusher {
 public:
  virtual ~Pusher() = default;

  // Appends the entries of one push to the tenant's streams, creating streams when new
  // (unless the tenant is at its active stream limit: then the new stream's entries are
  // refused, StreamAppend::result.stream_limited, and the other streams still written).
  // Entries too far behind a stream's newest entry are rejected and entries equal to the
  // last one held are dropped (both reported per stream in StreamAppend::result). The
  // push is made durable as a whole before any of it becomes visible; if that fails
  // nothing is applied and the call returns Unavailable (the client should retry).
  // Thread-safe.
  virtual Status PushBatch(std::string_view tenant, std::span<StreamAppend> streams) = 0;
};

// A query frontend's shard of the streams: the index-th of `count` equal ranges of the
// fingerprint space (count 0 or 1: every stream). Ranges, not residues: packs hold chunks in
// fingerprint order, so a shard's chunks are one contiguous run of each pack, read in one
// ranged GET (with residues they were spread over the whole pack, a read each).
struct StreamShard {
  uint32_t index = 0;
  uint32_t count = 0;
  static uint32_t Of(uint64_t fingerprint, uint32_t count) {
    return static_cast<uint32_t>((static_cast<unsigned __int128>(fingerprint) * count) >> 64);
  }
  bool Excludes(uint64_t fingerprint) const { return count > 1 && Of(fingerprint, count) != index; }
};

// What a querier may call: an ingester in process, or the ingesters of a ring over gRPC
// (rpc/stream_reader.h; then the calls may fail, Unavailable when too few replicas answered).
// All methods are thread-safe and return nothing for an unknown tenant.
class StreamReader {
 public:
  virtual ~StreamReader() = default;

  // Streams of the tenant matching all matchers that hold data overlapping
  // [from, through), with the blocks that overlap it. A stream held by several replicas comes
  // back once with the blocks of all of them (the querier drops the duplicate entries).
  // Only the streams of `shard`.
  virtual StatusOr<std::vector<StreamSnapshot>> QuerySnapshot(std::string_view tenant,
                                                              const std::vector<Matcher>& matchers,
                                                              int64_t from, int64_t through,
                                                              StreamShard shard) = 0;
  // Label names / values of the tenant's in-memory streams, sorted, unique.
  virtual StatusOr<std::vector<std::string>> QueryLabelNames(std::string_view tenant) = 0;
  virtual StatusOr<std::vector<std::string>> QueryLabelValues(std::string_view tenant,
                                                              std::string_view name) = 0;
  // Label sets of the tenant's in-memory streams matching all matchers.
  virtual StatusOr<std::vector<Labels>> QuerySeries(std::string_view tenant,
                                                    const std::vector<Matcher>& matchers) = 0;
  // The in-memory data of matching streams overlapping [from, through), by block.
  virtual StatusOr<std::vector<StreamVolume>> QueryVolumes(std::string_view tenant,
                                                           const std::vector<Matcher>& matchers,
                                                           int64_t from, int64_t through) = 0;
};

}  // namespace skald::ingester
