// IndexStore: key layout, merging across days and files, chunk dedupe, the
// one-day look-back, tenant isolation, reader caching and error handling.
#include "index/index_store.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include <random>

#include <map>

#include <atomic>
#include <thread>

#include "core/time.h"
#include "test_util.h"
#include "testing/fs/mem_object_store.h"

namespace skald::index {
namespace {

using namespace skald::index::testing;  // NOLINT
using Strings = std::vector<std::string>;

constexpr int64_t kDay = kNanosPerDay;
constexpr int64_t kD0 = 19000;  // a day number in 2022

// Counts Gets so cache behaviour is observable; can list a key that does not
// exist (a file deleted between List and Get).
class CountingStore : public storage::MemObjectStore {
 public:
  StatusOr<std::string> Get(std::string_view key) override {
    ++gets;
    return MemObjectStore::Get(key);
  }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    auto keys = MemObjectStore::List(prefix);
    if (keys.ok() && !ghost.empty() && ghost.rfind(prefix, 0) == 0) {
      keys->push_back(ghost);
      std::sort(keys->begin(), keys->end());
    }
    return keys;
  }
  std::atomic<int> gets{0};
  std::string ghost;
};

ChunkRef Chunk(uint64_t fp, int64_t min_ts, int64_t max_ts, std::string key) {
  ChunkRef c;
  c.fingerprint = fp;
  c.min_ts = min_ts;
  c.max_ts = max_ts;
  c.entries = 1;
  c.key = std::move(key);
  return c;
}

struct FileSpec {
  std::vector<std::pair<Labels, std::vector<std::pair<int64_t, int64_t>>>> series;  // chunks
};

// Builds a file; chunk keys are "<canonical labels>@<min>-<max>".
std::string BuildFile(const FileSpec& spec) {
  IndexFileWriter w;
  for (const auto& [labels, chunks] : spec.series) {
    uint64_t fp = labels.Fingerprint();
    w.AddSeries(fp, labels);
    for (const auto& [min, max] : chunks) {
      w.AddChunk(Chunk(fp, min, max,
                       labels.ToString() + "@" + std::to_string(min) + "-" + std::to_string(max)));
    }
  }
  auto bytes = w.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return *bytes;
}

Strings Keys(const IndexStore::SeriesChunks& s) {
  Strings out;
  for (const auto& c : s.chunks) out.push_back(c.key);
  return out;
}

class IndexStoreTest : public ::testing::Test {
 protected:
  IndexStoreTest() : store_(&objects_) {}

  std::vector<IndexStore::SeriesChunks> Query(std::string_view tenant, int64_t from,
                                              int64_t through, std::vector<Matcher> ms) {
    auto r = store_.Query(tenant, from, through, ms);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<IndexStore::SeriesChunks>{};
  }

  const Labels api_ = L({{"app", "api"}, {"env", "prod"}});
  const Labels web_ = L({{"app", "web"}});
  const int64_t t0_ = kD0 * kDay;  // start of day kD0
  CountingStore objects_;
  IndexStore store_;
};

TEST(DayOfTest, FloorsTowardsMinusInfinity) {
  EXPECT_EQ(DayOf(0), 0);
  EXPECT_EQ(DayOf(kDay - 1), 0);
  EXPECT_EQ(DayOf(kDay), 1);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(-kDay), -1);
  EXPECT_EQ(DayOf(-kDay - 1), -2);
  EXPECT_EQ(DayOf(1700000000LL * kNanosPerSecond), 19675);  // 2023-11-14
}

