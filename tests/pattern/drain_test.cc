#include "pattern/drain.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace skald::pattern {
namespace {

constexpr int64_t kSec = 1000000000;

std::vector<std::string> LoghubLines(const std::string& file, size_t n) {
  std::ifstream in(std::string(SKALD_SOURCE_DIR) + "/testdata/loghub/" + file);
  std::vector<std::string> out;
  std::string line;
  while (out.size() < n && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> Patterns(const Drain& d) {
  std::vector<std::string> out;
  for (const LogCluster* c : d.Clusters()) out.push_back(d.PatternOf(*c));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DrainTest, ClustersSimilarLines) {
  DrainStats st;
  Drain d(DrainConfig{}, LineFormat::kUnknown, &st);
  d.Train("user 1001 logged in from 10.0.0.1", 0);
  d.Train("user 1002 logged in from 10.0.0.2", kSec);
  d.Train("disk /dev/sda1 is 91% full", 2 * kSec);
  EXPECT_EQ(Patterns(d), (std::vector<std::string>{"disk /dev/sda1 is 91% full",
                                                   "user <_> logged in from <_>"}));
  EXPECT_EQ(st.detected, 2u);
  // A word the tree has no branch for follows the placeholder branch when there is one...
  d.Train("user alice logged in from 10.0.0.1", 3 * kSec);
  EXPECT_EQ(st.detected, 2u);
  // ... and is a new branch (so a new cluster) when there is none: Drain's prefix tree.
  d.Train("memory at 91% of limit", 4 * kSec);
  EXPECT_EQ(st.detected, 3u);
  // Fewer than 4 tokens: skipped.
  EXPECT_EQ(d.Train("a b c", 0), nullptr);
  EXPECT_EQ(st.skipped_too_few, 1u);
}

TEST(DrainTest, EveryLineMatchesItsClusterOnRealLogs) {
  for (const char* file : {"HDFS_2k.log", "OpenSSH_2k.log", "Linux_2k.log", "Spark_2k.log",
                           "Zookeeper_2k.log", "Android_2k.log", "Proxifier_2k.log"}) {
    DrainStats st;
    Drain d(DrainConfig{}, LineFormat::kUnknown, &st);
    auto lines = LoghubLines(file, 2000);
    ASSERT_GT(lines.size(), 1000u) << file;
    std::vector<std::string_view> tokens;
    std::vector<int> spaces;
    for (size_t i = 0; i < lines.size(); i++) {
      const LogCluster* c = d.Train(lines[i], static_cast<int64_t>(i) * kSec);
      if (c == nullptr) continue;
      SkipReason why;
      ASSERT_TRUE(d.tokenizer().Tokenize(lines[i], &tokens, &spaces, &why));
      ASSERT_EQ(tokens.size(), c->tokens().size());
      for (size_t k = 0; k < tokens.size(); k++) {
        if (c->tokens()[k] != kPlaceholder) {
          ASSERT_EQ(c->tokens()[k], tokens[k]) << file;
        }
      }
    }
    EXPECT_LE(d.cluster_count(), 300u);
    EXPECT_GT(d.cluster_count(), 0u);
  }
}

TEST(DrainTest, LruEvictsAndTheLimiterThrottles) {
  DrainConfig cfg;
  cfg.max_clusters = 5;
  DrainStats st;
  int64_t now = 0;
  Drain d(cfg, LineFormat::kUnknown, &st, [&] { return now; });
  // Every line has a different shape (token count), so each makes a cluster.
  std::string line = "a b c";
  for (int i = 0; i < 20; i++) {
    line += " x";
    d.Train(line, 0);
  }
  EXPECT_LE(d.cluster_count(), 5u);
  EXPECT_GT(st.evicted, 0u);
  // evicted / added passed 0.25: refused for 10 minutes, then allowed again.
  EXPECT_GT(st.skipped_throttled, 0u);
  const uint64_t throttled = st.skipped_throttled;
  d.Train("a b c d", 0);
  EXPECT_EQ(st.skipped_throttled, throttled + 1);
  now += 10LL * 60 * kSec;
  EXPECT_NE(d.Train("a b c d", 0), nullptr);
}

TEST(DrainTest, SamplesAreCountedIn10sBucketsAndSummedIntoSteps) {
  Drain d(DrainConfig{}, LineFormat::kUnknown, nullptr);
  const int64_t base = 1699999980LL * kSec;  // a multiple of 60 s
  const LogCluster* c = nullptr;
  for (int64_t s : {0, 1, 9, 10, 25, 65, 66}) c = d.Train("one two three four", base + s * kSec);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size(), 7);
  const int64_t b = base / 1000000;
  std::vector<Sample> out;
  c->AppendRange(b, b + 120000, 10000, 10000, &out);
  EXPECT_EQ(out, (std::vector<Sample>{{b, 3}, {b + 10000, 1}, {b + 20000, 1}, {b + 60000, 2}}));
  out.clear();
  c->AppendRange(b, b + 120000, 30000, 10000, &out);
  EXPECT_EQ(out, (std::vector<Sample>{{b, 5}, {b + 30000, 0}, {b + 60000, 2}}));
  // [from, through) on bucket starts...
  out.clear();
  c->AppendRange(b + 10000, b + 50000, 10000, 10000, &out);
  EXPECT_EQ(out, (std::vector<Sample>{{b + 10000, 1}, {b + 20000, 1}}));
  // ... except that, as in Loki's Chunk.ForRange, a chunk's last sample at exactly `through`
  // is kept.
  out.clear();
  c->AppendRange(b + 10000, b + 60000, 10000, 10000, &out);
  EXPECT_EQ(out, (std::vector<Sample>{{b + 10000, 1}, {b + 20000, 1}, {b + 60000, 2}}));
  // Out of order (older than the last bucket) is not counted.
  d.Train("one two three four", base + 5 * kSec);
  EXPECT_EQ(c->size(), 8);
  EXPECT_EQ(c->sample_count(), 4u);
}

TEST(DrainTest, ChunksAreCutAtMaxChunkAgeAndPruned) {
  Drain d(DrainConfig{}, LineFormat::kUnknown, nullptr);
  const int64_t base = 1700000000LL * kSec;
  const LogCluster* c = nullptr;
  for (int m = 0; m < 150; m += 10) c = d.Train("one two three four", base + m * 60 * kSec);
  ASSERT_EQ(c->chunks().size(), 3u);  // 0-50 min, 60-110 min, 120-140 min
  // Drop chunks whose newest sample is older than 115 min after base.
  EXPECT_EQ(d.Prune(base / 1000000 + 115 * 60000), 1u);
  EXPECT_EQ(c->chunks().size(), 1u);
  EXPECT_EQ(c->size(), 3);
  EXPECT_EQ(d.Prune(base / 1000000 + 200 * 60000), 0u);
  EXPECT_EQ(d.cluster_count(), 0u);
}

}  // namespace
}  // namespace skald::pattern
