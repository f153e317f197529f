// Tests for LineFilter: Loki's line filter semantics, the literal fast paths
// (checked against RE2 on random lines) and the bulk Select() path (checked
// against per-line Matches() on random buffers).
#include "logql/line_filter.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>
#include <string>
#include <vector>

#include "logql/parser.h"

namespace skald::logql {
namespace {

using Op = LineFilterSpec::Op;

LineFilterSpec Spec(Op op, std::vector<std::string> values) {
  LineFilterSpec s;
  s.op = op;
  s.values = std::move(values);
  return s;
}

LineFilter MustCompile(const std::vector<LineFilterSpec>& specs) {
  auto f = LineFilter::Compile(specs);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? std::move(f).value() : LineFilter();
}

// Compiles the line filters of a parsed log query.
LineFilter FromQuery(const std::string& q) {
  auto e = ParseExpr(q);
  EXPECT_TRUE(e.ok()) << e.status().message();
  if (!e.ok()) return LineFilter();
  const LogSelector* sel = AsLogSelector(**e);
  EXPECT_NE(sel, nullptr);
  EXPECT_TRUE(HasOnlyLineFilters(*sel));
  return MustCompile(sel->line_filters);
}

TEST(LineFilterTest, ContainsAndNotContains) {
  auto f = MustCompile({Spec(Op::kContains, {"error"})});
  EXPECT_TRUE(f.Matches("an error happened"));
  EXPECT_FALSE(f.Matches("an ERROR happened"));  // case-sensitive
  EXPECT_FALSE(f.Matches("err"));
  auto n = MustCompile({Spec(Op::kNotContains, {"debug"})});
  EXPECT_TRUE(n.Matches("info line"));
  EXPECT_FALSE(n.Matches("a debug line"));
}

TEST(LineFilterTest, EmptyContainsKeepsEverythingAndIsNoop) {
  auto f = MustCompile({Spec(Op::kContains, {""})});
  EXPECT_TRUE(f.IsNoop());
  EXPECT_TRUE(f.Matches(""));
  EXPECT_TRUE(f.Matches("x"));
  EXPECT_TRUE(MustCompile({}).IsNoop());
  auto never = MustCompile({Spec(Op::kNotContains, {""})});
  EXPECT_FALSE(never.IsNoop());
  EXPECT_FALSE(never.Matches("x"));
  EXPECT_FALSE(never.Matches(""));
}

TEST(LineFilterTest, ChainIsAnded) {
  auto f = FromQuery(R"({a="b"} |= "GET" != "health" |~ "status=5\\d\\d")");
  EXPECT_TRUE(f.Matches("GET /x status=503"));
  EXPECT_FALSE(f.Matches("GET /health status=503"));
  EXPECT_FALSE(f.Matches("GET /x status=200"));
  EXPECT_FALSE(f.Matches("POST /x status=503"));
}

TEST(LineFilterTest, OrSemanticsPositiveAndNegative) {
  auto pos = FromQuery(R"({a="b"} |= "foo" or "bar")");
  EXPECT_TRUE(pos.Matches("xx foo"));
  EXPECT_TRUE(pos.Matches("bar"));
  EXPECT_FALSE(pos.Matches("baz"));
  auto neg = FromQuery(R"({a="b"} != "foo" or "bar")");  // none of them
  EXPECT_FALSE(neg.Matches("xx foo"));
  EXPECT_FALSE(neg.Matches("bar"));
  EXPECT_TRUE(neg.Matches("baz"));
  auto mixed = FromQuery(R"({a="b"} |= "test" |= "foo" or "bar" !~ "x.*y" or "z")");
  EXPECT_TRUE(mixed.Matches("test foo"));
  EXPECT_TRUE(mixed.Matches("test bar"));
  EXPECT_FALSE(mixed.Matches("test baz"));
  EXPECT_FALSE(mixed.Matches("test foo z"));
  EXPECT_FALSE(mixed.Matches("test foo x-y"));
  // A negative spec built by hand with several values means "none of them" too.
  auto hand = MustCompile({Spec(Op::kNotContains, {"a", "b"})});
  EXPECT_FALSE(hand.Matches("b"));
  EXPECT_TRUE(hand.Matches("c"));
}

TEST(LineFilterTest, RegexIsUnanchoredAndDotSkipsNewline) {
  auto f = MustCompile({Spec(Op::kRegex, {"a.b"})});
  EXPECT_TRUE(f.Matches("xx a-b yy"));
  EXPECT_FALSE(f.Matches("a\nb"));
  auto s = MustCompile({Spec(Op::kRegex, {"(?s)a.b"})});
  EXPECT_TRUE(s.Matches("a\nb"));
  auto anchored = MustCompile({Spec(Op::kRegex, {"^GET"})});
  EXPECT_TRUE(anchored.Matches("GET /"));
  EXPECT_FALSE(anchored.Matches(" GET /"));
  auto nre = MustCompile({Spec(Op::kNotRegex, {"\\d{3}"})});
  EXPECT_TRUE(nre.Matches("ab12"));
  EXPECT_FALSE(nre.Matches("ab123"));
}

TEST(LineFilterTest, RegexSimplifications) {
  auto all = MustCompile({Spec(Op::kRegex, {".*"})});
  EXPECT_TRUE(all.IsNoop());
  auto nonempty = MustCompile({Spec(Op::kRegex, {".+"})});
  EXPECT_TRUE(nonempty.Matches("x"));
  EXPECT_FALSE(nonempty.Matches(""));
  auto alt = MustCompile({Spec(Op::kRegex, {"error|fail"})});
  EXPECT_TRUE(alt.Matches("it failed"));
  EXPECT_TRUE(alt.Matches("error"));
  EXPECT_FALSE(alt.Matches("ok"));
  auto esc = MustCompile({Spec(Op::kRegex, {"a\\.b"})});
  EXPECT_TRUE(esc.Matches("a.b"));
  EXPECT_FALSE(esc.Matches("axb"));
  auto ci = MustCompile({Spec(Op::kRegex, {"(?i)TimeOut"})});
  EXPECT_TRUE(ci.Matches("request timeout"));
  EXPECT_TRUE(ci.Matches("REQUEST TIMEOUT"));
  EXPECT_FALSE(ci.Matches("time out"));
  // Like Loki's containsLower (and unlike RE2), the Kelvin sign is not a `k`.
  auto k = MustCompile({Spec(Op::kRegex, {"(?i)k"})});
  EXPECT_FALSE(k.Matches("\xE2\x84\xAA"));
  EXPECT_TRUE(k.Matches("K"));
}

TEST(LineFilterTest, CaseInsensitiveFastPathAgreesWithRe2OnAsciiLines) {
  std::mt19937 rng(42);
  const std::string alphabet = "aAbBeErRoO-_ 09\n\t@[`{";
  const char* needles[] = {"(?i)error", "(?i)Ab", "(?i)b", "(?i)a-b", "(?i)[x", "(?i)o`{"};
  for (const char* n : needles) {
    std::string pat(n);
    // Escape regex metacharacters in the literal part for both engines.
    std::string lit = pat.substr(4);
    std::string quoted = "(?i)" + RE2::QuoteMeta(lit);
    RE2 re(quoted);
    ASSERT_TRUE(re.ok());
    auto f = MustCompile({Spec(Op::kRegex, {quoted})});
    for (int i = 0; i < 3000; i++) {
      std::string line;
      size_t len = rng() % 40;
      for (size_t j = 0; j < len; j++) line.push_back(alphabet[rng() % alphabet.size()]);
      if (rng() % 4 == 0) line.insert(rng() % (line.size() + 1), lit);
      ASSERT_EQ(f.Matches(line), RE2::PartialMatch(line, re)) << quoted << " on [" << line << "]";
    }
  }
}

TEST(LineFilterTest, PatternFilter) {
  auto f = MustCompile({Spec(Op::kPattern, {"<_> foo <_>"})});
  EXPECT_TRUE(f.Matches("a foo b"));
  EXPECT_FALSE(f.Matches("a foo "));  // trailing placeholder needs a byte
  EXPECT_FALSE(f.Matches(" foo b"));  // as does the leading one
  auto lit_end = MustCompile({Spec(Op::kPattern, {"<_> bar"})});
  EXPECT_TRUE(lit_end.Matches("foo bar"));
  EXPECT_FALSE(lit_end.Matches("foo bar baz"));  // must end at the literal
  auto lit_start = MustCompile({Spec(Op::kPattern, {"foo <_>"})});
  EXPECT_TRUE(lit_start.Matches("foo bar baz"));
  auto neg = MustCompile({Spec(Op::kNotPattern, {"<_> foo <_>"})});
  EXPECT_FALSE(neg.Matches("a foo b"));
  auto named = LineFilter::Compile({Spec(Op::kPattern, {"<a> foo"})});
  EXPECT_EQ(named.status().message(), "named captures are not allowed: found '<a>'");
  auto adjacent = LineFilter::Compile({Spec(Op::kPattern, {"<_><_> foo"})});
  EXPECT_EQ(adjacent.status().message(), "found consecutive capture '<_><_>': invalid expression");
}

TEST(LineFilterTest, InvalidRegexIsInvalidArgument) {
  auto f = LineFilter::Compile({Spec(Op::kRegex, {"(abc"})});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "error parsing regexp: missing closing ): `(abc`");
}

TEST(LineFilterTest, IpFiltersMatchAddressesInTheLine) {
  LineFilterSpec s = Spec(Op::kContains, {"10.0.0.0/8"});
  s.is_ip = {true};
  LineFilter f = MustCompile({s});
  EXPECT_TRUE(f.Matches("from 10.1.2.3 to x"));
  EXPECT_FALSE(f.Matches("from 11.1.2.3 to x"));
  LineFilterSpec neg = Spec(Op::kNotContains, {"10.0.0.0/8"});
  neg.is_ip = {true};
  LineFilter n = MustCompile({neg});
  EXPECT_FALSE(n.Matches("from 10.1.2.3 to x"));
  EXPECT_TRUE(n.Matches("from 11.1.2.3 to x"));
  LineFilterSpec bad = Spec(Op::kContains, {"10.0.0.0/33"});
  bad.is_ip = {true};
  EXPECT_EQ(LineFilter::Compile({bad}).status().message(), "ip: invalid pattern: \"10.0.0.0/33\"");
}

// ---------------------------------------------------------------------------
// Select vs Matches

struct Column {
  std::string data;
  std::vector<uint32_t> offsets{0};
  void Add(std::string_view line) {
    data.append(line);
    offsets.push_back(static_cast<uint32_t>(data.size()));
  }
  std::string_view Line(size_t i) const {
    return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

std::vector<uint32_t> PerLine(const LineFilter& f, const Column& c) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i + 1 < c.offsets.size(); i++) {
    if (f.Matches(c.Line(i))) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

TEST(LineFilterTest, SelectIgnoresHitsAcrossLineBoundaries) {
  Column c;
  c.Add("xxerr");
  c.Add("orxx");  // "error" spans the boundary
  c.Add("");
  c.Add("error");
  c.Add("err");
  c.Add("or");
  c.Add("an error and another error");
  auto f = MustCompile({Spec(Op::kContains, {"error"})});
  std::vector<uint32_t> got;
  EXPECT_EQ(f.Select(c.data, c.offsets, &got), 2u);
  EXPECT_EQ(got, (std::vector<uint32_t>{3, 6}));
  auto n = MustCompile({Spec(Op::kNotContains, {"error"})});
  n.Select(c.data, c.offsets, &got);
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 4, 5}));
}

