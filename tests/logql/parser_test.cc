// Tests for the LogQL parser: accepted syntax, AST shape, canonical
// rendering, and Loki's exact error texts (many taken from Loki's own
// parser tests).
#include "logql/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "logql/ast.h"

namespace skald::logql {
namespace {

std::unique_ptr<Expr> MustParse(std::string_view q) {
  auto r = ParseExpr(q);
  EXPECT_TRUE(r.ok()) << q << " -> " << r.status().message();
  if (!r.ok()) return nullptr;
  return std::move(r).value();
}

std::string ErrorOf(std::string_view q) {
  auto r = ParseExpr(q);
  if (r.ok()) return "<ok: " + ExprString(**r) + ">";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

const LogSelector& Sel(const std::unique_ptr<Expr>& e) {
  const LogSelector* s = e ? AsLogSelector(*e) : nullptr;
  EXPECT_NE(s, nullptr);
  static LogSelector empty;
  return s ? *s : empty;
}

// ---------------------------------------------------------------------------
// Stream selectors

TEST(ParserTest, SelectorWithAllMatcherTypes) {
  auto e = MustParse(R"({a="b", c=~"x|y", d!="", e!~"z"})");
  ASSERT_TRUE(e);
  ASSERT_TRUE(IsLogQuery(*e));
  const auto& s = Sel(e);
  ASSERT_EQ(s.matchers.size(), 4u);
  EXPECT_EQ(s.matchers[0].type(), MatchType::kEqual);
  EXPECT_EQ(s.matchers[0].name(), "a");
  EXPECT_EQ(s.matchers[0].value(), "b");
  EXPECT_EQ(s.matchers[1].type(), MatchType::kRegexMatch);
  EXPECT_EQ(s.matchers[1].value(), "x|y");
  EXPECT_EQ(s.matchers[2].type(), MatchType::kNotEqual);
  EXPECT_EQ(s.matchers[2].value(), "");
  EXPECT_EQ(s.matchers[3].type(), MatchType::kRegexNoMatch);
  EXPECT_TRUE(s.line_filters.empty());
  EXPECT_TRUE(HasOnlyLineFilters(s));
}

TEST(ParserTest, WhitespaceAndNewlinesAreFree) {
  auto e = MustParse("{ foo = \"bar\" ,\n\tbaz=~ \"q\" }");
  ASSERT_TRUE(e);
  EXPECT_EQ(Sel(e).matchers.size(), 2u);
}

TEST(ParserTest, GoEscapesInStrings) {
  auto e = MustParse(R"({a="x\"y\\z\u00e9\x41\n\t"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(Sel(e).matchers[0].value(),
            "x\"y\\z\xC3\xA9"
            "A\n\t");
}

TEST(ParserTest, BacktickRawStringsHaveNoEscapes) {
  auto e = MustParse(R"({a=~`\d+\.log`} |~ `\bERROR\b`)");
  ASSERT_TRUE(e);
  EXPECT_EQ(Sel(e).matchers[0].value(), R"(\d+\.log)");
  ASSERT_EQ(Sel(e).line_filters.size(), 1u);
  EXPECT_EQ(Sel(e).line_filters[0].values[0], R"(\bERROR\b)");
}

TEST(ParserTest, MatcherRequirement) {
  const std::string msg =
      "parse error : queries require at least one regexp or equality matcher that does not have an "
      "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but "
      "app=~\".+\" will";
  EXPECT_EQ(ErrorOf(R"({foo!="bar"})"), msg);
  EXPECT_EQ(ErrorOf(R"({app=~".*"})"), msg);
  EXPECT_EQ(ErrorOf(R"({foo!~"bar|baz"})"), msg);
  EXPECT_EQ(ErrorOf(R"({a=""})"), msg);
  EXPECT_EQ(ErrorOf("{}"), msg);
  EXPECT_EQ(ErrorOf(R"(count_over_time({app=~".*"}[5m]))"), msg);
  EXPECT_EQ(ErrorOf(R"(1 + count_over_time({app=~".+"}[5m]) + count_over_time({app=~".*"}[5m]))"),
            msg);
  // One non-empty matcher is enough.
  EXPECT_TRUE(ParseExpr(R"({app=~".+", foo!="x"})").ok());
  EXPECT_TRUE(ParseExpr(R"({a=~".*", b="c"})").ok());
}

TEST(ParserTest, ExpectedTokenListsAsLokisParserGivesThem) {
  // Observed with Loki 3.7: after `and` / `or` / `,` / `(` in a label filter it lists
  // IDENTIFIER or (; after an aggregation's argument it lists nothing (an operator fits too).
  const std::string want = "syntax error: unexpected $end, expecting IDENTIFIER or (";
  EXPECT_EQ(ErrorOf(R"({a="b"} | x="1" and)"), "parse error at line 1, col 20: " + want);
  EXPECT_EQ(ErrorOf(R"({a="b"} | x="1" or)"), "parse error at line 1, col 19: " + want);
  EXPECT_EQ(ErrorOf(R"({a="b"} | x="1",)"), "parse error at line 1, col 17: " + want);
  EXPECT_EQ(ErrorOf(R"({a="b"} | ()"), "parse error at line 1, col 12: " + want);
  EXPECT_EQ(ErrorOf(R"({a="b"} | x="1" and 5)"),
            "parse error at line 1, col 21: syntax error: unexpected NUMBER, expecting IDENTIFIER "
            "or (");
  EXPECT_EQ(ErrorOf(R"({a="b"} | x )"),
            "parse error at line 1, col 13: syntax error: unexpected $end");
  EXPECT_EQ(ErrorOf(R"(sum(rate({a="b"}[5m]), 2))"),
            "parse error at line 1, col 22: syntax error: unexpected ,");
  EXPECT_EQ(ErrorOf(R"(label_replace(rate({a="b"}[5m]) x)"),
            "parse error at line 1, col 33: syntax error: unexpected IDENTIFIER");
}

TEST(ParserTest, SelectorSyntaxErrors) {
  EXPECT_EQ(ErrorOf(R"({foo="bar})"), "parse error at line 1, col 6: literal not terminated");
  EXPECT_EQ(ErrorOf(R"({foo="bar")"),
            "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,");
  EXPECT_EQ(ErrorOf(R"({foo="bar"} "foo")"),
            "parse error at line 1, col 13: syntax error: unexpected STRING");
  EXPECT_EQ(ErrorOf(R"({foo="bar"} foo)"),
            "parse error at line 1, col 13: syntax error: unexpected IDENTIFIER");
  EXPECT_EQ(
      ErrorOf("{"),
      "parse error at line 1, col 2: syntax error: unexpected $end, expecting IDENTIFIER or }");
  EXPECT_EQ(
      ErrorOf("{foo"),
      "parse error at line 1, col 5: syntax error: unexpected $end, expecting = or =~ or !~ or !=");
  EXPECT_EQ(ErrorOf("{foo="),
            "parse error at line 1, col 6: syntax error: unexpected $end, expecting STRING");
  EXPECT_EQ(ErrorOf(R"({foo="bar",})"),
            "parse error at line 1, col 12: syntax error: unexpected }, expecting IDENTIFIER");
  // Keywords cannot be label names; two-character tokens report line 0.
  EXPECT_EQ(
      ErrorOf(R"({json="x"})"),
      "parse error at line 1, col 2: syntax error: unexpected json, expecting IDENTIFIER or }");
  EXPECT_EQ(
      ErrorOf(R"({a=="x"})"),
      "parse error at line 0, col 3: syntax error: unexpected ==, expecting = or =~ or !~ or !=");
  EXPECT_EQ(ErrorOf("{app=~\"\xa0\xa1\"}"), "parse error at line 1, col 7: invalid UTF-8 encoding");
  EXPECT_EQ(ErrorOf(R"({a="\q"})"), "parse error at line 1, col 4: invalid char escape");
}

TEST(ParserTest, InvalidMatcherRegexIsPositionlessParseError) {
  EXPECT_EQ(ErrorOf(R"({a=~"(abc"})"),
            "parse error : error parsing regexp: missing closing ): `(abc`");
}

TEST(ParserTest, ErrorPositionsCountLinesAndCharacters) {
  EXPECT_EQ(ErrorOf("{a=\"b\"}\n  |= \"x\"\n  foo"),
            "parse error at line 3, col 3: syntax error: unexpected IDENTIFIER");
  // Columns count characters, not bytes.
  EXPECT_EQ(ErrorOf("{a=\"\xC3\xA9\xC3\xA9\"} foo"),
            "parse error at line 1, col 10: syntax error: unexpected IDENTIFIER");
}

TEST(ParserTest, InputSizeLimit) {
  std::string q = "{a=\"" + std::string(kMaxQueryLength, 'x') + "\"}";
  EXPECT_EQ(ErrorOf(q),
            "parse error : input size too long (" + std::to_string(q.size()) + " > 131072)");
  std::string exact(kMaxQueryLength, ' ');
  EXPECT_EQ(ErrorOf(exact), "parse error : input size too long (131072 > 131072)");
  std::string ok = "{a=\"" + std::string(kMaxQueryLength - 10, 'x') + "\"}";
  EXPECT_TRUE(ParseExpr(ok).ok());
}

TEST(ParserTest, DeepNestingIsRejectedNotCrashing) {
  const std::string too_deep = "parse error : expression nesting too deep (more than 1000 levels)";
  std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_EQ(ErrorOf(parens), too_deep);
  std::string filters = R"({a="b"} | json |)";
  for (int i = 0; i < 5000; i++) filters += " x=\"1\"";
  EXPECT_EQ(ErrorOf(filters), too_deep);
  std::string sum = "vector(1)";
  for (int i = 0; i < 5000; i++) sum += "+vector(1)";
  EXPECT_EQ(ErrorOf(sum), too_deep);
  // Reasonable depths still parse.
  EXPECT_TRUE(ParseExpr(std::string(100, '(') + "1" + std::string(100, ')')).ok());
}

TEST(ParserTest, CommentsAreSkipped) {
  auto e = MustParse("{a=\"b\"} # keep errors\n|= \"error\" # and only errors");
  ASSERT_TRUE(e);
  ASSERT_EQ(Sel(e).line_filters.size(), 1u);
  EXPECT_EQ(Sel(e).line_filters[0].values[0], "error");
  EXPECT_EQ(ErrorOf(R"(#{app="foo"} | json)"),
            "parse error at line 1, col 20: syntax error: unexpected $end");
}

TEST(ParserTest, ParenthesesAroundLogExpr) {
  auto e = MustParse(R"((({a="b"} |= "x")))");
  ASSERT_TRUE(e);
  EXPECT_EQ(Sel(e).line_filters.size(), 1u);
  // A pipeline must follow the selector directly.
  EXPECT_EQ(ErrorOf(R"(({a="b"}) |= "x")"),
            "parse error at line 0, col 11: syntax error: unexpected |=");
}

TEST(ParserTest, KeywordsAreCaseInsensitive) {
  auto e = MustParse(R"({a="b"} | JSON | LogFmt | Line_Format "x")");
  ASSERT_TRUE(e);
  ASSERT_EQ(Sel(e).stages.size(), 3u);
  EXPECT_EQ(Sel(e).stages[0].kind, PipelineStage::Kind::kJson);
  auto m = MustParse(R"(SUM BY (x) (RATE({a="b"}[5m])))");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind(), ExprKind::kVectorAggregation);
}

TEST(ParserTest, FunctionWordsAreLabelNamesUnlessCalled) {
  auto e = MustParse(R"({count="1", rate="2", bytes="3", ip="4"} | sum > 3)");
  ASSERT_TRUE(e);
  EXPECT_EQ(Sel(e).matchers.size(), 4u);
  EXPECT_EQ(Sel(e).stages[0].label_filter->name, "sum");
}

// ---------------------------------------------------------------------------
// Line filters

TEST(ParserTest, LineFilterChain) {
  auto e = MustParse(R"({a="b"} |= "x" != "y" |~ "z.*" !~ "w" |> "<_> foo" !> "bar <_>")");
  ASSERT_TRUE(e);
  const auto& f = Sel(e).line_filters;
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].op, LineFilterSpec::Op::kContains);
  EXPECT_EQ(f[1].op, LineFilterSpec::Op::kNotContains);
  EXPECT_EQ(f[2].op, LineFilterSpec::Op::kRegex);
  EXPECT_EQ(f[3].op, LineFilterSpec::Op::kNotRegex);
  EXPECT_EQ(f[4].op, LineFilterSpec::Op::kPattern);
  EXPECT_EQ(f[5].op, LineFilterSpec::Op::kNotPattern);
  EXPECT_EQ(f[2].values, std::vector<std::string>{"z.*"});
}

TEST(ParserTest, OrChainsOnPositiveFiltersStayTogether) {
  auto e = MustParse(R"({a="b"} |= "a" or "b" or "c" |~ "d" or "e")");
  ASSERT_TRUE(e);
  const auto& f = Sel(e).line_filters;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].op, LineFilterSpec::Op::kContains);
  EXPECT_EQ(f[0].values, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(f[1].op, LineFilterSpec::Op::kRegex);
  EXPECT_EQ(f[1].values, (std::vector<std::string>{"d", "e"}));
}

TEST(ParserTest, OrChainsOnNegativeFiltersMeanNoneOfThem) {
  // Loki: `!= "a" or "b"` is `!= "a" != "b"`.
  auto e = MustParse(R"({a="b"} != "a" or "b" !~ "c" or "d")");
  ASSERT_TRUE(e);
  const auto& f = Sel(e).line_filters;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].op, LineFilterSpec::Op::kNotContains);
  EXPECT_EQ(f[0].values, std::vector<std::string>{"a"});
  EXPECT_EQ(f[1].values, std::vector<std::string>{"b"});
  EXPECT_EQ(f[2].op, LineFilterSpec::Op::kNotRegex);
  EXPECT_EQ(f[3].values, std::vector<std::string>{"d"});
  EXPECT_EQ(ExprString(*e), R"({a="b"} != "a" != "b" !~ "c" !~ "d")");
}

