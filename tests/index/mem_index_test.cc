// MemIndex: selection semantics of all matcher types (empty values, label
// absence, regex alternation), metadata queries, add/remove, and concurrent
// use.
#include "index/mem_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_util.h"

namespace skald::index {
namespace {

using namespace skald::index::testing;  // NOLINT
using FPs = std::vector<uint64_t>;

// s1..s5 get fingerprints 1..5 so expectations read easily.
class MemIndexSelectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    idx_.Add(1, L({{"app", "api"}, {"env", "prod"}, {"pod", "a"}}));
    idx_.Add(2, L({{"app", "api"}, {"env", "dev"}}));
    idx_.Add(3, L({{"app", "web"}, {"env", "prod"}, {"pod", "b"}}));
    idx_.Add(4, L({{"app", "web"}}));
    idx_.Add(5, L({{"job", "x"}}));
  }
  FPs Sel(std::vector<Matcher> ms) { return idx_.Select(ms); }
  MemIndex idx_;
};

TEST_F(MemIndexSelectTest, EmptyMatcherListSelectsAll) { EXPECT_EQ(Sel({}), (FPs{1, 2, 3, 4, 5})); }

TEST_F(MemIndexSelectTest, Equal) {
  EXPECT_EQ(Sel({Eq("app", "api")}), (FPs{1, 2}));
  EXPECT_EQ(Sel({Eq("app", "nope")}), FPs{});
  EXPECT_EQ(Sel({Eq("missing", "x")}), FPs{});
}

TEST_F(MemIndexSelectTest, EqualEmptySelectsSeriesLackingTheLabel) {
  EXPECT_EQ(Sel({Eq("pod", "")}), (FPs{2, 4, 5}));
  EXPECT_EQ(Sel({Eq("missing", "")}), (FPs{1, 2, 3, 4, 5}));
}

TEST_F(MemIndexSelectTest, NotEqualIncludesSeriesLackingTheLabel) {
  EXPECT_EQ(Sel({Neq("app", "api")}), (FPs{3, 4, 5}));
  EXPECT_EQ(Sel({Neq("missing", "x")}), (FPs{1, 2, 3, 4, 5}));
}

TEST_F(MemIndexSelectTest, NotEqualEmptyRequiresTheLabel) {
  EXPECT_EQ(Sel({Neq("pod", "")}), (FPs{1, 3}));
}

TEST_F(MemIndexSelectTest, RegexAlternationOfLiterals) {
  ASSERT_FALSE(Re("app", "api|web").SetMatches().empty());  // exercises the fast path
  EXPECT_EQ(Sel({Re("app", "api|web")}), (FPs{1, 2, 3, 4}));
  EXPECT_EQ(Sel({Re("env", "prod|nope")}), (FPs{1, 3}));
  // An empty alternative matches "", so series without env are in too.
  EXPECT_EQ(Sel({Re("env", "prod|")}), (FPs{1, 3, 4, 5}));
}

TEST_F(MemIndexSelectTest, RegexIsFullyAnchored) {
  EXPECT_EQ(Sel({Re("app", "a.*")}), (FPs{1, 2}));
  EXPECT_EQ(Sel({Re("app", "p")}), FPs{});  // would match "api" if unanchored
  EXPECT_EQ(Sel({Re("app", ".+")}), (FPs{1, 2, 3, 4}));
  EXPECT_EQ(Sel({Re("app", ".*")}), (FPs{1, 2, 3, 4, 5}));
  EXPECT_EQ(Sel({Re("app", "(?:a|w).{2}")}), (FPs{1, 2, 3, 4}));
}

TEST_F(MemIndexSelectTest, NegativeRegex) {
  EXPECT_EQ(Sel({Nre("app", "api")}), (FPs{3, 4, 5}));
  EXPECT_EQ(Sel({Nre("app", "a.*|w.*")}), (FPs{5}));
  EXPECT_EQ(Sel({Nre("app", ".+")}), (FPs{5}));  // "label absent"
  EXPECT_EQ(Sel({Nre("app", ".*")}), FPs{});
  EXPECT_EQ(Sel({Nre("app", "")}), (FPs{1, 2, 3, 4}));  // rejects only the empty value
}

