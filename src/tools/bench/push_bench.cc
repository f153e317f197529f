// `skald-bench push` implementation (see push_bench.h).
#include "tools/bench/push_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/time.h"
#include "tools/bench/proc_stats.h"
#include "wire/json_writer.h"
#include "wire/otlp.h"
#include "wire/push.h"

namespace skald::bench {
namespace {

// Streams owned by connection conn, ascending.
std::vector<int> OwnedStreams(int streams, int connections, int conn) {
  std::vector<int> v;
  for (int s = conn; s < streams; s += connections) v.push_back(s);
  return v;
}

// Lines of connection conn: sum of its streams' shares of plan.lines.
int64_t ConnectionLines(const PushPlan& plan, int streams, int conn) {
  int64_t per = plan.lines / streams, extra = plan.lines % streams, n = 0;
  for (int s = conn; s < streams; s += plan.connections) n += per + (s < extra ? 1 : 0);
  return n;
}

struct ConnStats {
  std::vector<int64_t> latencies_ns;
  std::map<int, int64_t> status_counts;
  std::map<int, std::string> first_errors;
  int64_t requests = 0, requests_ok = 0, lines_sent = 0, lines_accepted = 0;
  int64_t raw_accepted = 0, body_bytes = 0, reconnects = 0;
  int64_t lines_by_format[kLineFormatCount] = {};
  int64_t raw_by_format[kLineFormatCount] = {};
  int64_t end_ns = 0;
  bool exhausted = false;  // sent every encoded request
};

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Thousands(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  std::string out;
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out.push_back(s[static_cast<size_t>(i)]);
    int left = n - i - 1;
    if (left > 0 && left % 3 == 0) out.push_back(',');
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  double rank = std::ceil(p * static_cast<double>(sorted.size()));
  size_t idx = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(idx, sorted.size() - 1)];
}

std::string StreamLabels(const PushOptions& opt, int stream) {
  std::string s = "{job=\"" + opt.job + "\", host=\"host-" + std::to_string(stream % opt.hosts) +
                  "\", stream=\"" + std::to_string(stream) + "\"";
  StatusOr<LineFormatMode> mode = ParseLineFormatMode(opt.line_format);
  if (mode.ok() && *mode != LineFormatMode::kPlain) {
    s += ", format=\"";
    s += LineFormatName(StreamLineFormat(*mode, stream));
    s += "\"";
  }
  return s + "}";
}

size_t StreamSource(LineFormatMode mode, int stream, size_t sources) {
  size_t s = static_cast<size_t>(stream);
  return (mode == LineFormatMode::kMixed ? s / 3 : s) % sources;
}

StatusOr<PushPlan> MakePushPlan(const PushOptions& opt, const Corpus& corpus, int64_t now_ns) {
  if (opt.streams <= 0) return Status::InvalidArgument("-streams must be > 0");
  if (opt.hosts <= 0) return Status::InvalidArgument("-hosts must be > 0");
  if (opt.batch <= 0) return Status::InvalidArgument("-batch must be > 0");
  if (opt.connections <= 0) return Status::InvalidArgument("-connections must be > 0");
  if (opt.format != "protobuf" && opt.format != "json" && opt.format != "otlp") {
    return Status::InvalidArgument("-format must be protobuf or json, got \"" + opt.format + "\"");
  }
  if (opt.rate < 0) return Status::InvalidArgument("-rate must be >= 0");
  if (opt.ts_span_ns <= 0) return Status::InvalidArgument("-ts-span must be > 0");
  if (opt.job.find_first_of("\"\\") != std::string::npos) {
    return Status::InvalidArgument("-job must not contain quotes or backslashes");
  }
  SKALD_ASSIGN_OR_RETURN(LineFormatMode mode, ParseLineFormatMode(opt.line_format));
  PushPlan p;
  p.line_format = mode;
  p.connections = std::min(opt.connections, opt.streams);
  if (opt.lines > 0) {
    p.lines = opt.lines;
  } else if (opt.rate > 0 && opt.duration_ns > 0) {
    p.lines =
        static_cast<int64_t>(opt.rate * static_cast<double>(opt.duration_ns) / 1e9 * 1.02) + 1;
  } else {
    // Fill the pool: estimate encoded bytes per line from the corpus (generous
    // compression guess; the encoder stops at the cap exactly).
    double avg = corpus.TotalLines() == 0 ? 100.0
                                          : static_cast<double>(corpus.TotalBytes()) /
                                                static_cast<double>(corpus.TotalLines());
    // Structured records add ~130 bytes of fields around each line.
    if (mode != LineFormatMode::kPlain) avg += mode == LineFormatMode::kMixed ? 90 : 130;
    double per_line = opt.format == "json" ? avg + 30 : avg / 4 + 4;
    p.lines = static_cast<int64_t>(static_cast<double>(opt.pool_cap_bytes) / per_line) + 1;
  }
  int64_t per_stream = (p.lines + opt.streams - 1) / opt.streams;
  p.step_ns = std::max<int64_t>(1, opt.ts_span_ns / std::max<int64_t>(1, per_stream));
  const int64_t end_ns = opt.ts_end_ns != 0 ? opt.ts_end_ns : now_ns;
  p.t0_ns = end_ns - opt.ts_span_ns;
  p.last_ns = p.t0_ns + (per_stream - 1) * p.step_ns;
  return p;
}

std::vector<EncodedRequest> EncodeConnectionRequests(const Corpus& corpus, const PushOptions& opt,
                                                     const Url& url, const PushPlan& plan, int conn,
                                                     std::atomic<int64_t>* pool_bytes) {
  std::vector<EncodedRequest> out;
  std::vector<int> owned = OwnedStreams(opt.streams, plan.connections, conn);
  if (owned.empty()) return out;
  const int64_t m = static_cast<int64_t>(owned.size());
  const int64_t total = ConnectionLines(plan, opt.streams, conn);
  const auto& sources = corpus.sources();

  std::vector<StreamLines> gens;
  std::vector<std::string> labels;
  gens.reserve(owned.size());
  for (int s : owned) {
    gens.emplace_back(&sources[StreamSource(plan.line_format, s, sources.size())], opt.seed,
                      static_cast<uint64_t>(s), StreamLineFormat(plan.line_format, s),
                      "host-" + std::to_string(s % opt.hosts));
    labels.push_back(StreamLabels(opt, s));
  }

  std::vector<Header> headers;
  headers.emplace_back("Content-Type",
                       opt.format == "json" ? "application/json" : "application/x-protobuf");
  const std::string path = opt.format == "otlp" && opt.push_path == "/loki/api/v1/push"
                               ? "/otlp/v1/logs"
                               : opt.push_path;
  if (!opt.tenant.empty()) headers.emplace_back("X-Scope-OrgID", opt.tenant);

  std::string line;
  std::vector<int64_t> visit;
  out.reserve(static_cast<size_t>(total / opt.batch + 1));
  for (int64_t lo = 0; lo < total; lo += opt.batch) {
    if (pool_bytes->load(std::memory_order_relaxed) >= opt.pool_cap_bytes) break;
    int64_t hi = std::min<int64_t>(total, lo + opt.batch);
    wire::PushRequestBuilder b;
    std::vector<wire::OtlpEncoder::Resource> otlp;  // -format otlp: one resource per stream
    EncodedRequest r;
    // Sequence position j belongs to owned stream j % m, as that stream's line j / m. The
    // streams with a line in [lo, hi), in ascending order: all m of them, or (a connection
    // owning more streams than a request holds lines) those of (lo .. hi-1) % m.
    visit.clear();
    if (hi - lo >= m) {
      for (int64_t o = 0; o < m; ++o) visit.push_back(o);
    } else {
      for (int64_t j = lo; j < hi; ++j) visit.push_back(j % m);
      std::sort(visit.begin(), visit.end());
    }
    for (int64_t o : visit) {
      int64_t first = lo + ((o - lo % m) % m + m) % m;  // first j >= lo with j % m == o
      if (first >= hi) continue;
      b.AddStream(labels[static_cast<size_t>(o)]);
      if (opt.format == "otlp") {
        // Index labels from Loki's default list: service_name, service_instance_id,
        // k8s_namespace_name.
        const int s = owned[static_cast<size_t>(o)];
        auto& res = otlp.emplace_back();
        res.attributes = {{"service.name", wire::OtlpEncoder::Str(opt.job)},
                          {"service.instance.id", wire::OtlpEncoder::Str(std::to_string(s))},
                          {"k8s.namespace.name",
                           wire::OtlpEncoder::Str("host-" + std::to_string(s % opt.hosts))}};
        res.scopes.emplace_back();
      }
      StreamLines& gen = gens[static_cast<size_t>(o)];
      const size_t f = static_cast<size_t>(gen.format());
      for (int64_t j = first; j < hi; j += m) {
        int64_t k = j / m;
        gen.Next(&line);
        r.lines++;
        r.raw_bytes += line.size();
        r.lines_by_format[f]++;
        r.raw_bytes_by_format[f] += line.size();
        if (opt.format == "otlp") {
          wire::OtlpEncoder::Record rec;
          rec.time_unix_nano = static_cast<uint64_t>(plan.t0_ns + k * plan.step_ns);
          rec.body = wire::OtlpEncoder::Str(line);
          otlp.back().scopes.back().records.push_back(std::move(rec));
          continue;
        }
        b.AddEntry(plan.t0_ns + k * plan.step_ns, line);
      }
    }
    wire::PushRequest req = std::move(b).Build();
    std::string body = opt.format == "otlp"   ? wire::OtlpEncoder::Request(otlp)
                       : opt.format == "json" ? wire::EncodePushJson(req)
                                              : wire::EncodePushProtobufSnappy(req);
    r.bytes = BuildRequest("POST", url, path, headers, body);
    r.bytes.shrink_to_fit();
    pool_bytes->fetch_add(static_cast<int64_t>(r.bytes.size()), std::memory_order_relaxed);
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<PushResult> RunPush(const PushOptions& opt, const Corpus& corpus) {
  SKALD_ASSIGN_OR_RETURN(Url url, ParseUrl(opt.url));
  SKALD_ASSIGN_OR_RETURN(PushPlan plan, MakePushPlan(opt, corpus, NowNanos()));
  PushResult res;
  res.url = opt.url;
  res.format = opt.format;
  res.line_format = opt.line_format;
  res.job = opt.job;
  res.seed = opt.seed;
  res.ts_first_ns = plan.t0_ns;
  res.ts_last_ns = plan.last_ns;
  res.ts_span_ns = opt.ts_span_ns;
  res.corpus = corpus.origin();
  res.streams = opt.streams;
  res.hosts = opt.hosts;
  res.batch = opt.batch;
  res.connections = plan.connections;
  res.target_rate = opt.rate;
  res.lines_planned = plan.lines;

  // 1. Encode everything (one thread per connection, before the clock starts).
  const int n = plan.connections;
  std::vector<std::vector<EncodedRequest>> pools(static_cast<size_t>(n));
  std::atomic<int64_t> pool_bytes{0};
  int64_t enc_start = MonotonicNanos();
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < n; ++c) {
      threads.emplace_back([&, c] {
        pools[static_cast<size_t>(c)] =
            EncodeConnectionRequests(corpus, opt, url, plan, c, &pool_bytes);
      });
    }
    for (auto& t : threads) t.join();
  }
  res.encode_seconds = static_cast<double>(MonotonicNanos() - enc_start) / 1e9;
  res.pool_bytes = pool_bytes.load();
  for (const auto& p : pools) {
    res.requests_encoded += static_cast<int64_t>(p.size());
    for (const auto& r : p) res.lines_encoded += r.lines;
  }
  res.pool_capped = res.lines_encoded < plan.lines;
  if (opt.lines > 0 && res.pool_capped) {
    std::fprintf(stderr,
                 "warning: pool cap of %lld MB reached; sending %lld of %lld lines "
                 "(raise -pool-mb)\n",
                 static_cast<long long>(opt.pool_cap_bytes >> 20),
                 static_cast<long long>(res.lines_encoded), static_cast<long long>(plan.lines));
  }
  if (opt.progress) {
    std::fprintf(stderr, "encoded %lld lines in %lld requests (%.1f MB pool) in %.1f s\n",
                 static_cast<long long>(res.lines_encoded),
                 static_cast<long long>(res.requests_encoded),
                 static_cast<double>(res.pool_bytes) / 1e6, res.encode_seconds);
  }

  // 2. Connect every client before the clock starts.
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int c = 0; c < n; ++c) {
    clients.push_back(std::make_unique<HttpClient>(url, opt.timeout_ms));
    SKALD_RETURN_IF_ERROR(clients.back()->Connect());
  }

