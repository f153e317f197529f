// The query frontend's HTTP API (-target=query-frontend): Loki's read endpoints, each request
// handed to a querier through the work queue (frontend/queue.h; queriers pull it over gRPC).
// query_range is cut first (frontend/plan.h): into time splits of split_queries_by_interval
// and, for shardable queries, into shards by stream fingerprint (`shards=i_of_n` on the
// subqueries); at most max_query_parallelism subqueries of one query wait at once; their answers
// are merged (frontend/merge.h). Metric splits that end before now - max_cache_freshness come
// from the results cache when it is on.
#pragma once

#include <cstdint>
#include <string>

#include "frontend/queue.h"
#include "frontend/results_cache.h"
#include "limits/limits.h"
#include "server/http_server.h"

namespace skald::server {

struct FrontendApiDeps {
  frontend::RequestQueue* queue = nullptr;
  frontend::ResultsCache* cache = nullptr;  // null: results are not cached
  const limits::Overrides* limits = nullptr;
  bool auth_enabled = false;
  std::string no_auth_tenant = "fake";
  // query_range.parallelise_shardable_queries / query_range.shards: shards per split (<= 1: no
  // sharding).
  int shards = 0;
  int64_t max_cache_freshness_ns = 10 * 60 * 1'000'000'000LL;
};

// Registers the read endpoints (query_range, query, labels, label values, series, index
// stats/volume, detected_*, patterns). Handlers block: run them on a pool (HttpServer::RunOn).
void RegisterFrontendApi(HttpServer* http, const FrontendApiDeps& deps);

// The paths RegisterFrontendApi serves.
const std::vector<std::string>& FrontendPaths();

}  // namespace skald::server