TEST_F(IndexStoreTest, KeysFollowTheDocumentedLayoutAndSortByWriteTime) {
  std::string file = BuildFile({{{api_, {{t0_, t0_ + 1}}}}});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_.Write("tenant-1", kD0, file).ok());
  auto keys = objects_.List("");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 5u);
  // index/tenant-1/19000/<20 decimal digits>-<16 lowercase hex digits>
  const std::string prefix = "index/tenant-1/19000/";
  for (const auto& k : *keys) {
    ASSERT_EQ(k.size(), prefix.size() + 37) << k;
    EXPECT_EQ(k.substr(0, prefix.size()), prefix);
    std::string name = k.substr(prefix.size());
    EXPECT_EQ(name.find_first_not_of("0123456789"), 20u) << k;
    EXPECT_EQ(name[20], '-') << k;
    EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 21), std::string::npos) << k;
  }
  // Names are unique and the time part is strictly increasing in write order
  // (List sorts, so compare against the order of the time prefixes).
  for (size_t i = 1; i < keys->size(); ++i) {
    EXPECT_LT((*keys)[i - 1].substr(0, 41), (*keys)[i].substr(0, 41));
  }
  EXPECT_EQ(IndexStore::DayPrefix("fake", 3), "index/fake/3/");
}

TEST_F(IndexStoreTest, MergesSeriesAcrossFilesAndDaysAndDedupesChunks) {
  const int64_t t1 = t0_ + kDay;  // next day
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{api_, {{t0_ + 10, t0_ + 20}}}}})).ok());
  ASSERT_TRUE(store_
                  .Write("t", kD0 + 1,
                         BuildFile({{{api_, {{t1 + 5, t1 + 6}}}, {web_, {{t1 + 1, t1 + 2}}}}}))
                  .ok());
  // A second file of the same day repeats one chunk (e.g. a replica's flush).
  ASSERT_TRUE(
      store_.Write("t", kD0 + 1, BuildFile({{{api_, {{t1 + 5, t1 + 6}, {t1 + 50, t1 + 60}}}}}))
          .ok());

  auto all = Query("t", t0_, t1 + kDay - 1, {});
  ASSERT_EQ(all.size(), 2u);
  // Sorted by fingerprint.
  EXPECT_LT(all[0].fingerprint, all[1].fingerprint);
  const auto& api = all[0].fingerprint == api_.Fingerprint() ? all[0] : all[1];
  const auto& web = all[0].fingerprint == api_.Fingerprint() ? all[1] : all[0];
  EXPECT_EQ(api.labels.Get(), api_);
  EXPECT_EQ(web.labels.Get(), web_);
  const std::string a = api_.ToString();
  EXPECT_EQ(Keys(api),
            (Strings{a + "@" + std::to_string(t0_ + 10) + "-" + std::to_string(t0_ + 20),
                     a + "@" + std::to_string(t1 + 5) + "-" + std::to_string(t1 + 6),
                     a + "@" + std::to_string(t1 + 50) + "-" + std::to_string(t1 + 60)}));
  EXPECT_EQ(web.chunks.size(), 1u);

  // Only day 1, and a range that excludes the last chunk.
  auto part = Query("t", t1, t1 + 10, {Eq("app", "api")});
  ASSERT_EQ(part.size(), 1u);
  EXPECT_EQ(part[0].chunks.size(), 1u);
  EXPECT_EQ(part[0].chunks[0].min_ts, t1 + 5);

  // Matchers apply; series without chunks in range are left out.
  EXPECT_TRUE(Query("t", t0_, t0_ + 9, {}).empty());
  EXPECT_EQ(Query("t", t0_, t0_ + 10, {}).size(), 1u);
  EXPECT_TRUE(Query("t", t1 + 7, t1 + 49, {}).empty());
  EXPECT_TRUE(Query("t", t0_, t1 + kDay, {Eq("app", "nope")}).empty());
  EXPECT_EQ(Query("t", t0_, t1 + kDay, {Neq("app", "api")}).size(), 1u);
  EXPECT_TRUE(Query("t", t1, t0_, {}).empty());  // from > through
}

