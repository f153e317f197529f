#include "core/labels.h"

#include <gtest/gtest.h>

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
}  // namespace skald
