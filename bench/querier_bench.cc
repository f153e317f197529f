// Metric-query scan speed of the querier on one core: pushes generated loghub-shaped lines
// (src/tools/bench corpus and generator) into a real ingester, flushes them into an
// in-memory object store (or keeps them in the ingester with --ingester), then runs metric
// queries over the whole window through QueryApi::Range with parallelism 1 and no pool, so
// the figure is per core. Prints, per query, the median of --reps runs and the logical log
// bytes per second: the line bytes of the entries the query covers, whatever the querier
// had to decompress to answer it. Wall time and process CPU time are both shown (the CPU
// figure does not suffer from other load on the machine; the query uses one thread).
//
// Run: querier_bench [--mb 300] [--streams 16] [--hours 6] [--reps 3] [--meta]
//                    [--ingester] [--codec zstd|snappy|lz4|gzip|none] [--query Q]...
// --meta gives every entry of every other stream a structured-metadata pair (trace_id).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/codec.h"
#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "limits/limits.h"
#include "querier/querier.h"
#include "querier/query_api.h"
#include "storage/object_store.h"
#include "tools/bench/corpus.h"

namespace skald {
namespace {

// A minimal thread-safe in-memory object store (the bench measures the querier, not I/O).
class MemStore final : public storage::ObjectStore {
 public:
  Status Put(std::string_view key, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[std::string(key)] = std::string(data);
    return Status::OK();
  }
  StatusOr<std::string> Get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return Status::NotFound(std::string(key));
    return it->second;
  }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (auto it = objects_.lower_bound(std::string(prefix));
         it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      out.push_back(it->first);
    }
    return out;
  }
  Status Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(std::string(key));
    return Status::OK();
  }
  uint64_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t n = 0;
    for (const auto& [k, v] : objects_) n += v.size();
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