// Many series spread over several files of a day (a flush writes one file per batch, and
// flushes repeat): the merged result equals a brute-force merge, with each series' chunks
// sorted and unique by key (one series gathers 20 chunks from 5 files) and in fingerprint
// order.
TEST_F(IndexStoreTest, MergingManyFilesMatchesBruteForce) {
  std::mt19937_64 rng(7);
  std::map<uint64_t, std::pair<Labels, std::set<std::pair<int64_t, int64_t>>>> want;
  for (int f = 0; f < 5; ++f) {
    FileSpec spec;
    for (int s = 0; s < 200; ++s) {
      if (rng() % 3 == 0) continue;  // each file holds about two thirds of the series
      const Labels ls = L({{"app", "a" + std::to_string(s % 7)}, {"id", std::to_string(s)}});
      std::vector<std::pair<int64_t, int64_t>> chunks;
      const int n = s == 5 ? 20 : static_cast<int>(rng() % 3);  // series 5: > 16 chunks
      for (int c = 0; c < n; ++c) {
        // Chunks from a small set of ranges, so files repeat each other's.
        const int64_t min = t0_ + static_cast<int64_t>(rng() % 30) * 100;
        chunks.emplace_back(min, min + 50);
        want[ls.Fingerprint()].first = ls;
        want[ls.Fingerprint()].second.insert({min, min + 50});
      }
      if (!chunks.empty()) spec.series.emplace_back(ls, chunks);
    }
    ASSERT_TRUE(store_.Write("t", kD0, BuildFile(spec)).ok());
  }
  auto got = Query("t", t0_, t0_ + kDay - 1, {});
  ASSERT_EQ(got.size(), want.size());
  size_t k = 0;
  for (const auto& [fp, w] : want) {
    const IndexStore::SeriesChunks& s = got[k++];
    ASSERT_EQ(s.fingerprint, fp);
    EXPECT_EQ(s.labels.Get(), w.first);
    ASSERT_EQ(s.chunks.size(), w.second.size());
    size_t c = 0;
    for (const auto& [min, max] : w.second) {
      EXPECT_EQ(s.chunks[c].min_ts, min);
      EXPECT_EQ(s.chunks[c].max_ts, max);
      ++c;
    }
  }
  // Matchers select within every file.
  auto some = Query("t", t0_, t0_ + kDay - 1, {Eq("app", "a3")});
  for (const auto& s : some) EXPECT_EQ(s.labels.Get().Get("app"), "a3");
  size_t a3 = 0;
  for (const auto& [fp, w] : want) a3 += w.first.Get("app") == "a3";
  EXPECT_EQ(some.size(), a3);
}

// Short keys (held inside the string object) repeated across files, in an order that moves
// kept refs down over dropped ones: each key is kept once, the first in time order.
TEST_F(IndexStoreTest, MergingDedupesShortKeysAcrossFiles) {
  const uint64_t fp = web_.Fingerprint();
  auto file = [&](std::vector<std::tuple<int64_t, std::string>> chunks) {
    IndexFileWriter w;
    w.AddSeries(fp, web_);
    for (auto& [ts, key] : chunks) w.AddChunk(Chunk(fp, t0_ + ts, t0_ + ts, key));
    auto bytes = w.Finish();
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  };
  ASSERT_TRUE(store_.Write("t", kD0, file({{1, "a"}, {2, "b"}, {3, "c"}})).ok());
  ASSERT_TRUE(store_.Write("t", kD0, file({{2, "b"}, {3, "c"}, {4, "d"}, {5, "a"}})).ok());
  ASSERT_TRUE(store_.Write("t", kD0, file({{0, "e"}, {4, "d"}, {6, "b"}})).ok());
  auto got = Query("t", t0_, t0_ + kDay - 1, {});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Keys(got[0]), (Strings{"e", "a", "b", "c", "d"}));
}

TEST_F(IndexStoreTest, FindsChunksRunningPastMidnightFromThePreviousDaysFile) {
  // Written under the day of its min_ts, the chunk ends on the next day.
  ASSERT_TRUE(
      store_.Write("t", kD0, BuildFile({{{api_, {{t0_ + kDay - 5, t0_ + kDay + 5}}}}})).ok());
  auto got = Query("t", t0_ + kDay + 1, t0_ + kDay + 2, {});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].chunks.size(), 1u);
  auto series = store_.Series("t", t0_ + kDay + 1, t0_ + kDay + 2, {});
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(*series, std::vector<Labels>{api_});
}

