// Crash test: several threads push continuously while the real skald process is
// killed with SIGKILL at random moments and restarted on the same data directory.
// Every push that got a 204 must be queryable exactly once at the end; pushes
// without an answer may be present at most once.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "wire/push.h"
#include "core/time.h"
#include "skald_process.h"
#include "tests/server/http_client.h"

namespace skald::testing {
namespace {

using skald::test::HttpCall;

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

  for (int cycle = 0; cycle < kCycles; cycle++) {
    ASSERT_TRUE(skald.Start()) << skald.log();
    std::atomic<bool> stop{false};
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
          auto r = HttpCall("127.0.0.1", skald.port(), "POST", "/loki/api/v1/push",
                            {{"Content-Type", "application/x-protobuf"}},
                            wire::EncodePushProtobufSnappy(std::move(b).Build()));
          std::lock_guard<std::mutex> lock(mu);
          for (auto& l : lines) (r.ok() && r->status == 204 ? acked : unacked).insert(l);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 700));
    skald.Kill();
    kills++;
    stop = true;
    for (auto& th : threads) th.join();
  }

  ASSERT_TRUE(skald.Start()) << skald.log();
  std::map<std::string, int> seen;
  for (int t = 0; t < kThreads; t++) {
    int64_t start = base;
    const int64_t end = base + next_seq[t] * 1000 + 1;
    while (true) {
      std::string target = "/loki/api/v1/query_range?query=" +
                           UrlEncode("{app=\"crash\", thread=\"" + std::to_string(t) + "\"}") +
                           "&start=" + std::to_string(start) + "&end=" + std::to_string(end) +
                           "&limit=5000&direction=forward";
      auto r = HttpCall("127.0.0.1", skald.port(), "GET", target, {}, "");
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
  EXPECT_GE(kills, 10);
  std::cout << "crash test: " << kills << " kill -9 cycles, " << acked.size()
            << " acknowledged lines verified, " << unacked.size() << " unacknowledged ("
            << (seen.size() - acked.size()) << " of them stored)\n";
  EXPECT_GT(acked.size(), 1000u);
  EXPECT_EQ(skald.Stop(), 0) << skald.log();
}

}  // namespace
}  // namespace skald::testing
