// Process life-cycle tests on the real skald binary.
//
// Crash: several threads push continuously while skald is killed with SIGKILL
// at random moments and restarted on the same data directory. Every push that
// got a 204 must be queryable exactly once at the end; pushes without an answer
// may be present at most once; every restart must have replayed WAL data.
//
// SIGTERM: a clean stop flushes every in-memory chunk to the store, so the
// restart finds all lines in the store and nothing to replay.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/time.h"
#include "skald_process.h"
#include "storage/chunk_store.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"
#include "tools/http/http_client.h"
#include "wire/push.h"

namespace skald::testing {
namespace {

using http::QueryEscape;

constexpr int kThreads = 3;
constexpr int kCycles = 12;
constexpr int kLinesPerPush = 10;

std::string LineFor(int thread, int64_t seq) {
  return "crash-test thread=" + std::to_string(thread) + " seq=" + std::to_string(seq);
}

TEST(CrashTest, EveryAcknowledgedPushSurvivesKillDashNine) {
  TempDir dir;
  // Short flush/idle periods so kills also land during chunk flushes and checkpoints.
  SkaldProcess skald(dir.path() + "/data",
                     {"-ingester.flush-check-period=200ms", "-ingester.chunks-idle-period=1s",
                      "-ingester.checkpoint-duration=1s", "-ingester.chunk-target-size=20000",
                      "-ingester.chunks-block-size=4096"});
  const int64_t base = (NowNanos() / kNanosPerSecond - 900) * kNanosPerSecond;
  std::mt19937 rng(20261121);

  std::mutex mu;
  std::set<std::string> acked;
  std::set<std::string> unacked;
  std::vector<int64_t> next_seq(kThreads, 0);
  int kills = 0;
  // Entries each restart after a kill replayed from the WAL ("WAL replay finished").
  std::vector<int64_t> replayed;

  for (int cycle = 0; cycle < kCycles; cycle++) {
    ASSERT_TRUE(skald.Start()) << skald.log();
    if (cycle > 0) {
      replayed.push_back(
          std::stoll("0" + LogField(skald.last_run_log(), "WAL replay finished", "entries")));
    }
    std::atomic<bool> stop{false};
    std::atomic<int> acked_this_cycle{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        while (!stop.load()) {
          wire::PushRequestBuilder b;
          b.AddStream("{app=\"crash\", thread=\"" + std::to_string(t) + "\"}");
          std::vector<std::string> lines;
          for (int i = 0; i < kLinesPerPush; i++) {
            int64_t seq = next_seq[t]++;
            // Unique, increasing timestamps per stream (1 µs apart).
            b.AddEntry(base + seq * 1000, LineFor(t, seq));
            lines.push_back(LineFor(t, seq));
          }
          auto r =
              skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                         wire::EncodePushProtobufSnappy(std::move(b).Build()));
          const bool ok = r.ok() && r->status == 204;
          {
            std::lock_guard<std::mutex> lock(mu);
            for (auto& l : lines) (ok ? acked : unacked).insert(l);
          }
          if (ok) acked_this_cycle++;
        }
      });
    }
    // Kill after a random amount of acknowledged work (not after a sleep): every
    // cycle leaves acknowledged data that only the WAL can bring back.
    const int pushes = 5 + static_cast<int>(rng() % 60);
    ASSERT_TRUE(WaitFor([&] { return acked_this_cycle.load() >= pushes; }))
        << "cycle " << cycle << ": only " << acked_this_cycle.load() << " pushes acknowledged";
    skald.Kill();
    kills++;
    stop = true;
    for (auto& th : threads) th.join();
  }

  ASSERT_TRUE(skald.Start()) << skald.log();
  replayed.push_back(
      std::stoll("0" + LogField(skald.last_run_log(), "WAL replay finished", "entries")));
  std::map<std::string, int> seen;
  for (int t = 0; t < kThreads; t++) {
    int64_t start = base;
    const int64_t end = base + next_seq[t] * 1000 + 1;
    while (true) {
      std::string target = "/loki/api/v1/query_range?query=" +
                           QueryEscape("{app=\"crash\", thread=\"" + std::to_string(t) + "\"}") +
                           "&start=" + std::to_string(start) + "&end=" + std::to_string(end) +
                           "&limit=5000&direction=forward";
      auto r = skald.Call("GET", target);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status, 200) << r->body;
      // Entries are ["<ns>","<line>"]; pull them out in order.
      size_t pos = 0;
      int n = 0;
      int64_t last_ts = start;
      const std::string marker = "[\"";
      while ((pos = r->body.find(marker, pos)) != std::string::npos) {
        size_t ts_end = r->body.find('"', pos + 2);
        std::string ts_text = r->body.substr(pos + 2, ts_end - pos - 2);
        size_t line_start = ts_end + 3;
        size_t line_end = r->body.find('"', line_start);
        std::string line = r->body.substr(line_start, line_end - line_start);
        if (line.rfind("crash-test", 0) == 0) {
          seen[line]++;
          last_ts = std::stoll(ts_text);
          n++;
        }
        pos = line_end;
      }
      if (n < 5000) break;
      start = last_ts + 1;
    }
  }
  size_t missing = 0, duplicated = 0, stray = 0;
  for (const auto& l : acked) {
    auto it = seen.find(l);
    if (it == seen.end()) {
      if (missing++ < 5) ADD_FAILURE() << "acknowledged line lost: " << l;
    }
  }
  for (const auto& [l, n] : seen) {
    if (n > 1 && duplicated++ < 5) ADD_FAILURE() << "line returned " << n << " times: " << l;
    if (!acked.count(l) && !unacked.count(l) && stray++ < 5) ADD_FAILURE() << "unknown line: " << l;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(kills, kCycles);
  // Each restart after a kill -9 brought data back from the WAL.
  ASSERT_EQ(replayed.size(), static_cast<size_t>(kCycles));
  for (size_t i = 0; i < replayed.size(); i++) {
    EXPECT_GT(replayed[i], 0) << "restart " << i + 1 << " replayed no WAL entries";
  }
  std::cout << "crash test: " << kills << " kill -9 cycles, " << acked.size()
            << " acknowledged lines verified, " << unacked.size() << " unacknowledged ("
            << (seen.size() - acked.size()) << " of them stored)\n";
  EXPECT_GT(acked.size(), 1000u);
  EXPECT_EQ(skald.Stop(), 0) << skald.log();
}

