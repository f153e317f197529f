#include "core/labels.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace skald {
namespace {

TEST(LabelsTest, ParseSortsAndRendersCanonically) {
  auto l = ParseLabels(R"({job="varlogs", app = "web" ,env="prod"})");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->ToString(), R"({app="web", env="prod", job="varlogs"})");
  EXPECT_EQ(l->Get("env"), "prod");
  EXPECT_EQ(l->Get("missing"), "");
}

TEST(LabelsTest, ParseHandlesGoEscapes) {
  auto l = ParseLabels(R"({a="x\"y\\z\n", b="\u00e9\x41"})");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->Get("a"), "x\"y\\z\n");
  EXPECT_EQ(l->Get("b"),
            "\xC3\xA9"
            "A");
  EXPECT_EQ(l->ToString(), R"({a="x\"y\\z\n", b="éA"})");
}

TEST(LabelsTest, EmptyValuesAreDropped) {
  auto l = ParseLabels(R"({a="", b="1"})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->ToString(), R"({b="1"})");
}

TEST(LabelsTest, TrailingCommaAndEmptySet) {
  EXPECT_EQ(ParseLabels(R"({a="1",})")->ToString(), R"({a="1"})");
  EXPECT_EQ(ParseLabels("{}")->ToString(), "{}");
  EXPECT_EQ(ParseLabels(" { } ")->size(), 0u);
}

TEST(LabelsTest, MetricNamePrefixBecomesName) {
  auto l = ParseLabels(R"(foo{a="1"})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->Get("__name__"), "foo");
}

TEST(LabelsTest, DuplicatesAreKeptAndReported) {
  auto l = ParseLabels(R"({a="1", b="2", a="3"})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->FindDuplicateName(), "a");
  EXPECT_EQ(ParseLabels(R"({a="1"})")->FindDuplicateName(), "");
}

TEST(LabelsTest, ParseErrors) {
  for (const char* bad : {"", "{", "{a}", "{a=}", "{a=1}", "{a=\"1\"", "{a=\"1\" b=\"2\"}",
                          "{1a=\"x\"}", "{a=\"unterminated}", "{a=\"x\"} trailing", "{a.b=\"x\"}",
                          "{\"a\"=\"x\"}", "{a=\"\\q\"}"}) {
    auto l = ParseLabels(bad);
    EXPECT_FALSE(l.ok()) << bad;
    if (!l.ok()) {
      EXPECT_NE(l.status().message().find("parse error"), std::string::npos) << bad;
    }
  }
}

TEST(LabelsTest, FingerprintIsStableAndOrderIndependent) {
  auto a = ParseLabels(R"({a="1", b="2"})");
  auto b = ParseLabels(R"({b="2", a="1"})");
  auto c = ParseLabels(R"({a="1", b="3"})");
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
  EXPECT_NE(a->Fingerprint(), c->Fingerprint());
  EXPECT_EQ(a->Fingerprint(), FingerprintOf(R"({a="1", b="2"})"));
}

TEST(LabelsTest, ValidLabelNames) {
  EXPECT_TRUE(IsValidLabelName("a"));
  EXPECT_TRUE(IsValidLabelName("_a9"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("9a"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(LabelsTest, ParseRoundTripsThroughToString) {
  for (const char* s : {R"({a="\x00\x7f\t"})", R"({z="\"\\", y="日本"})", R"({a="\xff"})"}) {
    auto l = ParseLabels(s);
    ASSERT_TRUE(l.ok()) << s;
    auto again = ParseLabels(l->ToString());
    ASSERT_TRUE(again.ok()) << l->ToString();
    EXPECT_EQ(*l, *again);
  }
}

}  // namespace
TEST(PackedLabelsTest, HoldsTheSamePairsAndText) {
  const Labels l({{"a", ""},
                  {"b", "x\"y"},
                  {"b", "dup"},
                  {"service_name", std::string(300, 'v')},
                  {"z", "\xff\x00"}});
  const PackedLabels p(l);
  ASSERT_EQ(p.size(), l.size());
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(p[i].name, l.items()[i].name);
    EXPECT_EQ(p[i].value, l.items()[i].value);
  }
  size_t n = 0;
  for (PackedLabels::Pair pair : p) EXPECT_EQ(pair.name, l.items()[n++].name);
  EXPECT_EQ(n, l.size());
  EXPECT_EQ(p.ToLabels(), l);
  EXPECT_EQ(p.ToString(), l.ToString());
  EXPECT_TRUE(p == l);
  EXPECT_TRUE(p == PackedLabels(l));
  EXPECT_FALSE(p == PackedLabels(Labels(std::vector<Label>{{"a", ""}})));
  EXPECT_FALSE(
      p ==
      Labels({{"a", ""}, {"b", "x\"y"}, {"b", "dup"}, {"service_name", "v"}, {"z", "\xff\x00"}}));
  // Same text, split differently between name and value.
  EXPECT_FALSE(PackedLabels(Labels(std::vector<Label>{{"ab", "c"}})) ==
               PackedLabels(Labels(std::vector<Label>{{"a", "bc"}})));
  size_t text = 0;
  for (const Label& pair : l) text += pair.name.size() + pair.value.size();
  EXPECT_EQ(p.allocated_bytes(), 8 + 5 * 8 + text);  // header, two ends a pair, the text
}

TEST(PackedLabelsTest, EmptySetHasNoAllocation) {
  const PackedLabels empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.allocated_bytes(), 0u);
  EXPECT_EQ(empty.ToString(), "{}");
  EXPECT_EQ(empty.ToLabels(), Labels());
  EXPECT_TRUE(empty == PackedLabels(Labels()));
  EXPECT_TRUE(empty == Labels());
}

TEST(PackedLabelsTest, CopiesShareAndOutliveTheOriginal) {
  PackedLabels copy;
  {
    PackedLabels p(Labels({{"job", "api"}, {"host", "h-1"}}));
    copy = p;
    PackedLabels moved(std::move(p));
    EXPECT_EQ(moved.ToString(), R"({host="h-1", job="api"})");
    EXPECT_EQ(p.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
    copy = copy;              // self-assignment keeps it
  }
  EXPECT_EQ(copy.ToString(), R"({host="h-1", job="api"})");
}

// Copies made and dropped on several threads at once (run under TSan and ASan: the count
// must neither race nor free early).
TEST(PackedLabelsTest, CopiesAcrossThreads) {
  const PackedLabels p(Labels({{"job", "api"}, {"stream", "42"}}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([p] {
      for (int i = 0; i < 20000; ++i) {
        PackedLabels a = p;
        PackedLabels b = a;
        EXPECT_EQ(b.size(), 2u);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.ToString(), R"({job="api", stream="42"})");
}

}  // namespace skald