TEST(ParserTest, OrAfterLineFilterAlwaysContinuesTheChain) {
  EXPECT_EQ(
      ErrorOf(R"({a="b"} |= "x" or vector(1))"),
      "parse error at line 1, col 19: syntax error: unexpected VECTOR, expecting STRING or ip");
  EXPECT_EQ(ErrorOf(R"({foo="bar"} |~)"),
            "parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING or ip");
}

TEST(ParserTest, IpLineFilter) {
  auto e = MustParse(R"({a="b"} |= ip("10.0.0.0/8") or "x" != ip("1.2.3.4"))");
  ASSERT_TRUE(e);
  const auto& f = Sel(e).line_filters;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(f[0].IsIp(0));
  EXPECT_FALSE(f[0].IsIp(1));
  EXPECT_TRUE(f[1].HasIp());
  EXPECT_EQ(ExprString(*e), R"({a="b"} |= ip("10.0.0.0/8") or "x" != ip("1.2.3.4"))");
}

TEST(ParserTest, EmptyFilterIsKept) {
  auto e = MustParse(R"({job="x"} |= "")");
  ASSERT_TRUE(e);
  ASSERT_EQ(Sel(e).line_filters.size(), 1u);
  EXPECT_EQ(Sel(e).line_filters[0].values[0], "");
}