// The binary's allocator (SKALD_ALLOCATOR, cmake/Deps.cmake): with jemalloc, /metrics reports
// it, and a flush that empties the heads hands their pages back at once (the purge after a
// flush), rather than within the decay time.
TEST(AllocatorTest, TheBinaryReportsItsAllocatorAndAFlushReturnsFreedPages) {
  TempDir dir;
  SkaldProcess skald(
      dir.Sub("data"),
      {"-ingester.flush-check-period=1h", "-distributor.ingestion-rate-limit-mb=1000",
       "-distributor.ingestion-burst-size-mb=1000", "-ingester.per-stream-rate-limit=1GB",
       "-ingester.per-stream-rate-limit-burst=1GB"});
  ASSERT_TRUE(skald.Start()) << skald.log();
  auto gauge = [&](std::string_view name) -> double {
    auto r = skald.Call("GET", "/metrics");
    if (!r.ok()) return -1;
    return SampleValue(r->body, name).value_or(-1);
  };
#if defined(SKALD_TEST_JEMALLOC)
  const int64_t base = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  std::string line(1000, 'x');
  for (int s = 0; s < 200; s++) {
    wire::PushRequestBuilder b;
    b.AddStream("{app=\"alloc\", shard=\"" + std::to_string(s) + "\"}");
    for (int i = 0; i < 200; i++) {
      line[i % line.size()] = static_cast<char>('a' + (s + i) % 26);  // not one repeated line
      b.AddEntry(base + i * kNanosPerMilli, line);
    }
    auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                        wire::EncodePushProtobufSnappy(std::move(b).Build()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 204) << r->body;
  }
  const double allocated = gauge("skald_allocator_allocated_bytes");
  const double resident = gauge("skald_allocator_resident_bytes");
  EXPECT_GT(allocated, 1e6);
  EXPECT_GE(resident, allocated);
  EXPECT_GT(gauge("skald_allocator_metadata_bytes"), 0);
  auto flushed = skald.Call("POST", "/flush");
  ASSERT_TRUE(flushed.ok());
  ASSERT_EQ(flushed->status, 204);
  // Freed and purged: what stays resident is what is still allocated, plus bookkeeping and
  // some slack for pages the allocator keeps partly used.
  const double after_allocated = gauge("skald_allocator_allocated_bytes");
  const double after_resident = gauge("skald_allocator_resident_bytes");
  EXPECT_LT(after_allocated, allocated);
  EXPECT_LT(after_resident - after_allocated - gauge("skald_allocator_metadata_bytes"), 8e6);
#else
  EXPECT_EQ(gauge("skald_allocator_resident_bytes"), -1);  // libc: not reported
#endif
  EXPECT_EQ(skald.Stop(), 0) << skald.log();
}

