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
//
// Server cost: with the server's pid, the server's CPU seconds (/proc/PID/stat
// utime+stime) are read before and after every run, and its resident set is
// sampled every 20 ms during the run; per query the report gives the median
// CPU seconds, MB/s per server core = loaded bytes / CPU seconds (median over
// runs; MB = 1e6 bytes) and the peak RSS seen during the query's runs.
//
// Several servers (RunQuerySet): every query runs on each of them in turn,
// alternating per repetition (A B A B ...) over the same window, so drifts
// of the machine hit both alike; the report compares them per query.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::bench {

// Raw line bytes a server holds in the benchmark window, by line format
// (from `skald-bench push -json`'s raw_bytes_by_format, see push_bench.h).
struct LoadedBytes {
  bool known = false;
  uint64_t plain = 0, logfmt = 0, json = 0;
  uint64_t total() const { return plain + logfmt + json; }
};

// What a push report says about the data (ReadPushReport).
struct PushReportInfo {
  LoadedBytes loaded;
  std::string job, line_format;
  int64_t ts_first_ns = 0, ts_last_ns = 0;
};

// Reads the JSON report `skald-bench push -json FILE` wrote: raw bytes by
// line format (raw_bytes_by_format; raw_bytes_accepted alone counts as
// plain for reports without it), job, line_format and the timestamp range.
// Errors: NotFound / IOError (file), InvalidArgument (not a push report).
StatusOr<PushReportInfo> ReadPushReport(const std::string& path);
StatusOr<PushReportInfo> ParsePushReport(std::string_view json);

struct QueryOptions {
  std::string url;
  // Query set: "default" (DefaultQueries) or "issue8" (Issue8Queries).
  std::string set = "default";
  // issue8 set: value of the job label in every selector ("" = the push
  // report's job, else "bench"), the rare literal of the literal queries and
  // the alternation of regex_alt.
  std::string job;
  std::string literal = "panic";
  std::string alternatives = "panic|overflow|deadlock";
  std::string tenant;
  std::string selector = "{job=\"bench\"}";
  std::string rare = "Connection reset";       // literal in few lines
  std::string common = "INFO";                 // literal in many lines
  std::string absent = "QQ_never_present_QQ";  // literal in no line: full scan
  std::vector<std::string> only;               // run only these query names (empty = all)
  std::string start, end;                      // passed verbatim; "" = computed from since
  int64_t since_ns = 3600LL * 1000000000LL;
  int limit = 0;  // 0 = the set's default: 100 (default set), 5000 (issue8 set)
  std::string direction = "backward";
  // step of metric range queries, passed verbatim ("" = Loki's default
  // max(floor((end - start) / 250 s), 1) seconds, sent explicitly as "<n>s").
  std::string step;
  // Raw line bytes known to be stored in [start, end) (0 = unknown). When set,
  // every query also reports loaded_bytes / median latency.
  uint64_t loaded_bytes = 0;
  // Per-format loaded bytes (from a push report); queries that select one
  // format's streams use that format's figure. Overrides loaded_bytes for
  // queries that know their format.
  LoadedBytes loaded;
  // First timestamp of the pushed data (0 = unknown). With start unset, the
  // window ends now and starts at or before it, its length a multiple of
  // every fixed query step so the last step ends exactly at end and the
  // windows cover every line.
  int64_t data_start_ns = 0;
  int repeat = 5;
  int warmup = 0;  // unmeasured runs per query and server before the measured ones
  int pid = 0;
  int64_t timeout_ms = 300000;
};

// How a query is sent.
enum class QueryKind {
  kLog,          // query_range with start, end, limit, direction
  kMetricRange,  // query_range with start, end, step (a matrix)
  kInstant,      // query with time = end (a vector)
};

// Which streams a query selects, for its loaded bytes.
enum class Selects : uint8_t {
  kAll,     // all loaded data (QueryOptions::loaded total, else loaded_bytes)
  kPlain,   // format="plain" streams
  kLogfmt,  // format="logfmt" streams
  kJson,    // format="json" streams
};

struct NamedQuery {
  NamedQuery() = default;
  NamedQuery(std::string n, std::string q, QueryKind k = QueryKind::kLog)
      : name(std::move(n)), logql(std::move(q)), kind(k) {}

  std::string name;
  std::string logql;
  QueryKind kind = QueryKind::kLog;
  std::string step;  // kMetricRange: fixed step ("" = the report's step)
  int limit = 0;     // kLog: limit (0 = QueryOptions::limit)
  Selects selects = Selects::kAll;
};

// The query set (S = opt.selector): selector `S`, literal_rare `S |= rare`,
// literal_common `S |= common`, literal_absent `S |= absent` (full scan),
// icase_regex `S |~ "(?i)error"`, regex_alt `S |~ "error|fail"`, json_field
// `S | json | level="error"`, logfmt `S | logfmt`, sum_by_host
// `sum by (host) (count_over_time(S[1m]))` (metric range query) and topk
// `topk(3, sum by (stream) (count_over_time(S[5m])))` (instant query at end).
// Literals are Go-quoted into the LogQL string.
std::vector<NamedQuery> DefaultQueries(const QueryOptions& opt);