TEST(ParserTest, LineFiltersAfterOtherStagesAreStages) {
  auto e = MustParse(R"({a="b"} |= "x" | json |= "y")");
  ASSERT_TRUE(e);
  const auto& s = Sel(e);
  EXPECT_EQ(s.line_filters.size(), 1u);
  ASSERT_EQ(s.stages.size(), 2u);
  EXPECT_EQ(s.stages[0].kind, PipelineStage::Kind::kJson);
  EXPECT_EQ(s.stages[1].kind, PipelineStage::Kind::kLineFilter);
  EXPECT_EQ(s.stages[1].line_filter.values[0], "y");
  EXPECT_FALSE(HasOnlyLineFilters(s));
}

// ---------------------------------------------------------------------------
// Pipeline stages

TEST(ParserTest, ParserStages) {
  auto e = MustParse(
      R"({a="b"} | json | json ua="request.headers[\"User-Agent\"]", b | logfmt --strict --keep-empty host, ip="fwd")"
      R"q( | regexp "(?P<x>\\w+)" | pattern "<ip> - <_>" | unpack | decolorize)q");
  ASSERT_TRUE(e);
  const auto& st = Sel(e).stages;
  ASSERT_EQ(st.size(), 7u);
  EXPECT_TRUE(st[0].extractions.empty());
  ASSERT_EQ(st[1].extractions.size(), 2u);
  EXPECT_EQ(st[1].extractions[0].label, "ua");
  EXPECT_EQ(st[1].extractions[0].expression, "request.headers[\"User-Agent\"]");
  EXPECT_EQ(st[1].extractions[1].expression, "b");
  EXPECT_TRUE(st[2].strict);
  EXPECT_TRUE(st[2].keep_empty);
  EXPECT_EQ(st[2].extractions[1].expression, "fwd");
  EXPECT_EQ(st[3].kind, PipelineStage::Kind::kRegexp);
  EXPECT_EQ(st[3].param, "(?P<x>\\w+)");
  EXPECT_EQ(st[4].kind, PipelineStage::Kind::kPattern);
  EXPECT_EQ(st[5].kind, PipelineStage::Kind::kUnpack);
  EXPECT_EQ(st[6].kind, PipelineStage::Kind::kDecolorize);
}