TEST(SigtermTest, CleanStopFlushesEverythingToTheStoreAndRestartFindsEveryLineOnce) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  // No background flushes: whatever reaches the store does so at shutdown.
  SkaldProcess skald(data, {"-ingester.flush-check-period=1h"});
  ASSERT_TRUE(skald.Start()) << skald.log();
  const int64_t base = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  constexpr int kStreams = 10, kPerStream = 300;
  for (int s = 0; s < kStreams; s++) {
    wire::PushRequestBuilder b;
    b.AddStream("{app=\"restart\", shard=\"" + std::to_string(s) + "\"}");
    // Out of order within the stream on purpose.
    for (int i = kPerStream - 1; i >= 0; i--) {
      b.AddEntry(base + (i * kStreams + s) * kNanosPerMilli,
                 "line " + std::to_string(s) + "-" + std::to_string(i));
    }
    auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                        wire::EncodePushProtobufSnappy(std::move(b).Build()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 204) << r->body;
  }
  auto before = skald.Call("GET", "/metrics");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(SampleValue(before->body, "loki_ingester_memory_streams{tenant=\"fake\"}"), kStreams);
  ASSERT_EQ(skald.Stop(), 0) << skald.log();

  // The clean stop wrote the chunks, packed into a few objects (not one file per stream)...
  int chunks = 0, pack_files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(data + "/store/packs")) {
    if (!e.is_regular_file()) continue;
    pack_files++;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto footer = storage::ReadPackFooter(bytes);
    ASSERT_TRUE(footer.ok()) << e.path() << ": " << footer.status().ToString();
    chunks += static_cast<int>(footer->size());
  }
  EXPECT_GE(chunks, kStreams);
  EXPECT_LE(pack_files, 2);
  // ...and left the WAL nothing to bring back.
  ASSERT_TRUE(skald.Start()) << skald.log();
  EXPECT_EQ(LogField(skald.last_run_log(), "WAL replay finished", "entries"), "0")
      << skald.last_run_log();
  auto after = skald.Call("GET", "/metrics");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(SampleValue(after->body, "loki_ingester_memory_streams{tenant=\"fake\"}").value_or(0),
            0);

  auto r = skald.Call("GET", "/loki/api/v1/query_range?query=" + QueryEscape(R"({app="restart"})") +
                                 "&start=" + std::to_string(base) +
                                 "&end=" + std::to_string(base + 3600 * kNanosPerSecond) +
                                 "&limit=5000&direction=forward");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  for (int s = 0; s < kStreams; s++) {
    for (int i = 0; i < kPerStream; i++) {
      std::string needle = "\"line " + std::to_string(s) + "-" + std::to_string(i) + "\"";
      size_t first = r->body.find(needle);
      ASSERT_NE(first, std::string::npos) << needle;
      ASSERT_EQ(r->body.find(needle, first + 1), std::string::npos) << "duplicate " << needle;
    }
  }
  EXPECT_EQ(skald.Stop(), 0) << skald.log();
}

}  // namespace
}  // namespace skald::testing
