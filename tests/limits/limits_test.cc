// Unit tests for the per-tenant limits table: every knob is described once, with
// a distinct YAML key and flag, pointing at a distinct member of Limits; and the
// per-tenant lookup returns the defaults for every tenant.
#include "limits/limits.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(members.size(), 23u);
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
  EXPECT_EQ(o.For("team-a").max_line_size, 42);
  EXPECT_EQ(o.For("").max_line_size, 42);
  EXPECT_EQ(&o.For("team-a"), &o.For("team-b"));
  EXPECT_EQ(&o.For("team-a"), &o.defaults());
}

}  // namespace
}  // namespace skald::limits
