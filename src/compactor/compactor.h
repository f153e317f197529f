// The compactor role (Loki's compactor, for Skald's index files and chunks):
//
// - compaction: the per-flush index files of one tenant's day are merged into one;
// - retention: chunks whose newest entry is past the stream's retention period are removed
//   from the index and then deleted (`retention_period`, `retention_stream`);
// - deletes: delete requests older than the cancel period are applied — chunks wholly inside
//   a request without a line filter are deleted, others are rewritten without the matching
//   entries — and then marked processed.
//
// Every pass keeps the store consistent after a crash at any step (docs/formats/compactor.md):
// new chunks are written before the index that names them; the new index before the old
// files are deleted; a chunk key leaves the store only after a marker object naming it was
// written and no index file references it any more, and only `retention_delete_delay` after
// the marker (so a query that read an older index still finds the chunk). Readers merge
// duplicate refs by chunk key, so the moment where old and new index files coexist is
// harmless.
//
// The same rules drive query-time filtering: `ErasureFor(tenant)` is what the querier hides.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "compactor/delete_requests.h"
#include "core/metrics.h"
#include "core/status.h"
#include "index/index_store.h"
#include "limits/limits.h"
#include "logql/erasure.h"
#include "storage/object_store.h"

namespace skald::compactor {

struct CompactorOptions {
  int64_t compaction_interval_ns = 10LL * 60 * 1'000'000'000;  // compactor.compaction_interval
  bool retention_enabled = false;                              // compactor.retention_enabled
  int64_t retention_delete_delay_ns = 2LL * 3600 * 1'000'000'000;
  int64_t delete_request_cancel_period_ns = 24LL * 3600 * 1'000'000'000;
};

// What one pass did (also exported as metrics).
struct PassStats {
  uint64_t days_rewritten = 0;
  uint64_t index_files_before = 0, index_files_after = 0;
  uint64_t index_bytes_before = 0, index_bytes_after = 0;
  uint64_t chunks_expired = 0;    // dropped by retention
  uint64_t chunks_deleted = 0;    // dropped whole by delete requests
  uint64_t chunks_rewritten = 0;  // rewritten without deleted entries
  uint64_t entries_deleted = 0;   // entries removed by rewrites
  uint64_t markers_written = 0;
  uint64_t chunk_objects_deleted = 0;  // by the sweep
  uint64_t delete_requests_processed = 0;
};

class Compactor {
 public:
  // Pointers must outlive the compactor. registry may be null.
  Compactor(CompactorOptions opts, storage::ObjectStore* store, index::IndexStore* index,
            const limits::Overrides* limits, DeleteRequestStore* deletes,
            metrics::Registry* registry);
  ~Compactor();

  // One full pass at time `now` (unix ns): compaction, retention and deletes of every tenant
  // and day, then the sweep of markers older than the delete delay. A failure stops the day
  // it happened in (other days and tenants go on) and is returned at the end.
  Status RunOnce(int64_t now, PassStats* stats = nullptr);

  // Runs RunOnce every compaction interval on a background thread (first pass right away).
  void Start();
  void Stop();

  // What queries of `tenant` must not return at time `now` (never null).
  std::shared_ptr<const logql::Erasure> ErasureFor(std::string_view tenant, int64_t now);

  const CompactorOptions& options() const { return opts_; }

 private:
  struct DayWork;
  Status CompactDay(std::string_view tenant, int64_t day, const std::vector<std::string>& keys,
                    const logql::Erasure& erasure, int64_t now, PassStats* stats);
  Status Sweep(int64_t now, PassStats* stats);
  Status WriteMarker(std::string_view tenant, const std::vector<std::string>& chunk_keys,
                     int64_t now);

  const CompactorOptions opts_;
  storage::ObjectStore* const store_;
  index::IndexStore* const index_;
  const limits::Overrides* const limits_;
  DeleteRequestStore* const deletes_;
  std::atomic<uint64_t> marker_counter_{0};

  std::mutex run_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;

  struct Metrics {
    metrics::Counter* runs_ok = nullptr;
    metrics::Counter* runs_failed = nullptr;
    metrics::Gauge* last_success = nullptr;
    metrics::Counter* chunks_expired = nullptr;
    metrics::Counter* chunks_deleted = nullptr;
    metrics::Counter* chunks_rewritten = nullptr;
    metrics::Family<metrics::Counter>* entries_deleted = nullptr;  // by user
    metrics::Counter* objects_deleted = nullptr;
    metrics::Family<metrics::Counter>* requests_processed = nullptr;
    metrics::Gauge* index_files_merged = nullptr;
  } m_;
};

}  // namespace skald::compactor