// The queries of issue 8 over data pushed with `-line-format mixed` (J = job):
//   literal             {job="J", format="plain"} |= "<literal>"
//   icase_literal       {job="J", format="plain"} |~ "(?i)<literal>"
//   regex_alt           {job="J", format="plain"} |~ "<alternatives>"
//   json_level          {job="J", format="json"} | json | level="error"
//   logfmt_status       {job="J", format="logfmt"} | logfmt | status>=500
//   sum_by_host         sum by (host) (count_over_time({job="J"}[1m]))           step 1m
//   quantile_duration   quantile_over_time(0.99, {job="J", format="logfmt"} | logfmt
//                         | unwrap duration(duration) [5m]) by (host)            step 5m
//   topk_path           topk(10, sum by (path) (rate({job="J", format="json"} | json [5m])))
//                                                                                 step 5m
//   json_level_count    sum(count_over_time({job="J", format="json"} | json | level="error" [5m]))
//   logfmt_status_count sum(count_over_time({job="J", format="logfmt"} | logfmt | status>=500
//   [5m]))
// The log queries (limit 5000, backward) read the whole window only while
// they match fewer lines than the limit: the literal ones do (the literal is
// rare), json_level and logfmt_status stop early, so the two *_count queries
// run the same pipelines over every line. Metric queries are range queries;
// a step equal to the range makes every line count in exactly one window.
std::vector<NamedQuery> Issue8Queries(const QueryOptions& opt);

// The named set ("default" or "issue8"). Errors: InvalidArgument.
StatusOr<std::vector<NamedQuery>> QuerySet(const QueryOptions& opt);

// The [start, end] window (ns) for data starting at data_start_ns and a query
// set: end = now_ns; start = end - k * unit with unit the least common
// multiple of the set's fixed steps (1 s if none) and k the smallest that
// puts start at or before data_start_ns.
std::pair<int64_t, int64_t> AlignedWindow(const std::vector<NamedQuery>& queries,
                                          int64_t data_start_ns, int64_t now_ns);

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
  // Server figures of this run (with a pid): CPU seconds used during the run
  // (-1 = not sampled) and the largest resident set sampled during it.
  double server_cpu_s = -1;
  int64_t rss_max_kb = 0;
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
  double loaded_bytes_per_s = 0;  // loaded_bytes / median latency (0 if unknown)
  std::string first_error;        // "status N: <body>" of the first failure or the 501
  // Raw bytes of the streams the query selects (0 = unknown).
  uint64_t loaded_bytes = 0;
  // False when a log query returned `limit` entries: it may have stopped
  // before reading everything, so per-loaded-byte figures overstate it.
  bool full_scan = true;
  int limit = 0;     // the limit sent (log queries)
  std::string step;  // the step sent (metric range queries)
  // Server cost over successful runs (cpu_sampled when a pid was readable).
  bool cpu_sampled = false;
  double cpu_median_s = 0;
  double mb_per_core = 0;            // median over runs of loaded_bytes / 1e6 / CPU s
  double mb_per_core_processed = 0;  // median over runs of bytes_processed / 1e6 / CPU s
  int64_t rss_peak_kb = 0;           // max RSS sampled during the query's runs
  int64_t vm_hwm_kb = 0;             // the process's lifetime peak (VmHWM) after the query
};

struct QueryReport {
  std::string name;  // server name (RunQuerySet), "" for RunQueries
  std::string url, start, end, step, set;
  int pid = 0;
  int warmup = 0;
  uint64_t loaded_bytes = 0;
  int limit = 0, repeat = 0;
  std::string direction;
  std::vector<QueryResult> results;
  bool server_sampled = false;
  double server_cpu_seconds = 0;
  int64_t server_peak_rss_kb = 0;
};

// Runs the (selected) query set against opt.url (pid opt.pid). Errors:
// InvalidArgument for a bad URL, an unknown set or name in opt.only,
// repeat < 1, warmup < 0 or limit < 0. Failed requests are recorded per run,
// not returned; an HTTP 501 marks the query unsupported.
StatusOr<QueryReport> RunQueries(const QueryOptions& opt);

// One server of a comparison.
struct ServerTarget {
  std::string name;  // shown in tables ("skald", "loki")
  std::string url;
  int pid = 0;         // 0 = no CPU/RSS figures
  LoadedBytes loaded;  // overrides QueryOptions::loaded for this server when known
};

// Runs the query set against every server, alternating per repetition (for
// each query: warmups A B A B ..., then runs A B A B ...), over one window.
// Returns one report per server, in order. opt.url and opt.pid are ignored.
// Errors: as RunQueries, and InvalidArgument for an empty server list.
StatusOr<std::vector<QueryReport>> RunQuerySet(const QueryOptions& opt,
                                               const std::vector<ServerTarget>& servers);

// Human table: one row per query; an unsupported query's row reads
// "unsupported (HTTP 501)" instead of figures.
std::string FormatQueryReport(const QueryReport& r);
// One JSON object; each query has "status": "ok" | "unsupported" | "failed"
// ("failed" when any run failed).
std::string QueryReportJson(const QueryReport& r);

// Per query, side by side: MB/s per core of each server, the ratio first /
// other, median latencies and peak RSS during the query. Reports must come
// from one RunQuerySet.
std::string FormatComparison(const std::vector<QueryReport>& reports);
// {"command":"query","servers":[<QueryReportJson of each>],"comparison":[...]}.
std::string ComparisonJson(const std::vector<QueryReport>& reports);

}  // namespace skald::bench
