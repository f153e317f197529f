// `skald-bench query` implementation (see query_bench.h).
#include "tools/bench/query_bench.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

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

StatusOr<QueryReport> RunQueries(const QueryOptions& opt) {
  if (opt.repeat < 1) return Status::InvalidArgument("-repeat must be >= 1");
  if (opt.limit < 1) return Status::InvalidArgument("-limit must be >= 1");
  SKALD_ASSIGN_OR_RETURN(Url url, ParseUrl(opt.url));
  std::vector<NamedQuery> all = DefaultQueries(opt);
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

  QueryReport rep;
  rep.url = opt.url;
  int64_t now = NowNanos();
  rep.end = opt.end.empty() ? std::to_string(now) : opt.end;
  rep.start = opt.start.empty() ? std::to_string(now - opt.since_ns) : opt.start;
  rep.step = opt.step;
  if (rep.step.empty()) {
    StatusOr<int64_t> s = ParseLokiTimestamp(rep.start);
    StatusOr<int64_t> e = ParseLokiTimestamp(rep.end);
    rep.step = s.ok() && e.ok() ? DefaultStep(*s, *e) : DefaultStep(0, opt.since_ns);
  }
  rep.loaded_bytes = opt.loaded_bytes;
  rep.limit = opt.limit;
  rep.repeat = opt.repeat;
  rep.direction = opt.direction;

  std::vector<Header> headers;
  if (!opt.tenant.empty()) headers.emplace_back("X-Scope-OrgID", opt.tenant);
  HttpClient client(url, opt.timeout_ms);
  HttpResponse resp;

  StatusOr<ProcSample> before = Status::NotFound("no pid");
  if (opt.pid > 0) before = SampleProc(opt.pid);

  for (const auto& q : queries) {
    QueryResult qr;
    qr.query = q;
    std::string target = QueryTarget(q, rep.start, rep.end, rep.step, opt.limit, opt.direction);
    std::string request = BuildRequest("GET", url, target, headers, {});
    std::vector<double> lat_ok, exec_ok;
    for (int i = 0; i < opt.repeat; ++i) {
      QueryRun run;
      int64_t t0 = MonotonicNanos();
      Status s = client.RoundTrip(request, &resp);
      run.latency_ns = MonotonicNanos() - t0;
      run.status = s.ok() ? resp.status : 0;
      if (!s.ok()) {
        run.error = s.ToString();
      } else if (resp.status != 200) {
        run.error = resp.body.substr(0, 300);
      } else {
        StatusOr<QueryResponseStats> st = ParseQueryResponse(resp.body);
        if (st.ok()) {
          run.stats = *st;
        } else {
          run.error = st.status().message();
        }
      }
      if (run.status == 501) {
        // Not implemented by this server: report it once and move on.
        qr.unsupported = true;
        if (qr.first_error.empty()) qr.first_error = run.error;
        qr.runs.push_back(std::move(run));
        break;
      }
      if (run.error.empty()) {
        lat_ok.push_back(static_cast<double>(run.latency_ns) / 1e6);
        exec_ok.push_back(run.stats.exec_time_s);
      } else {
        qr.errors++;
        if (qr.first_error.empty()) {
          qr.first_error = "status " + std::to_string(run.status) + ": " + run.error;
        }
      }
      qr.runs.push_back(std::move(run));
    }
    if (!lat_ok.empty()) {
      qr.latency_median_ms = Median(lat_ok);
      qr.latency_min_ms = *std::min_element(lat_ok.begin(), lat_ok.end());
      qr.latency_max_ms = *std::max_element(lat_ok.begin(), lat_ok.end());
      qr.exec_median_s = Median(exec_ok);
      // Bytes/lines of the successful runs (normally identical); take the largest.
      for (const auto& r : qr.runs) {
        if (!r.error.empty()) continue;
        qr.bytes_processed = std::max(qr.bytes_processed, r.stats.bytes_processed);
        qr.lines_processed = std::max(qr.lines_processed, r.stats.lines_processed);
        qr.entries_returned = std::max(qr.entries_returned, r.stats.entries_returned);
      }
      if (qr.exec_median_s > 0) {
        qr.server_bytes_per_s = static_cast<double>(qr.bytes_processed) / qr.exec_median_s;
        qr.server_lines_per_s = static_cast<double>(qr.lines_processed) / qr.exec_median_s;
      }
      if (qr.latency_median_ms > 0) {
        qr.client_bytes_per_s =
            static_cast<double>(qr.bytes_processed) / (qr.latency_median_ms / 1e3);
        qr.loaded_bytes_per_s =
            static_cast<double>(opt.loaded_bytes) / (qr.latency_median_ms / 1e3);
      }
    }
    rep.results.push_back(std::move(qr));
  }
  if (opt.pid > 0) {
    StatusOr<ProcSample> after = SampleProc(opt.pid);
    if (before.ok() && after.ok()) {
      rep.server_sampled = true;
      rep.server_cpu_seconds = after->cpu_seconds - before->cpu_seconds;
      rep.server_peak_rss_kb = after->vm_hwm_kb;
    }
  }
  return rep;
}

