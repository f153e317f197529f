// skald-bench: load and query benchmark tool for Skald or any Loki-compatible server.
//
//   skald-bench push  [flags] URL   ingestion throughput/latency (POST /loki/api/v1/push)
//   skald-bench query [flags] URL [URL2 ...]   LogQL query latency, scan speed, MB/s per
//                                              server core (several servers: alternating)
//   skald-bench tail  [flags] URL   N live tails (WebSocket): entries delivered per second
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tools/bench/corpus.h"
#include "tools/bench/flags.h"
#include "tools/bench/push_bench.h"
#include "tools/bench/query_bench.h"
#include "tools/bench/tail_bench.h"

namespace skald::bench {
namespace {

const char kUsage[] =
    "usage: skald-bench <command> [flags] URL\n"
    "\n"
    "Commands:\n"
    "  push    push generated log lines and report accepted lines/s, MB/s, latency\n"
    "  query   run a set of LogQL queries and report latency, scan speed and MB/s per\n"
    "          server core, against one server or several (alternating, compared)\n"
    "  tail    open N live tails (GET /loki/api/v1/tail over WebSocket) and report the\n"
    "          entries they receive per second\n"
    "\n"
    "URL is the server's base address, e.g. http://localhost:3100 (plain HTTP only).\n"
    "Flags take Go style (-name=value, -name value) or --name=value.\n"
    "Run `skald-bench <command> -help` for the command's flags.\n";

const char kPushHelp[] =
    "usage: skald-bench push [flags] URL\n"
    "\n"
    "Generates lines from a corpus (every *.log file of -corpus; default testdata/loghub\n"
    "found from the working directory or the binary, else a built-in corpus), rewriting\n"
    "digits, hex ids and IPv4 addresses with a seeded PRNG so lines are not verbatim repeats.\n"
    "Stream s has labels {job=\"<job>\", host=\"host-<s % hosts>\", stream=\"<s>\"} and reads\n"
    "corpus file s % files. Streams are split over the connections (one thread each, one\n"
    "keep-alive connection each), so each stream is written in timestamp order; timestamps\n"
    "are unique and increasing per stream and lie within -ts-span before -ts-end (now).\n"
    "\n"
    "-line-format logfmt|json wraps each line as a record:\n"
    "  level=info host=host-3 method=GET path=/api/v1/users status=200 duration=12.5ms "
    "bytes=3381 msg=\"<line>\"\n"
    "  {\"level\":\"info\",\"host\":\"host-3\",...,\"status\":200,\"duration\":\"12.5ms\","
    "\"bytes\":3381,\"msg\":\"<line>\"}\n"
    "(level from the line when it names one, else ~80% info / 8% debug / 8% warn / 4% error;\n"
    "~50 paths, skewed; ~3% 5xx; log-normal duration around 25ms and bytes around 2 KB).\n"
    "Such streams get a format=\"logfmt|json\" label; with -line-format mixed stream s is\n"
    "plain, logfmt or json for s % 3 and reads corpus file (s / 3) % files. The JSON report\n"
    "(-json) carries raw bytes per line format and the timestamp range for `query -push-report`.\n"
    "\n"
    "All request bodies are encoded BEFORE the clock starts, up to -pool-mb of request bytes\n"
    "(default 1024 MB). With -lines, that many lines are encoded (a warning says if the cap\n"
    "cuts them). Without -lines: -rate x -duration lines, or, with no -rate, as many as\n"
    "fit the cap; the run then ends at -duration or when the pool is used up, whichever\n"
    "comes first (bodies are never re-sent, so nothing is deduplicated).\n"
    "\n"
    "Reports accepted lines/s, MB/s of raw line bytes (MB = 1e6), request latency\n"
    "p50/p90/p99/max, responses by HTTP status, and with -pid the server's CPU seconds\n"
    "used during the run (/proc/PID/stat utime+stime delta) and peak RSS (VmHWM).\n"
    "\n"
    "Flags:\n";

const char kQueryHelp[] =
    "usage: skald-bench query [flags] URL [URL2 ...]\n"
    "\n"
    "Runs each query -repeat times (after -warmup unmeasured runs) over the same [start, end)\n"
    "window via GET /loki/api/v1/query_range (instant queries: GET /loki/api/v1/query at end)\n"
    "and reports client latency (median/min/max), the server's data.stats.summary figures\n"
    "(execTime, totalBytesProcessed, totalLinesProcessed), scan speed = bytes / execTime\n"
    "and, with loaded bytes known (-push-report or -loaded-bytes), loaded bytes / median\n"
    "latency. With -pid: server CPU seconds per run (/proc/PID/stat before and after),\n"
    "MB/s per core = loaded bytes / server CPU seconds (median over runs), and the peak RSS\n"
    "sampled every 20 ms during the runs. A query answered with HTTP 501 is reported as\n"
    "\"unsupported (HTTP 501)\", run once, and not an error.\n"
    "\n"
    "Several URLs: every query runs on each server in turn, alternating per repetition\n"
    "(A B A B ...), over one window; -pid, -names and -push-report take one item per URL\n"
    "(comma-separated), and a comparison table (MB/s/core, ratio, latency, RSS) follows.\n"
    "\n"
    "Set \"default\" (S = -selector):\n"
    "  selector        S\n"
    "  literal_rare    S |= \"<rare>\"\n"
    "  literal_common  S |= \"<common>\"\n"
    "  literal_absent  S |= \"<absent>\"   (matches nothing: full-scan speed)\n"
    "  icase_regex     S |~ \"(?i)error\"\n"
    "  regex_alt       S |~ \"error|fail\"\n"
    "  json_field      S | json | level=\"error\"\n"
    "  logfmt          S | logfmt\n"
    "  sum_by_host     sum by (host) (count_over_time(S[1m]))   (range query, -step)\n"
    "  topk            topk(3, sum by (stream) (count_over_time(S[5m])))   (instant, at end)\n"
    "Set \"issue8\" (data from `push -line-format mixed`; J = -job; P/L/J = {job=\"J\",\n"
    "format=\"plain\"|\"logfmt\"|\"json\"}; log queries limit 5000, metric queries range):\n"
    "  literal              P |= \"<literal>\"\n"
    "  icase_literal        P |~ \"(?i)<literal>\"\n"
    "  regex_alt            P |~ \"<alternatives>\"\n"
    "  json_level           J | json | level=\"error\"\n"
    "  logfmt_status        L | logfmt | status>=500\n"
    "  sum_by_host          sum by (host) (count_over_time({job=\"J\"}[1m]))   step 1m\n"
    "  quantile_duration    quantile_over_time(0.99, L | logfmt | unwrap duration(duration) [5m])"
    " by (host)   step 5m\n"
    "  topk_path            topk(10, sum by (path) (rate(J | json [5m])))   step 5m\n"
    "  json_level_count     sum(count_over_time(J | json | level=\"error\" [5m]))   step 5m\n"
    "  logfmt_status_count  sum(count_over_time(L | logfmt | status>=500 [5m]))   step 5m\n"
    "\n"
    "Flags:\n";

Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IOError("cannot open " + path);
  out << data;
  if (!out) return Status::IOError("cannot write " + path);
  return Status::OK();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "skald-bench: %s\n", s.message().c_str());
  return 1;
}

