// `skald-bench query`: latency and scan speed of a named set of LogQL log
// queries against any Loki-compatible /loki/api/v1/query_range endpoint.
//
// Every query runs `repeat` times, sequentially, over the same [start, end)
// window on one keep-alive connection. Per query the report gives client
// latency (median/min/max), the server's own figures from
// data.stats.summary (execTime, totalBytesProcessed, totalLinesProcessed) and
// the derived scan speed bytes/execTime. The "absent" query filters on a
// literal no line contains, so the server must scan everything the selector
// matches: its bytes/s is the full-scan speed.
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
  int repeat = 5;
  int pid = 0;
  int64_t timeout_ms = 300000;
};

struct NamedQuery {
  std::string name;
  std::string logql;
};

// The query set: selector, literal_rare, literal_common, literal_absent (full
// scan), icase_regex `|~ "(?i)error"`, regex_alt `|~ "error|fail"`. Literals
// are Go-quoted into the LogQL string.
std::vector<NamedQuery> DefaultQueries(const QueryOptions& opt);

// What one response says about itself.
struct QueryResponseStats {
  double exec_time_s = 0;         // data.stats.summary.execTime
  uint64_t bytes_processed = 0;   // data.stats.summary.totalBytesProcessed
  uint64_t lines_processed = 0;   // data.stats.summary.totalLinesProcessed
  uint64_t entries_returned = 0;  // values over all result streams
  uint64_t streams_returned = 0;  // result elements
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
  int errors = 0;
  // Over successful runs:
  double latency_median_ms = 0, latency_min_ms = 0, latency_max_ms = 0;
  double exec_median_s = 0;
  uint64_t bytes_processed = 0, lines_processed = 0, entries_returned = 0;  // median run's
  double server_bytes_per_s = 0;  // bytes_processed / exec_median_s
  double server_lines_per_s = 0;
  double client_bytes_per_s = 0;  // bytes_processed / median latency
  std::string first_error;
};

struct QueryReport {
  std::string url, start, end;
  int limit = 0, repeat = 0;
  std::string direction;
  std::vector<QueryResult> results;
  bool server_sampled = false;
  double server_cpu_seconds = 0;
  int64_t server_peak_rss_kb = 0;
};

// Runs the (selected) query set. Errors: InvalidArgument for a bad URL, an
// unknown name in opt.only, repeat < 1 or limit < 1. Failed requests are
// recorded per run, not returned.
StatusOr<QueryReport> RunQueries(const QueryOptions& opt);

std::string FormatQueryReport(const QueryReport& r);
std::string QueryReportJson(const QueryReport& r);

}  // namespace skald::bench