TEST(LineFilterTest, SelectHonoursNonZeroFirstOffset) {
  std::string data = "errorAAerrorBB";
  std::vector<uint32_t> offsets = {5, 7, 12, 14};  // "AA", "error", "BB"
  auto f = MustCompile({Spec(Op::kContains, {"error"})});
  std::vector<uint32_t> got;
  f.Select(data, offsets, &got);
  EXPECT_EQ(got, std::vector<uint32_t>{1});
}

TEST(LineFilterTest, SelectAgreesWithMatchesOnRandomBuffers) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcdeERROR \n";
  const std::vector<std::vector<LineFilterSpec>> filters = {
      {Spec(Op::kContains, {"ab"})},
      {Spec(Op::kContains, {"abcab"})},
      {Spec(Op::kContains, {"a"})},
      {Spec(Op::kContains, {"dE"}), Spec(Op::kNotContains, {"c"})},
      {Spec(Op::kNotContains, {"ee"})},
      {Spec(Op::kContains, {"ab", "ca", "RO"})},
      {Spec(Op::kRegex, {"(?i)error"})},
      {Spec(Op::kRegex, {"a|bc"}), Spec(Op::kRegex, {"e.R"})},
      {Spec(Op::kRegex, {"^a.*b$"})},
      {Spec(Op::kNotRegex, {"(?i)abc"}), Spec(Op::kContains, {"d"})},
      {Spec(Op::kPattern, {"<_>a<_>"})},
      {Spec(Op::kContains, {"abcdeabcdeabcdeabcdeabcdeabcdeabcdeab"})},  // longer than a vector
  };
  for (int round = 0; round < 300; round++) {
    Column c;
    size_t lines = rng() % 200;
    for (size_t i = 0; i < lines; i++) {
      std::string line;
      size_t len = rng() % 5 == 0 ? rng() % 200 : rng() % 12;
      for (size_t j = 0; j < len; j++) line.push_back(alphabet[rng() % alphabet.size()]);
      if (rng() % 10 == 0) line += "abcdeabcdeabcdeabcdeabcdeabcdeabcdeab";
      c.Add(line);
    }
    for (const auto& specs : filters) {
      auto f = MustCompile(specs);
      std::vector<uint32_t> got;
      size_t n = f.Select(c.data, c.offsets, &got);
      std::vector<uint32_t> want = PerLine(f, c);
      ASSERT_EQ(n, got.size());
      ASSERT_EQ(got, want) << "round " << round << " filter " << LineFilterString(specs[0]);
    }
  }
}