int RunTailCommand(const std::vector<std::string>& args) {
  TailOptions opt;
  FlagSet fs;
  fs.String("query", &opt.query, "the tail query (a log query)");
  fs.Int32("clients", &opt.clients, "concurrent tails (one WebSocket each)");
  fs.Duration("duration", &opt.duration_ns, "how long to read at most");
  fs.Duration("idle", &opt.idle_ns,
              "stop once no live entry arrived for this long after the first (0 = never)");
  fs.Int32("limit", &opt.limit, "history entries per tail (sent first, not counted)");
  fs.String("tenant", &opt.tenant, "X-Scope-OrgID header value (empty = not sent)");
  std::vector<std::string> pos;
  bool help = false;
  Status st = fs.Parse(args, &pos, &help);
  if (help || pos.size() != 1) {
    std::printf("usage: skald-bench tail [flags] URL\n\nFlags:\n%s", fs.Usage().c_str());
    return help ? 0 : 2;
  }
  if (!st.ok()) return Fail(st);
  opt.url = pos[0];
  auto r = RunTailBench(opt);
  if (!r.ok()) return Fail(r.status());
  const double window = r->last_entry_s - r->first_entry_s;
  std::printf("tails: %d connected, %d closed by the server early\n", r->connected,
              r->closed_early);
  std::printf("received: %llu messages, %llu live entries, %llu dropped markers\n",
              static_cast<unsigned long long>(r->messages),
              static_cast<unsigned long long>(r->entries),
              static_cast<unsigned long long>(r->dropped));
  std::printf(
      "delivered: %.0f entries/s over all tails (%.0f per tail) between the first and "
      "last live entry (%.1f s)\n",
      window > 0 ? static_cast<double>(r->entries) / window : 0.0,
      window > 0 ? static_cast<double>(r->entries) / window / r->connected : 0.0, window);
  return 0;
}

