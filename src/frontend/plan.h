// How the query frontend cuts a query_range request: time splits (split_queries_by_interval)
// and shards by stream fingerprint. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "logql/ast.h"

namespace skald::frontend {

// A subquery's bounds: for a metric query the first and last step evaluated (both inclusive);
// for a log query [start, end).
struct Interval {
  int64_t start = 0;
  int64_t end = 0;
};

// The steps start + k*step <= end, cut at the multiples of `interval` since the Unix epoch:
// each piece holds the steps of one interval, in time order. One piece when interval <= 0 or
// interval < step (nothing to gain).
std::vector<Interval> SplitMetric(int64_t start, int64_t end, int64_t step, int64_t interval);

// [start, end) cut at the multiples of `interval`, newest first unless forward.
std::vector<Interval> SplitLogs(int64_t start, int64_t end, int64_t interval, bool forward);

// How the results of a query's shards combine.
enum class ShardMerge {
  kNone,     // not shardable: run whole
  kStreams,  // a log query: shards hold disjoint streams; keep the best `limit` entries
  kSum,      // sum [by|without] (additive range aggregation): add the shards' samples
};

// Log queries shard by stream. Metric queries shard when the outer operation is sum over
// count_over_time, rate, bytes_over_time, bytes_rate or sum_over_time without a grouping of
// its own, where adding the shards' partial sums gives the whole (even when a pipeline maps
// several streams to one series). Anything else runs unsharded.
ShardMerge Shardability(const logql::Expr& e);

}  // namespace skald::frontend
