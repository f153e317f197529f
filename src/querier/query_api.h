// The querier's request-level API, as the HTTP handlers call it: the query
// policy in front of Querier's storage access. It parses LogQL, applies the
// tenant's limits (max_entries_limit_per_query, max_query_length) with Loki's
// texts, decides what kind of query can be answered (log selectors with line
// filters today; metric queries are 501), and thins results by `interval`.
// The LogQL engine and later the query frontend take over from here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "limits/limits.h"
#include "logql/value.h"
#include "querier/querier.h"
#include "querier/query_request.h"

namespace skald::querier {

// A query's answer: streams for a log query, a matrix / vector / scalar for a
// metric query.
struct QueryResult {
  bool is_metric = false;
  std::vector<ResultStream> streams;  // !is_metric
  logql::QueryValue value;            // is_metric
  QueryStats stats;
};
using LogsResult = QueryResult;

// index/stats: what a selector's streams hold over a range (Loki's stats.Stats shape).
struct IndexStats {
  uint64_t streams = 0, chunks = 0, bytes = 0, entries = 0;
};

// index/volume (step == 0) and index/volume_range.
struct VolumeQuery {
  std::string query;                       // a selector (label matchers only)
  int64_t start = 0, end = 0;              // [start, end]
  int64_t step = 0;                        // volume_range: bucket length; 0 = index/volume
  uint32_t limit = 100;                    // series at most (0 means 100, as in Loki)
  std::vector<std::string> target_labels;  // empty: the selector's label names
  bool by_labels = false;  // aggregateBy=labels: one series {name=""} per label name
};

// detected_field(s) requests; results are wire types (wire/query_result.h).
using wire::DetectedField;
using wire::DetectedFieldsResult;
using wire::DetectedLabel;
struct DetectedFieldsQuery {
  RangeQuery range;  // query (a log selector, pipeline allowed), bounds, step, limit = line_limit
  uint32_t field_limit = 1000;           // `limit` / `field_limit`
  std::optional<std::string> values_of;  // detected_field/<name>/values
};

class QueryApi {
 public:
  // querier and limits must outlive this object.
  QueryApi(Querier* querier, const limits::Overrides* limits)
      : querier_(querier), limits_(limits) {}

  // query_range. Checks, in Loki's order: LogQL syntax (InvalidArgument with the
  // parser's text); for log queries `max entries limit per query exceeded, limit >
  // max_entries_limit_per_query (L > M)`; `the query time range exceeds the limit
  // (query length: 721h0m1s, limit: 30d1h)` (the length saturates, so no range
  // overflows past it). Log queries run their pipeline over the streams
  // (Querier::SelectLogs); metric queries are evaluated over the step grid
  // start, start+step, ... <= end (logql::Evaluate) and answer a matrix. Storage
  // errors come from the querier; evaluation errors (series limit, pipeline
  // errors) are InvalidArgument with Loki's texts. Thread-safe.
  StatusOr<QueryResult> Range(std::string_view tenant, const RangeQuery& q);

  // query (instant): metric queries evaluated at q.time_ns (a vector, or a scalar
  // for selector-free expressions). Log queries are InvalidArgument (`log queries
  // are not supported as an instant query type, ...`). Thread-safe.
  StatusOr<QueryResult> Instant(std::string_view tenant, const InstantQuery& q);

  // labels over [start, end): all names, or with a non-empty `selector` (a
  // stream selector) the names of the matching series. Thread-safe.
  StatusOr<std::vector<std::string>> LabelNames(std::string_view tenant, int64_t start, int64_t end,
                                                std::string_view selector);
  // label/<name>/values over [start, end), narrowed by `selector` when non-empty.
  StatusOr<std::vector<std::string>> LabelValues(std::string_view tenant, std::string_view name,
                                                 int64_t start, int64_t end,
                                                 std::string_view selector);
  // index/stats over [start, end] for a selector of label matchers only (else
  // InvalidArgument `only label matchers are supported`), from chunk and block metadata:
  // streams, chunks (stored ones and in-memory ones), entries and bytes. Thread-safe.
  StatusOr<IndexStats> Stats(std::string_view tenant, std::string_view query, int64_t start,
                             int64_t end);
  // index/volume(_range): bytes per series of the selector's label names (or
  // `target_labels`), or per label name with `by_labels`, largest first (ties by label
  // string), at most `limit` series. A vector stamped `end`, or with a step a matrix of
  // buckets (t - step, t] on the grid start + k*step <= end, each piece of data counted in
  // proportion to its time overlap with a bucket. From metadata only. Thread-safe.
  StatusOr<logql::QueryValue> Volume(std::string_view tenant, const VolumeQuery& q);

  // detected_labels over [start, end): the selected streams' label names with their distinct
  // value counts, names whose values all look like IDs left out as Loki does. `query` empty
  // (all streams) or label matchers only (else `only label matchers are supported`).
  StatusOr<std::vector<DetectedLabel>> DetectedLabels(std::string_view tenant,
                                                      std::string_view query, int64_t start,
                                                      int64_t end);
  // detected_fields (or, with values_of, one field's values) over the newest
  // range.limit entries of a log query (`only log selector is supported` for a metric query):
  // structured metadata, the query's parsed labels and a json / logfmt parse of each line.
  // Details in detected.cc. Thread-safe.
  StatusOr<DetectedFieldsResult> DetectedFields(std::string_view tenant,
                                                const DetectedFieldsQuery& q);

  // The per-tenant limits this API applies.
  const limits::Overrides& limits() const { return *limits_; }

  // max_query_lookback (Loki's frontend): raises *start to now - lookback. Returns false when
  // the whole range [*start, end] is before that (end < now - lookback): the request then
  // answers an empty result, not an error. Always true for a tenant without a lookback.
  // Every method here applies it; handlers that query elsewhere (patterns) call it.
  bool ClampToLookback(std::string_view tenant, int64_t* start, int64_t end) const;

  // series over [start, end) matching any of `selectors` (all series when empty).
  StatusOr<std::vector<Labels>> Series(std::string_view tenant,
                                       const std::vector<std::string_view>& selectors,
                                       int64_t start, int64_t end);

 private:
  StatusOr<QueryResult> EvaluateMetric(std::string_view tenant, const logql::Expr& expr,
                                       int64_t start, int64_t end, int64_t step,
                                       const std::function<bool()>& client_gone, uint32_t shard = 0,
                                       uint32_t shard_count = 0);

  // `the query time range exceeds the limit (...)` when end - start is over max_query_length.
  Status CheckQueryLength(std::string_view tenant, int64_t start, int64_t end) const;

  Querier* querier_;
  const limits::Overrides* limits_;
};

// Loki's `interval` for log queries: after an entry is kept, entries closer than
// interval_ns to it (in query direction, across all streams) are dropped; streams
// left empty are removed. Overflow-safe for any interval and timestamps.
void ApplyInterval(int64_t interval_ns, bool forward, std::vector<ResultStream>* streams);

}  // namespace skald::querier