int RunPushCommand(const std::vector<std::string>& args, const char* argv0) {
  PushOptions opt;
  std::string corpus_dir, json_path;
  int64_t pool_mb = 1024;
  bool quiet = false;
  FlagSet fs;
  fs.String("corpus", &corpus_dir, "directory whose *.log files are the line templates");
  fs.Uint("seed", &opt.seed, "PRNG seed (same seed + flags = same lines)");
  fs.Int32("streams", &opt.streams, "number of streams");
  fs.Int32("hosts", &opt.hosts, "distinct values of the host label (host-<s % hosts>)");
  fs.String("job", &opt.job, "value of the job label");
  fs.Int32("batch", &opt.batch, "lines per push request");
  fs.Int32("connections", &opt.connections,
           "concurrent keep-alive connections, one thread each (capped at -streams)");
  fs.Double("rate", &opt.rate, "target lines/s over all connections (0 = as fast as possible)");
  fs.Duration("duration", &opt.duration_ns, "stop after this long (e.g. 30s; 0 = no limit)");
  fs.Int("lines", &opt.lines, "total lines to push (0 = see above)");
  fs.String("format", &opt.format,
            "body format: protobuf (snappy block), json, or otlp (OTLP/HTTP protobuf to "
            "/otlp/v1/logs; one resource per stream with service.name=<job>, "
            "service.instance.id=<s>, k8s.namespace.name=host-<s % hosts>)");
  fs.String("line-format", &opt.line_format,
            "log line format: plain (loghub-derived lines), logfmt or json (each line wrapped as "
            "a record with level, host, method, path, status, duration, bytes, msg), or mixed "
            "(stream s: plain, logfmt, json for s % 3; label format=...)");
  fs.String("tenant", &opt.tenant, "X-Scope-OrgID header value (empty = not sent)");
  fs.Int32("pid", &opt.pid, "server process id to sample for CPU and peak RSS");
  fs.String("json", &json_path,
            "also write the report as JSON to this file (skald-bench query -push-report reads "
            "it)");
  fs.Int("pool-mb", &pool_mb, "cap on pre-encoded request bytes, in MiB");
  fs.Duration("ts-span", &opt.ts_span_ns,
              "timestamps lie within this span before -ts-end (e.g. 24h; Loki accepts up to 168h)");
  std::string ts_end;
  fs.String("ts-end", &ts_end,
            "end of the timestamps (ns, s or RFC3339; default: now). Push the same data to two "
            "servers with the same -seed and -ts-end");
  int64_t timeout_ns = opt.timeout_ms * 1000000;
  fs.Duration("timeout", &timeout_ns, "per-request socket timeout");
  fs.Bool("flush", &opt.flush, "POST /flush after the run (Loki/Skald ingester flush)");
  fs.String("path", &opt.push_path, "push endpoint path");
  fs.Bool("quiet", &quiet, "no progress output on stderr");
  std::vector<std::string> pos;
  bool help = false;
  Status st = fs.Parse(args, &pos, &help);
  if (help) {
    std::printf("%s%s", kPushHelp, fs.Usage().c_str());
    return 0;
  }
  if (!st.ok()) return Fail(st);
  if (pos.size() != 1) {
    std::fprintf(stderr, "%s%s", kPushHelp, fs.Usage().c_str());
    return 2;
  }
  opt.url = pos[0];
  if (!ts_end.empty()) {
    StatusOr<int64_t> t = ParseLokiTimestamp(ts_end);
    if (!t.ok()) return Fail(t.status());
    opt.ts_end_ns = *t;
  }
  opt.pool_cap_bytes = pool_mb << 20;
  opt.timeout_ms = timeout_ns / 1000000;
  opt.progress = !quiet;
  if (opt.lines <= 0 && opt.duration_ns <= 0) {
    opt.duration_ns = 30LL * 1000000000LL;
    std::fprintf(stderr, "neither -lines nor -duration given: using -duration=30s\n");
  }

  if (corpus_dir.empty()) corpus_dir = FindDefaultCorpusDir(argv0);
  StatusOr<Corpus> corpus = Status::NotFound("");
  if (corpus_dir.empty()) {
    corpus = Corpus::BuiltIn();
  } else {
    corpus = Corpus::LoadDir(corpus_dir);
    if (!corpus.ok()) return Fail(corpus.status());
  }
  if (!quiet) {
    std::fprintf(stderr, "corpus %s: %zu sources, %zu lines\n", corpus->origin().c_str(),
                 corpus->sources().size(), corpus->TotalLines());
  }
  StatusOr<PushResult> res = RunPush(opt, *corpus);
  if (!res.ok()) return Fail(res.status());
  std::printf("%s", FormatPushReport(*res).c_str());
  if (!json_path.empty()) {
    Status w = WriteFile(json_path, PushResultJson(*res));
    if (!w.ok()) return Fail(w);
  }
  return res->requests_ok == res->requests && res->requests > 0 ? 0 : 3;
}