TEST(ParserTest, FormatAndLabelSetStages) {
  auto e = MustParse(
      R"({a="b"} | line_format "{{.a}}" | label_format x=y, z="{{.a}}" | drop a, b="c" | keep d, e=~"f.*")");
  ASSERT_TRUE(e);
  const auto& st = Sel(e).stages;
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].param, "{{.a}}");
  ASSERT_EQ(st[1].label_formats.size(), 2u);
  EXPECT_TRUE(st[1].label_formats[0].rename);
  EXPECT_FALSE(st[1].label_formats[1].rename);
  ASSERT_EQ(st[2].named.size(), 2u);
  EXPECT_EQ(st[2].named[0].name, "a");
  EXPECT_TRUE(st[2].named[1].matcher.has_value());
  EXPECT_EQ(st[3].kind, PipelineStage::Kind::kKeep);
}

TEST(ParserTest, InvalidParserStagesFailAtParseTime) {
  EXPECT_EQ(ErrorOf(R"q({a="b"} | regexp "(\\w+)")q"),
            "parse error : invalid regexp parser: at least one named capture must be supplied");
  EXPECT_EQ(ErrorOf(R"q({a="b"} | regexp "(?P<x>a)(?P<x>b)")q"),
            "parse error : invalid regexp parser: duplicate extracted label name 'x'");
  EXPECT_EQ(ErrorOf(R"({a="b"} | pattern "<_> foo")"),
            "parse error : invalid pattern parser: at least one capture is required");
  EXPECT_EQ(ErrorOf(R"({a="b"} | pattern "<a><b>")"),
            "parse error : invalid pattern parser: found consecutive capture '<a><b>': invalid "
            "expression");
  EXPECT_EQ(ErrorOf(R"({a="b"} | pattern "<a> <a>")"),
            "parse error : invalid pattern parser: duplicate capture name (a): invalid expression");
}