// CPU time of the whole process: the query runs on this thread only, so this is the
// query's CPU time, unaffected by other load on the machine.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Flags {
  uint64_t mb = 300;
  int streams = 16;
  int hours = 6;
  int reps = 3;
  bool meta = false;
  bool in_ingester = false;
  chunk::Codec codec = chunk::Codec::kZstd;
  std::vector<std::string> queries;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--meta") {
      f->meta = true;
    } else if (a == "--ingester") {
      f->in_ingester = true;
    } else if (a == "--mb" && (v = next())) {
      f->mb = std::strtoull(v, nullptr, 10);
    } else if (a == "--streams" && (v = next())) {
      f->streams = std::atoi(v);
    } else if (a == "--hours" && (v = next())) {
      f->hours = std::atoi(v);
    } else if (a == "--reps" && (v = next())) {
      f->reps = std::atoi(v);
    } else if (a == "--query" && (v = next())) {
      f->queries.emplace_back(v);
    } else if (a == "--codec" && (v = next())) {
      auto c = chunk::ParseCodec(v);
      if (!c.ok()) {
        std::fprintf(stderr, "unknown codec %s\n", v);
        return false;
      }
      f->codec = *c;
    } else {
      std::fprintf(stderr, "unknown or incomplete flag %s\n", argv[i]);
      return false;
    }
  }
  return f->mb > 0 && f->streams > 0 && f->hours > 0 && f->reps > 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  if (flags.queries.empty()) {
    flags.queries = {
        R"(count_over_time({job="bench"}[1m]))",
        R"(sum by (host) (count_over_time({job="bench"}[1m])))",
        R"(sum by (host) (rate({job="bench"}[5m])))",
        R"(sum by (host) (bytes_over_time({job="bench"}[1m])))",
    };
  }
  auto corpus = bench::Corpus::LoadDir(SKALD_SOURCE_DIR "/testdata/loghub");
  if (!corpus.ok()) {
    std::fprintf(stderr, "corpus: %s\n", corpus.status().ToString().c_str());
    return 1;
  }

  MemStore store;
  index::IndexStore index(&store);
  ingester::IngesterOptions io;
  io.codec = flags.codec;
  io.max_chunk_age = int64_t{1000} * kNanosPerHour;  // cut by size only
  io.chunk_idle_period = int64_t{1000} * kNanosPerHour;
  ingester::Ingester ing(io, &store, &index, nullptr);

  // Every stream gets an equal share of the bytes, spread evenly over the window.
  const int64_t t0 = int64_t{1'700'000'000} * kNanosPerSecond;
  const int64_t window = int64_t{flags.hours} * kNanosPerHour;
  const uint64_t per_stream = flags.mb * 1000 * 1000 / static_cast<uint64_t>(flags.streams);
  uint64_t logical = 0, entries = 0;
  const auto& sources = corpus->sources();
  for (int s = 0; s < flags.streams; s++) {
    const auto& src = sources[static_cast<size_t>(s) % sources.size()];
    auto labels =
        ParseLabels("{job=\"bench\", host=\"host-" + std::to_string(s % 8) + "\", app=\"" +
                    src.name + "\", stream=\"" + std::to_string(s) + "\"}");
    if (!labels.ok()) return 1;
    bench::LineGenerator gen(&src, 42, static_cast<uint64_t>(s));
    // Entries per stream from the source's mean line length.
    const double mean = static_cast<double>(src.bytes) / static_cast<double>(src.templates.size());
    const auto n = static_cast<int64_t>(static_cast<double>(per_stream) / std::max(1.0, mean));
    const int64_t gap = std::max<int64_t>(1, window / std::max<int64_t>(1, n));
    const bool with_meta = flags.meta && s % 2 == 1;
    std::vector<std::string> lines;
    std::vector<std::string> trace(1000);
    std::vector<MetadataPair> md;
    std::vector<ingester::AppendEntry> batch;
    int64_t ts = t0 + s;
    for (int64_t i = 0; i < n;) {
      const int64_t chunk = std::min<int64_t>(n - i, 4096);
      lines.resize(static_cast<size_t>(chunk));
      batch.clear();
      md.clear();
      md.reserve(static_cast<size_t>(chunk));
      for (int64_t k = 0; k < chunk; k++) {
        gen.Next(&lines[static_cast<size_t>(k)]);
        logical += lines[static_cast<size_t>(k)].size();
        std::string& t = trace[static_cast<size_t>((i + k) % 1000)];
        if (with_meta && t.empty()) t = "trace-" + std::to_string((i + k) % 1000);
        if (with_meta) md.push_back({"trace_id", t});
      }
      for (int64_t k = 0; k < chunk; k++) {
        std::span<const MetadataPair> m;
        if (with_meta) m = std::span<const MetadataPair>(&md[static_cast<size_t>(k)], 1);
        batch.push_back({ts, lines[static_cast<size_t>(k)], m});
        ts += gap;
      }
      ingester::AppendResult r;
      Status st = ing.Push("fake", *labels, batch, &r);
      if (!st.ok() || !r.rejected.empty()) {
        std::fprintf(stderr, "push failed: %s\n", st.ToString().c_str());
        return 1;
      }
      i += chunk;
      entries += static_cast<uint64_t>(chunk);
    }
  }
  if (!flags.in_ingester) {
    Status st = ing.FlushAll();
    if (!st.ok()) {
      std::fprintf(stderr, "flush: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  std::printf(
      "data: %llu entries, %.1f MB logical line bytes, %d streams over %d h, codec %s, %s, "
      "stored %.1f MB, metadata: %s\n",
      static_cast<unsigned long long>(entries), static_cast<double>(logical) / 1e6, flags.streams,
      flags.hours, std::string(chunk::CodecName(flags.codec)).c_str(),
      flags.in_ingester ? "in the ingester" : "flushed to the store",
      static_cast<double>(store.bytes()) / 1e6, flags.meta ? "every other stream" : "none");

  querier::QuerierOptions qo;
  qo.pool = nullptr;
  qo.parallelism = 1;
  querier::Querier q(qo, &ing, &index, &store);
  limits::Limits lim;
  lim.max_query_series = 1 << 20;
  lim.query_timeout_ns = 0;
  lim.max_query_length_ns = 0;
  limits::Overrides overrides(lim);
  querier::QueryApi api(&q, &overrides);

  for (const std::string& query : flags.queries) {
    querier::RangeQuery rq;
    rq.query = query;
    rq.start_ns = t0;
    rq.end_ns = t0 + window + kNanosPerMinute;
    rq.step_ns = kNanosPerMinute;
    std::vector<double> secs, cpus;
    uint64_t decompressed = 0;
    for (int r = 0; r < flags.reps; r++) {
      const int64_t a = MonotonicNanos();
      const double ca = CpuSeconds();
      auto res = api.Range("fake", rq);
      const int64_t b = MonotonicNanos();
      cpus.push_back(CpuSeconds() - ca);
      if (!res.ok()) {
        std::fprintf(stderr, "%s: %s\n", query.c_str(), res.status().ToString().c_str());
        return 1;
      }
      decompressed = res->stats.TotalBytes();
      secs.push_back(static_cast<double>(b - a) / 1e9);
    }
    std::sort(secs.begin(), secs.end());
    std::sort(cpus.begin(), cpus.end());
    const double med = secs[secs.size() / 2];
    const double cpu = cpus[cpus.size() / 2];
    std::printf(
        "%-56s wall median %.3f s (min %.3f, max %.3f) of %d = %.0f MB/s; cpu median "
        "%.3f s = %.0f MB/s logical per core (stats totalBytesProcessed %.1f MB)\n",
        query.c_str(), med, secs.front(), secs.back(), flags.reps,
        static_cast<double>(logical) / 1e6 / med, cpu, static_cast<double>(logical) / 1e6 / cpu,
        static_cast<double>(decompressed) / 1e6);
  }
  return 0;
}

}  // namespace
}  // namespace skald

int main(int argc, char** argv) { return skald::Main(argc, argv); }
