#include "pattern/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pattern/level.h"
#include "pattern/tee.h"
#include "tests/testing/labels.h"

namespace skald::pattern {
namespace {

using testing::Eq;
using testing::L;
using testing::Re;

constexpr int64_t kSec = 1000000000;

std::vector<std::string> ReadLines(const std::string& path, size_t n) {
  std::ifstream in(std::string(SKALD_SOURCE_DIR) + "/" + path);
  std::vector<std::string> out;
  std::string line;
  while (out.size() < n && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

void PushLines(PatternStore* store, std::string_view tenant, const Labels& labels,
               const std::vector<std::string>& lines, int64_t base_s, int64_t span_s) {
  std::vector<EntryView> entries;
  const int64_t n = static_cast<int64_t>(lines.size());
  for (int64_t i = 0; i < n; i++) {
    entries.push_back({(base_s + i * span_s / n) * kSec + i, lines[static_cast<size_t>(i)], {}});
  }
  store->Push(tenant, labels, 0, entries);
}

// The lines the comparison with Loki pushed (one stream per job; see the expectations file).
std::vector<std::pair<std::string, std::vector<std::string>>> ComparisonStreams() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (auto [job, file] : {std::pair{"hdfs", "HDFS_2k.log"},
                           {"openssh", "OpenSSH_2k.log"},
                           {"apache", "Apache_2k.log"},
                           {"zookeeper", "Zookeeper_2k.log"}}) {
    out.emplace_back(job, ReadLines(std::string("testdata/loghub/") + file, 600));
  }
  std::vector<std::string> lf, js;
  const char* levels[] = {"info", "warn", "error"};
  char buf[512];
  for (int i = 0; i < 300; i++) {
    std::snprintf(buf, sizeof buf,
                  "ts=2024-03-30T23:0%d:%02dZ level=%s caller=flush.go:%d msg=\"flushing stream\" "
                  "user=tenant%d bytes=%dKB",
                  i % 10, i % 60, levels[i % 3], 100 + i % 7, i % 5, i * 3);
    lf.push_back(buf);
    std::snprintf(buf, sizeof buf,
                  "{\"level\": \"%s\", \"msg\": \"request %d served in %dms for user u%d\", "
                  "\"trace\": \"abc%d\"}",
                  i % 2 ? "info" : "debug", i, i * 7 % 300, i % 9, i);
    js.push_back(buf);
  }
  out.emplace_back("logfmt", lf);
  out.emplace_back("json", js);
  return out;
}

std::vector<std::string> Canonical(const std::string& job, const std::string& step,
                                   const std::vector<PatternSeries>& series) {
  struct Row {
    int64_t total;
    std::string level, pattern, samples;
  };
  std::vector<Row> rows;
  int64_t prev = INT64_MAX;
  for (const PatternSeries& s : series) {
    Row r{0, s.level, s.pattern, ""};
    for (const Sample& x : s.samples) {
      r.total += x.count;
      if (!r.samples.empty()) r.samples += ",";
      r.samples += std::to_string(x.ts_ms / 1000) + ":" + std::to_string(x.count);
    }
    EXPECT_LE(r.total, prev) << "not sorted by total";
    prev = r.total;
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.total != b.total) return a.total > b.total;
    if (a.level != b.level) return a.level < b.level;
    return a.pattern < b.pattern;
  });
  std::vector<std::string> out;
  for (const Row& r : rows) {
    out.push_back(job + "\t" + step + "\t" + std::to_string(r.total) + "\t" + r.level + "\t" +
                  r.samples + "\t" + r.pattern);
  }
  return out;
}

// Expectations recorded from Grafana Loki 3.7.6 (see the header of the file).
TEST(PatternStoreTest, MatchesLoki376OnTheSameLines) {
  const int64_t base = 1796520600;
  PatternStoreOptions o;
  o.now_ns = [&] { return (base + 300) * kSec; };
  PatternStore store(o);
  for (const auto& [job, lines] : ComparisonStreams()) {
    PushLines(&store, "fake", L({{"job", job}}), lines, base, 200);
  }
  std::map<std::string, std::vector<std::string>> want;
  for (const std::string& line : ReadLines("testdata/pattern/loki-3.7.6-patterns.txt", 100000)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t'), b = line.find('\t', a + 1);
    want[line.substr(0, b)].push_back(line);
  }
  ASSERT_EQ(want.size(), 12u);
  for (const auto& [job, lines] : ComparisonStreams()) {
    for (auto [step, step_s] : {std::pair{"10s", 10}, {"60s", 60}}) {
      auto got =
          store.Query("fake", {Eq("job", job)}, base * kSec, (base + 300) * kSec, step_s * kSec);
      EXPECT_EQ(Canonical(job, step, got), want[job + "\t" + step]) << job << " step " << step;
    }
  }
}

// All 12 loghub files merged by one selector; expectations recorded from Loki 3.7.6.
TEST(PatternStoreTest, MatchesLoki376OnAllLoghubFiles) {
  const int64_t base = 1796521200;
  PatternStoreOptions o;
  o.now_ns = [&] { return (base + 300) * kSec; };
  PatternStore store(o);
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(SKALD_SOURCE_DIR) + "/testdata/loghub")) {
    if (e.path().extension() == ".log") files.push_back(e.path().filename().string());
  }
  ASSERT_EQ(files.size(), 12u);
  for (const std::string& f : files) {
    // The recording labelled each stream with the file name minus its last 8 bytes.
    PushLines(&store, "fake", L({{"src", f.substr(0, f.size() - 8)}}),
              ReadLines("testdata/loghub/" + f, 2000), base, 200);
  }
  std::vector<std::string> want;
  for (const std::string& line :
       ReadLines("testdata/pattern/loki-3.7.6-patterns-loghub12.txt", 100000)) {
    if (!line.empty() && line[0] != '#') want.push_back("all\t60s\t" + line);
  }
  ASSERT_EQ(want.size(), 148u);
  auto got = store.Query("fake", {Re("src", ".+")}, base * kSec, (base + 300) * kSec, 60 * kSec);
  EXPECT_EQ(Canonical("all", "60s", got), want);
}