// Splits a comma-separated list (empty items dropped).
std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p < s.size()) {
    size_t c = s.find(',', p);
    if (c == std::string::npos) c = s.size();
    if (c > p) out.push_back(s.substr(p, c - p));
    p = c + 1;
  }
  return out;
}

int RunQueryCommand(const std::vector<std::string>& args) {
  QueryOptions opt;
  std::string json_path, only, pids, names, push_reports;
  int64_t timeout_ns = opt.timeout_ms * 1000000;
  FlagSet fs;
  fs.String("set", &opt.set, "query set: default or issue8 (see above)");
  fs.String("selector", &opt.selector, "stream selector used by every query of the default set");
  fs.String("rare", &opt.rare, "literal that occurs in few lines");
  fs.String("common", &opt.common, "literal that occurs in many lines");
  fs.String("absent", &opt.absent, "literal that occurs in no line (full scan)");
  fs.String("job", &opt.job,
            "issue8 set: job label of the pushed data (default: the push report's, else bench)");
  fs.String("literal", &opt.literal, "issue8 set: the rare literal of literal and icase_literal");
  fs.String("alternatives", &opt.alternatives, "issue8 set: the regex of regex_alt");
  fs.String("queries", &only, "comma-separated subset of query names to run");
  fs.String("start", &opt.start,
            "start (passed verbatim: ns, s or RFC3339; default end - since, or with "
            "-push-report the aligned window holding all pushed data)");
  fs.String("end", &opt.end, "end (passed verbatim; default now)");
  fs.Duration("since", &opt.since_ns, "window length when -start is not given");
  fs.Int32("limit", &opt.limit,
           "limit parameter of log queries (0 = the set's: 100 default, 5000 issue8)");
  fs.String("step", &opt.step,
            "step of metric range queries (default: the query's own, else "
            "max(floor(window / 250 s), 1) seconds)");
  fs.Uint("loaded-bytes", &opt.loaded_bytes,
          "raw line bytes loaded into the window (adds loaded bytes / median latency)");
  fs.String("push-report", &push_reports,
            "JSON report(s) of `skald-bench push -json`, comma-separated, one per URL or one for "
            "all: loaded bytes per line format, job and data start");
  fs.String("direction", &opt.direction, "backward or forward");
  fs.Int32("repeat", &opt.repeat, "measured runs per query (and per server)");
  fs.Int32("warmup", &opt.warmup, "unmeasured runs per query and server before the measured ones");
  fs.String("tenant", &opt.tenant, "X-Scope-OrgID header value (empty = not sent)");
  fs.String("pid", &pids,
            "server process id(s) to sample for CPU and RSS, comma-separated in URL order");
  fs.String("names", &names, "server names for the tables, comma-separated in URL order");
  fs.String("json", &json_path, "also write the report as JSON to this file");
  fs.Duration("timeout", &timeout_ns, "per-request socket timeout");
  std::vector<std::string> pos;
  bool help = false;
  Status st = fs.Parse(args, &pos, &help);
  if (help) {
    std::printf("%s%s", kQueryHelp, fs.Usage().c_str());
    return 0;
  }
  if (!st.ok()) return Fail(st);
  if (pos.empty()) {
    std::fprintf(stderr, "%s%s", kQueryHelp, fs.Usage().c_str());
    return 2;
  }
  opt.timeout_ms = timeout_ns / 1000000;
  opt.only = SplitComma(only);

  std::vector<ServerTarget> servers(pos.size());
  std::vector<std::string> pid_list = SplitComma(pids), name_list = SplitComma(names),
                           report_list = SplitComma(push_reports);
  auto count_ok = [&](const std::vector<std::string>& v) {
    return v.empty() || v.size() == pos.size() || (v.size() == 1 && pos.size() == 1);
  };
  if (!count_ok(pid_list) || !count_ok(name_list) ||
      !(report_list.empty() || report_list.size() == 1 || report_list.size() == pos.size())) {
    return Fail(Status::InvalidArgument(
        "-pid and -names need one item per URL; -push-report one per URL or one for all"));
  }
  for (size_t i = 0; i < pos.size(); ++i) {
    servers[i].url = pos[i];
    servers[i].name = i < name_list.size() ? name_list[i] : "";
    if (i < pid_list.size()) {
      char* end = nullptr;
      long v = std::strtol(pid_list[i].c_str(), &end, 10);
      if (end == pid_list[i].c_str() || *end != '\0' || v < 0) {
        return Fail(Status::InvalidArgument("invalid value \"" + pid_list[i] + "\" for flag -pid"));
      }
      servers[i].pid = static_cast<int>(v);
    }
    if (!report_list.empty()) {
      StatusOr<PushReportInfo> info =
          ReadPushReport(report_list[std::min(i, report_list.size() - 1)]);
      if (!info.ok()) return Fail(info.status());
      servers[i].loaded = info->loaded;
      if (opt.job.empty()) opt.job = info->job;
      if (opt.data_start_ns == 0 || info->ts_first_ns < opt.data_start_ns) {
        opt.data_start_ns = info->ts_first_ns;
      }
      if (opt.set == "issue8" && info->line_format != "mixed") {
        std::fprintf(
            stderr, "warning: %s was pushed with -line-format %s; the issue8 set expects mixed\n",
            report_list[std::min(i, report_list.size() - 1)].c_str(), info->line_format.c_str());
      }
    }
  }
  opt.url = servers[0].url;
  opt.pid = servers[0].pid;
  StatusOr<std::vector<QueryReport>> reps = RunQuerySet(opt, servers);
  if (!reps.ok()) return Fail(reps.status());
  for (const auto& r : *reps) std::printf("%s\n", FormatQueryReport(r).c_str());
  if (reps->size() > 1) std::printf("%s", FormatComparison(*reps).c_str());
  if (!json_path.empty()) {
    Status w = WriteFile(json_path,
                         reps->size() > 1 ? ComparisonJson(*reps) : QueryReportJson(reps->front()));
    if (!w.ok()) return Fail(w);
  }
  for (const auto& r : *reps) {
    for (const auto& q : r.results) {
      if (q.errors > 0) return 3;
    }
  }
  return 0;
}

}  // namespace
}  // namespace skald::bench

int main(int argc, char** argv) {
  using namespace skald::bench;
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "push") return RunPushCommand(args, argv[0]);
  if (cmd == "query") return RunQueryCommand(args);
  if (cmd == "tail") return RunTailCommand(args);
  if (cmd == "-h" || cmd == "-help" || cmd == "--help" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "skald-bench: unknown command \"%s\"\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
