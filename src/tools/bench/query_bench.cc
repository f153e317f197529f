// `skald-bench query` implementation (see query_bench.h).
#include "tools/bench/query_bench.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/go_string.h"
#include "core/time.h"
#include "tools/bench/proc_stats.h"
#include "tools/http/http_client.h"
#include "wire/json_writer.h"

namespace skald::bench {

using http::AppendQueryEscaped;
using http::BuildRequest;
using http::Header;
using http::HttpClient;
using http::HttpResponse;
using http::ParseUrl;
using http::Url;

namespace {

bool NumberOf(simdjson::dom::element e, double* out) {
  double d;
  if (!e.get_double().get(d)) {
    *out = d;
    return true;
  }
  int64_t i;
  if (!e.get_int64().get(i)) {
    *out = static_cast<double>(i);
    return true;
  }
  uint64_t u;
  if (!e.get_uint64().get(u)) {
    *out = static_cast<double>(u);
    return true;
  }
  return false;
}

uint64_t CountOf(simdjson::dom::element e) {
  uint64_t u;
  if (!e.get_uint64().get(u)) return u;
  int64_t i;
  if (!e.get_int64().get(i)) return i < 0 ? 0 : static_cast<uint64_t>(i);
  double d;
  if (!e.get_double().get(d)) return d < 0 ? 0 : static_cast<uint64_t>(d);
  return 0;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Pad(std::string s, size_t w, bool right = false) {
  if (s.size() >= w) return s + " ";
  return right ? std::string(w - s.size(), ' ') + s + " "
               : s + std::string(w - s.size(), ' ') + " ";
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string HumanBytesPerSecond(double bps) {
  if (bps <= 0) return "-";
  if (bps >= 1e9) return Fixed(bps / 1e9, 2) + " GB/s";
  return Fixed(bps / 1e6, 1) + " MB/s";
}

std::string MbPerCore(double mb) { return mb <= 0 ? "-" : Fixed(mb, mb >= 100 ? 0 : 1); }

std::string MiB(int64_t kb) { return kb <= 0 ? "-" : Fixed(static_cast<double>(kb) / 1024, 0); }

// Go-style duration to ns for the fixed steps of the sets ("1m", "5m", "30s"); 0 if not one.
int64_t StepNanos(const std::string& step) {
  if (step.size() < 2) return 0;
  int64_t unit = 0;
  char u = step.back();
  if (u == 's') unit = 1000000000LL;
  if (u == 'm') unit = 60 * 1000000000LL;
  if (u == 'h') unit = 3600 * 1000000000LL;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(step.data(), step.data() + step.size() - 1, v);
  if (unit == 0 || ec != std::errc() || p != step.data() + step.size() - 1 || v <= 0) return 0;
  return v * unit;
}

uint64_t LoadedFor(Selects sel, const LoadedBytes& loaded, uint64_t fallback) {
  if (!loaded.known) return sel == Selects::kAll ? fallback : 0;
  switch (sel) {
    case Selects::kAll:
      return loaded.total();
    case Selects::kPlain:
      return loaded.plain;
    case Selects::kLogfmt:
      return loaded.logfmt;
    case Selects::kJson:
      return loaded.json;
  }
  return 0;
}

std::string SelectsName(Selects s) {
  switch (s) {
    case Selects::kAll:
      return "all";
    case Selects::kPlain:
      return "plain";
    case Selects::kLogfmt:
      return "logfmt";
    case Selects::kJson:
      return "json";
  }
  return "all";
}

}  // namespace

std::vector<NamedQuery> DefaultQueries(const QueryOptions& opt) {
  const std::string& sel = opt.selector;
  return {
      {"selector", sel, QueryKind::kLog},
      {"literal_rare", sel + " |= " + GoQuote(opt.rare), QueryKind::kLog},
      {"literal_common", sel + " |= " + GoQuote(opt.common), QueryKind::kLog},
      {"literal_absent", sel + " |= " + GoQuote(opt.absent), QueryKind::kLog},
      {"icase_regex", sel + " |~ " + GoQuote("(?i)error"), QueryKind::kLog},
      {"regex_alt", sel + " |~ " + GoQuote("error|fail"), QueryKind::kLog},
      {"json_field", sel + " | json | level=\"error\"", QueryKind::kLog},
      {"logfmt", sel + " | logfmt", QueryKind::kLog},
      {"sum_by_host", "sum by (host) (count_over_time(" + sel + "[1m]))", QueryKind::kMetricRange},
      {"topk", "topk(3, sum by (stream) (count_over_time(" + sel + "[5m])))", QueryKind::kInstant},
  };
}

std::vector<NamedQuery> Issue8Queries(const QueryOptions& opt) {
  const std::string job = GoQuote(opt.job.empty() ? "bench" : opt.job);
  const std::string all = "{job=" + job + "}";
  const std::string plain = "{job=" + job + ", format=\"plain\"}";
  const std::string logfmt = "{job=" + job + ", format=\"logfmt\"}";
  const std::string json = "{job=" + job + ", format=\"json\"}";
  constexpr int kLimit = 5000;  // Loki's default max_entries_limit_per_query
  auto log = [&](std::string name, std::string q, Selects sel) {
    NamedQuery n{std::move(name), std::move(q), QueryKind::kLog};
    n.limit = kLimit;
    n.selects = sel;
    return n;
  };
  auto range = [&](std::string name, std::string q, std::string step, Selects sel) {
    NamedQuery n{std::move(name), std::move(q), QueryKind::kMetricRange};
    n.step = std::move(step);
    n.selects = sel;
    return n;
  };
  return {
      log("literal", plain + " |= " + GoQuote(opt.literal), Selects::kPlain),
      log("icase_literal", plain + " |~ " + GoQuote("(?i)" + opt.literal), Selects::kPlain),
      log("regex_alt", plain + " |~ " + GoQuote(opt.alternatives), Selects::kPlain),
      log("json_level", json + " | json | level=\"error\"", Selects::kJson),
      log("logfmt_status", logfmt + " | logfmt | status>=500", Selects::kLogfmt),
      range("sum_by_host", "sum by (host) (count_over_time(" + all + "[1m]))", "1m", Selects::kAll),
      // The duration field is a Go duration string ("12.5ms"): unwrap converts it with
      // duration() (seconds); a bare `unwrap duration` would fail on every sample.
      range("quantile_duration",
            "quantile_over_time(0.99, " + logfmt +
                " | logfmt | unwrap duration(duration) [5m]) by (host)",
            "5m", Selects::kLogfmt),
      range("topk_path", "topk(10, sum by (path) (rate(" + json + " | json [5m])))", "5m",
            Selects::kJson),
      range("json_level_count", "sum(count_over_time(" + json + " | json | level=\"error\" [5m]))",
            "5m", Selects::kJson),
      range("logfmt_status_count",
            "sum(count_over_time(" + logfmt + " | logfmt | status>=500 [5m]))", "5m",
            Selects::kLogfmt),
  };
}

StatusOr<std::vector<NamedQuery>> QuerySet(const QueryOptions& opt) {
  if (opt.set == "default" || opt.set.empty()) return DefaultQueries(opt);
  if (opt.set == "issue8") return Issue8Queries(opt);
  return Status::InvalidArgument("unknown query set \"" + opt.set + "\" (known: default, issue8)");
}

std::pair<int64_t, int64_t> AlignedWindow(const std::vector<NamedQuery>& queries,
                                          int64_t data_start_ns, int64_t now_ns) {
  int64_t unit = 1000000000LL;
  for (const auto& q : queries) {
    int64_t st = StepNanos(q.step);
    if (st > 0) unit = std::lcm(unit, st);
  }
  int64_t span = now_ns - data_start_ns;
  int64_t k = span <= 0 ? 1 : (span + unit - 1) / unit;
  return {now_ns - k * unit, now_ns};
}

StatusOr<PushReportInfo> ParsePushReport(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err) {
    return Status::InvalidArgument(std::string("push report is not JSON: ") +
                                   simdjson::error_message(err));
  }
  std::string_view command;
  if (doc["command"].get_string().get(command) || command != "push") {
    return Status::InvalidArgument("not a skald-bench push report (\"command\" is not \"push\")");
  }
  PushReportInfo info;
  std::string_view sv;
  if (!doc["job"].get_string().get(sv)) info.job = std::string(sv);
  if (!doc["line_format"].get_string().get(sv)) info.line_format = std::string(sv);
  simdjson::dom::element v;
  if (!doc["ts_first_ns"].get(v)) info.ts_first_ns = static_cast<int64_t>(CountOf(v));
  if (!doc["ts_last_ns"].get(v)) info.ts_last_ns = static_cast<int64_t>(CountOf(v));
  simdjson::dom::element by;
  if (!doc["raw_bytes_by_format"].get(by)) {
    if (!by["plain"].get(v)) info.loaded.plain = CountOf(v);
    if (!by["logfmt"].get(v)) info.loaded.logfmt = CountOf(v);
    if (!by["json"].get(v)) info.loaded.json = CountOf(v);
    info.loaded.known = true;
  } else if (!doc["raw_bytes_accepted"].get(v)) {
    info.loaded.plain = CountOf(v);  // an older report: plain lines only
    info.loaded.known = true;
  } else {
    return Status::InvalidArgument("push report has no raw_bytes_by_format");
  }
  return info;
}

StatusOr<PushReportInfo> ReadPushReport(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open push report " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("reading " + path);
  StatusOr<PushReportInfo> r = ParsePushReport(ss.str());
  if (!r.ok()) return Status::InvalidArgument(path + ": " + r.status().message());
  return r;
}

std::string DefaultStep(int64_t start_ns, int64_t end_ns) {
  int64_t secs = (end_ns - start_ns) / 1000000000LL / 250;
  return std::to_string(std::max<int64_t>(secs, 1)) + "s";
}

StatusOr<int64_t> ParseLokiTimestamp(std::string_view text) {
  const char* b = text.data();
  const char* e = text.data() + text.size();
  if (text.find('.') != std::string_view::npos) {
    std::string copy(text);
    char* end = nullptr;
    double secs = std::strtod(copy.c_str(), &end);
    if (end == copy.c_str() + copy.size() && !copy.empty() && std::isfinite(secs)) {
      return static_cast<int64_t>(std::llround(secs * 1e3)) * 1000000LL;
    }
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec == std::errc() && ptr == e && !text.empty()) {
    return text.size() <= 10 ? v * 1000000000LL : v;
  }
  StatusOr<int64_t> t = ParseRFC3339(text);
  if (!t.ok()) {
    return Status::InvalidArgument("cannot parse timestamp \"" + std::string(text) + "\"");
  }
  return *t;
}

std::string QueryTarget(const NamedQuery& q, const std::string& start, const std::string& end,
                        const std::string& step, int limit, const std::string& direction) {
  std::string t = q.kind == QueryKind::kInstant ? "/loki/api/v1/query?query="
                                                : "/loki/api/v1/query_range?query=";
  AppendQueryEscaped(&t, q.logql);
  if (q.kind == QueryKind::kInstant) {
    t += "&time=";
    AppendQueryEscaped(&t, end);
    return t;
  }
  t += "&start=";
  AppendQueryEscaped(&t, start);
  t += "&end=";
  AppendQueryEscaped(&t, end);
  if (q.kind == QueryKind::kMetricRange) {
    t += "&step=";
    AppendQueryEscaped(&t, step);
    return t;
  }
  t += "&limit=" + std::to_string(limit) + "&direction=";
  AppendQueryEscaped(&t, direction);
  return t;
}

StatusOr<QueryResponseStats> ParseQueryResponse(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    return Status::InvalidArgument(std::string("response is not JSON: ") +
                                   simdjson::error_message(err));
  }
  std::string_view status;
  if (doc["status"].get_string().get(status) || status != "success") {
    return Status::InvalidArgument("response status is not \"success\"");
  }
  QueryResponseStats s;
  simdjson::dom::element data;
  if (doc["data"].get(data)) return s;
  simdjson::dom::array result;
  if (!data["result"].get_array().get(result)) {
    for (simdjson::dom::element stream : result) {
      s.streams_returned++;
      simdjson::dom::array values;
      if (!stream["values"].get_array().get(values)) {
        s.entries_returned += values.size();  // streams and matrix
      } else if (simdjson::dom::element value; !stream["value"].get(value)) {
        s.entries_returned++;  // vector: one sample per series
      }
    }
  }
  simdjson::dom::element summary;
  if (!data.at_pointer("/stats/summary").get(summary)) {
    s.has_stats = true;
    simdjson::dom::element v;
    if (!summary["execTime"].get(v)) NumberOf(v, &s.exec_time_s);
    if (!summary["totalBytesProcessed"].get(v)) s.bytes_processed = CountOf(v);
    if (!summary["totalLinesProcessed"].get(v)) s.lines_processed = CountOf(v);
  }
  return s;
}

namespace {

// One server's state while the set runs.
struct ServerRun {
  const ServerTarget* target;
  HttpClient client;
  HttpResponse resp;
  std::vector<Header> headers;
  Url url;
  bool pid_ok = true;  // false after the first failed /proc read
  ServerRun(const ServerTarget* t, const Url& u, int64_t timeout_ms)
      : target(t), client(u, timeout_ms), url(u) {}
};

// Sends one request and measures it (server CPU and RSS when the pid is readable).
QueryRun RunOnce(ServerRun* s, const std::string& request) {
  QueryRun run;
  const int pid = s->pid_ok ? s->target->pid : 0;
  StatusOr<ProcSample> before = Status::NotFound("no pid");
  if (pid > 0) before = SampleProc(pid);
  std::optional<RssSampler> rss;
  if (pid > 0 && before.ok()) rss.emplace(pid);
  int64_t t0 = MonotonicNanos();
  Status st = s->client.RoundTrip(request, &s->resp);
  run.latency_ns = MonotonicNanos() - t0;
  if (rss) run.rss_max_kb = rss->Stop();
  if (pid > 0) {
    StatusOr<ProcSample> after = SampleProc(pid);
    if (before.ok() && after.ok()) {
      run.server_cpu_s = CpuSecondsBetween(*before, *after);
    } else {
      s->pid_ok = false;
      std::fprintf(stderr, "warning: cannot sample pid %d: %s\n", pid,
                   (before.ok() ? after.status() : before.status()).ToString().c_str());
    }
  }
  run.status = st.ok() ? s->resp.status : 0;
  if (!st.ok()) {
    run.error = st.ToString();
  } else if (s->resp.status != 200) {
    run.error = s->resp.body.substr(0, 300);
  } else {
    StatusOr<QueryResponseStats> stats = ParseQueryResponse(s->resp.body);
    if (stats.ok()) {
      run.stats = *stats;
    } else {
      run.error = stats.status().message();
    }
  }
  return run;
}

// Adds a run to the query's result; false once the query should not run again (501).
bool Record(QueryRun run, QueryResult* qr) {
  if (run.status == 501) {
    // Not implemented by this server: report it once and move on.
    qr->unsupported = true;
    if (qr->first_error.empty()) qr->first_error = run.error;
    qr->runs.push_back(std::move(run));
    return false;
  }
  if (!run.error.empty()) {
    qr->errors++;
    if (qr->first_error.empty()) {
      qr->first_error = "status " + std::to_string(run.status) + ": " + run.error;
    }
  }
  qr->runs.push_back(std::move(run));
  return true;
}

// Medians and derived figures over the successful runs.
void Summarize(QueryResult* qr) {
  std::vector<double> lat_ok, exec_ok, cpu_ok, per_core, per_core_processed;
  for (const auto& r : qr->runs) {
    if (!r.error.empty() || r.status == 501) continue;
    lat_ok.push_back(static_cast<double>(r.latency_ns) / 1e6);
    exec_ok.push_back(r.stats.exec_time_s);
    // Bytes/lines of the successful runs (normally identical); take the largest.
    qr->bytes_processed = std::max(qr->bytes_processed, r.stats.bytes_processed);
    qr->lines_processed = std::max(qr->lines_processed, r.stats.lines_processed);
    qr->entries_returned = std::max(qr->entries_returned, r.stats.entries_returned);
    qr->rss_peak_kb = std::max(qr->rss_peak_kb, r.rss_max_kb);
    if (r.server_cpu_s >= 0) {
      cpu_ok.push_back(r.server_cpu_s);
      // A run shorter than one clock tick shows 0 CPU seconds: no per-core figure for it.
      if (r.server_cpu_s > 0) {
        per_core.push_back(MbPerCpuSecond(qr->loaded_bytes, r.server_cpu_s));
        per_core_processed.push_back(MbPerCpuSecond(r.stats.bytes_processed, r.server_cpu_s));
      }
    }
  }
  if (lat_ok.empty()) return;
  qr->latency_median_ms = Median(lat_ok);
  qr->latency_min_ms = *std::min_element(lat_ok.begin(), lat_ok.end());
  qr->latency_max_ms = *std::max_element(lat_ok.begin(), lat_ok.end());
  qr->exec_median_s = Median(exec_ok);
  if (qr->exec_median_s > 0) {
    qr->server_bytes_per_s = static_cast<double>(qr->bytes_processed) / qr->exec_median_s;
    qr->server_lines_per_s = static_cast<double>(qr->lines_processed) / qr->exec_median_s;
  }
  if (qr->latency_median_ms > 0) {
    qr->client_bytes_per_s =
        static_cast<double>(qr->bytes_processed) / (qr->latency_median_ms / 1e3);
    qr->loaded_bytes_per_s = static_cast<double>(qr->loaded_bytes) / (qr->latency_median_ms / 1e3);
  }
  if (!cpu_ok.empty()) {
    qr->cpu_sampled = true;
    qr->cpu_median_s = Median(cpu_ok);
    qr->mb_per_core = Median(per_core);
    qr->mb_per_core_processed = Median(per_core_processed);
  }
  if (qr->query.kind == QueryKind::kLog && qr->limit > 0 &&
      qr->entries_returned >= static_cast<uint64_t>(qr->limit)) {
    qr->full_scan = false;
  }
}

}  // namespace

StatusOr<std::vector<QueryReport>> RunQuerySet(const QueryOptions& opt,
                                               const std::vector<ServerTarget>& servers) {
  if (servers.empty()) return Status::InvalidArgument("no server to query");
  if (opt.repeat < 1) return Status::InvalidArgument("-repeat must be >= 1");
  if (opt.warmup < 0) return Status::InvalidArgument("-warmup must be >= 0");
  if (opt.limit < 0) return Status::InvalidArgument("-limit must be >= 1");
  std::vector<Url> urls;
  for (const auto& s : servers) {
    SKALD_ASSIGN_OR_RETURN(Url u, ParseUrl(s.url));
    urls.push_back(u);
  }
  SKALD_ASSIGN_OR_RETURN(std::vector<NamedQuery> all, QuerySet(opt));
  std::vector<NamedQuery> queries;
  if (opt.only.empty()) {
    queries = all;
  } else {
    for (const auto& name : opt.only) {
      auto it =
          std::find_if(all.begin(), all.end(), [&](const NamedQuery& q) { return q.name == name; });
      if (it == all.end()) {
        std::string names;
        for (const auto& q : all) names += (names.empty() ? "" : ", ") + q.name;
        return Status::InvalidArgument("unknown query name \"" + name + "\" (known: " + names +
                                       ")");
      }
      queries.push_back(*it);
    }
  }
  const int default_limit = opt.limit > 0 ? opt.limit : opt.set == "issue8" ? 5000 : 100;

  QueryReport base;
  int64_t now = NowNanos();
  if (opt.start.empty() && opt.end.empty() && opt.data_start_ns > 0) {
    auto [s, e] = AlignedWindow(queries, opt.data_start_ns, now);
    base.start = std::to_string(s);
    base.end = std::to_string(e);
  } else {
    base.end = opt.end.empty() ? std::to_string(now) : opt.end;
    base.start = opt.start.empty() ? std::to_string(now - opt.since_ns) : opt.start;
  }
  base.step = opt.step;
  if (base.step.empty()) {
    StatusOr<int64_t> s = ParseLokiTimestamp(base.start);
    StatusOr<int64_t> e = ParseLokiTimestamp(base.end);
    base.step = s.ok() && e.ok() ? DefaultStep(*s, *e) : DefaultStep(0, opt.since_ns);
  }
  base.limit = default_limit;
  base.repeat = opt.repeat;
  base.warmup = opt.warmup;
  base.direction = opt.direction;
  base.set = opt.set.empty() ? "default" : opt.set;

  std::vector<QueryReport> reports;
  std::vector<std::unique_ptr<ServerRun>> runs;
  for (size_t i = 0; i < servers.size(); ++i) {
    QueryReport r = base;
    r.name = servers[i].name;
    r.url = servers[i].url;
    r.pid = servers[i].pid;
    const LoadedBytes& lb = servers[i].loaded.known ? servers[i].loaded : opt.loaded;
    r.loaded_bytes = lb.known ? lb.total() : opt.loaded_bytes;
    reports.push_back(std::move(r));
    runs.push_back(std::make_unique<ServerRun>(&servers[i], urls[i], opt.timeout_ms));
    if (!opt.tenant.empty()) runs.back()->headers.emplace_back("X-Scope-OrgID", opt.tenant);
  }
  std::vector<StatusOr<ProcSample>> before;
  for (const auto& s : servers) {
    before.push_back(s.pid > 0 ? SampleProc(s.pid) : Status::NotFound("no pid"));
  }

  for (const auto& q : queries) {
    const int limit = q.limit > 0 && opt.limit == 0 ? q.limit : default_limit;
    const std::string step = q.step.empty() || !opt.step.empty() ? base.step : q.step;
    std::string target = QueryTarget(q, base.start, base.end, step, limit, opt.direction);
    std::vector<std::string> requests;
    std::vector<QueryResult> results(servers.size());
    std::vector<bool> active(servers.size(), true);
    for (size_t i = 0; i < servers.size(); ++i) {
      requests.push_back(BuildRequest("GET", urls[i], target, runs[i]->headers, {}));
      QueryResult& qr = results[i];
      qr.query = q;
      qr.limit = q.kind == QueryKind::kLog ? limit : 0;
      qr.step = q.kind == QueryKind::kMetricRange ? step : "";
      const LoadedBytes& lb = servers[i].loaded.known ? servers[i].loaded : opt.loaded;
      qr.loaded_bytes = LoadedFor(q.selects, lb, opt.loaded_bytes);
    }
    // Warm-up runs are not recorded, but a 501 there still marks the query unsupported.
    for (int w = 0; w < opt.warmup; ++w) {
      for (size_t i = 0; i < servers.size(); ++i) {
        if (!active[i]) continue;
        QueryRun run = RunOnce(runs[i].get(), requests[i]);
        if (run.status == 501) active[i] = Record(std::move(run), &results[i]);
      }
    }
    for (int rep = 0; rep < opt.repeat; ++rep) {
      for (size_t i = 0; i < servers.size(); ++i) {
        if (!active[i]) continue;
        active[i] = Record(RunOnce(runs[i].get(), requests[i]), &results[i]);
      }
    }
    for (size_t i = 0; i < servers.size(); ++i) {
      Summarize(&results[i]);
      if (servers[i].pid > 0) {
        StatusOr<ProcSample> now_s = SampleProc(servers[i].pid);
        if (now_s.ok()) results[i].vm_hwm_kb = now_s->vm_hwm_kb;
      }
      reports[i].results.push_back(std::move(results[i]));
    }
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    if (servers[i].pid <= 0) continue;
    StatusOr<ProcSample> after = SampleProc(servers[i].pid);
    if (before[i].ok() && after.ok()) {
      reports[i].server_sampled = true;
      reports[i].server_cpu_seconds = CpuSecondsBetween(*before[i], *after);
      reports[i].server_peak_rss_kb = after->vm_hwm_kb;
    }
  }
  return reports;
}

StatusOr<QueryReport> RunQueries(const QueryOptions& opt) {
  ServerTarget t;
  t.url = opt.url;
  t.pid = opt.pid;
  SKALD_ASSIGN_OR_RETURN(std::vector<QueryReport> r, RunQuerySet(opt, {t}));
  return std::move(r.front());
}

std::string FormatQueryReport(const QueryReport& r) {
  bool loaded = r.loaded_bytes > 0, cpu = false;
  for (const auto& q : r.results) {
    loaded |= q.loaded_bytes > 0;
    cpu |= q.cpu_sampled;
  }
  constexpr size_t kName = 20;
  std::string o = "skald-bench query " + (r.name.empty() ? "" : r.name + " ") + r.url +
                  "  set=" + (r.set.empty() ? "default" : r.set) + " start=" + r.start +
                  " end=" + r.end + " step=" + r.step + " limit=" + std::to_string(r.limit) +
                  " direction=" + r.direction + " repeat=" + std::to_string(r.repeat) +
                  (r.warmup > 0 ? " warmup=" + std::to_string(r.warmup) : "") + "\n";
  o += Pad("name", kName) + Pad("median_ms", 10, true) + Pad("min_ms", 9, true) +
       Pad("max_ms", 9, true) + Pad("exec_s", 8, true) + Pad("bytes", 14, true) +
       Pad("lines", 12, true) + Pad("returned", 9, true) + Pad("scan(server)", 13, true) +
       Pad("scan(client)", 13, true) + (loaded ? Pad("scan(loaded)", 13, true) : "") +
       (cpu ? Pad("loaded_MB", 10, true) + Pad("cpu_s", 8, true) + Pad("MB/s/core", 10, true) +
                  Pad("srvMB/s/core", 13, true) + Pad("rss_MiB", 8, true)
            : "") +
       "errors\n";
  bool partial = false;
  for (const auto& q : r.results) {
    if (q.unsupported) {
      o += Pad(q.query.name, kName) + "unsupported (HTTP 501)\n";
      continue;
    }
    if (q.errors > 0 && q.errors == static_cast<int>(q.runs.size())) {
      const int status = q.runs.front().status;
      o += Pad(q.query.name, kName) +
           (status == 0 ? std::string("failed (transport error)")
                        : "failed (HTTP " + std::to_string(status) + ")") +
           ", errors " + std::to_string(q.errors) + "\n";
      continue;
    }
    std::string per_core = MbPerCore(q.mb_per_core);
    if (!q.full_scan && q.mb_per_core > 0) {
      per_core += "*";
      partial = true;
    }
    o += Pad(q.query.name, kName) + Pad(Fixed(q.latency_median_ms, 1), 10, true) +
         Pad(Fixed(q.latency_min_ms, 1), 9, true) + Pad(Fixed(q.latency_max_ms, 1), 9, true) +
         Pad(Fixed(q.exec_median_s, 3), 8, true) +
         Pad(std::to_string(q.bytes_processed), 14, true) +
         Pad(std::to_string(q.lines_processed), 12, true) +
         Pad(std::to_string(q.entries_returned), 9, true) +
         Pad(HumanBytesPerSecond(q.server_bytes_per_s), 13, true) +
         Pad(HumanBytesPerSecond(q.client_bytes_per_s), 13, true) +
         (loaded ? Pad(HumanBytesPerSecond(q.loaded_bytes_per_s), 13, true) : "") +
         (cpu ? Pad(Fixed(static_cast<double>(q.loaded_bytes) / 1e6, 1), 10, true) +
                    Pad(q.cpu_sampled ? Fixed(q.cpu_median_s, 2) : "-", 8, true) +
                    Pad(per_core, 10, true) + Pad(MbPerCore(q.mb_per_core_processed), 13, true) +
                    Pad(MiB(q.rss_peak_kb), 8, true)
              : "") +
         std::to_string(q.errors) + "\n";
  }
  for (const auto& q : r.results) {
    o += "  " + q.query.name + ": " + q.query.logql;
    if (q.query.kind == QueryKind::kMetricRange) {
      o += "   (range, step " + (q.step.empty() ? r.step : q.step) + ")";
    }
    if (q.query.kind == QueryKind::kInstant) o += "   (instant, time=end)";
    if (q.query.kind == QueryKind::kLog && q.limit > 0 && q.limit != r.limit) {
      o += "   (limit " + std::to_string(q.limit) + ")";
    }
    if (!q.first_error.empty()) {
      o += (q.unsupported ? "   server said: " : "   first error: ") + q.first_error;
    }
    o += "\n";
  }
  o += "  scan(server) = totalBytesProcessed / median execTime; scan(client) = "
       "totalBytesProcessed / median latency;";
  if (loaded) {
    o += " scan(loaded) = raw bytes of the selected streams (loaded_MB) / median latency;";
  }
  o += " MB = 1e6 bytes\n";
  if (cpu) {
    o += "  cpu_s = median server CPU seconds per run (/proc/PID/stat, 10 ms ticks); MB/s/core = "
         "loaded_MB / server CPU s (median over runs); srvMB/s/core = totalBytesProcessed / "
         "server CPU s; rss_MiB = max server VmRSS sampled every 20 ms during the runs\n";
  }
  if (partial) {
    o += "  * the log query returned `limit` entries and may have stopped early: its MB/s/core "
         "counts bytes it did not read (see srvMB/s/core and the *_count queries)\n";
  }
  if (r.server_sampled) {
    o += "  server CPU " + Fixed(r.server_cpu_seconds, 2) + " s, peak RSS (VmHWM) " +
         Fixed(static_cast<double>(r.server_peak_rss_kb) / 1024, 1) + " MiB\n";
  }
  return o;
}

std::string QueryReportJson(const QueryReport& r) {
  std::string out;
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("command");
  w.String("query");
  if (!r.name.empty()) {
    w.Key("name");
    w.String(r.name);
  }
  w.Key("url");
  w.String(r.url);
  w.Key("set");
  w.String(r.set.empty() ? "default" : r.set);
  w.Key("warmup");
  w.Int(r.warmup);
  w.Key("start");
  w.String(r.start);
  w.Key("end");
  w.String(r.end);
  w.Key("limit");
  w.Int(r.limit);
  w.Key("direction");
  w.String(r.direction);
  w.Key("repeat");
  w.Int(r.repeat);
  w.Key("step");
  w.String(r.step);
  w.Key("loaded_bytes");
  w.Uint(r.loaded_bytes);
  w.Key("queries");
  w.BeginArray();
  for (const auto& q : r.results) {
    w.BeginObject();
    w.Key("name");
    w.String(q.query.name);
    w.Key("logql");
    w.String(q.query.logql);
    w.Key("kind");
    w.String(q.query.kind == QueryKind::kLog           ? "log"
             : q.query.kind == QueryKind::kMetricRange ? "metric_range"
                                                       : "instant");
    w.Key("status");
    w.String(q.unsupported ? "unsupported" : q.errors > 0 ? "failed" : "ok");
    w.Key("latency_ms");
    w.BeginObject();
    w.Key("median");
    w.Double(q.latency_median_ms);
    w.Key("min");
    w.Double(q.latency_min_ms);
    w.Key("max");
    w.Double(q.latency_max_ms);
    w.EndObject();
    w.Key("exec_time_median_s");
    w.Double(q.exec_median_s);
    w.Key("bytes_processed");
    w.Uint(q.bytes_processed);
    w.Key("lines_processed");
    w.Uint(q.lines_processed);
    w.Key("entries_returned");
    w.Uint(q.entries_returned);
    w.Key("server_bytes_per_s");
    w.Double(q.server_bytes_per_s);
    w.Key("server_lines_per_s");
    w.Double(q.server_lines_per_s);
    w.Key("client_bytes_per_s");
    w.Double(q.client_bytes_per_s);
    w.Key("loaded_bytes_per_s");
    w.Double(q.loaded_bytes_per_s);
    w.Key("errors");
    w.Int(q.errors);
    if (!q.first_error.empty()) {
      w.Key("first_error");
      w.String(q.first_error);
    }
    w.Key("runs_ms");
    w.BeginArray();
    for (const auto& run : q.runs) w.Double(static_cast<double>(run.latency_ns) / 1e6);
    w.EndArray();
    w.Key("selects");
    w.String(SelectsName(q.query.selects));
    w.Key("loaded_bytes");
    w.Uint(q.loaded_bytes);
    w.Key("full_scan");
    w.Bool(q.full_scan);
    if (q.query.kind == QueryKind::kLog) {
      w.Key("limit");
      w.Int(q.limit);
    }
    if (q.query.kind == QueryKind::kMetricRange) {
      w.Key("step");
      w.String(q.step.empty() ? r.step : q.step);
    }
    if (q.cpu_sampled) {
      w.Key("server");
      w.BeginObject();
      w.Key("cpu_seconds_median");
      w.Double(q.cpu_median_s);
      w.Key("mb_per_core");
      w.Double(q.mb_per_core);
      w.Key("mb_per_core_processed");
      w.Double(q.mb_per_core_processed);
      w.Key("rss_peak_kb");
      w.Int(q.rss_peak_kb);
      w.Key("vm_hwm_kb");
      w.Int(q.vm_hwm_kb);
      w.Key("runs_cpu_seconds");
      w.BeginArray();
      for (const auto& run : q.runs) w.Double(run.server_cpu_s < 0 ? 0 : run.server_cpu_s);
      w.EndArray();
      w.Key("runs_rss_max_kb");
      w.BeginArray();
      for (const auto& run : q.runs) w.Int(run.rss_max_kb);
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  if (r.server_sampled) {
    w.Key("server");
    w.BeginObject();
    w.Key("cpu_seconds");
    w.Double(r.server_cpu_seconds);
    w.Key("peak_rss_kb");
    w.Int(r.server_peak_rss_kb);
    w.EndObject();
  }
  w.EndObject();
  out.push_back('\n');
  return out;
}

}  // namespace skald::bench

namespace skald::bench {
namespace {

const QueryResult* ResultNamed(const QueryReport& r, const std::string& name) {
  for (const auto& q : r.results) {
    if (q.query.name == name) return &q;
  }
  return nullptr;
}

bool Usable(const QueryResult* q) {
  return q != nullptr && !q->unsupported && q->errors < static_cast<int>(q->runs.size());
}

std::string ServerName(const QueryReport& r, size_t i) {
  return r.name.empty() ? "server" + std::to_string(i + 1) : r.name;
}

}  // namespace

std::string FormatComparison(const std::vector<QueryReport>& reports) {
  if (reports.size() < 2) return "";
  const QueryReport& a = reports[0];
  std::string o = "comparison over the same window, runs alternating per repetition (" +
                  std::to_string(a.repeat) + " measured" +
                  (a.warmup > 0 ? ", " + std::to_string(a.warmup) + " warm-up" : "") +
                  " per query and server)\n";
  std::vector<std::string> names;
  for (size_t i = 0; i < reports.size(); ++i) names.push_back(ServerName(reports[i], i));
  o += Pad("name", 20) + Pad("loaded_MB", 10, true);
  for (const auto& n : names) o += Pad(n + " MB/s/core", 16, true);
  for (size_t i = 1; i < names.size(); ++i) o += Pad(names[0] + "/" + names[i], 14, true);
  for (const auto& n : names) o += Pad(n + " ms", 11, true);
  for (const auto& n : names) o += Pad(n + " rss_MiB", 14, true);
  o += "\n";
  bool partial = false;
  for (const auto& qa : a.results) {
    const std::string& name = qa.query.name;
    std::vector<const QueryResult*> qs;
    for (const auto& r : reports) qs.push_back(ResultNamed(r, name));
    o += Pad(name, 20) + Pad(Fixed(static_cast<double>(qa.loaded_bytes) / 1e6, 1), 10, true);
    for (const QueryResult* q : qs) {
      std::string v = !Usable(q)       ? (q != nullptr && q->unsupported ? "501" : "failed")
                      : q->cpu_sampled ? MbPerCore(q->mb_per_core)
                                       : "-";
      if (Usable(q) && !q->full_scan && q->mb_per_core > 0) {
        v += "*";
        partial = true;
      }
      o += Pad(v, 16, true);
    }
    for (size_t i = 1; i < qs.size(); ++i) {
      std::string ratio = "-";
      if (Usable(qs[0]) && Usable(qs[i]) && qs[0]->mb_per_core > 0 && qs[i]->mb_per_core > 0) {
        ratio = Fixed(qs[0]->mb_per_core / qs[i]->mb_per_core, 2) + "x";
      }
      o += Pad(ratio, 14, true);
    }
    for (const QueryResult* q : qs) {
      o += Pad(Usable(q) ? Fixed(q->latency_median_ms, 1) : "-", 11, true);
    }
    for (const QueryResult* q : qs) o += Pad(Usable(q) ? MiB(q->rss_peak_kb) : "-", 14, true);
    o += "\n";
  }
  o += "  MB/s/core = raw bytes of the selected streams / server CPU seconds during the run "
       "(median over runs; MB = 1e6 bytes); ratio = " +
       names[0] +
       " MB/s/core / the other's; ms = median latency; rss_MiB = max VmRSS sampled every 20 ms "
       "during the query's runs\n";
  if (partial) {
    o += "  * log query returned `limit` entries (may have stopped early): compare the *_count "
         "queries for full-scan figures\n";
  }
  // The issue asks for the server's peak RSS during the largest query: the one reading most.
  const QueryResult* largest = nullptr;
  for (const auto& q : a.results) {
    if (largest == nullptr || q.loaded_bytes > largest->loaded_bytes) largest = &q;
  }
  if (largest != nullptr && largest->loaded_bytes > 0) {
    o += "  largest query (" + largest->query.name + ", " +
         Fixed(static_cast<double>(largest->loaded_bytes) / 1e6, 1) + " MB): peak RSS";
    for (size_t i = 0; i < reports.size(); ++i) {
      const QueryResult* q = ResultNamed(reports[i], largest->query.name);
      o += (i == 0 ? " " : ", ") + names[i] + " " +
           (Usable(q) ? MiB(q->rss_peak_kb) + " MiB" : std::string("-"));
    }
    o += "\n";
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].server_sampled) {
      o += "  " + names[i] + ": CPU " + Fixed(reports[i].server_cpu_seconds, 2) +
           " s over all queries, lifetime peak RSS (VmHWM) " + MiB(reports[i].server_peak_rss_kb) +
           " MiB\n";
    }
  }
  return o;
}

std::string ComparisonJson(const std::vector<QueryReport>& reports) {
  std::string out;
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("command");
  w.String("query");
  w.Key("servers");
  w.BeginArray();
  for (const auto& r : reports) {
    std::string one = QueryReportJson(r);
    while (!one.empty() && one.back() == '\n') one.pop_back();
    w.Raw(one);
  }
  w.EndArray();
  w.Key("comparison");
  w.BeginArray();
  if (!reports.empty()) {
    for (const auto& qa : reports[0].results) {
      w.BeginObject();
      w.Key("name");
      w.String(qa.query.name);
      w.Key("loaded_bytes");
      w.Uint(qa.loaded_bytes);
      w.Key("mb_per_core");
      w.BeginObject();
      for (size_t i = 0; i < reports.size(); ++i) {
        const QueryResult* q = ResultNamed(reports[i], qa.query.name);
        w.Key(ServerName(reports[i], i));
        w.Double(Usable(q) ? q->mb_per_core : 0);
      }
      w.EndObject();
      w.Key("ratio_first_to_other");
      w.BeginObject();
      for (size_t i = 1; i < reports.size(); ++i) {
        const QueryResult* q = ResultNamed(reports[i], qa.query.name);
        w.Key(ServerName(reports[i], i));
        bool ok = Usable(&qa) && Usable(q) && qa.mb_per_core > 0 && q->mb_per_core > 0;
        w.Double(ok ? qa.mb_per_core / q->mb_per_core : 0);
      }
      w.EndObject();
      w.Key("latency_median_ms");
      w.BeginObject();
      for (size_t i = 0; i < reports.size(); ++i) {
        const QueryResult* q = ResultNamed(reports[i], qa.query.name);
        w.Key(ServerName(reports[i], i));
        w.Double(Usable(q) ? q->latency_median_ms : 0);
      }
      w.EndObject();
      w.Key("rss_peak_kb");
      w.BeginObject();
      for (size_t i = 0; i < reports.size(); ++i) {
        const QueryResult* q = ResultNamed(reports[i], qa.query.name);
        w.Key(ServerName(reports[i], i));
        w.Int(Usable(q) ? q->rss_peak_kb : 0);
      }
      w.EndObject();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  out.push_back('\n');
  return out;
}

}  // namespace skald::bench