TEST(PatternStoreTest, MergesStreamsFiltersSmallPatternsAndIsolatesTenants) {
  PatternStoreOptions o;
  PatternStore store(o);
  std::vector<std::string> lines;
  for (int i = 0; i < 20; i++) lines.push_back("GET /api/v1/user/" + std::to_string(i) + " 200 OK");
  PushLines(&store, "t1", L({{"app", "a"}}), lines, 1700000000, 20);
  PushLines(&store, "t1", L({{"app", "b"}}), lines, 1700000000, 20);
  PushLines(&store, "t2", L({{"app", "a"}}), lines, 1700000000, 20);
  auto all = store.Query("t1", {Re("app", ".+")}, 1700000000 * kSec, 1700000100 * kSec, 0);
  ASSERT_EQ(all.size(), 1u);                    // 40 lines >= 30
  EXPECT_EQ(all[0].pattern, "GET <_> 200 OK");  // "/api/v1/user/1" is one token
  EXPECT_EQ(all[0].level, "unknown");
  int64_t total = 0;
  for (const Sample& s : all[0].samples) total += s.count;
  EXPECT_EQ(total, 40);
  // One stream alone has 20 lines: below Loki's minimum of 30.
  EXPECT_TRUE(store.Query("t1", {Eq("app", "a")}, 1700000000 * kSec, 1700000100 * kSec, 0).empty());
  EXPECT_TRUE(store.Query("t3", {Eq("app", "a")}, 1700000000 * kSec, 1700000100 * kSec, 0).empty());
  EXPECT_EQ(store.Stats().streams, 3u);
}

TEST(PatternStoreTest, LevelFromMetadataFirst) {
  PatternStoreOptions o;
  o.min_cluster_size = 1;
  PatternStore store(o);
  MetadataPair warn[] = {{"detected_level", "WARN"}};
  std::vector<EntryView> e = {{1700000000 * kSec, "error while doing thing number 1", warn},
                              {1700000001 * kSec, "error while doing thing number 2", {}}};
  store.Push("t", L({{"a", "b"}}), 0, e);
  auto got = store.Query("t", {Eq("a", "b")}, 1700000000 * kSec, 1700000100 * kSec, 0);
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> levels = {got[0].level, got[1].level};
  EXPECT_EQ(levels, (std::set<std::string>{"warn", "error"}));
}

