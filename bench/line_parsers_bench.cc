// Parser stage throughput (logql/parsers.h) on generated access-log lines: ~32 MiB of JSON
// lines (nested request/response objects, as an HTTP server logs them) and of logfmt lines
// with the same fields, plus loghub's Apache sample for regexp/pattern. Each benchmark
// reports bytes/s over the whole column on one core; the sink only counts what it gets (the
// cost of a label builder is the pipeline's, not the parser's). The *Hint* cases give the
// parser label hints (parsers.h LabelHints), as the pipeline does for queries that read only
// a few parsed labels.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "logql/parser.h"
#include "logql/parsers.h"

namespace {

using skald::logql::LineParser;
using skald::logql::ParsedSink;

struct Column {
  std::string data;
  std::vector<uint32_t> offsets{0};
  void Add(const std::string& l) {
    data += l;
    offsets.push_back(static_cast<uint32_t>(data.size()));
  }
};

constexpr size_t kTarget = 32u << 20;

struct Fields {
  std::string ip, method, path, proto, ua, level, msg, trace;
  int status, size;
  double latency;
};

Fields RandomFields(std::mt19937_64& rng) {
  static const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
  static const char* kPaths[] = {"/api/v1/query_range",
                                 "/loki/api/v1/push",
                                 "/metrics",
                                 "/api/prom/label",
                                 "/static/js/app.3f2a1.js",
                                 "/healthz",
                                 "/api/v1/users/12345/orders?limit=50&page=3"};
  static const char* kUas[] = {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/7.68.0",
                               "Go-http-client/2.0", "Grafana/10.4.1", "Prometheus/2.51.0"};
  static const int kStatus[] = {200, 200, 200, 200, 201, 204, 301, 400, 404, 500, 503};
  static const char* kMsgs[] = {"request completed", "slow request",
                                "upstream connect error or disconnect/reset before headers",
                                "user \"admin\" logged in", "cache miss"};
  Fields f;
  f.ip = std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
         std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
  f.method = kMethods[rng() % 6];
  f.path = kPaths[rng() % 7];
  f.proto = "HTTP/1.1";
  f.ua = kUas[rng() % 5];
  f.status = kStatus[rng() % 11];
  f.level = f.status >= 500 ? "error" : f.status >= 400 ? "warn" : "info";
  f.msg = kMsgs[rng() % 5];
  f.size = static_cast<int>(rng() % 100000);
  f.latency = static_cast<double>(rng() % 5000000) / 1e6;
  char buf[40];
  snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
           static_cast<unsigned long long>(rng()));
  f.trace = buf;
  return f;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

const Column& JsonLines() {
  static const Column* c = [] {
    auto* col = new Column;
    std::mt19937_64 rng(1);
    while (col->data.size() < kTarget) {
      Fields f = RandomFields(rng);
      char lat[32];
      snprintf(lat, sizeof lat, "%.6f", f.latency);
      col->Add(R"({"ts":"2024-05-01T12:00:00.123456Z","level":")" + f.level + R"(","msg":")" +
               JsonEscape(f.msg) + R"(","trace_id":")" + f.trace + R"(","request":{"method":")" +
               f.method + R"(","path":")" + f.path + R"(","proto":")" + f.proto +
               R"(","remote_addr":")" + f.ip + R"(","headers":{"User-Agent":")" + f.ua +
               R"(","Accept":"*/*"}},"response":{"status":)" + std::to_string(f.status) +
               R"(,"size":)" + std::to_string(f.size) + R"(,"latency_seconds":)" + lat +
               R"(},"tags":["web","prod"],"cached":false})");
    }
    return col;
  }();
  return *c;
}

const Column& LogfmtLines() {
  static const Column* c = [] {
    auto* col = new Column;
    std::mt19937_64 rng(1);
    while (col->data.size() < kTarget) {
      Fields f = RandomFields(rng);
      char lat[32];
      snprintf(lat, sizeof lat, "%.3fms", f.latency * 1000);
      col->Add("ts=2024-05-01T12:00:00.123456Z level=" + f.level + " msg=\"" + JsonEscape(f.msg) +
               "\" trace_id=" + f.trace + " method=" + f.method +
               " path=" + (f.path.find('=') == std::string::npos ? f.path : "\"" + f.path + "\"") +
               " proto=" + f.proto + " remote_addr=" + f.ip + " user_agent=\"" + f.ua +
               "\" status=" + std::to_string(f.status) + " size=" + std::to_string(f.size) +
               " duration=" + lat + " cached");
    }
    return col;
  }();
  return *c;
}