std::string FormatQueryReport(const QueryReport& r) {
  const bool loaded = r.loaded_bytes > 0;
  std::string o = "skald-bench query " + r.url + "  start=" + r.start + " end=" + r.end +
                  " step=" + r.step + " limit=" + std::to_string(r.limit) +
                  " direction=" + r.direction + " repeat=" + std::to_string(r.repeat) + "\n";
  o += Pad("name", 15) + Pad("median_ms", 10, true) + Pad("min_ms", 9, true) +
       Pad("max_ms", 9, true) + Pad("exec_s", 8, true) + Pad("bytes", 14, true) +
       Pad("lines", 12, true) + Pad("returned", 9, true) + Pad("scan(server)", 13, true) +
       Pad("scan(client)", 13, true) + (loaded ? Pad("scan(loaded)", 13, true) : "") + "errors\n";
  for (const auto& q : r.results) {
    if (q.unsupported) {
      o += Pad(q.query.name, 15) + "unsupported (HTTP 501)\n";
      continue;
    }
    if (q.errors > 0 && q.errors == static_cast<int>(q.runs.size())) {
      const int status = q.runs.front().status;
      o += Pad(q.query.name, 15) +
           (status == 0 ? std::string("failed (transport error)")
                        : "failed (HTTP " + std::to_string(status) + ")") +
           ", errors " + std::to_string(q.errors) + "\n";
      continue;
    }
    o += Pad(q.query.name, 15) + Pad(Fixed(q.latency_median_ms, 1), 10, true) +
         Pad(Fixed(q.latency_min_ms, 1), 9, true) + Pad(Fixed(q.latency_max_ms, 1), 9, true) +
         Pad(Fixed(q.exec_median_s, 3), 8, true) +
         Pad(std::to_string(q.bytes_processed), 14, true) +
         Pad(std::to_string(q.lines_processed), 12, true) +
         Pad(std::to_string(q.entries_returned), 9, true) +
         Pad(HumanBytesPerSecond(q.server_bytes_per_s), 13, true) +
         Pad(HumanBytesPerSecond(q.client_bytes_per_s), 13, true) +
         (loaded ? Pad(HumanBytesPerSecond(q.loaded_bytes_per_s), 13, true) : "") +
         std::to_string(q.errors) + "\n";
  }
  for (const auto& q : r.results) {
    o += "  " + q.query.name + ": " + q.query.logql;
    if (q.query.kind == QueryKind::kMetricRange) o += "   (range, step " + r.step + ")";
    if (q.query.kind == QueryKind::kInstant) o += "   (instant, time=end)";
    if (!q.first_error.empty()) {
      o += (q.unsupported ? "   server said: " : "   first error: ") + q.first_error;
    }
    o += "\n";
  }
  o += "  scan(server) = totalBytesProcessed / median execTime; scan(client) = "
       "totalBytesProcessed / median latency;";
  if (loaded) {
    o += " scan(loaded) = " + std::to_string(r.loaded_bytes) + " loaded bytes / median latency;";
  }
  o += " MB = 1e6 bytes\n";
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
  w.Key("url");
  w.String(r.url);
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