TEST(LineFilterTest, SelectEmptyColumn) {
  auto f = MustCompile({Spec(Op::kContains, {"x"})});
  std::vector<uint32_t> got = {9};
  std::vector<uint32_t> offsets = {0};
  EXPECT_EQ(f.Select("", offsets, &got), 0u);
  EXPECT_TRUE(got.empty());
}

TEST(LiteralSearcherTest, FindsEveryOccurrenceLikeStdFind) {
  std::mt19937 rng(3);
  for (int round = 0; round < 2000; round++) {
    std::string hay;
    size_t len = rng() % 300;
    for (size_t i = 0; i < len; i++) hay.push_back("abAB"[rng() % 4]);
    std::string needle;
    size_t nlen = 1 + rng() % 5;
    for (size_t i = 0; i < nlen; i++) needle.push_back("abAB"[rng() % 4]);
    internal::LiteralSearcher exact(needle, false);
    size_t from = hay.empty() ? 0 : rng() % hay.size();
    ASSERT_EQ(exact.Find(hay.data(), from, hay.size()), hay.find(needle, from))
        << hay << " / " << needle;
    internal::LiteralSearcher ci(needle, true);
    std::string lower_hay = hay, lower_needle = needle;
    for (char& ch : lower_hay) ch = static_cast<char>(std::tolower(ch));
    for (char& ch : lower_needle) ch = static_cast<char>(std::tolower(ch));
    ASSERT_EQ(ci.Find(hay.data(), from, hay.size()), lower_hay.find(lower_needle, from));
  }
}

}  // namespace
}  // namespace skald::logql
