// Chunk format benchmarks on real log lines (testdata/loghub/*.log): per codec, block
// encode (BlockBuilder Add+Finish), block decode (ReadBlock), timestamp-only decode, decode
// plus a literal memmem scan over lines_data(), and CRC32C. Throughput is in raw line
// bytes/s; the `ratio` counter is raw line bytes / stored block bytes.
//
// Run: chunk_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "chunk/chunk.h"
#include "core/crc32c.h"

namespace skald::chunk {
namespace {

constexpr size_t kBlockSize = 256 << 10;  // Loki's chunk_block_size

struct Corpus {
  std::vector<std::string> lines;
  std::vector<int64_t> ts;
  size_t line_bytes = 0;
};

// All loghub files in name order, each kept contiguous (one "stream" per system), with
// timestamps ~1 ms apart plus jitter, as an ingester would see them.
const Corpus& GetCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    const std::string dir = SKALD_SOURCE_DIR "/testdata/loghub";
    std::vector<std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 4 && n.compare(n.size() - 4, 4, ".log") == 0) files.push_back(n);
      }
      closedir(d);
    }
    std::sort(files.begin(), files.end());
    int64_t ts = 1'700'000'000'000'000'000;
    uint64_t x = 88172645463325252ull;
    for (const std::string& f : files) {
      std::ifstream in(dir + "/" + f);
      std::string line;
      while (std::getline(in, line)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ts += 1'000'000 + static_cast<int64_t>(x % 500'000);
        c.line_bytes += line.size();
        c.lines.push_back(std::move(line));
        c.ts.push_back(ts);
      }
    }
    return c;
  }();
  return corpus;
}

std::vector<EncodedBlock> EncodeAll(BlockBuilder* b, Codec codec) {
  const Corpus& c = GetCorpus();
  std::vector<EncodedBlock> out;
  for (size_t i = 0; i < c.lines.size(); ++i) {
    b->Add(c.ts[i], c.lines[i], {});
    if (b->uncompressed_bytes() >= kBlockSize) out.push_back(b->Finish(codec));
  }
  if (b->entries() > 0) out.push_back(b->Finish(codec));
  return out;
}

std::string BuildChunk(Codec codec) {
  BlockBuilder b;
  ChunkWriter w(codec, "fake", 1, R"({job="loghub"})");
  for (EncodedBlock& e : EncodeAll(&b, codec)) w.AddBlock(std::move(e));
  return w.Finish();
}

void SetCommon(benchmark::State& state, Codec codec, size_t stored) {
  const Corpus& c = GetCorpus();
  state.SetLabel(std::string(CodecName(codec)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.line_bytes));
  state.counters["ratio"] = static_cast<double>(c.line_bytes) / static_cast<double>(stored);
}

void BM_BlockEncode(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  if (GetCorpus().lines.empty()) return state.SkipWithError("no testdata/loghub/*.log");
  BlockBuilder b;
  size_t stored = 0;
  for (auto _ : state) {
    auto blocks = EncodeAll(&b, codec);
    stored = 0;
    for (const auto& e : blocks) stored += e.bytes.size();
    benchmark::DoNotOptimize(blocks.data());
  }
  SetCommon(state, codec, stored);
}

void BM_ReadBlock(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  if (GetCorpus().lines.empty()) return state.SkipWithError("no testdata/loghub/*.log");
  const std::string chunk = BuildChunk(codec);
  auto r = ChunkReader::Open(chunk);
  if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  DecodedBlock d;
  for (auto _ : state) {
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      if (!r->ReadBlock(i, &d).ok()) return state.SkipWithError("ReadBlock failed");
      benchmark::DoNotOptimize(d.lines_data().data());
    }
  }
  SetCommon(state, codec, chunk.size());
}

void BM_ReadTimestamps(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  if (GetCorpus().lines.empty()) return state.SkipWithError("no testdata/loghub/*.log");
  const std::string chunk = BuildChunk(codec);
  auto r = ChunkReader::Open(chunk);
  if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  DecodedBlock d;
  for (auto _ : state) {
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      if (!r->ReadTimestamps(i, &d).ok()) return state.SkipWithError("ReadTimestamps failed");
      benchmark::DoNotOptimize(d.timestamps().data());
    }
  }
  SetCommon(state, codec, chunk.size());
}

// Counts occurrences of a literal in one contiguous buffer.
size_t CountLiteral(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  const char* p = hay.data();
  const char* end = p + hay.size();
  while (p < end) {
    const void* hit = memmem(p, static_cast<size_t>(end - p), needle.data(), needle.size());
    if (hit == nullptr) break;
    ++n;
    p = static_cast<const char*>(hit) + needle.size();
  }
  return n;
}

constexpr std::string_view kNeedle = "error";

void BM_ReadBlockAndScan(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  if (GetCorpus().lines.empty()) return state.SkipWithError("no testdata/loghub/*.log");
  const std::string chunk = BuildChunk(codec);
  auto r = ChunkReader::Open(chunk);
  if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  DecodedBlock d;
  size_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      if (!r->ReadBlock(i, &d).ok()) return state.SkipWithError("ReadBlock failed");
      hits += CountLiteral(d.lines_data(), kNeedle);
    }
    benchmark::DoNotOptimize(hits);
  }
  SetCommon(state, codec, chunk.size());
  state.counters["hits"] = static_cast<double>(hits);
}

// The scan alone, over already decoded blocks (codec-independent).
void BM_ScanDecoded(benchmark::State& state) {
  if (GetCorpus().lines.empty()) return state.SkipWithError("no testdata/loghub/*.log");
  const std::string chunk = BuildChunk(Codec::kSnappy);
  auto r = ChunkReader::Open(chunk);
  if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  std::vector<DecodedBlock> blocks(r->blocks().size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (!r->ReadBlock(i, &blocks[i]).ok()) return state.SkipWithError("ReadBlock failed");
  }
  size_t hits = 0;
  for (auto _ : state) {
    hits = 0;
    for (const DecodedBlock& d : blocks) hits += CountLiteral(d.lines_data(), kNeedle);
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * GetCorpus().line_bytes));
  state.counters["hits"] = static_cast<double>(hits);
}

void BM_Crc32c(benchmark::State& state) {
  std::string buf(256 << 10, 'x');
  const bool hw = state.range(0) == 1;
  for (auto _ : state) {
    uint32_t c = hw ? crc32c::Extend(0, buf.data(), buf.size())
                    : crc32c::ExtendPortable(0, buf.data(), buf.size());
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(hw ? (crc32c::IsHardwareAccelerated() ? "sse4.2" : "portable(no sse4.2)")
                    : "slice-by-8");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}

#define SKALD_CODEC_ARGS ->Arg(0)->Arg(1)->Arg(2)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond)
BENCHMARK(BM_BlockEncode) SKALD_CODEC_ARGS;
BENCHMARK(BM_ReadBlock) SKALD_CODEC_ARGS;
BENCHMARK(BM_ReadTimestamps) SKALD_CODEC_ARGS;
BENCHMARK(BM_ReadBlockAndScan) SKALD_CODEC_ARGS;
BENCHMARK(BM_ScanDecoded)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Crc32c)->Arg(0)->Arg(1);

}  // namespace
}  // namespace skald::chunk

BENCHMARK_MAIN();
