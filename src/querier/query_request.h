// The querier's requests as the HTTP API decodes them (Loki's loghttp RangeQuery
// and InstantQuery). Header-only value types without dependencies, so the
// parameter parser (server/query_params.h) can fill them without linking the
// querier.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace skald::querier {

// query_range: `query` over [start_ns, end_ns); step and interval in ns
// (interval 0 = every entry); at most `limit` entries; forward = oldest first.
struct RangeQuery {
  std::string query;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  int64_t interval_ns = 0;
  uint32_t limit = 100;
  bool forward = false;
  // True once nobody will read the answer (the client closed the connection); the query
  // then stops with 499. May be null.
  std::function<bool()> client_gone;
  // The query frontend's `shards=<shard>_of_<shard_count>`: only the streams in the shard-th of
  // shard_count equal fingerprint ranges (ingester::StreamShard; shard_count 0: all streams).
  uint32_t shard = 0;
  uint32_t shard_count = 0;
};

// query (instant): `query` evaluated at time_ns.
struct InstantQuery {
  std::string query;
  int64_t time_ns = 0;
  uint32_t limit = 100;
  bool forward = false;
  std::function<bool()> client_gone;  // as RangeQuery::client_gone
};

}  // namespace skald::querier