TEST(ParserTest, LabelFilterPrecedenceMatchesLoki) {
  // From Loki's parser tests: `or` binds looser than `and`.
  auto e = MustParse(
      R"({app="foo"} |= "bar" | json | latency >= 250ms or ( status_code < 500 and status_code > 200))");
  ASSERT_TRUE(e);
  ASSERT_EQ(Sel(e).stages.size(), 2u);
  EXPECT_EQ(LabelFilterString(*Sel(e).stages[1].label_filter),
            "( latency>=250ms or ( status_code<500 , status_code>200 ) )");
  // `,` and juxtaposition take everything to their right (goyacc shifts).
  auto j = MustParse(R"({app="foo"} | foo="bar" buzz!="blip", blop=~"boop" or fuzz==5)");
  ASSERT_TRUE(j);
  EXPECT_EQ(LabelFilterString(*Sel(j).stages[0].label_filter),
            R"(( foo="bar" , ( buzz!="blip" , ( blop=~"boop" or fuzz==5 ) ) ))");
  auto k = MustParse(R"({app="foo"} | a>1 and b>2 or c>3 and d>4)");
  ASSERT_TRUE(k);
  EXPECT_EQ(LabelFilterString(*Sel(k).stages[0].label_filter),
            "( ( a>1 , b>2 ) or ( c>3 , d>4 ) )");
  auto l = MustParse(R"({app="foo"} | a>1 or b>2 or c>3)");
  ASSERT_TRUE(l);
  EXPECT_EQ(LabelFilterString(*Sel(l).stages[0].label_filter), "( ( a>1 or b>2 ) or c>3 )");
}

TEST(ParserTest, TypedLabelFilters) {
  auto e = MustParse(
      R"({a="b"} | logfmt | d > 1.5s | size >= 10MB | n != -3 | e == 2KiB | x = ip("1.2.3.0/24") | y != ip("::1"))");
  ASSERT_TRUE(e);
  const auto& st = Sel(e).stages;
  ASSERT_EQ(st.size(), 7u);
  EXPECT_EQ(st[1].label_filter->kind, LabelFilter::Kind::kDuration);
  EXPECT_EQ(st[1].label_filter->duration_nanos, 1500000000);
  EXPECT_EQ(st[2].label_filter->kind, LabelFilter::Kind::kBytes);
  EXPECT_EQ(st[2].label_filter->bytes, 10000000u);
  EXPECT_EQ(st[2].label_filter->cmp, CompareOp::kGe);
  EXPECT_EQ(st[3].label_filter->kind, LabelFilter::Kind::kNumber);
  EXPECT_EQ(st[3].label_filter->number, -3);
  EXPECT_EQ(st[4].label_filter->bytes, 2048u);
  EXPECT_EQ(st[5].label_filter->kind, LabelFilter::Kind::kIp);
  EXPECT_EQ(st[6].label_filter->cmp, CompareOp::kNe);
}

TEST(ParserTest, LabelFilterErrors) {
  EXPECT_EQ(ErrorOf(R"({ foo = "bar" }|logfmt|addr>=ip("1.2.3.4"))"),
            "parse error at line 1, col 30: syntax error: unexpected ip");
  EXPECT_EQ(ErrorOf(R"({ foo = "bar" }|logfmt|addr>ip("1.2.3.4"))"),
            "parse error at line 1, col 29: syntax error: unexpected ip");
  EXPECT_EQ(ErrorOf(R"({app="foo"} | logfmt | status_code > 0x10)"),
            "parse error : unable to parse literal as a float: strconv.ParseFloat: parsing "
            "\"0x10\": invalid syntax");
  // Loki's scanner reads "0B" as an unfinished binary literal.
  EXPECT_EQ(ErrorOf(R"({a="b"} | x >= 0B)"),
            "parse error at line 1, col 16: decimal literal has no digits");
}

// ---------------------------------------------------------------------------
// Metric expressions

TEST(ParserTest, RangeAggregationForms) {
  const char* same[] = {
      R"(count_over_time({a="b"} |= "x" [5m]))",
      R"(count_over_time({a="b"}[5m] |= "x"))",
      R"(count_over_time(({a="b"} |= "x")[5m]))",
      R"(count_over_time((({a="b"} |= "x")[5m])))",
  };
  auto first = MustParse(same[0]);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->kind(), ExprKind::kRangeAggregation);
  const auto& r = static_cast<const RangeAggregationExpr&>(*first);
  EXPECT_EQ(r.op, RangeOp::kCountOverTime);
  EXPECT_EQ(r.range_nanos, 5 * 60 * 1000000000LL);
  EXPECT_EQ(r.selector->line_filters.size(), 1u);
  for (const char* q : same) {
    auto e = MustParse(q);
    ASSERT_TRUE(e) << q;
    EXPECT_TRUE(ExprEqual(*first, *e)) << q;
  }
}

