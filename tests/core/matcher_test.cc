#include "core/matcher.h"

#include <gtest/gtest.h>

namespace skald {
namespace {

Matcher M(MatchType t, const char* n, const char* v) { return *Matcher::Create(t, n, v); }

TEST(MatcherTest, RegexIsFullyAnchored) {
  auto m = M(MatchType::kRegexMatch, "app", "web");
  EXPECT_TRUE(m.Matches("web"));
  EXPECT_FALSE(m.Matches("webserver"));
  auto p = M(MatchType::kRegexMatch, "app", "we.*");
  EXPECT_TRUE(p.Matches("webserver"));
  EXPECT_FALSE(p.Matches("aweb"));
}

TEST(MatcherTest, DotMatchesNewlineLikePrometheus) {
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", "x.y").Matches("x\ny"));
}

TEST(MatcherTest, EmptyCompatibility) {
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", ".*").MatchesEmpty());
  EXPECT_FALSE(M(MatchType::kRegexMatch, "a", ".+").MatchesEmpty());
  EXPECT_TRUE(M(MatchType::kEqual, "a", "").MatchesEmpty());
  EXPECT_TRUE(M(MatchType::kNotEqual, "a", "x").MatchesEmpty());
  EXPECT_FALSE(M(MatchType::kRegexNoMatch, "a", ".*").MatchesEmpty());
}

TEST(MatcherTest, SetMatchesForLiteralAlternation) {
  auto m = M(MatchType::kRegexMatch, "a", "x|yy|z");
  EXPECT_EQ(m.SetMatches(), (std::vector<std::string>{"x", "yy", "z"}));
  EXPECT_TRUE(m.Matches("yy"));
  EXPECT_FALSE(m.Matches("x|yy"));
  EXPECT_TRUE(M(MatchType::kRegexMatch, "a", "x.*").SetMatches().empty());
}

TEST(MatcherTest, InvalidRegexIsAnError) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "a", "(");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

TEST(MatcherTest, ToStringQuotes) {
  EXPECT_EQ(M(MatchType::kRegexNoMatch, "a", "x\"y").ToString(), R"(a!~"x\"y")");
}

TEST(MatcherTest, MatchesAllTreatsAbsentAsEmpty) {
  Labels l(std::vector<Label>{{"a", "1"}});
  EXPECT_TRUE(MatchesAll({M(MatchType::kEqual, "b", "")}, l));
  EXPECT_FALSE(MatchesAll({M(MatchType::kEqual, "a", "2")}, l));
}

}  // namespace
}  // namespace skald