TEST(LevelTest, DetectsLikeLokisDistributor) {
  EXPECT_EQ(DetectLevelFromLine("2024 [ERROR] disk full"), "error");
  EXPECT_EQ(DetectLevelFromLine("INFO then an error: x"), "info");        // the earliest word
  EXPECT_EQ(DetectLevelFromLine("information about errors"), "unknown");  // not words
  EXPECT_EQ(DetectLevelFromLine("x=1 warning: y"), "warn");
  EXPECT_EQ(DetectLevelFromLine("level=err"), "error");
  EXPECT_EQ(NormalizeLogLevel("WRN"), "warn");
  EXPECT_EQ(NormalizeLogLevel("notice"), "notice");
  MetadataPair meta[] = {{"detected_level", "Fatal"}};
  EXPECT_EQ(kLevels[EntryLevel("info", meta, -1)], "fatal");
  EXPECT_EQ(kLevels[EntryLevel("info: started", {}, LevelIndex("debug"))], "debug");
  EXPECT_EQ(kLevels[EntryLevel(R"({"msg":"error here","level":"INFO"})", {}, -1)], "info");
  EXPECT_EQ(kLevels[EntryLevel("ts=1 lvl=wrn msg=x", {}, -1)], "warn");
  EXPECT_EQ(kLevels[EntryLevel("ts=1 level=notice msg=error", {}, -1)], "error");
  EXPECT_EQ(kLevels[EntryLevel("nothing to see", {}, -1)], "unknown");
  EXPECT_EQ(StreamLevel(L({{"level", "ERR"}})), LevelIndex("error"));
  EXPECT_EQ(StreamLevel(L({{"app", "x"}})), -1);
}

TEST(PatternStoreTest, EncodesLokisJson) {
  std::vector<PatternSeries> s = {
      {"<_> level=info msg=<_>", "info", {{1711839260000, 1}, {1711839270000, 2}}}};
  EXPECT_EQ(
      EncodePatternsResponse(s),
      R"({"status":"success","data":[{"pattern":"\u003c_\u003e level=info msg=\u003c_\u003e",)"
      R"("level":"info","samples":[[1711839260,1],[1711839270,2]]}]})");
  EXPECT_EQ(EncodePatternsResponse({}), R"({"status":"success","data":[]})");
}

TEST(PatternStoreTest, PruneDropsOldDataAndEnforcesTheTenantBudget) {
  int64_t now = 1700000000 * kSec;
  PatternStoreOptions o;
  o.now_ns = [&] { return now; };
  o.min_cluster_size = 1;
  PatternStore store(o);
  std::vector<std::string> lines = {"alpha beta gamma delta 1", "alpha beta gamma delta 2"};
  PushLines(&store, "t", L({{"s", "1"}}), lines, 1700000000, 2);
  store.Prune();
  EXPECT_EQ(store.Stats().streams, 1u);
  EXPECT_GT(store.Stats().bytes, 0u);
  now += 3 * 3600 * kSec + 60 * kSec;  // past retain_for
  store.Prune();
  EXPECT_EQ(store.Stats().streams, 0u);

  // Budget: many streams, a tiny budget; the oldest go first.
  PatternStoreOptions small = o;
  small.max_bytes_per_tenant = 20000;
  PatternStore bounded(small);
  for (int i = 0; i < 50; i++) {
    now += kSec;
    PushLines(&bounded, "t", L({{"s", std::to_string(i)}}), lines, now / kSec, 2);
  }
  bounded.Prune();
  const PatternStoreStats st = bounded.Stats();
  EXPECT_LT(st.streams, 50u);
  EXPECT_LE(st.bytes, 20000u);
  EXPECT_FALSE(bounded.Query("t", {Eq("s", "49")}, 0, now + kSec, 0).empty());
  EXPECT_TRUE(bounded.Query("t", {Eq("s", "0")}, 0, now + kSec, 0).empty());
}

TEST(PatternStoreTest, StreamLimit) {
  PatternStoreOptions o;
  o.max_streams_per_tenant = 2;
  PatternStore store(o);
  std::vector<std::string> lines = {"alpha beta gamma delta 1"};
  for (int i = 0; i < 5; i++) PushLines(&store, "t", L({{"s", std::to_string(i)}}), lines, 1, 1);
  EXPECT_EQ(store.Stats().streams, 2u);
}