TEST(ParserTest, UnwrapOffsetAndParams) {
  auto e = MustParse(
      R"(quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) | __error__="" [5m] offset 1h) by (x))");
  ASSERT_TRUE(e);
  const auto& r = static_cast<const RangeAggregationExpr&>(*e);
  EXPECT_EQ(r.op, RangeOp::kQuantileOverTime);
  ASSERT_TRUE(r.param.has_value());
  EXPECT_DOUBLE_EQ(*r.param, 0.99);
  ASSERT_TRUE(r.unwrap.has_value());
  EXPECT_EQ(r.unwrap->label, "latency");
  EXPECT_EQ(r.unwrap->conv, Unwrap::Conv::kDuration);
  EXPECT_EQ(r.unwrap->post_filters.size(), 1u);
  EXPECT_EQ(r.offset_nanos, 3600LL * 1000000000LL);
  ASSERT_TRUE(r.grouping.has_value());
  EXPECT_EQ(r.grouping->labels, std::vector<std::string>{"x"});
  // `bytes` without parentheses is a label name.
  auto b = MustParse(R"(sum_over_time({a="b"} | unwrap bytes [1m]))");
  ASSERT_TRUE(b);
  EXPECT_EQ(static_cast<const RangeAggregationExpr&>(*b).unwrap->label, "bytes");
}

TEST(ParserTest, VectorAggregationsAndGrouping) {
  auto e = MustParse(R"(topk(5, sum without (a, b) (rate({x="y"}[1m]))))");
  ASSERT_TRUE(e);
  const auto& t = static_cast<const VectorAggregationExpr&>(*e);
  EXPECT_EQ(t.op, VectorOp::kTopk);
  EXPECT_EQ(t.param, 5);
  const auto& s = static_cast<const VectorAggregationExpr&>(*t.arg);
  ASSERT_TRUE(s.grouping.has_value());
  EXPECT_TRUE(s.grouping->without);
  EXPECT_EQ(s.grouping->labels, (std::vector<std::string>{"a", "b"}));
  auto after = MustParse(R"(sum(rate({x="y"}[1m])) by (a))");
  ASSERT_TRUE(after);
  EXPECT_FALSE(static_cast<const VectorAggregationExpr&>(*after).grouping->without);
}

TEST(ParserTest, BinaryPrecedenceAndFolding) {
  auto lit = [](const std::string& q) {
    auto e = ParseExpr(q);
    EXPECT_TRUE(e.ok()) << q;
    if (!e.ok() || (*e)->kind() != ExprKind::kLiteral) return -12345.0;
    return static_cast<const LiteralExpr&>(**e).value;
  };
  EXPECT_EQ(lit("1 + 1"), 2);
  EXPECT_EQ(lit("1 + 2 * 3"), 7);
  EXPECT_EQ(lit("(1 + 2) * 3"), 9);
  EXPECT_EQ(lit("10 - 2 - 3"), 5);
  EXPECT_EQ(lit("2 ^ 3 ^ 2"), 512);
  EXPECT_EQ(lit("1 - -1"), 2);
  EXPECT_EQ(lit("3 > 2"), 1);
  EXPECT_EQ(lit("7 % 4 == 3"), 1);
  EXPECT_TRUE(std::isnan(lit("1 / 0")));  // Loki folds x/0 to NaN

  auto e =
      MustParse(R"(sum(rate({a="b"}[5m])) / on(a) group_left(c) sum(rate({a="b"}[5m])) > bool 2)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind(), ExprKind::kBinary);
  const auto& cmp = static_cast<const BinaryExpr&>(*e);
  EXPECT_EQ(cmp.op, BinaryOp::kGt);
  EXPECT_TRUE(cmp.return_bool);
  const auto& div = static_cast<const BinaryExpr&>(*cmp.lhs);
  EXPECT_EQ(div.op, BinaryOp::kDiv);
  EXPECT_TRUE(div.matching.on);
  EXPECT_EQ(div.matching.labels, std::vector<std::string>{"a"});
  EXPECT_EQ(div.matching.card, VectorMatching::Card::kManyToOne);
  EXPECT_EQ(div.matching.include, std::vector<std::string>{"c"});

  auto v = MustParse("vector(1)+vector(1)");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind(), ExprKind::kBinary);
}

TEST(ParserTest, LabelReplaceAndVector) {
  auto e = MustParse(R"q(label_replace(rate({a="b"}[1m]), "dst", "$1", "src", "(.*)"))q");
  ASSERT_TRUE(e);
  const auto& lr = static_cast<const LabelReplaceExpr&>(*e);
  EXPECT_EQ(lr.dst, "dst");
  EXPECT_EQ(lr.regex, "(.*)");
  auto v = MustParse("vector(2.5)");
  ASSERT_TRUE(v);
  EXPECT_EQ(static_cast<const VectorExpr&>(*v).value, 2.5);
}