TEST_F(MemIndexSelectTest, MatchersAreAnded) {
  EXPECT_EQ(Sel({Eq("app", "web"), Neq("pod", "")}), (FPs{3}));
  EXPECT_EQ(Sel({Eq("env", "prod"), Nre("app", "web")}), (FPs{1}));
  EXPECT_EQ(Sel({Neq("app", "api"), Eq("pod", "")}), (FPs{4, 5}));
  EXPECT_EQ(Sel({Eq("app", "api"), Eq("app", "web")}), FPs{});
}

TEST(MemIndexTest, EmptyValuesAreStoredButNotIndexed) {
  MemIndex idx;
  Labels labels = L({{"a", ""}, {"b", "1"}});
  idx.Add(7, labels);
  EXPECT_EQ(idx.Select({Eq("a", "")}), (FPs{7}));
  EXPECT_EQ(idx.Select({Neq("a", "")}), FPs{});
  EXPECT_EQ(idx.LabelNames(), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(idx.LabelValues("a").empty());
  ASSERT_TRUE(idx.LabelsOf(7).has_value());
  EXPECT_EQ(*idx.LabelsOf(7), labels);
}

TEST(MemIndexTest, AddIsIdempotentAndRemoveForgets) {
  MemIndex idx;
  idx.Add(1, L({{"app", "a"}, {"env", "x"}}));
  idx.Add(1, L({{"app", "a"}, {"env", "x"}}));
  idx.Add(1, L({{"app", "other"}}));  // first labels win
  idx.Add(2, L({{"app", "b"}}));
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx.Select({Eq("app", "other")}), FPs{});
  EXPECT_EQ(idx.LabelNames(), (std::vector<std::string>{"app", "env"}));
  EXPECT_EQ(idx.LabelValues("app"), (std::vector<std::string>{"a", "b"}));

  idx.Remove(1);
  idx.Remove(1);
  idx.Remove(99);
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_FALSE(idx.LabelsOf(1).has_value());
  EXPECT_EQ(idx.Select({}), (FPs{2}));
  EXPECT_EQ(idx.Select({Eq("env", "")}), (FPs{2}));
  EXPECT_EQ(idx.LabelNames(), (std::vector<std::string>{"app"}));  // env is gone entirely
  EXPECT_EQ(idx.LabelValues("app"), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(idx.LabelValues("env").empty());
}

// Compact after many removals (a flush dropping idle streams) leaves the same answers, and
// streams added afterwards are indexed as usual.
TEST(MemIndexTest, CompactAfterRemovalsKeepsTheLiveStreams) {
  MemIndex idx;
  for (uint64_t i = 0; i < 1000; ++i) {
    // Fingerprints spread over every shard (the top bits pick it).
    idx.Add(i << 54 | i, L({{"app", "a"}, {"id", std::to_string(i)}}));
  }
  for (uint64_t i = 0; i < 1000; ++i) {
    if (i % 10 != 0) idx.Remove(i << 54 | i);
  }
  idx.Compact();
  idx.Compact();  // nothing left to do
  EXPECT_EQ(idx.size(), 100u);
  std::vector<uint64_t> want;
  for (uint64_t i = 0; i < 1000; i += 10) want.push_back(i << 54 | i);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(idx.Select({Eq("app", "a")}), want);
  EXPECT_EQ(idx.LabelValues("id").size(), 100u);
  EXPECT_EQ(idx.Select({Eq("id", "11")}), FPs{});
  idx.Add(11ull << 54 | 11, L({{"app", "b"}, {"id", "11"}}));
  EXPECT_EQ(idx.Select({Eq("id", "11")}), FPs{11ull << 54 | 11});
  EXPECT_EQ(idx.LabelValues("app"), (std::vector<std::string>{"a", "b"}));

  // Lists shrink back to one (held inline) and to none, and grow again.
  for (uint64_t i = 10; i < 1000; i += 10) idx.Remove(i << 54 | i);
  idx.Compact();
  EXPECT_EQ(idx.Select({Eq("app", "a")}), FPs{0});
  for (uint64_t i = 0; i < 1000; i += 7) idx.Add(i << 54 | i, L({{"app", "a"}}));
  idx.Remove(0);
  want.clear();
  for (uint64_t i = 7; i < 1000; i += 7) want.push_back(i << 54 | i);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(idx.Select({Eq("app", "a")}), want);
}

TEST(MemIndexTest, MatchesBruteForceOnRandomCorpus) {
  std::mt19937_64 rng(1234);
  for (int round = 0; round < 20; ++round) {
    std::vector<Series> series = RandomSeries(rng, 60);
    MemIndex idx;
    for (const auto& s : series) idx.Add(s.fp, s.labels);
    for (int q = 0; q < 100; ++q) {
      std::vector<Matcher> ms = RandomMatchers(rng);
      ASSERT_EQ(idx.Select(ms), BruteForce(series, ms)) << Describe(ms);
    }
  }
}

// Adds and removes interleaved with reads, streams removed and added again before the
// lists are normalized: every read agrees with the set of live streams.
TEST(MemIndexTest, InterleavedAddRemoveReAddMatchesBruteForce) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 10; ++round) {
    std::vector<Series> pool = RandomSeries(rng, 80);
    std::vector<bool> live(pool.size(), false);
    MemIndex idx;
    for (int step = 0; step < 400; ++step) {
      const size_t k = rng() % pool.size();
      if (rng() % 3 == 0) {
        idx.Remove(pool[k].fp);
        live[k] = false;
      } else {
        idx.Add(pool[k].fp, pool[k].labels);
        live[k] = true;
      }
      if (rng() % 4 != 0) continue;  // several changes between reads
      std::vector<Series> alive;
      std::vector<std::string> names, values;
      for (size_t i = 0; i < pool.size(); ++i) {
        if (!live[i]) continue;
        alive.push_back(pool[i]);
        for (const Label& l : pool[i].labels) {
          if (l.value.empty()) continue;
          names.push_back(l.name);
          if (l.name == "app") values.push_back(l.value);
        }
      }
      for (auto* v : {&names, &values}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
      }
      std::vector<Matcher> ms = RandomMatchers(rng);
      ASSERT_EQ(idx.Select(ms), BruteForce(alive, ms)) << Describe(ms) << " step " << step;
      ASSERT_EQ(idx.Select({}), BruteForce(alive, {}));
      ASSERT_EQ(idx.LabelNames(), names);
      ASSERT_EQ(idx.LabelValues("app"), values);
      ASSERT_EQ(idx.size(), alive.size());
    }
  }
}

