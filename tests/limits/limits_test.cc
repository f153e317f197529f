// Unit tests for the per-tenant limits table: every knob is described once, with
// a distinct YAML key and flag, pointing at a distinct member of Limits; and the
// per-tenant lookup returns the defaults for every tenant.
#include "limits/limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <set>
#include <string>

namespace skald::limits {
namespace {

TEST(LimitsTest, EveryDescriptorNamesADistinctMemberKeyAndFlag) {
  Limits l;
  const char* begin = reinterpret_cast<const char*>(&l);
  const char* end = begin + sizeof(l);
  std::set<const void*> members;
  std::set<std::string> keys, flags;
  for (const Descriptor& d : Descriptors()) {
    const void* m = d.field(l);
    const char* p = static_cast<const char*>(m);
    EXPECT_TRUE(p >= begin && p < end) << d.yaml_key << " points outside Limits";
    EXPECT_TRUE(members.insert(m).second) << d.yaml_key << " shares its member";
    EXPECT_TRUE(keys.insert(d.yaml_key).second) << "duplicate key " << d.yaml_key;
    EXPECT_TRUE(flags.insert(d.flag).second) << "duplicate flag " << d.flag;
    EXPECT_NE(std::string(d.help), "") << d.yaml_key;
  }
  EXPECT_EQ(members.size(), 35u);
}

TEST(LimitsTest, DescriptorsReadAndWriteTheMembersTheyName) {
  Limits l;
  for (const Descriptor& d : Descriptors()) {
    if (std::string(d.yaml_key) == "max_query_length") {
      ASSERT_EQ(d.kind, ValueKind::kDuration);
      *static_cast<int64_t*>(d.field(l)) = 5 * kNanosPerMinute;
    }
    if (std::string(d.yaml_key) == "max_entries_limit_per_query") {
      ASSERT_EQ(d.kind, ValueKind::kInt);
      *static_cast<int*>(d.field(l)) = 7;
    }
    if (std::string(d.yaml_key) == "discover_service_name") {
      ASSERT_EQ(d.kind, ValueKind::kStringList);
      static_cast<std::vector<std::string>*>(d.field(l))->clear();
    }
  }
  EXPECT_EQ(l.max_query_length_ns, 5 * kNanosPerMinute);
  EXPECT_EQ(l.max_entries_limit_per_query, 7);
  EXPECT_TRUE(l.discover_service_name.empty());
}

TEST(LimitsTest, DefaultsAreLokis) {
  Limits l;
  EXPECT_EQ(l.max_line_size, 262144);
  EXPECT_EQ(l.max_query_length_ns, 721 * kNanosPerHour);
  EXPECT_EQ(l.max_entries_limit_per_query, 5000);
  EXPECT_EQ(l.reject_old_samples_max_age_ns, 7 * kNanosPerDay);
  EXPECT_EQ(l.creation_grace_period_ns, 10 * kNanosPerMinute);
  EXPECT_EQ(l.discover_service_name.front(), "service");
  EXPECT_EQ(l.discover_service_name.size(), 13u);
}

TEST(OverridesTest, EveryTenantGetsTheDefaults) {
  Limits d;
  d.max_line_size = 42;
  Overrides o(d);
  EXPECT_EQ(o.For("team-a")->max_line_size, 42);
  EXPECT_EQ(o.For("")->max_line_size, 42);
  EXPECT_EQ(o.For("team-a").get(), o.For("team-b").get());
  EXPECT_EQ(o.For("team-a").get(), &o.defaults());
  EXPECT_TRUE(o.TenantLimits()->empty());
}

TEST(OverridesTest, TenantOverridesReplaceAtomically) {
  Overrides o(Limits{});
  Limits a;
  a.max_line_size = 100;
  Overrides::TenantMap m;
  m["tenant-a"] = std::make_shared<const Limits>(a);
  o.SetTenantLimits(m);
  std::shared_ptr<const Limits> held = o.For("tenant-a");
  EXPECT_EQ(held->max_line_size, 100);
  EXPECT_EQ(o.For("tenant-b").get(), &o.defaults());
  o.SetTenantLimits({});  // the override is gone, but what a request holds stays valid
  EXPECT_EQ(held->max_line_size, 100);
  EXPECT_EQ(o.For("tenant-a").get(), &o.defaults());
}

// Readers never see a freed or half-built Limits while overrides are swapped (run under
// TSan: build/tsan).
TEST(OverridesTest, SwapWhileReading) {
  Limits d;
  d.max_line_size = 1;
  Overrides o(d);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; t++) {
    readers.emplace_back([&, t] {
      const std::string tenant = "tenant-" + std::to_string(t % 3);
      while (!stop.load(std::memory_order_relaxed)) {
        std::shared_ptr<const Limits> l = o.For(tenant);
        // Every Limits ever published has max_line_size == max_label_names_per_series.
        if (l->max_line_size != 1) EXPECT_EQ(l->max_line_size, l->max_label_names_per_series);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int i = 2; i < 2000; i++) {
    Overrides::TenantMap m;
    Limits l;
    l.max_line_size = i;
    l.max_label_names_per_series = i;
    if (i % 2 == 0) m["tenant-0"] = std::make_shared<const Limits>(l);
    m["tenant-1"] = std::make_shared<const Limits>(l);
    o.SetTenantLimits(std::move(m));
  }
  while (reads.load() < 1000) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(o.For("tenant-1")->max_line_size, 1999);
  EXPECT_EQ(o.For("tenant-0").get(), &o.defaults());
}

}  // namespace
}  // namespace skald::limits
