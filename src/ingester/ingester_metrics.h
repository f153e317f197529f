// Internal to the ingester: the metrics it exports, resolved once at construction
// (all null without a registry).
#pragma once

#include "core/metrics.h"
#include "ingester/ingester.h"

namespace skald::ingester {

struct Ingester::Metrics {
  metrics::Counter* chunks_flushed = nullptr;
  metrics::Counter* chunk_bytes_flushed = nullptr;
  metrics::Counter* flush_failures = nullptr;
  metrics::Counter* blocks_cut = nullptr;
  metrics::Family<metrics::Gauge>* streams = nullptr;  // by tenant
  metrics::Counter* wal_failures = nullptr;
  metrics::Counter* checkpoints = nullptr;
  metrics::Counter* checkpoint_failures = nullptr;
};

}  // namespace skald::ingester
