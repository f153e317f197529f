// Querier: answers log queries and label/series lookups by combining the
// ingester's in-memory streams with chunks flushed to the object store.
//
// In-memory blocks are decoded with chunk::DecodeBlock, stored chunks are opened
// through storage::ChunkStore (every block read checked against the chunk's block
// index); both are scanned with the compiled line filter over the block's contiguous line
// buffer. Per stream only the best `limit` entries (in query direction) are
// kept; blocks that cannot improve them are skipped. Entries identical in
// (timestamp, line, structured metadata) within a stream are returned once;
// entries of a stream sharing a timestamp keep their arrival order (reversed
// when backward), as in Loki.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/interface.h"
#include "logql/ast.h"
#include "logql/erasure.h"
#include "logql/evaluator.h"
#include "logql/line_filter.h"
#include "logql/parser.h"
#include "logql/pipeline.h"
#include "storage/chunk_store.h"
#include "storage/object_store.h"
#include "wire/query_result.h"

namespace skald::querier {

// Result types live with their codec (wire/query_result.h).
using wire::QueryStats;
using wire::ResultEntry;
using wire::ResultStream;

struct QuerierOptions {
  // Where a query's streams are scanned in parallel (the query worker pool; must outlive
  // the querier). nullptr = on the calling thread only.
  Executor* pool = nullptr;
  // Pool tasks one query may use besides its own thread; 0 = hardware concurrency.
  int parallelism = 0;
  // Range aggregations whose samples need no line bytes (count_over_time, rate,
  // bytes_over_time, bytes_rate, absent_over_time without a pipeline) decode only
  // timestamps, line lengths and structured metadata. Turned off only by tests and
  // benchmarks that compare both paths; results are the same either way.
  bool metric_fast_path = true;
  // The tenant's erasure rules (retention past its period, delete requests) at query time:
  // log and metric queries never see an erased entry, wherever it is (ingester memory or
  // store). Unset or returning null: nothing is erased.
  std::function<std::shared_ptr<const logql::Erasure>(std::string_view tenant)> erasure;
};

// When a query must stop, shared by every thread working on it: its deadline
// (query_timeout) and, when the HTTP layer can tell, the client having gone away. Once
// Expired() has seen either, `cancelled` stays true, so the evaluator (which polls the
// flag) stops too, and Why() names the reason.
struct QueryControl {
  std::atomic<bool> cancelled{false};
  int64_t deadline_mono_nanos = INT64_MAX;  // core/time.h MonotonicNanos() clock
  // True once nobody will read the answer (may be null). Polled at most every
  // kClientProbeNanos whatever the number of threads polling.
  std::function<bool()> client_gone;
  static constexpr int64_t kClientProbeNanos = 10'000'000;
  // The tenant's max_query_parallelism: at most this many of the query's scan tasks (streams
  // of a log query's window, slices of a metric query's streams) run at once, the calling
  // thread included. 0 = the querier's own QuerierOptions::parallelism (+1) only.
  int max_parallelism = 0;
  // The tenant's max_query_lookback floor: metric queries read no entry older than this
  // (log queries have their range clamped by QueryApi instead).
  int64_t min_ts = INT64_MIN;
  // The query frontend's shard: only streams in the shard-th of shard_count
  // equal fingerprint ranges (ingester::StreamShard; shard_count 0: every stream).
  uint32_t shard = 0;
  uint32_t shard_count = 0;

  bool Expired() {
    if (cancelled.load(std::memory_order_relaxed)) return true;
    const int64_t now = MonotonicNanos();
    if (now >= deadline_mono_nanos) {
      cancelled.store(true, std::memory_order_relaxed);
      return true;
    }
    if (!client_gone) return false;
    int64_t due = next_probe_.load(std::memory_order_relaxed);
    if (now < due || !next_probe_.compare_exchange_strong(due, now + kClientProbeNanos,
                                                          std::memory_order_relaxed)) {
      return false;
    }
    if (!client_gone()) return false;
    client_left_.store(true, std::memory_order_relaxed);
    cancelled.store(true, std::memory_order_relaxed);
    return true;
  }

