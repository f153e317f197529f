// Push decoding throughput: the v1 JSON body and the snappy protobuf body of a
// request built from real log lines (testdata/loghub, one stream per file, every
// 10th entry with structured metadata). Reports body bytes/s and entries/s.
// Also measures the encoders and the JSON string writer used by query responses.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wire/json_writer.h"
#include "wire/push.h"

namespace {

using skald::wire::PushRequest;

struct Corpus {
  std::vector<std::pair<std::string, std::vector<std::string>>> files;  // name, lines
  size_t entries = 0;
};

const Corpus& LoadCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    const std::filesystem::path dir = SKALD_SOURCE_DIR "/testdata/loghub";
    std::vector<std::filesystem::path> paths;
    for (const auto& de : std::filesystem::directory_iterator(dir)) {
      if (de.path().extension() == ".log") paths.push_back(de.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      std::vector<std::string> lines;
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
      }
      c.entries += lines.size();
      c.files.emplace_back(p.stem().string(), std::move(lines));
    }
    return c;
  }();
  return corpus;
}

PushRequest BuildRequest() {
  const Corpus& c = LoadCorpus();
  skald::wire::PushRequestBuilder b;
  int64_t ts = 1'700'000'000'000'000'000;
  size_t n = 0;
  for (const auto& [name, lines] : c.files) {
    b.AddStream("{app=\"" + name + "\", env=\"prod\", host=\"node-1\"}");
    for (const std::string& line : lines) {
      ts += 1'000'123;
      if (++n % 10 == 0) {
        b.AddEntry(ts, line, {{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"user", "u42"}});
      } else {
        b.AddEntry(ts, line);
      }
    }
  }
  return std::move(b).Build();
}

void CheckCorpus(benchmark::State& state) {
  if (LoadCorpus().entries == 0) state.SkipWithError("no lines in testdata/loghub");
}

void BM_DecodeJson(benchmark::State& state) {
  CheckCorpus(state);
  const std::string body = skald::wire::EncodePushJson(BuildRequest());
  const size_t entries = LoadCorpus().entries;
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy;
    copy.reserve(body.size() + 64);  // padding: DecodePushJson won't reallocate
    copy = body;
    state.ResumeTiming();
    auto req = skald::wire::DecodePushJson(std::move(copy));
    if (!req.ok()) state.SkipWithError(req.status().ToString().c_str());
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_DecodeJson)->Unit(benchmark::kMillisecond);

void BM_DecodeProtobufSnappy(benchmark::State& state) {
  CheckCorpus(state);
  PushRequest req = BuildRequest();
  const std::string body = skald::wire::EncodePushProtobufSnappy(req);
  const size_t raw_size = skald::wire::EncodePushProtobufRaw(req).size();
  const size_t entries = LoadCorpus().entries;
  for (auto _ : state) {
    auto decoded = skald::wire::DecodePushProtobuf(body);
    if (!decoded.ok()) state.SkipWithError(decoded.status().ToString().c_str());
    benchmark::DoNotOptimize(decoded);
  }
  // bytes/s over the decompressed protobuf size, comparable with the raw and JSON numbers.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw_size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_DecodeProtobufSnappy)->Unit(benchmark::kMillisecond);

void BM_DecodeProtobufRaw(benchmark::State& state) {
  CheckCorpus(state);
  const std::string body = skald::wire::EncodePushProtobufRaw(BuildRequest());
  const size_t entries = LoadCorpus().entries;
  for (auto _ : state) {
    state.PauseTiming();
    std::string copy = body;
    state.ResumeTiming();
    auto decoded = skald::wire::DecodePushProtobufRaw(std::move(copy));
    if (!decoded.ok()) state.SkipWithError(decoded.status().ToString().c_str());
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
}
BENCHMARK(BM_DecodeProtobufRaw)->Unit(benchmark::kMillisecond);

void BM_EncodePushJson(benchmark::State& state) {
  CheckCorpus(state);
  PushRequest req = BuildRequest();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = skald::wire::EncodePushJson(req);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * req.TotalEntries()));
}
BENCHMARK(BM_EncodePushJson)->Unit(benchmark::kMillisecond);

// The hot part of query responses: escaping log lines into JSON strings.
void BM_AppendJsonStringLines(benchmark::State& state) {
  CheckCorpus(state);
  const Corpus& c = LoadCorpus();
  size_t line_bytes = 0;
  for (const auto& f : c.files) {
    for (const auto& l : f.second) line_bytes += l.size();
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& f : c.files) {
      for (const auto& l : f.second) skald::wire::AppendJsonString(&out, l);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.entries));
}
BENCHMARK(BM_AppendJsonStringLines)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
