// Log pipeline throughput: entries/s and bytes/s of StreamPipeline::Process and
// StreamSampleExtractor::Process over synthetic logfmt and JSON access-log lines (a fixed
// pseudo-random generator, 100k lines of ~150 bytes, one stream, no metadata). Each
// benchmark runs one query's pipeline over every line once per iteration and reports
// items/s (entries) and bytes/s (input line bytes).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "logql/parser.h"
#include "logql/pipeline.h"

namespace {

const std::vector<std::string>& MakeLines(bool json) {
  static std::vector<std::string> logfmt_lines, json_lines;
  std::vector<std::string>& out = json ? json_lines : logfmt_lines;
  if (!out.empty()) return out;
  const char* levels[] = {"info", "info", "info", "debug", "warn", "error"};
  const char* paths[] = {"/api/v1/push", "/api/v1/query", "/ready", "/metrics", "/api/v1/tail"};
  const int statuses[] = {200, 200, 200, 204, 301, 404, 500, 503};
  uint64_t x = 0x2545F4914F6CDD1DULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 100000; i++) {
    const char* level = levels[next() % 6];
    const char* path = paths[next() % 5];
    int status = statuses[next() % 8];
    int took = static_cast<int>(next() % 2000);
    int size = static_cast<int>(next() % 100000);
    std::string host = "10.0." + std::to_string(next() % 256) + "." + std::to_string(next() % 256);
    if (json) {
      out.push_back(std::string(R"({"ts":"2024-01-02T03:04:05.678Z","level":")") + level +
                    R"(","method":"GET","path":")" + path + R"(","status":)" +
                    std::to_string(status) + R"(,"took":")" + std::to_string(took) +
                    R"(ms","size":)" + std::to_string(size) + R"(,"host":")" + host +
                    R"(","msg":"request served"})");
    } else {
      out.push_back(std::string("ts=2024-01-02T03:04:05.678Z level=") + level +
                    " method=GET path=" + path + " status=" + std::to_string(status) +
                    " took=" + std::to_string(took) + "ms size=" + std::to_string(size) +
                    " host=" + host + " msg=\"request served\"");
    }
  }
  return out;
}

void RunPipeline(benchmark::State& state, const char* query, bool json) {
  const auto& lines = MakeLines(json);
  auto expr = skald::logql::ParseExpr(query);
  if (!expr.ok()) {
    state.SkipWithError(expr.status().message().c_str());
    return;
  }
  auto p = skald::logql::Pipeline::Compile(*skald::logql::AsLogSelector(**expr));
  if (!p.ok()) {
    state.SkipWithError(p.status().message().c_str());
    return;
  }
  auto labels = skald::ParseLabels(R"({app="api", env="prod"})");
  auto sp = (*p)->ForStream(*labels);
  size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  size_t kept = 0;
  for (auto _ : state) {
    std::string_view out;
    for (const auto& l : lines) kept += sp->Process(1, l, {}, &out) ? 1 : 0;
  }
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(query);
}

// `query` is a range aggregation, or `sum by (...) (range aggregation)`: then the sum's
// grouping is handed to the extractor as the evaluator pushes it down (label hints).
void RunExtractor(benchmark::State& state, const char* query, bool json) {
  const auto& lines = MakeLines(json);
  auto expr = skald::logql::ParseExpr(query);
  if (!expr.ok()) {
    state.SkipWithError(expr.status().message().c_str());
    return;
  }
  const skald::logql::Expr* range = expr->get();
  std::optional<skald::logql::Grouping> outer;
  if (range->kind() == skald::logql::ExprKind::kVectorAggregation) {
    const auto& agg = static_cast<const skald::logql::VectorAggregationExpr&>(*range);
    outer = agg.grouping;
    range = agg.arg.get();
  }
  auto ex = skald::logql::SampleExtractor::Compile(
      static_cast<const skald::logql::RangeAggregationExpr&>(*range), outer);
  if (!ex.ok()) {
    state.SkipWithError(ex.status().message().c_str());
    return;
  }
  auto labels = skald::ParseLabels(R"({app="api", env="prod"})");
  auto s = (*ex)->ForStream(*labels);
  size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  double sum = 0;
  for (auto _ : state) {
    double v = 0;
    for (const auto& l : lines) {
      if (s->Process(1, l, {}, &v)) sum += v;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(query);
}

void BM_LineFilterOnly(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} |= "status=5")", false);
}
void BM_LogfmtStatus(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | logfmt | status >= 500)", false);
}
void BM_LogfmtParamsStatus(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | logfmt status | status >= 500)", false);
}
void BM_JsonLevel(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | json | level="error")", true);
}
void BM_LogfmtDurationOrIp(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | logfmt | took > 1s or host = ip("10.0.0.0/24"))", false);
}
void BM_LogfmtLineFormat(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | logfmt | line_format "{{.status}} {{.path}}")", false);
}
void BM_LogfmtDropKeep(benchmark::State& s) {
  RunPipeline(s, R"({app="api"} | logfmt | drop ts, msg | keep status, level, path)", false);
}
void BM_CountOverTime(benchmark::State& s) {
  RunExtractor(s, R"(count_over_time({app="api"} |= "error" [1m]))", false);
}
void BM_SumByLevelJson(benchmark::State& s) {
  RunExtractor(s, R"(sum by (level) (count_over_time({app="api"} | json [1m])))", true);
}
void BM_SumByLevelJsonNoHints(benchmark::State& s) {
  // The same samples with every label extracted: `without` needs them all.
  RunExtractor(s, R"(sum without (x) (count_over_time({app="api"} | json [1m])))", true);
}
void BM_QuantileByHostLogfmt(benchmark::State& s) {
  RunExtractor(
      s, R"(quantile_over_time(0.99, {app="api"} | logfmt | unwrap duration(took) [5m]) by (host))",
      false);
}
void BM_UnwrapDuration(benchmark::State& s) {
  RunExtractor(s, R"(quantile_over_time(0.99, {app="api"} | logfmt | unwrap duration(took) [5m]))",
               false);
}

BENCHMARK(BM_LineFilterOnly);
BENCHMARK(BM_LogfmtStatus);
BENCHMARK(BM_LogfmtParamsStatus);
BENCHMARK(BM_JsonLevel);
BENCHMARK(BM_LogfmtDurationOrIp);
BENCHMARK(BM_LogfmtLineFormat);
BENCHMARK(BM_LogfmtDropKeep);
BENCHMARK(BM_CountOverTime);
BENCHMARK(BM_UnwrapDuration);
BENCHMARK(BM_SumByLevelJson);
BENCHMARK(BM_SumByLevelJsonNoHints);
BENCHMARK(BM_QuantileByHostLogfmt);

}  // namespace

BENCHMARK_MAIN();
