// Line filter throughput on real log lines (loghub samples repeated to
// ~64 MiB, stored as one column: bytes back to back + n+1 offsets).
// Every benchmark reports bytes/s over the whole column; BM_MemmemBaseline is
// glibc memmem counting occurrences over the same bytes, the practical limit
// for a literal scan.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "logql/line_filter.h"

namespace {

struct Column {
  std::string data;
  std::vector<uint32_t> offsets;
};

const Column& Lines() {
  static const Column* column = [] {
    std::vector<std::string> lines;
    const std::filesystem::path dir =
        std::filesystem::path(SKALD_SOURCE_DIR) / "testdata" / "loghub";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".log") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      std::string line;
      while (std::getline(in, line)) lines.push_back(line);
    }
    auto* c = new Column;
    c->offsets.push_back(0);
    const size_t target = 64u << 20;
    if (lines.empty()) return c;
    while (c->data.size() < target) {
      for (const auto& l : lines) {
        c->data += l;
        c->offsets.push_back(static_cast<uint32_t>(c->data.size()));
        if (c->data.size() >= target) break;
      }
    }
    return c;
  }();
  return *column;
}

skald::logql::LineFilter Filter(skald::logql::LineFilterSpec::Op op, std::string value) {
  skald::logql::LineFilterSpec s;
  s.op = op;
  s.values = {std::move(value)};
  auto f = skald::logql::LineFilter::Compile({s});
  if (!f.ok()) std::abort();
  return std::move(f).value();
}

void RunSelect(benchmark::State& state, const skald::logql::LineFilter& f) {
  const Column& c = Lines();
  std::vector<uint32_t> out;
  out.reserve(c.offsets.size());
  size_t matched = 0;
  for (auto _ : state) {
    matched = f.Select(c.data, c.offsets, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(c.data.size()));
  state.counters["lines"] = static_cast<double>(c.offsets.size() - 1);
  state.counters["matched"] = static_cast<double>(matched);
}

void RunPerLine(benchmark::State& state, const skald::logql::LineFilter& f) {
  const Column& c = Lines();
  std::string_view data(c.data);
  size_t matched = 0;
  for (auto _ : state) {
    matched = 0;
    for (size_t i = 0; i + 1 < c.offsets.size(); i++) {
      matched += f.Matches(data.substr(c.offsets[i], c.offsets[i + 1] - c.offsets[i])) ? 1 : 0;
    }
    benchmark::DoNotOptimize(matched);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(c.data.size()));
  state.counters["matched"] = static_cast<double>(matched);
}

using Op = skald::logql::LineFilterSpec::Op;

void BM_MemmemBaseline(benchmark::State& state) {
  const Column& c = Lines();
  const char* needle = "error";
  const size_t n = std::strlen(needle);
  size_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    const char* p = c.data.data();
    const char* end = p + c.data.size();
    while (p < end) {
      const void* h = memmem(p, static_cast<size_t>(end - p), needle, n);
      if (h == nullptr) break;
      hits++;
      p = static_cast<const char*>(h) + n;
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(c.data.size()));
  state.counters["hits"] = static_cast<double>(hits);
}
BENCHMARK(BM_MemmemBaseline)->Unit(benchmark::kMillisecond);

void BM_LiteralSelect(benchmark::State& state) { RunSelect(state, Filter(Op::kContains, "error")); }
BENCHMARK(BM_LiteralSelect)->Unit(benchmark::kMillisecond);

void BM_LiteralPerLineMatches(benchmark::State& state) {
  RunPerLine(state, Filter(Op::kContains, "error"));
}
BENCHMARK(BM_LiteralPerLineMatches)->Unit(benchmark::kMillisecond);

void BM_RareLiteralSelect(benchmark::State& state) {
  RunSelect(state, Filter(Op::kContains, "Exception"));
}
BENCHMARK(BM_RareLiteralSelect)->Unit(benchmark::kMillisecond);

void BM_NotContainsSelect(benchmark::State& state) {
  RunSelect(state, Filter(Op::kNotContains, "error"));
}
BENCHMARK(BM_NotContainsSelect)->Unit(benchmark::kMillisecond);

void BM_CaseInsensitiveSelect(benchmark::State& state) {
  RunSelect(state, Filter(Op::kRegex, "(?i)error"));
}
BENCHMARK(BM_CaseInsensitiveSelect)->Unit(benchmark::kMillisecond);

void BM_RegexAlternationSelect(benchmark::State& state) {
  RunSelect(state, Filter(Op::kRegex, "error|fail"));
}
BENCHMARK(BM_RegexAlternationSelect)->Unit(benchmark::kMillisecond);

void BM_RegexGeneralSelect(benchmark::State& state) {
  RunSelect(state, Filter(Op::kRegex, "err[a-z]r"));
}
BENCHMARK(BM_RegexGeneralSelect)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