// Concurrent pushes (several streams, shared streams) and queries; run under TSan.
TEST(PatternStoreTest, ConcurrentPushesAndQueries) {
  PatternStoreOptions o;
  o.min_cluster_size = 1;
  o.now_ns = [] { return 1700003000 * kSec; };
  PatternStore store(o);
  auto lines = ReadLines("testdata/loghub/OpenSSH_2k.log", 2000);
  ASSERT_FALSE(lines.empty());
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; w++) {
    threads.emplace_back([&, w] {
      for (size_t i = 0; i < lines.size(); i += 50) {
        std::vector<EntryView> e;
        for (size_t k = i; k < std::min(lines.size(), i + 50); k++) {
          e.push_back({static_cast<int64_t>(1700000000 + k) * kSec, lines[k], {}});
        }
        store.Push("t", L({{"s", std::to_string(w % 2)}}), 0, e);
      }
    });
  }
  std::thread reader([&] {
    while (!done.load()) {
      auto got = store.Query("t", {Re("s", ".*")}, 0, 1800000000 * kSec, 60 * kSec);
      for (const auto& s : got) ASSERT_FALSE(s.pattern.empty());
      store.Prune();
      (void)store.Stats();
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  auto got = store.Query("t", {Re("s", ".*")}, 0, 1800000000 * kSec, 60 * kSec);
  EXPECT_FALSE(got.empty());
}

class FakePusher : public ingester::Pusher {
 public:
  Status PushBatch(std::string_view, std::span<ingester::StreamAppend> streams) override {
    calls++;
    if (fail) return Status::Unavailable("down");
    for (auto& s : streams) s.result.appended = static_cast<uint32_t>(s.entries.size());
    return Status::OK();
  }
  int calls = 0;
  bool fail = false;
};

TEST(PatternTeeTest, ForwardsThenFeedsTheStore) {
  for (bool async : {false, true}) {
    PatternStoreOptions o;
    o.min_cluster_size = 1;
    PatternStore store(o);
    FakePusher next;
    PatternTeeOptions to;
    to.async = async;
    PatternTee tee(&next, &store, to);
    Labels labels = L({{"app", "x"}});
    MetadataPair lvl[] = {{"detected_level", "info"}, {"trace_id", "abc"}};
    std::vector<ingester::AppendEntry> entries = {
        {1700000000 * kSec, "request served in 5 ms", lvl},
        {1700000001 * kSec, "request served in 7 ms", lvl}};
    ingester::StreamAppend sa;
    sa.labels = &labels;
    sa.entries = entries;
    ASSERT_TRUE(tee.PushBatch("t", std::span(&sa, 1)).ok());
    tee.WaitIdle();
    auto got = store.Query("t", {Eq("app", "x")}, 0, 1800000000 * kSec, 0);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].pattern, "request served in <_> ms");
    EXPECT_EQ(got[0].level, "info");
    // A failed push is not teed.
    next.fail = true;
    EXPECT_FALSE(tee.PushBatch("t", std::span(&sa, 1)).ok());
    tee.WaitIdle();
    EXPECT_EQ(store.Query("t", {Eq("app", "x")}, 0, 1800000000 * kSec, 0)[0].samples[0].count, 2);
  }
}

TEST(PatternTeeTest, DropsWhenTheQueueIsFull) {
  PatternStore store(PatternStoreOptions{});
  FakePusher next;
  PatternTeeOptions to;
  to.queue_max_bytes = 1;  // only one batch can wait at a time
  PatternTee tee(&next, &store, to);
  Labels labels = L({{"app", "x"}});
  std::string line(1000, 'a');
  std::vector<ingester::AppendEntry> entries(100, {1700000000 * kSec, line, {}});
  ingester::StreamAppend sa;
  sa.labels = &labels;
  sa.entries = entries;
  for (int i = 0; i < 200; i++) ASSERT_TRUE(tee.PushBatch("t", std::span(&sa, 1)).ok());
  tee.WaitIdle();
  EXPECT_EQ(next.calls, 200);
  EXPECT_GT(tee.dropped_entries(), 0u);
}

}  // namespace
}  // namespace skald::pattern
