// WAL benchmarks on the real file system (a temp dir under $TMPDIR or /tmp): Append throughput
// with fsync on and off, for small and large records, from 1 and 8 threads (group commit),
// and Replay throughput. Reported as records/s (items_per_second) and bytes/s; `fsyncs` is
// the number of fdatasync calls per appended record.
//
// Run: wal_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "core/file_system.h"
#include "wal/records.h"
#include "wal/replay.h"
#include "wal/wal.h"

namespace skald::wal {
namespace {

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/skald_wal_bench_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// A realistic kEntries payload: one stream, `entries` log lines of ~100 bytes.
std::string EntriesPayload(size_t bytes) {
  std::string out;
  EntriesEncoder enc;
  enc.Begin(&out, "tenant-1", 0x1234567890ABCDEFull);
  int64_t ts = 1'700'000'000'000'000'000;
  for (int i = 0; out.size() < bytes; ++i) {
    ts += 1'000'000;
    enc.Add(ts, "level=info msg=\"request served\" method=GET path=/api/v1/items/" +
                    std::to_string(i) + " status=200 duration=12ms");
  }
  return out;
}

struct Shared {
  std::string dir;
  std::unique_ptr<Wal> wal;
  std::string payload;
};
Shared* g_shared = nullptr;

void BM_Append(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const size_t record_bytes = static_cast<size_t>(state.range(1));
  if (state.thread_index() == 0) {
    g_shared = new Shared;
    g_shared->dir = MakeTempDir();
    WalOptions o;
    o.dir = g_shared->dir + "/wal";
    o.fsync = fsync;
    o.segment_size = 64ull << 20;
    auto w = Wal::Open(o);
    if (!w.ok()) {
      state.SkipWithError(w.status().ToString().c_str());
      return;
    }
    g_shared->wal = std::move(*w);
    g_shared->payload = EntriesPayload(record_bytes);
  }
  // g_shared is read inside the loop: all threads pass a barrier when the loop starts, after
  // thread 0 has set it up (and another one when it ends, before thread 0 tears it down).
  Shared* sh = nullptr;
  int64_t payload_size = 0;
  uint64_t n = 0;
  uint64_t removed_upto = 0;
  for (auto _ : state) {
    if (sh == nullptr) {
      sh = g_shared;
      payload_size = static_cast<int64_t>(sh->payload.size());
    }
    Status s = sh->wal->Append(RecordType::kEntries, sh->payload);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    // Keep disk usage bounded on long runs.
    if (state.thread_index() == 0 && (++n & 1023) == 0) {
      uint64_t cur = sh->wal->CurrentSegment();
      if (cur > removed_upto + 1) {
        (void)sh->wal->RemoveSegmentsBefore(cur);
        removed_upto = cur;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * payload_size);
  if (state.thread_index() == 0 && g_shared != nullptr) {
    sh = g_shared;
    WalStats st = sh->wal->Stats();
    state.counters["fsyncs"] = benchmark::Counter(
        st.records ? static_cast<double>(st.fsyncs) / static_cast<double>(st.records) : 0);
    state.counters["batch"] = benchmark::Counter(
        st.batches ? static_cast<double>(st.records) / static_cast<double>(st.batches) : 0);
    sh->wal.reset();
    (void)RemoveAll(PosixFileSystem(), sh->dir);
    delete sh;
    g_shared = nullptr;
  }
}

void AppendArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"fsync", "bytes"});
  for (int fsync : {1, 0}) {
    for (int bytes : {256, 4096, 65536}) b->Args({fsync, bytes});
  }
  b->UseRealTime();
}
BENCHMARK(BM_Append)->Apply(AppendArgs)->Threads(1)->Threads(8);

void BM_Replay(benchmark::State& state) {
  const size_t record_bytes = static_cast<size_t>(state.range(0));
  const std::string dir = MakeTempDir();
  const std::string payload = EntriesPayload(record_bytes);
  const size_t total = 64 << 20;
  {
    WalOptions o;
    o.dir = dir;
    o.fsync = false;
    auto w = Wal::Open(o);
    if (!w.ok()) {
      state.SkipWithError(w.status().ToString().c_str());
      return;
    }
    // Large batches so that setup is quick.
    std::vector<WalRecord> batch(64, WalRecord{RecordType::kEntries, payload});
    for (size_t written = 0; written < total; written += batch.size() * payload.size()) {
      if (!(*w)->Append(batch).ok()) std::abort();
    }
  }
  uint64_t records = 0, bytes = 0;
  for (auto _ : state) {
    ReplayStats st;
    Status s = Replay(
        dir, 0,
        [](RecordType, std::string_view p) {
          benchmark::DoNotOptimize(p.data());
          return Status::OK();
        },
        &st);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    records += st.records;
    bytes += st.bytes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  (void)RemoveAll(PosixFileSystem(), dir);
}
BENCHMARK(BM_Replay)->ArgName("bytes")->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace skald::wal

BENCHMARK_MAIN();