TEST(ParserTest, LokiMetricErrors) {
  EXPECT_EQ(ErrorOf(R"(unk({ foo = "bar" }[5m]))"),
            "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER");
  EXPECT_EQ(ErrorOf(R"(absent_over_time({ foo = "bar" }[5h]) by (foo))"),
            "parse error : grouping not allowed for absent_over_time aggregation");
  EXPECT_EQ(ErrorOf(R"(approx_topk(2, count_over_time({ foo = "bar" }[5h])) by (foo))"),
            "parse error : grouping not allowed for approx_topk aggregation");
  EXPECT_EQ(ErrorOf(R"(rate({ foo = "bar" }[5minutes]))"),
            R"(parse error at line 0, col 21: unknown unit "minutes" in duration "5minutes")");
  EXPECT_EQ(ErrorOf(R"(label_replace(rate({ foo = "bar" }[5m]),""))"),
            "parse error at line 1, col 43: syntax error: unexpected ), expecting ,");
  EXPECT_EQ(ErrorOf(R"(label_replace(rate({ foo = "bar" }[5m]),"foo","$1","bar","^^^^x43\\q"))"),
            "parse error : invalid regex in label_replace: error parsing regexp: invalid escape "
            "sequence: `\\q`");
  EXPECT_EQ(ErrorOf(R"(rate({ foo = "bar" }[5))"),
            "parse error at line 0, col 21: missing closing ']' in duration");
  EXPECT_EQ(ErrorOf(R"(min({ foo = "bar" }[5m]))"),
            "parse error at line 0, col 20: syntax error: unexpected RANGE");
  EXPECT_EQ(ErrorOf(R"(sum(3 ,count_over_time({ foo = "bar" }[5h])))"),
            "parse error : unsupported parameter for operation sum(3,");
  EXPECT_EQ(ErrorOf(R"(topk(count_over_time({ foo = "bar" }[5h])))"),
            "parse error : parameter required for operation topk");
  EXPECT_EQ(ErrorOf(R"(bottomk(he,count_over_time({ foo = "bar" }[5h])))"),
            "parse error at line 1, col 9: syntax error: unexpected IDENTIFIER");
  EXPECT_EQ(ErrorOf(R"(bottomk(1.2,count_over_time({ foo = "bar" }[5h])))"),
            "parse error : invalid parameter bottomk(1.2,");
  EXPECT_EQ(ErrorOf(R"(topk(0,count_over_time({ foo = "bar" }[5h])))"),
            "parse error : invalid parameter (must be greater than 0) topk(0");
  EXPECT_EQ(ErrorOf(R"(stddev({ foo = "bar" }))"),
            "parse error at line 1, col 23: syntax error: unexpected )");
  EXPECT_EQ(
      ErrorOf(R"({foo="bar"} + {foo="bar"})"),
      "parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr");
  EXPECT_EQ(
      ErrorOf(R"(sum(count_over_time({foo="bar"}[5m])) by (foo) - {foo="bar"} |= "x")"),
      "parse error : unexpected type for right leg of binary operation (-): *syntax.PipelineExpr");
  EXPECT_EQ(
      ErrorOf(R"(count_over_time({ foo = "bar" }[12m]) > { foo = "bar" })"),
      "parse error : unexpected type for right leg of binary operation (>): *syntax.MatchersExpr");
  EXPECT_EQ(ErrorOf(R"(sum(count_over_time({foo="bar"}[5m])) by (foo) or 1)"),
            "parse error : unexpected literal for right leg of logical/set binary operation (or): "
            "1.000000");
  EXPECT_EQ(ErrorOf(R"(1 unless sum(count_over_time({foo="bar"}[5m])) by (foo))"),
            "parse error : unexpected literal for left leg of logical/set binary operation "
            "(unless): 1.000000");
  EXPECT_EQ(ErrorOf(R"(sum(count_over_time({foo="bar"}[5m])) by (foo) + 1 or 1)"),
            "parse error : unexpected literal for right leg of logical/set binary operation (or): "
            "1.000000");
  EXPECT_EQ(ErrorOf("bool 1 > 1 > bool 1"),
            "parse error at line 1, col 1: syntax error: unexpected bool");
  EXPECT_EQ(
      ErrorOf(
          R"(sum_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms| unwrap latency [5m]) by (foo))"),
      "parse error : grouping not allowed for sum_over_time aggregation");
  EXPECT_EQ(
      ErrorOf(
          R"(sum_over_time(50,{namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms| unwrap latency [5m]))"),
      "parse error : parameter 50 not supported for operation sum_over_time");
  EXPECT_EQ(
      ErrorOf(
          R"(quantile_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms| unwrap latency [5m]))"),
      "parse error : parameter required for operation quantile_over_time");
  EXPECT_EQ(
      ErrorOf(
          R"(quantile_over_time(foo,{namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms| unwrap latency [5m]))"),
      "parse error at line 1, col 20: syntax error: unexpected IDENTIFIER, expecting NUMBER or { "
      "or (");
  EXPECT_EQ(ErrorOf("vector(abc)"),
            "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting NUMBER");
  EXPECT_EQ(
      ErrorOf(R"(count without (rate({namespace="apps"}[15s])))"),
      "parse error at line 1, col 16: syntax error: unexpected RATE, expecting IDENTIFIER or )");
  EXPECT_EQ(
      ErrorOf(
          R"(sum_over_time({app="foo"} |= "bar" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)
      | line_format "blip{{ .foo }}blop {{.status_code}}" | label_format foo=bar,status_code="buzz{{.bar}}"[5m]))"),
      "parse error : invalid aggregation sum_over_time without unwrap");
  EXPECT_EQ(ErrorOf(R"(count_over_time({app="foo"} |= "foo" | json | unwrap foo [5m]))"),
            "parse error : invalid aggregation count_over_time with unwrap");
  EXPECT_EQ(ErrorOf(R"(sort by (a) (count_over_time({app="foo"}[5m])))"),
            "parse error : sort and sort_desc doesn't allow grouping by ");
  EXPECT_EQ(ErrorOf(R"({a="b"} | unwrap x)"),
            "parse error at line 1, col 11: syntax error: unexpected unwrap");
}