TEST_F(IndexStoreTest, WideRangesUseOneTenantListing) {
  // Files on days far apart; a range of many days (> per-day listing limit).
  ASSERT_TRUE(store_.Write("t", 5, BuildFile({{{api_, {{5 * kDay, 5 * kDay + 1}}}}})).ok());
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{web_, {{t0_, t0_ + 1}}}}})).ok());
  ASSERT_TRUE(
      store_.Write("t", kD0 + 400, BuildFile({{{web_, {{t0_ + 400 * kDay, t0_ + 400 * kDay}}}}}))
          .ok());
  auto got = Query("t", 0, t0_ + 10 * kDay, {});
  ASSERT_EQ(got.size(), 2u);
  size_t chunks = got[0].chunks.size() + got[1].chunks.size();
  EXPECT_EQ(chunks, 2u);  // the day kD0+400 file is out of range
  EXPECT_EQ(Query("t", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), {})
                .size(),
            2u);
  EXPECT_TRUE(Query("t", -10 * kDay, -1, {}).empty());  // before 1970: nothing stored
}

TEST_F(IndexStoreTest, TenantsAreIsolated) {
  // Same series in tenants "a" and "ab" ("a" is a byte prefix of "ab").
  ASSERT_TRUE(store_.Write("a", kD0, BuildFile({{{api_, {{t0_, t0_ + 1}}}}})).ok());
  ASSERT_TRUE(
      store_.Write("ab", kD0, BuildFile({{{api_, {{t0_ + 2, t0_ + 3}}}, {web_, {{t0_, t0_}}}}}))
          .ok());

  auto a = Query("a", t0_, t0_ + kDay, {});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(a[0].chunks.size(), 1u);
  EXPECT_EQ(a[0].chunks[0].min_ts, t0_);

  auto names = store_.LabelNames("a", t0_, t0_ + kDay);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (Strings{"app", "env"}));
  auto values = store_.LabelValues("a", "app", t0_, t0_ + kDay);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, Strings{"api"});
  auto ab_values = store_.LabelValues("ab", "app", t0_, t0_ + kDay);
  EXPECT_EQ(*ab_values, (Strings{"api", "web"}));
  EXPECT_TRUE(Query("b", t0_, t0_ + kDay, {}).empty());
  // Wide-range (tenant listing) path too.
  EXPECT_EQ(Query("a", 0, t0_ + 100 * kDay, {}).size(), 1u);
}

TEST_F(IndexStoreTest, LabelNamesValuesAndSeriesRespectTheTimeRange) {
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{api_, {{t0_, t0_ + 10}}}}})).ok());
  ASSERT_TRUE(store_
                  .Write("t", kD0 + 3,
                         BuildFile({{{web_, {{t0_ + 3 * kDay, t0_ + 3 * kDay}}},
                                     {L({{"app", "x"}, {"zone", "z"}}), {}}}}))
                  .ok());
  EXPECT_EQ(*store_.LabelNames("t", t0_, t0_ + kDay), (Strings{"app", "env"}));
  EXPECT_EQ(*store_.LabelNames("t", t0_, t0_ + 4 * kDay), (Strings{"app", "env", "zone"}));
  EXPECT_EQ(*store_.LabelValues("t", "app", t0_, t0_ + 4 * kDay), (Strings{"api", "web", "x"}));
  EXPECT_TRUE(store_.LabelValues("t", "nope", t0_, t0_ + 4 * kDay)->empty());
  // Series needs chunks in range: the chunkless {app="x"} is never returned.
  auto series = store_.Series("t", t0_, t0_ + 4 * kDay, {});
  ASSERT_TRUE(series.ok());
  // Sorted by fingerprint.
  EXPECT_EQ(*series, (api_.Fingerprint() < web_.Fingerprint() ? std::vector<Labels>{api_, web_}
                                                              : std::vector<Labels>{web_, api_}));
  EXPECT_EQ(*store_.Series("t", t0_ + 11, t0_ + 3 * kDay - 1, {}), std::vector<Labels>{});
  EXPECT_EQ(*store_.Series("t", t0_, t0_ + 4 * kDay, {Eq("env", "prod")}),
            std::vector<Labels>{api_});
}