  std::vector<ConnStats> stats(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    stats[static_cast<size_t>(c)].latencies_ns.reserve(pools[static_cast<size_t>(c)].size());
  }
  std::atomic<int64_t> progress_lines{0};
  std::atomic<int> running{n};

  StatusOr<ProcSample> server_before = Status::NotFound("no pid");
  if (opt.pid > 0) server_before = SampleProc(opt.pid);
  double client_cpu_before = SelfCpuSeconds();
  const int64_t start = MonotonicNanos();
  const int64_t deadline = opt.duration_ns > 0 ? start + opt.duration_ns : INT64_MAX;
  const double rate_per_conn = opt.rate > 0 ? opt.rate / n : 0;

  // 3. Run.
  std::vector<std::thread> threads;
  for (int c = 0; c < n; ++c) {
    threads.emplace_back([&, c] {
      ConnStats& st = stats[static_cast<size_t>(c)];
      HttpClient& client = *clients[static_cast<size_t>(c)];
      HttpResponse resp;
      resp.body.reserve(4096);
      const auto& pool = pools[static_cast<size_t>(c)];
      size_t i = 0;
      for (; i < pool.size(); ++i) {
        int64_t now = MonotonicNanos();
        if (now >= deadline) break;
        if (rate_per_conn > 0) {
          int64_t due = start + static_cast<int64_t>(static_cast<double>(st.lines_sent) /
                                                     rate_per_conn * 1e9);
          if (due > now) {
            if (due >= deadline) break;
            std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
          }
        }
        const EncodedRequest& r = pool[i];
        int64_t t0 = MonotonicNanos();
        Status s = client.RoundTrip(r.bytes, &resp);
        int64_t t1 = MonotonicNanos();
        st.latencies_ns.push_back(t1 - t0);
        st.requests++;
        st.lines_sent += r.lines;
        st.body_bytes += static_cast<int64_t>(r.bytes.size());
        int code = s.ok() ? resp.status : 0;
        st.status_counts[code]++;
        if (code >= 200 && code < 300) {
          st.requests_ok++;
          st.lines_accepted += r.lines;
          st.raw_accepted += static_cast<int64_t>(r.raw_bytes);
          for (int f = 0; f < kLineFormatCount; ++f) {
            st.lines_by_format[f] += r.lines_by_format[f];
            st.raw_by_format[f] += static_cast<int64_t>(r.raw_bytes_by_format[f]);
          }
        } else if (st.first_errors.find(code) == st.first_errors.end()) {
          std::string msg = s.ok() ? resp.body : s.ToString();
          if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
          st.first_errors[code] = msg;
        }
        progress_lines.fetch_add(r.lines, std::memory_order_relaxed);
      }
      st.exhausted = i == pool.size();
      st.end_ns = MonotonicNanos();
      st.reconnects = client.reconnects();
      running.fetch_sub(1);
    });
  }
  if (opt.progress) {
    int64_t last_lines = 0, last_t = start;
    while (running.load() > 0) {
      for (int k = 0; k < 50 && running.load() > 0; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (running.load() == 0) break;
      int64_t now = MonotonicNanos();
      int64_t l = progress_lines.load();
      std::fprintf(stderr, "  t=%5.1fs sent %lld lines (%.0f lines/s over the last interval)\n",
                   static_cast<double>(now - start) / 1e9, static_cast<long long>(l),
                   static_cast<double>(l - last_lines) / (static_cast<double>(now - last_t) / 1e9));
      last_lines = l;
      last_t = now;
    }
  }
  for (auto& t : threads) t.join();
  int64_t end = start;
  for (const auto& st : stats) end = std::max(end, st.end_ns);
  res.client_cpu_seconds = SelfCpuSeconds() - client_cpu_before;
  if (opt.pid > 0) {
    StatusOr<ProcSample> after = SampleProc(opt.pid);
    if (server_before.ok() && after.ok()) {
      res.server_sampled = true;
      res.server_cpu_seconds = after->cpu_seconds - server_before->cpu_seconds;
      res.server_peak_rss_kb = after->vm_hwm_kb;
      res.server_rss_kb = after->vm_rss_kb;
    } else {
      std::fprintf(
          stderr, "warning: cannot sample pid %d: %s\n", opt.pid,
          (server_before.ok() ? after.status() : server_before.status()).ToString().c_str());
    }
  }

  // 4. Aggregate.
  std::vector<int64_t> lat;
  bool all_exhausted = true;
  for (const auto& st : stats) {
    lat.insert(lat.end(), st.latencies_ns.begin(), st.latencies_ns.end());
    for (const auto& [k, v] : st.status_counts) res.status_counts[k] += v;
    for (const auto& [k, v] : st.first_errors) res.first_errors.emplace(k, v);
    res.requests += st.requests;
    res.requests_ok += st.requests_ok;
    res.lines_sent += st.lines_sent;
    res.lines_accepted += st.lines_accepted;
    res.raw_bytes_accepted += st.raw_accepted;
    for (int f = 0; f < kLineFormatCount; ++f) {
      res.lines_accepted_by_format[f] += st.lines_by_format[f];
      res.raw_bytes_accepted_by_format[f] += st.raw_by_format[f];
    }
    res.body_bytes_sent += st.body_bytes;
    res.reconnects += st.reconnects;
    all_exhausted &= st.exhausted;
  }
  std::sort(lat.begin(), lat.end());
  res.elapsed_seconds = static_cast<double>(end - start) / 1e9;
  if (res.elapsed_seconds > 0) {
    res.lines_per_second = static_cast<double>(res.lines_accepted) / res.elapsed_seconds;
    res.mb_per_second = static_cast<double>(res.raw_bytes_accepted) / 1e6 / res.elapsed_seconds;
  }
  res.latency_p50_ms = Ms(Percentile(lat, 0.50));
  res.latency_p90_ms = Ms(Percentile(lat, 0.90));
  res.latency_p99_ms = Ms(Percentile(lat, 0.99));
  res.latency_max_ms = lat.empty() ? 0 : Ms(lat.back());
  if (!lat.empty()) {
    double sum = 0;
    for (int64_t v : lat) sum += static_cast<double>(v);
    res.latency_mean_ms = sum / static_cast<double>(lat.size()) / 1e6;
  }
  if (!all_exhausted) {
    res.stop_reason = "duration";
  } else if (res.pool_capped) {
    res.stop_reason = "pool exhausted";
  } else {
    res.stop_reason = "lines";
  }
  if (opt.duration_ns > 0 && res.stop_reason == "pool exhausted") {
    std::fprintf(stderr,
                 "warning: the pre-encoded pool ran out after %.1f s, before -duration; "
                 "raise -pool-mb or set -lines/-rate\n",
                 res.elapsed_seconds);
  }

  // 5. Optional flush.
  if (opt.flush) {
    HttpClient fc(url, 10 * 60 * 1000);
    HttpResponse fr;
    int64_t f0 = MonotonicNanos();
    std::vector<Header> h;
    if (!opt.tenant.empty()) h.emplace_back("X-Scope-OrgID", opt.tenant);
    Status s = fc.Post("/flush", h, {}, &fr);
    res.flush_seconds = static_cast<double>(MonotonicNanos() - f0) / 1e9;
    res.flushed = true;
    res.flush_status = s.ok() ? fr.status : 0;
    if (!s.ok()) std::fprintf(stderr, "warning: POST /flush: %s\n", s.ToString().c_str());
  }
  return res;
}

std::string FormatPushReport(const PushResult& r) {
  std::string o;
  auto row = [&](const std::string& k, const std::string& v) {
    o += "  " + k;
    if (k.size() < 26) o.append(26 - k.size(), ' ');
    o += v + "\n";
  };
  o += "skald-bench push " + r.url + "\n";
  row("format", r.format);
  row("line format", r.line_format);
  row("corpus", r.corpus);
  row("streams / hosts", std::to_string(r.streams) + " / " + std::to_string(r.hosts));
  row("batch / connections", std::to_string(r.batch) + " / " + std::to_string(r.connections));
  row("target rate", r.target_rate > 0 ? Fixed(r.target_rate, 0) + " lines/s" : "unthrottled");
  row("pre-encoded", Thousands(r.lines_encoded) + " lines, " + Thousands(r.requests_encoded) +
                         " requests, " + Fixed(static_cast<double>(r.pool_bytes) / 1e6, 1) +
                         " MB in " + Fixed(r.encode_seconds, 1) + " s" +
                         (r.pool_capped ? " (pool cap hit)" : ""));
  row("stopped by", r.stop_reason);
  row("elapsed", Fixed(r.elapsed_seconds, 2) + " s");
  row("requests (2xx / all)", Thousands(r.requests_ok) + " / " + Thousands(r.requests));
  row("lines accepted / sent", Thousands(r.lines_accepted) + " / " + Thousands(r.lines_sent));
  row("accepted lines/s", Thousands(static_cast<int64_t>(r.lines_per_second)));
  row("accepted raw bytes", Thousands(r.raw_bytes_accepted));
  if (r.line_format != "plain") {
    std::string by;
    for (int f = 0; f < kLineFormatCount; ++f) {
      if (r.lines_accepted_by_format[f] == 0) continue;
      if (!by.empty()) by += ", ";
      by += std::string(LineFormatName(static_cast<LineFormat>(f))) + " " +
            Thousands(r.raw_bytes_accepted_by_format[f]) + " B / " +
            Thousands(r.lines_accepted_by_format[f]) + " lines";
    }
    row("  by line format", by.empty() ? "-" : by);
  }
  row("timestamps", std::to_string(r.ts_first_ns) + " .. " + std::to_string(r.ts_last_ns) +
                        " ns (span " + Fixed(static_cast<double>(r.ts_span_ns) / 3.6e12, 2) +
                        " h)");
  row("accepted MB/s (raw lines)", Fixed(r.mb_per_second, 2) + "  (MB = 1e6 bytes)");
  row("wire MB/s (bodies)",
      Fixed(r.elapsed_seconds > 0 ? static_cast<double>(r.body_bytes_sent) / 1e6 / r.elapsed_seconds
                                  : 0,
            2));
  row("latency p50 / p90 / p99", Fixed(r.latency_p50_ms, 2) + " / " + Fixed(r.latency_p90_ms, 2) +
                                     " / " + Fixed(r.latency_p99_ms, 2) + " ms");
  row("latency max / mean",
      Fixed(r.latency_max_ms, 2) + " / " + Fixed(r.latency_mean_ms, 2) + " ms");
  std::string codes;
  for (const auto& [k, v] : r.status_counts) {
    if (!codes.empty()) codes += ", ";
    codes += (k == 0 ? std::string("transport") : std::to_string(k)) + ": " + Thousands(v);
  }
  row("responses by status", codes.empty() ? "-" : codes);
  for (const auto& [k, msg] : r.first_errors) {
    row("  first " + (k == 0 ? std::string("transport") : std::to_string(k)) + " error", msg);
  }
  if (r.reconnects > 0) row("reconnects", std::to_string(r.reconnects));
  row("client CPU", Fixed(r.client_cpu_seconds, 2) + " s");
  if (r.server_sampled) {
    row("server CPU",
        Fixed(r.server_cpu_seconds, 2) + " s (" +
            Fixed(r.elapsed_seconds > 0 ? r.server_cpu_seconds / r.elapsed_seconds : 0, 2) +
            " cores)");
    row("server peak RSS (VmHWM)",
        Fixed(static_cast<double>(r.server_peak_rss_kb) / 1024, 1) + " MiB (now " +
            Fixed(static_cast<double>(r.server_rss_kb) / 1024, 1) + " MiB)");
  }
  if (r.flushed) {
    row("POST /flush",
        "status " + std::to_string(r.flush_status) + " in " + Fixed(r.flush_seconds, 2) + " s");
  }
  return o;
}

std::string PushResultJson(const PushResult& r) {
  std::string out;
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("command");
  w.String("push");
  w.Key("url");
  w.String(r.url);
  w.Key("format");
  w.String(r.format);
  w.Key("line_format");
  w.String(r.line_format);
  w.Key("job");
  w.String(r.job);
  w.Key("seed");
  w.Uint(r.seed);
  w.Key("ts_first_ns");
  w.Int(r.ts_first_ns);
  w.Key("ts_last_ns");
  w.Int(r.ts_last_ns);
  w.Key("ts_span_ns");
  w.Int(r.ts_span_ns);
  w.Key("corpus");
  w.String(r.corpus);
  w.Key("streams");
  w.Int(r.streams);
  w.Key("hosts");
  w.Int(r.hosts);
  w.Key("batch");
  w.Int(r.batch);
  w.Key("connections");
  w.Int(r.connections);
  w.Key("target_rate");
  w.Double(r.target_rate);
  w.Key("lines_planned");
  w.Int(r.lines_planned);
  w.Key("lines_encoded");
  w.Int(r.lines_encoded);
  w.Key("requests_encoded");
  w.Int(r.requests_encoded);
  w.Key("pool_bytes");
  w.Int(r.pool_bytes);
  w.Key("pool_capped");
  w.Bool(r.pool_capped);
  w.Key("encode_seconds");
  w.Double(r.encode_seconds);
  w.Key("stop_reason");
  w.String(r.stop_reason);
  w.Key("elapsed_seconds");
  w.Double(r.elapsed_seconds);
  w.Key("requests");
  w.Int(r.requests);
  w.Key("requests_ok");
  w.Int(r.requests_ok);
  w.Key("lines_sent");
  w.Int(r.lines_sent);
  w.Key("lines_accepted");
  w.Int(r.lines_accepted);
  w.Key("raw_bytes_accepted");
  w.Int(r.raw_bytes_accepted);
  w.Key("lines_accepted_by_format");
  w.BeginObject();
  for (int f = 0; f < kLineFormatCount; ++f) {
    w.Key(LineFormatName(static_cast<LineFormat>(f)));
    w.Int(r.lines_accepted_by_format[f]);
  }
  w.EndObject();
  w.Key("raw_bytes_by_format");
  w.BeginObject();
  for (int f = 0; f < kLineFormatCount; ++f) {
    w.Key(LineFormatName(static_cast<LineFormat>(f)));
    w.Int(r.raw_bytes_accepted_by_format[f]);
  }
  w.EndObject();
  w.Key("body_bytes_sent");
  w.Int(r.body_bytes_sent);
  w.Key("lines_per_second");
  w.Double(r.lines_per_second);
  w.Key("mb_per_second");
  w.Double(r.mb_per_second);
  w.Key("latency_ms");
  w.BeginObject();
  w.Key("p50");
  w.Double(r.latency_p50_ms);
  w.Key("p90");
  w.Double(r.latency_p90_ms);
  w.Key("p99");
  w.Double(r.latency_p99_ms);
  w.Key("max");
  w.Double(r.latency_max_ms);
  w.Key("mean");
  w.Double(r.latency_mean_ms);
  w.EndObject();
  w.Key("status_counts");
  w.BeginObject();
  for (const auto& [k, v] : r.status_counts) {
    w.Key(k == 0 ? "transport_error" : std::to_string(k));
    w.Int(v);
  }
  w.EndObject();
  w.Key("first_errors");
  w.BeginObject();
  for (const auto& [k, v] : r.first_errors) {
    w.Key(k == 0 ? "transport_error" : std::to_string(k));
    w.String(v);
  }
  w.EndObject();
  w.Key("reconnects");
  w.Int(r.reconnects);
  w.Key("client_cpu_seconds");
  w.Double(r.client_cpu_seconds);
  if (r.server_sampled) {
    w.Key("server");
    w.BeginObject();
    w.Key("cpu_seconds");
    w.Double(r.server_cpu_seconds);
    w.Key("peak_rss_kb");
    w.Int(r.server_peak_rss_kb);
    w.Key("rss_kb");
    w.Int(r.server_rss_kb);
    w.EndObject();
  }
  if (r.flushed) {
    w.Key("flush");
    w.BeginObject();
    w.Key("status");
    w.Int(r.flush_status);
    w.Key("seconds");
    w.Double(r.flush_seconds);
    w.EndObject();
  }
  w.EndObject();
  out.push_back('\n');
  return out;
}

}  // namespace skald::bench