TEST(MemIndexTest, ConcurrentAddRemoveSelect) {
  MemIndex idx;
  constexpr int kWriters = 3, kPerWriter = 400;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        uint64_t fp = static_cast<uint64_t>(w) * 100000 + i;
        idx.Add(fp, L({{"writer", std::to_string(w)}, {"i", std::to_string(i % 7)}}));
        if (i % 3 == 0) idx.Remove(fp);
      }
    });
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::vector<Matcher> ms = {Re("writer", "0|1"), Neq("i", "3")};
      while (!stop) {
        FPs got = idx.Select(ms);
        if (!std::is_sorted(got.begin(), got.end())) ++bad;
        for (uint64_t fp : got) {
          // Labels may be gone already (removed concurrently) but never wrong.
          auto labels = idx.LabelsOf(fp);
          if (labels && !MatchesAll(ms, *labels)) ++bad;
        }
        idx.LabelValues("i");
        idx.LabelNames();
      }
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  // Final state: every fp with i % 3 != 0 remains.
  size_t want = 0;
  for (int i = 0; i < kPerWriter; ++i) want += (i % 3 != 0);
  EXPECT_EQ(idx.size(), want * kWriters);
  EXPECT_EQ(idx.Select({Eq("writer", "2")}).size(), want);
}

}  // namespace
}  // namespace skald::index
