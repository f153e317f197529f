// `skald-bench push`: ingestion load against any Loki-compatible push endpoint.
//
// All request bodies are generated and encoded before the clock starts (see
// EncodeConnectionRequests); during the run each connection thread only sends
// its pre-built request bytes on one keep-alive connection, optionally paced
// to a target rate, and records latency and status per request.
//
// Stream layout: stream s has labels {job="<job>", host="host-<s % hosts>",
// stream="<s>"} and draws its lines from corpus source s % sources. With a
// line format other than plain (line_format.h) each stream also has a
// format="plain|logfmt|json" label, and with "mixed" stream s has format
// s % 3 (plain, logfmt, json) and reads source (s / 3) % sources, so each
// format sees every source. Streams are
// partitioned over connections (s % connections), so every stream is written
// by exactly one connection, in timestamp order. Timestamps: stream line k has
// t0 + k * step, with t0 = ts_end - ts_span (ts_end = time of encoding unless
// given) and step chosen so the last line lands before ts_end: every timestamp
// is unique within its stream, strictly increasing, and within the ts_span
// before ts_end. (Loki accepts unordered writes only within 1 h of a stream's
// newest entry; strictly increasing per-stream order is always accepted.)
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "tools/bench/corpus.h"
#include "tools/bench/line_format.h"
#include "tools/http/http_client.h"

namespace skald::bench {

// The load tool speaks HTTP through the client it shares with the tests.
using http::BuildRequest;
using http::Header;
using http::HttpClient;
using http::HttpResponse;
using http::ParseUrl;
using http::Url;

struct PushOptions {
  std::string url;
  uint64_t seed = 1;
  int streams = 100;
  int hosts = 10;
  std::string job = "bench";
  int batch = 1000;                   // lines per request
  int connections = 4;                // concurrent keep-alive connections (one thread each)
  double rate = 0;                    // target lines/s over all connections; 0 = unthrottled
  int64_t duration_ns = 0;            // stop after this long (0 = no time limit)
  int64_t lines = 0;                  // total lines (0 = rate * duration, else fill the pool cap)
  std::string format = "protobuf";    // protobuf (snappy) | json
  std::string line_format = "plain";  // plain | logfmt | json | mixed (line_format.h)
  std::string tenant;                 // X-Scope-OrgID ("" = not sent)
  int pid = 0;                        // server process to sample (0 = none)
  int64_t pool_cap_bytes = int64_t{1} << 30;  // pre-encoded request bytes cap
  int64_t ts_span_ns = 120LL * 1000000000LL;
  int64_t ts_end_ns = 0;  // timestamps end here (0 = the time of encoding)
  int64_t timeout_ms = 60000;
  bool flush = false;  // POST /flush after the run
  std::string push_path = "/loki/api/v1/push";
  bool progress = true;  // progress lines on stderr every 5 s
};

// How lines are laid out, derived from the options.
struct PushPlan {
  int connections = 0;
  int64_t lines = 0;    // lines to encode in total
  int64_t t0_ns = 0;    // timestamp of each stream's first line
  int64_t step_ns = 1;  // timestamp increment between lines of a stream
  int64_t last_ns = 0;  // timestamp of the last line of the longest stream
  LineFormatMode line_format = LineFormatMode::kPlain;
};

// One pre-serialized HTTP request.
struct EncodedRequest {
  std::string bytes;  // head + body
  uint32_t lines = 0;
  uint64_t raw_bytes = 0;  // sum of line lengths
  // The same split by the streams' line format (index = LineFormat).
  uint32_t lines_by_format[kLineFormatCount] = {};
  uint64_t raw_bytes_by_format[kLineFormatCount] = {};
};

// Computes the plan. lines == 0 && rate > 0 && duration > 0 -> rate * duration
// (+2%); lines == 0 otherwise -> as many as fit the pool cap (an estimate from
// the corpus; the encoder stops at the cap anyway). Errors: InvalidArgument
// for non-positive streams/hosts/batch/connections or an unknown format or
// line format. now_ns is the end of the timestamps unless opt.ts_end_ns is set.
StatusOr<PushPlan> MakePushPlan(const PushOptions& opt, const Corpus& corpus, int64_t now_ns);

// The label string of stream s (with a format label unless opt.line_format
// is plain or invalid).
std::string StreamLabels(const PushOptions& opt, int stream);

// The corpus source index stream s reads (see the stream layout above).
size_t StreamSource(LineFormatMode mode, int stream, size_t sources);

// Encodes connection `conn`'s share of the lines as complete HTTP requests.
// Adds each request's size to *pool_bytes and stops early (returns fewer
// lines) once it reaches opt.pool_cap_bytes. Deterministic for fixed options
// and plan (apart from where the cap cuts). Thread-safe for distinct conns.
std::vector<EncodedRequest> EncodeConnectionRequests(const Corpus& corpus, const PushOptions& opt,
                                                     const Url& url, const PushPlan& plan, int conn,
                                                     std::atomic<int64_t>* pool_bytes);

struct PushResult {
  // Setup.
  std::string url, format, line_format, job, corpus, stop_reason;
  uint64_t seed = 0;
  int64_t ts_first_ns = 0, ts_last_ns = 0, ts_span_ns = 0;
  int streams = 0, hosts = 0, batch = 0, connections = 0;
  double target_rate = 0;
  int64_t lines_planned = 0, lines_encoded = 0, requests_encoded = 0, pool_bytes = 0;
  bool pool_capped = false;
  double encode_seconds = 0;
  // Run.
  double elapsed_seconds = 0;
  int64_t requests = 0, requests_ok = 0, lines_sent = 0, lines_accepted = 0;
  int64_t raw_bytes_accepted = 0, body_bytes_sent = 0, reconnects = 0;
  // Accepted lines and raw bytes by line format (index = LineFormat): what a
  // query over one format's streams has to read.
  int64_t lines_accepted_by_format[kLineFormatCount] = {};
  int64_t raw_bytes_accepted_by_format[kLineFormatCount] = {};
  double lines_per_second = 0, mb_per_second = 0;  // accepted lines; MB = 1e6 bytes of raw lines
  double latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0, latency_max_ms = 0,
         latency_mean_ms = 0;
  std::map<int, int64_t> status_counts;  // 0 = transport error
  std::map<int, std::string> first_errors;
  double client_cpu_seconds = 0;
  // Server (only when pid was given and readable).
  bool server_sampled = false;
  double server_cpu_seconds = 0;
  int64_t server_peak_rss_kb = 0, server_rss_kb = 0;
  // Flush.
  bool flushed = false;
  int flush_status = 0;
  double flush_seconds = 0;
};

// Encodes, runs and measures. Errors: the plan's errors, Unavailable when no
// connection can be opened at the start. Request failures during the run are
// counted, not returned.
StatusOr<PushResult> RunPush(const PushOptions& opt, const Corpus& corpus);

// Human-readable report.
std::string FormatPushReport(const PushResult& r);
// Machine-readable report (one JSON object).
std::string PushResultJson(const PushResult& r);

// Nearest-rank percentile (p in [0,1]) of an ascending vector; 0 when empty.
int64_t Percentile(const std::vector<int64_t>& sorted, double p);

}  // namespace skald::bench
