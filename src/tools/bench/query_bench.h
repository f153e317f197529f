// `skald-bench query`: latency and scan speed of a named set of LogQL queries
// (log queries, parser stages, metric queries) against any Loki-compatible
// /loki/api/v1/query_range and /loki/api/v1/query endpoint.
//
// Every query runs `repeat` times, sequentially, over the same [start, end)
// window on one keep-alive connection. Per query the report gives client
// latency (median/min/max), the server's own figures from
// data.stats.summary (execTime, totalBytesProcessed, totalLinesProcessed) and
// the derived scan speed bytes/execTime; given the loaded volume, also
// loaded bytes / median latency. The "absent" query filters on a literal no
// line contains, so the server must scan everything the selector matches: its
// bytes/s is the full-scan speed. A query the server answers with HTTP 501
// (Not Implemented) is reported as unsupported, not as an error, and is not
// repeated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::bench {

struct QueryOptions {
  std::string url;
  std::string tenant;
  std::string selector = "{job=\"bench\"}";
  std::string rare = "Connection reset";       // literal in few lines
  std::string common = "INFO";                 // literal in many lines
  std::string absent = "QQ_never_present_QQ";  // literal in no line: full scan
  std::vector<std::string> only;               // run only these query names (empty = all)
  std::string start, end;                      // passed verbatim; "" = computed from since
  int64_t since_ns = 3600LL * 1000000000LL;
  int limit = 100;
  std::string direction = "backward";
  // step of metric range queries, passed verbatim ("" = Loki's default
  // max(floor((end - start) / 250 s), 1) seconds, sent explicitly as "<n>s").
  std::string step;
  // Raw line bytes known to be stored in [start, end) (0 = unknown). When set,
  // every query also reports loaded_bytes / median latency.
  uint64_t loaded_bytes = 0;
  int repeat = 5;
  int pid = 0;
  int64_t timeout_ms = 300000;
};

// How a query is sent.
enum class QueryKind {
  kLog,          // query_range with start, end, limit, direction
  kMetricRange,  // query_range with start, end, step (a matrix)
  kInstant,      // query with time = end (a vector)
};

struct NamedQuery {
  std::string name;
  std::string logql;
  QueryKind kind = QueryKind::kLog;
};

// The query set (S = opt.selector): selector `S`, literal_rare `S |= rare`,
// literal_common `S |= common`, literal_absent `S |= absent` (full scan),
// icase_regex `S |~ "(?i)error"`, regex_alt `S |~ "error|fail"`, json_field
// `S | json | level="error"`, logfmt `S | logfmt`, sum_by_host
// `sum by (host) (count_over_time(S[1m]))` (metric range query) and topk
// `topk(3, sum by (stream) (count_over_time(S[5m])))` (instant query at end).
// Literals are Go-quoted into the LogQL string.
std::vector<NamedQuery> DefaultQueries(const QueryOptions& opt);

// Loki's default range-query step for [start_ns, end_ns] as a duration
// string: max(floor((end - start) / 1 s / 250), 1) followed by "s".
std::string DefaultStep(int64_t start_ns, int64_t end_ns);

// Parses a Loki timestamp parameter (float seconds with '.', integer seconds
// if at most 10 characters, integer nanoseconds, or RFC3339). Errors:
// InvalidArgument.
StatusOr<int64_t> ParseLokiTimestamp(std::string_view text);

// The request target (path and query string, without the URL's base path)
// for running q over [start, end]: query_range for kLog (limit, direction)
// and kMetricRange (step), query with time=end for kInstant.
std::string QueryTarget(const NamedQuery& q, const std::string& start, const std::string& end,
                        const std::string& step, int limit, const std::string& direction);

// What one response says about itself.
struct QueryResponseStats {
  double exec_time_s = 0;         // data.stats.summary.execTime
  uint64_t bytes_processed = 0;   // data.stats.summary.totalBytesProcessed
  uint64_t lines_processed = 0;   // data.stats.summary.totalLinesProcessed
  uint64_t entries_returned = 0;  // entries (streams) or samples (matrix, vector)
  uint64_t streams_returned = 0;  // result elements (streams or series)
  bool has_stats = false;         // data.stats.summary was present
};

// Parses a query_range JSON body. Errors: InvalidArgument when the body is
// not JSON or "status" is not "success". Missing stats leave zeros.
// Thread-safe (thread-local parser).
StatusOr<QueryResponseStats> ParseQueryResponse(std::string_view body);

struct QueryRun {
  int status = 0;  // HTTP status (0 = transport error)
  int64_t latency_ns = 0;
  QueryResponseStats stats;
  std::string error;
};

struct QueryResult {
  NamedQuery query;
  std::vector<QueryRun> runs;
  int errors = 0;  // failed runs, not counting an HTTP 501
  // The server answered HTTP 501 (Not Implemented): the query ran once and is
  // reported as unsupported; it counts neither as success nor as an error.
  bool unsupported = false;
  // Over successful runs:
  double latency_median_ms = 0, latency_min_ms = 0, latency_max_ms = 0;
  double exec_median_s = 0;
  uint64_t bytes_processed = 0, lines_processed = 0, entries_returned = 0;  // median run's
  double server_bytes_per_s = 0;  // bytes_processed / exec_median_s
  double server_lines_per_s = 0;
  double client_bytes_per_s = 0;  // bytes_processed / median latency
  double loaded_bytes_per_s = 0;  // opt.loaded_bytes / median latency (0 if unknown)
  std::string first_error;        // "status N: <body>" of the first failure or the 501
};

struct QueryReport {
  std::string url, start, end, step;
  uint64_t loaded_bytes = 0;
  int limit = 0, repeat = 0;
  std::string direction;
  std::vector<QueryResult> results;
  bool server_sampled = false;
  double server_cpu_seconds = 0;
  int64_t server_peak_rss_kb = 0;
};

// Runs the (selected) query set. Errors: InvalidArgument for a bad URL, an
// unknown name in opt.only, repeat < 1 or limit < 1. Failed requests are
// recorded per run, not returned; an HTTP 501 marks the query unsupported.
StatusOr<QueryReport> RunQueries(const QueryOptions& opt);

// Human table: one row per query; an unsupported query's row reads
// "unsupported (HTTP 501)" instead of figures.
std::string FormatQueryReport(const QueryReport& r);
// One JSON object; each query has "status": "ok" | "unsupported" | "failed"
// ("failed" when any run failed).
std::string QueryReportJson(const QueryReport& r);

}  // namespace skald::bench
