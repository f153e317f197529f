// Internal to the ingester: the metrics it exports, resolved once at construction
// (all null without a registry).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/metrics.h"
#include "ingester/ingester.h"

namespace skald::ingester {

// Names, types, labels and help texts are Loki's (pkg/ingester/metrics.go, instance.go)
// except the skald_* ones, which Loki has no equivalent for. Loki's
// loki_ingester_chunk_bounds_hours is left out: promtool rejects its unit.
struct Ingester::Metrics {
  metrics::Family<metrics::Counter>* chunks_flushed = nullptr;      // by reason
  metrics::Family<metrics::Counter>* chunks_stored = nullptr;       // by tenant
  metrics::Family<metrics::Counter>* chunk_stored_bytes = nullptr;  // by tenant
  metrics::Counter* packs_written = nullptr;                        // skald: pack objects
  metrics::Histogram* chunk_size = nullptr;                         // compressed bytes
  metrics::Histogram* chunk_entries = nullptr;
  metrics::Histogram* chunk_utilization = nullptr;  // compressed size / chunk_target_size
  metrics::Histogram* chunk_age = nullptr;          // seconds since first entry
  metrics::Counter* flush_failures = nullptr;
  metrics::Counter* blocks_cut = nullptr;
  metrics::Counter* replica_chunks_deduped = nullptr;  // non-owner chunks the owner had stored
  metrics::Counter* replica_chunks_stored = nullptr;   // non-owner chunks stored (owner had not)
  metrics::Counter* chunks_reencoded = nullptr;        // provisional chunks re-encoded at flush
  metrics::Family<metrics::Gauge>* streams = nullptr;  // by tenant
  metrics::Family<metrics::Counter>* streams_created = nullptr;  // by tenant
  metrics::Family<metrics::Counter>* streams_removed = nullptr;  // by tenant
  metrics::Counter* wal_failures = nullptr;
  metrics::Counter* checkpoints = nullptr;  // attempts
  metrics::Counter* checkpoint_failures = nullptr;
  // Memory guard.
  metrics::Family<metrics::Gauge>* tenant_memory = nullptr;      // by tenant
  metrics::Family<metrics::Gauge>* tenant_buffered = nullptr;    // by tenant: raw bytes
  metrics::Family<metrics::Counter>* memory_refusals = nullptr;  // by scope (tenant, global)
  metrics::Counter* pressure_passes = nullptr;                   // pressure flush passes
  // Chunks held in memory: each stream's open chunk (when it has entries) plus its closed,
  // not yet flushed ones. Maintained with or without a registry.
  std::atomic<int64_t> memory_chunks{0};
};

}  // namespace skald::ingester