TEST_F(IndexStoreTest, ReadersAreCachedAcrossQueries) {
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{api_, {{t0_, t0_ + 1}}}}})).ok());
  Query("t", t0_, t0_ + 1, {});
  EXPECT_EQ(objects_.gets.load(), 0);  // Write cached the reader it validated

  // A second store instance (another querier) must load once, then cache.
  IndexStore other(&objects_);
  auto r1 = other.Query("t", t0_, t0_ + 1, {});
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(objects_.gets.load(), 1);
  auto r2 = other.Query("t", t0_, t0_ + 1, {Eq("app", "api")});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(objects_.gets.load(), 1);
  EXPECT_EQ(r1->size(), 1u);
  EXPECT_EQ(other.cached_files(), 1u);
  auto keys = objects_.List("index/");
  other.Forget((*keys)[0]);
  EXPECT_EQ(other.cached_files(), 0u);
}

// The reader cache holds up to its byte limit: past it the least recently used readers go,
// and a query that needs one again reads it again, with the same answer.
TEST_F(IndexStoreTest, TheReaderCacheIsBoundedAndDropsTheLeastRecentlyUsed) {
  // Three days two apart (a query reads its day and the one before), one file each, of
  // about the same size.
  for (int d = 0; d < 6; d += 2) {
    ASSERT_TRUE(store_
                    .Write("t", kD0 + d,
                           BuildFile({{{api_, {{t0_ + d * kDay, t0_ + d * kDay + 1}}},
                                       {web_, {{t0_ + d * kDay, t0_ + d * kDay + 2}}}}}))
                    .ok());
  }
  ASSERT_EQ(store_.cached_files(), 3u);
  const size_t one = store_.cached_bytes() / 3;
  ASSERT_GT(one, 100u);

  // Room for two readers and a half.
  IndexStore small(&objects_, one * 5 / 2);
  auto day = [&](int d) {
    auto r = small.Query("t", t0_ + d * kDay, t0_ + d * kDay + 5, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->size() : 0u;
  };
  const int before = objects_.gets.load();
  EXPECT_EQ(day(0), 2u);
  EXPECT_EQ(day(2), 2u);
  EXPECT_EQ(day(0), 2u);  // cached, and now the most recently used
  EXPECT_EQ(objects_.gets.load() - before, 2);
  EXPECT_EQ(small.cached_files(), 2u);
  EXPECT_EQ(day(4), 2u);  // day 2, the least recently used, goes
  EXPECT_EQ(objects_.gets.load() - before, 3);
  EXPECT_EQ(small.cached_files(), 2u);
  EXPECT_LE(small.cached_bytes(), one * 5 / 2);
  EXPECT_EQ(day(0), 2u);
  EXPECT_EQ(day(4), 2u);
  EXPECT_EQ(objects_.gets.load() - before, 3);
  EXPECT_EQ(day(2), 2u);  // read again, the same answer
  EXPECT_EQ(objects_.gets.load() - before, 4);

  // A cache too small for even one reader still answers (each query reads what it needs).
  IndexStore tiny(&objects_, 1);
  auto r = tiny.Query("t", t0_, t0_ + 5 * kDay, {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].chunks.size(), 3u);
  EXPECT_EQ(tiny.cached_files(), 1u);
  auto keys = objects_.List("index/");
  ASSERT_TRUE(keys.ok());
  for (const std::string& k : *keys) tiny.Forget(k);
  EXPECT_EQ(tiny.cached_files(), 0u);
  EXPECT_EQ(tiny.cached_bytes(), 0u);
}

TEST_F(IndexStoreTest, DamagedFilesAreReportedAsCorruption) {
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{api_, {{t0_, t0_ + 1}}}}})).ok());
  auto keys = objects_.List("index/t/");
  ASSERT_EQ(keys->size(), 1u);
  std::string bytes = *objects_.Get((*keys)[0]);
  bytes[20] ^= 1;
  ASSERT_TRUE(objects_.Put((*keys)[0], bytes).ok());
  IndexStore fresh(&objects_);  // no cached reader
  auto r = fresh.Query("t", t0_, t0_ + 1, {});
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find((*keys)[0]), std::string::npos) << r.status().ToString();
}