const Column& ApacheLines() {
  static const Column* c = [] {
    auto* col = new Column;
    std::vector<std::string> lines;
    std::ifstream in(std::filesystem::path(SKALD_SOURCE_DIR) / "testdata" / "loghub" /
                     "Apache_2k.log");
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
    if (lines.empty()) return col;
    while (col->data.size() < kTarget) {
      for (const auto& x : lines) col->Add(x);
    }
    return col;
  }();
  return *c;
}

class CountingSink : public ParsedSink {
 public:
  void Add(std::string_view name, std::string_view value) override {
    labels += 1;
    bytes += name.size() + value.size();
  }
  bool AlreadyParsed(std::string_view) const override { return false; }
  void SetLine(std::string_view) override {}
  void Put(std::string_view name, std::string_view value) override { Add(name, value); }
  bool IsStreamOrMetadata(std::string_view) const override { return false; }
  uint64_t labels = 0;
  uint64_t bytes = 0;
};

// `hints`: the label hints the parser gets (nullptr: none, every label is extracted).
std::unique_ptr<LineParser> Make(const std::string& stage,
                                 const std::vector<std::string>* hints = nullptr) {
  auto expr = skald::logql::ParseExpr("{a=\"b\"} " + stage);
  if (!expr.ok()) abort();
  const auto* sel = skald::logql::AsLogSelector(**expr);
  auto p = skald::logql::NewLineParser(
      sel->stages.at(0),
      hints == nullptr ? nullptr : std::make_shared<const skald::logql::LabelHints>(*hints));
  if (!p.ok()) abort();
  return std::move(p).value();
}

void Run(benchmark::State& state, const Column& col, const std::string& stage,
         const std::vector<std::string>* hints = nullptr) {
  auto parser = Make(stage, hints);
  CountingSink sink;
  uint64_t errors = 0;
  const size_t n = col.offsets.size() - 1;
  for (auto _ : state) {
    for (size_t i = 0; i < n; i++) {
      std::string_view line(col.data.data() + col.offsets[i], col.offsets[i + 1] - col.offsets[i]);
      errors += static_cast<bool>(parser->Parse(line, &sink));
    }
  }
  benchmark::DoNotOptimize(sink.bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * col.data.size()));
  state.counters["lines"] = static_cast<double>(n);
  state.counters["labels/line"] =
      static_cast<double>(sink.labels) / static_cast<double>(n * state.iterations());
  state.counters["errors"] = static_cast<double>(errors);
}

void BM_Json(benchmark::State& s) { Run(s, JsonLines(), "| json"); }
// With label hints, as `| json | level="error"` (lazy first pass) or `sum by (level)` get.
void BM_JsonHintLevel(benchmark::State& s) {
  static const std::vector<std::string> kHints = {"level"};
  Run(s, JsonLines(), "| json", &kHints);
}
void BM_JsonHintNested(benchmark::State& s) {
  static const std::vector<std::string> kHints = {"response_status", "request_path"};
  Run(s, JsonLines(), "| json", &kHints);
}
void BM_LogfmtHintStatus(benchmark::State& s) {
  static const std::vector<std::string> kHints = {"status"};
  Run(s, LogfmtLines(), "| logfmt", &kHints);
}
void BM_JsonPaths(benchmark::State& s) {
  Run(s, JsonLines(), R"(| json status="response.status", path="request.path", level)");
}
void BM_Unpack(benchmark::State& s) { Run(s, JsonLines(), "| unpack"); }
void BM_Logfmt(benchmark::State& s) { Run(s, LogfmtLines(), "| logfmt"); }
void BM_LogfmtParams(benchmark::State& s) { Run(s, LogfmtLines(), "| logfmt status, duration"); }
void BM_RegexpApache(benchmark::State& s) {
  Run(s, ApacheLines(),
      R"re(| regexp "^\\[(?P<ts>[^\\]]+)\\] \\[(?P<level>\\w+)\\] (?P<msg>.*)")re");
}
void BM_PatternApache(benchmark::State& s) {
  Run(s, ApacheLines(), R"(| pattern "[<ts>] [<level>] <msg>")");
}

BENCHMARK(BM_Json)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonHintLevel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonHintNested)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogfmtHintStatus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonPaths)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Unpack)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Logfmt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogfmtParams)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RegexpApache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PatternApache)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