TEST(ParserTest, ParseMatchersForSeries) {
  auto empty = ParseMatchers("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto two = ParseMatchers(R"({a="b", c=~"d.*"})");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
  auto neg = ParseMatchers(R"({a!="b"})");  // no "at least one matcher" rule here
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(ParseMatchers(R"({a="b"} |= "x")").status().message(),
            "only label matchers are supported");
  EXPECT_EQ(ParseMatchers(R"(rate({a="b"}[1m]))").status().message(),
            "only label matchers are supported");
  EXPECT_EQ(ParseMatchers(R"({a=)").status().message(),
            "parse error at line 1, col 4: syntax error: unexpected $end, expecting STRING");
}

// ---------------------------------------------------------------------------
// Canonical rendering

TEST(ParserTest, ExprStringRoundTrips) {
  const char* queries[] = {
      R"({a="b", c=~"x|y"})",
      R"({a="b"} |= "x" or "y" != "z" |~ `\d` !~ "q" |> "<_> a" !> "b <_>")",
      R"q({a="b"} | json | json x="y", z | logfmt --strict a | regexp "(?P<a>.)" | pattern "<a> <_>")q",
      R"({a="b"} | unpack | line_format "{{.a}}" | label_format a=b, c="{{.d}}" | decolorize | drop a, b="c" | keep d)",
      R"({a="b"} | a > 1.5 or b <= 10KB and c == 5m | d = ip("1.2.3.4") | e="f" g!~"h")",
      R"({a="b"} | x >= 1B | y < 0KB)",
      R"(rate({a="b"}[5m]))",
      R"(sum by (a, b) (rate({a="b"} |= "x" [1h30m] offset 5m)))",
      R"(quantile_over_time(0.5, {a="b"} | unwrap bytes(x) | __error__="" [1d]) without (c))",
      R"(topk(3, sum(count_over_time({a="b"}[1w]))) > bool 2)",
      R"(sum(rate({a="b"}[1m])) / ignoring (c) group_right (d) sum(rate({a="b"}[1m])))",
      R"(label_replace(vector(1), "a", "b", "c", "d") or on () vector(2))",
      "1 + 2 * vector(3) ^ 2 ^ 3",
      "-1.5e-07 * vector(1)",
      "- 0 * vector(1e-7)",                     // -0 must not render as "-0" (a Go duration)
      R"({a="b"} | json ! ="x" | drop ! , b)",  // "!" alone is an IDENTIFIER
  };
  for (const char* q : queries) {
    auto e = MustParse(q);
    ASSERT_TRUE(e) << q;
    std::string s = ExprString(*e);
    auto again = ParseExpr(s);
    ASSERT_TRUE(again.ok()) << q << " rendered as " << s << ": " << again.status().message();
    EXPECT_TRUE(ExprEqual(*e, **again)) << q << " rendered as " << s;
    EXPECT_EQ(ExprString(**again), s);
  }
}

TEST(ParserTest, ExprStringForms) {
  auto e = MustParse(R"(sum by (a) (count_over_time({a="b"} |= "x" [5m] offset 90s)))");
  ASSERT_TRUE(e);
  EXPECT_EQ(ExprString(*e), R"(sum by (a)(count_over_time({a="b"} |= "x"[5m] offset 1m30s)))");
  auto l = MustParse("1e6 + 0");
  ASSERT_TRUE(l);
  EXPECT_EQ(ExprString(*l), "1e+06");
}

}  // namespace
}  // namespace skald::logql