TEST_F(IndexStoreTest, WriteValidatesItsInput) {
  std::string file = BuildFile({{{api_, {{t0_, t0_ + 1}}}}});
  EXPECT_EQ(store_.Write("", kD0, file).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Write("a/b", kD0, file).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Write("..", kD0, file).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Write("t", -1, file).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Write("t", kD0, "garbage").code(), StatusCode::kCorruption);
  EXPECT_EQ(objects_.size(), 0u);
  EXPECT_EQ(store_.Query("a/b", 0, 1, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.LabelNames("", 0, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IndexStoreTest, FilesDeletedBetweenListAndGetAreSkipped) {
  ASSERT_TRUE(store_.Write("t", kD0, BuildFile({{{api_, {{t0_, t0_ + 1}}}}})).ok());
  objects_.ghost = "index/t/19000/00000000000000000001-0000000000000000";
  auto got = store_.Query("t", t0_, t0_ + 1, {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), 1u);
  // It tried the ghost, then listed again (a vanished file is normally one the compactor
  // merged into a newer file) a bounded number of times.
  EXPECT_EQ(objects_.gets.load(), 5);
}

TEST_F(IndexStoreTest, ConcurrentWritesAndQueries) {
  constexpr int kWriters = 2, kFilesPerWriter = 15;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kFilesPerWriter; ++i) {
        Labels l = L({{"writer", std::to_string(w)}, {"i", std::to_string(i)}});
        int64_t ts = t0_ + (i % 3) * kDay + i;
        if (!store_.Write("t", DayOf(ts), BuildFile({{{l, {{ts, ts}}}}})).ok()) ++bad;
      }
    });
  }
  std::thread reader([&] {
    while (!stop) {
      auto got = store_.Query("t", t0_, t0_ + 3 * kDay, {Eq("writer", "0")});
      if (!got.ok()) {
        ++bad;
        continue;
      }
      for (const auto& s : *got) {
        if (s.labels.Get().Get("writer") != "0" || s.chunks.size() != 1) ++bad;
      }
      if (!store_.LabelValues("t", "i", t0_, t0_ + 3 * kDay).ok()) ++bad;
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  auto all = Query("t", t0_, t0_ + 3 * kDay, {});
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kFilesPerWriter));
  EXPECT_EQ(objects_.size(), static_cast<size_t>(kWriters * kFilesPerWriter));  // unique names
}

}  // namespace
}  // namespace skald::index

namespace skald::index {
namespace {

TEST(IndexStoreKeyTest, ParseKeyNamesTenantAndDay) {
  std::string_view tenant;
  int64_t day = -1;
  ASSERT_TRUE(
      IndexStore::ParseKey("index/t-1/19675/00000000000000000001-00000000000000ab", &tenant, &day));
  EXPECT_EQ(tenant, "t-1");
  EXPECT_EQ(day, 19675);
  for (std::string_view bad : {"index/t/19675/", "index//19675/x", "index/t/019675/x",
                               "index/t/x/y", "chunks/t/19675/x", "index/t"}) {
    EXPECT_FALSE(IndexStore::ParseKey(bad, &tenant, &day)) << bad;
  }
}

}  // namespace
}  // namespace skald::index
