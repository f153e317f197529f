// LabelsCache: entries are found by text and by the discover_service_name list they were
// made with, shards stay bounded, and concurrent use is safe.
#include "distributor/labels_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace skald::distributor {
namespace {

std::shared_ptr<const ParsedLabels> Make(std::string canonical, std::vector<std::string> discover) {
  auto p = std::make_shared<ParsedLabels>();
  p->canonical = std::move(canonical);
  p->fingerprint = FingerprintOf(p->canonical);
  p->discover = std::move(discover);
  return p;
}

TEST(LabelsCacheTest, FoundByTextAndDiscoverList) {
  LabelsCache cache;
  const std::vector<std::string> discover = {"service", "app"};
  EXPECT_EQ(cache.Get(R"({app="a"})", discover), nullptr);
  auto made = Make(R"({app="a", service_name="a"})", discover);
  cache.Put(R"({app="a"})", made);
  EXPECT_EQ(cache.Get(R"({app="a"})", discover), made);
  // Another list (another tenant's, or a runtime change) does not use it.
  EXPECT_EQ(cache.Get(R"({app="a"})", {}), nullptr);
  EXPECT_EQ(cache.Get(R"({app="a"})", {"app"}), nullptr);
  // Texts are compared exactly: the same labels written otherwise are another entry.
  EXPECT_EQ(cache.Get(R"({app="a" })", discover), nullptr);
  // A new entry for the text replaces the old one.
  auto other = Make(R"({app="a"})", {});
  cache.Put(R"({app="a"})", other);
  EXPECT_EQ(cache.Get(R"({app="a"})", {}), other);
  EXPECT_EQ(cache.Get(R"({app="a"})", discover), nullptr);
  EXPECT_EQ(cache.Size(), 1u);
}

TEST(LabelsCacheTest, StaysBoundedAndKeepsUsedEntries) {
  LabelsCache cache(64);  // 4 per shard
  auto text = [](int i) { return "{id=\"" + std::to_string(i) + "\"}"; };
  for (int i = 0; i < 10000; i++) {
    cache.Put(text(i), Make(text(i), {}));
    ASSERT_LE(cache.Size(), 64u);
  }
  // Never found again: full shards keep their first texts instead of churning.
  EXPECT_EQ(cache.Size(), 64u);
  std::vector<int> kept;
  for (int i = 0; i < 10000; i++) {
    if (cache.Get(text(i), {}) != nullptr) kept.push_back(i);
  }
  ASSERT_EQ(kept.size(), 64u);
  // Each kept text was found once above: as many hits as entries, so a full shard now makes
  // room for a new text.
  for (int i = 10000; i < 10100; i++) {
    cache.Put(text(i), Make(text(i), {}));
    if (cache.Get(text(i), {}) == nullptr) continue;
    SUCCEED();
    return;
  }
  FAIL() << "no new text was kept after the entries were used";
}

TEST(LabelsCacheTest, ConcurrentGetsAndPuts) {
  LabelsCache cache(256);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; i++) {
        const std::string text = "{id=\"" + std::to_string((i * 7 + t) % 500) + "\"}";
        auto got = cache.Get(text, {});
        if (got != nullptr) {
          ASSERT_EQ(got->canonical, text);
        } else {
          cache.Put(text, Make(text, {}));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.Size(), 256u);
}

}  // namespace
}  // namespace skald::distributor