  // The error a stopped query answers: Loki's 499 "context canceled" when the client left,
  // else 504 "context deadline exceeded".
  Status Why() const {
    if (client_left_.load(std::memory_order_relaxed)) return Status::Cancelled("context canceled");
    return Status::DeadlineExceeded("context deadline exceeded");
  }

 private:
  std::atomic<int64_t> next_probe_{0};
  std::atomic<bool> client_left_{false};
};

class Querier {
 public:
  // All pointers must outlive the querier.
  Querier(QuerierOptions opts, ingester::StreamReader* ingester, index::IndexStore* index,
          storage::ObjectStore* store);

  // Entries of streams selected by `selector` with start <= ts < end that pass
  // its pipeline (leading line filters run over whole blocks first, then every
  // other stage per entry): the newest `limit` (backward) or oldest (forward)
  // over all streams. A result stream holds one set of stream labels as the
  // pipeline left them; each entry carries its structured metadata and parsed
  // labels. Streams come back sorted by label string, entries in query
  // direction. InvalidArgument when the pipeline does not compile. Thread-safe.
  StatusOr<std::vector<ResultStream>> SelectLogs(std::string_view tenant,
                                                 const logql::LogSelector& selector, int64_t start,
                                                 int64_t end, uint32_t limit, bool forward,
                                                 QueryStats* stats,
                                                 QueryControl* control = nullptr);

  // The querier's side of metric evaluation: pushes into *acc the samples that
  // `expr`'s extractor yields from the entries of matching streams in the
  // accumulator's time range. Streams are fed in parallel on the query pool,
  // each task into its own fork of *acc, merged back in a fixed order. Entries
  // of one stream that are identical (timestamp, line, metadata) and come from
  // sources overlapping in time count once. Chunks and blocks wholly outside the
  // accumulator's range (which includes the aggregation's range and offset) are
  // neither fetched nor decompressed. When the extractor needs no line bytes
  // (SampleExtractor::StreamLabelsOnly) blocks are decoded without their line
  // column: only timestamps, line lengths (bytes_*) and metadata; lines are read
  // only for entries sharing a timestamp with another entry of overlapping
  // sources, to check their identity. Stats: decompressed_lines / head_chunk_lines
  // count the entries of every block decoded; decompressed_bytes /
  // head_chunk_bytes only the line bytes actually decompressed (none on the
  // line-free path). Block checksums are verified either way (Corruption).
  // `control`, when given, is polled per block: past its deadline the work stops
  // and DeadlineExceeded is returned.
  Status FeedSamples(std::string_view tenant, const logql::RangeAggregationExpr& expr,
                     logql::RangeAccumulator* acc, QueryStats* stats,
                     QueryControl* control = nullptr);

  StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant, int64_t start,
                                                int64_t end);
  StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant, std::string_view name,
                                                 int64_t start, int64_t end,
                                                 const std::vector<Matcher>& matchers);
  // Union over the matcher sets (each set ANDed); all series when empty.
  StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                       const std::vector<std::vector<Matcher>>& match_sets,
                                       int64_t start, int64_t end);
  // What matching streams hold over [start, end), from the ingester's block metadata and the
  // index's chunk refs (no chunk is opened, no line read): per stream its labels, chunk count
  // and data pieces (a stored chunk, or an in-memory block or head). Ordered by fingerprint.
  StatusOr<std::vector<ingester::StreamVolume>> Volumes(std::string_view tenant,
                                                        const std::vector<Matcher>& matchers,
                                                        int64_t start, int64_t end);

 public:
  // Internal (public only so the scan helpers in querier.cc can name it).
  struct StreamWork;

 private:
  // Every stream matching `matchers` with data in [start, end): its labels, the
  // ingester's blocks and the store's chunks, ordered by fingerprint. Stored chunks whose
  // detached filter (in the index) refutes `need` (null: nothing required) are left out,
  // and counted in stats as filtered blocks.
  StatusOr<std::vector<StreamWork>> Gather(std::string_view tenant,
                                           const std::vector<Matcher>& matchers, int64_t start,
                                           int64_t end, const logql::LiteralRequirement* need,
                                           QueryStats* stats, const QueryControl* control);

  QuerierOptions opts_;
  ingester::StreamReader* ingester_;
  index::IndexStore* index_;
  storage::ChunkStore chunks_;
};

}  // namespace skald::querier
