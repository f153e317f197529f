// PrettyExprString: the text Loki's format_query answers (syntax.Prettify). Every
// expectation below is what Grafana Loki 3.7.6 answered for the same query (observed facts).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "logql/ast.h"
#include "logql/parser.h"
#include "logql/regex_util.h"

namespace skald::logql {
namespace {

TEST(PrettyExprStringTest, GivesLokisFormatQueryText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"q(quantile_over_time(0.99, {app="web", cluster="eu-west-1", namespace="production"} | logfmt | unwrap duration(duration) | __error__="" [5m]) by (host, cluster))q",
       R"q(quantile_over_time(
  0.99,
  {app="web", cluster="eu-west-1", namespace="production"} | logfmt
    | unwrap duration(duration)
    | __error__="" [5m]
) by (host, cluster))q"},
      {R"q(topk(10, sum by (path, method, status) (rate({app="web", cluster="eu-west-1", namespace="production"} | json [5m]))))q",
       R"q(topk(
  10,
  sum by (path, method, status)(
    rate({app="web", cluster="eu-west-1", namespace="production"} | json[5m])
  )
))q"},
      {R"q(label_replace(sum by (app, host) (count_over_time({app="web", cluster="eu-west-1", namespace="production"}[5m])), "h", "$1", "host", "(.*)"))q",
       R"q(label_replace(
  sum by (app,host)(count_over_time({app="web", cluster="eu-west-1", namespace="production"}[5m])),
  "h",
  "$1",
  "host",
  "(.*)"
))q"},
      {R"q({app="web", cluster="eu-west-1", namespace="production"} |= "error" != "timeout" |~ "status=5.." | logfmt | decolorize | level="error")q",
       R"q({app="web", cluster="eu-west-1", namespace="production"}
  |= "error" != "timeout" |~ "status=5.."
  | logfmt
| decolorize
  | level="error")q"},
      {R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"} |= "some fairly long needle text" |= "another long needle")q",
       R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"}
  |= "some fairly long needle text" |= "another long needle")q"},
      {R"q(sum without (host) (count_over_time({app="web", cluster="eu-west-1", namespace="production"} | logfmt | status >= 500 [5m] offset 1h)))q",
       R"q(sum without (host)(
  count_over_time(
    {app="web", cluster="eu-west-1", namespace="production"} | logfmt | status>=500 [5m] offset 1h
  )
))q"},
      {R"q(sum(rate({app="web", cluster="eu-west-1", namespace="production"}[5m])) / sum(rate({app="web", cluster="eu-west-1"}[5m])) > bool 0.5)q",
       R"q(    sum(rate({app="web", cluster="eu-west-1", namespace="production"}[5m]))
  /
    sum(rate({app="web", cluster="eu-west-1"}[5m]))
> bool
  0.5)q"},
      {R"q({app="web"} | logfmt | level=~"warn|warning" | env=~"prod|preprod" | code=~"400|404" | m=~"a|b" | x=~".*foo" | y=~"foo.*bar" | z=~"(a|b)c")q",
       R"q({app="web"}
  | logfmt
  | level=~"warn|warning"
  | env=~"prod|preprod"
  | code=~`400|404`
  | m=~`a|b`
  | x=~".*foo"
  | y=~`foo.*bar`
  | z=~`(a|b)c`)q"},
      {R"q({app="web"} | logfmt | a=~"" | b!~"x.*" | c!~"x+" | d=~".+" | e=~"\\d+" | f=~"GET|POST|PUT" | g=~"ab|ac|ad")q",
       R"q({app="web"}
  | logfmt
  | a=~""
  | b!~"x.*"
  | c!~"x+"
  | d=~".+"
  | e=~`\d+`
  | f=~"GET|POST|PUT"
  | g=~`ab|ac|ad`)q"},
      {R"q({app="web"} | logfmt | size > 17KiB | size < 2MB | s2 >= 999B | s3 > 1500B | s4 < 5GB)q",
       R"q({app="web"} | logfmt | size>17kB | size<2.0MB | s2>=999B | s3>1.5kB | s4<5.0GB)q"},
      {R"q(avg_over_time({app="web", cluster="eu-west-1", namespace="production", container="nginx"} | logfmt | unwrap latency [1m]) by (host))q",
       R"q(avg_over_time(
  {app="web", cluster="eu-west-1", namespace="production", container="nginx"} | logfmt
    | unwrap latency [1m]
) by (host))q"},
      {R"q(vector(0.5) + vector(1e-9))q", R"q((vector(0.500000) + vector(0.000000)))q"},
      {R"q(sum by (host) (count_over_time({app="web", cluster="eu-west-1"}[5m])) / ignoring (method, path) group_left (env) sum by (host) (count_over_time({app="web", cluster="eu-west-1"}[5m])))q",
       R"q(  sum by (host)(count_over_time({app="web", cluster="eu-west-1"}[5m]))
/ ignoring (method, path) group_left (env)
  sum by (host)(count_over_time({app="web", cluster="eu-west-1"}[5m])))q"},
      {R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"} |= "aaaaaaaaaaaaaaaaaaaaaa" |= "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb" != "ccccccccccccccccccccccc" |~ "dddddddddddddddddddddddddd")q",
       R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"}
  |= "aaaaaaaaaaaaaaaaaaaaaa" |= "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb" != "ccccccccccccccccccccccc"
  |~ "dddddddddddddddddddddddddd")q"},
      {R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"} |= "aaaaaaaaaaaaaaaaaaaaaa" or "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb" | logfmt | decolorize)q",
       R"q({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress-controller"}
  |= "aaaaaaaaaaaaaaaaaaaaaa" or "bbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  | logfmt
| decolorize)q"},
      {R"q(sum_over_time({app="web", cluster="eu-west-1", namespace="production"} | logfmt | unwrap bytes(size) | __error__="" | size > 10 [5m]))q",
       R"q(sum_over_time(
  {app="web", cluster="eu-west-1", namespace="production"} | logfmt
    | unwrap bytes(size)
    | __error__=""
    | size>10 [5m]
))q"},
      {R"q((sum(rate({app="web", cluster="eu-west-1", namespace="production"}[5m])) + sum(rate({app="api", cluster="eu-west-1"}[5m]))) * 100)q",
       R"q(    sum(rate({app="web", cluster="eu-west-1", namespace="production"}[5m]))
  +
    sum(rate({app="api", cluster="eu-west-1"}[5m]))
*
  100)q"},
      {R"q(sort_desc(sum by (host) (count_over_time({app="web", cluster="eu-west-1", namespace="production", container="x"}[5m]))))q",
       R"q(sort_desc(
  sum by (host)(
    count_over_time({app="web", cluster="eu-west-1", namespace="production", container="x"}[5m])
  )
))q"},
      {R"q(count_over_time({app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress"} | json | line_format "{{.msg}}" [5m]))q",
       R"q(count_over_time(
  {app="web", cluster="eu-west-1", namespace="production", container="nginx-ingress"}
    | json
    | line_format "{{.msg}}" [5m]
))q"},
      {R"q(sum(count_over_time({app="web"}[5m])) or vector(0))q",
       R"q((sum(count_over_time({app="web"}[5m])) or vector(0.000000)))q"},
      {R"q(max by (app) (max_over_time({app="web", cluster="eu-west-1", namespace="production"} | logfmt | unwrap latency [5m])) > 10)q",
       R"q(  max by (app)(
    max_over_time(
      {app="web", cluster="eu-west-1", namespace="production"} | logfmt
        | unwrap latency [5m]
    )
  )
>
  10)q"},
      {R"q(bottomk(3, count_over_time({app="web", cluster="eu-west-1", namespace="production", container="x"} |= "x" [5m])))q",
       R"q(bottomk(
  3,
  count_over_time({app="web", cluster="eu-west-1", namespace="production", container="x"} |= "x"[5m])
))q"},
      {R"q({app="web"} | json a="b.c", d="e[0]" | label_format x="{{.a}}", y=a | drop a, b="c" | keep x, y)q",
       R"q({app="web"} | json a="b.c",d="e[0]" | label_format x="{{.a}}",y=a | drop a,b="c" | keep x,y)q"},
  };
  for (const auto& [query, want] : cases) {
    auto expr = ParseExpr(query);
    ASSERT_TRUE(expr.ok()) << query << ": " << expr.status().message();
    EXPECT_EQ(PrettyExprString(**expr), want) << query;
  }
}

TEST(PrettyExprStringTest, ShortQueriesAreLokisOneLineString) {
  auto expr = ParseExpr("vector(1)+vector(1)");
  ASSERT_TRUE(expr.ok());
  EXPECT_EQ(PrettyExprString(**expr), "(vector(1.000000) + vector(1.000000))");
  EXPECT_EQ(ExprString(**expr), "(vector(1) + vector(1))");  // the canonical form round-trips
}

TEST(LokiSimplifiesLabelRegexTest, FollowsGoFactoringAndLokisRules) {
  for (const char* yes : {"", "foo", "(?i)warn", "foo.*", ".*foo", ".*foo.*", ".*", ".+",
                          "prod|dev", "warn|warning", "prod|preprod", "GET|POST|PUT",
                          "foo(bar|qux)", "foo(|s)", ".*a|.*b", "(?i)foo|bar", "(foo)", "a\\.b"}) {
    EXPECT_TRUE(internal::LokiSimplifiesLabelRegex(yes)) << yes;
  }
  for (const char* no :
       {"5..", "x+", "\\d+", "ab|ac|ad", "400|404", "a|b", "^foo$", "[a-z]+", "foo.*bar", "a(b)c",
        "(?s).*", "fo?", "a{2}", "foo(bar|baz)", "(foo|bar).*", ".*(foo|bar)", ".a|.b"}) {
    EXPECT_FALSE(internal::LokiSimplifiesLabelRegex(no)) << no;
  }
}

}  // namespace
}  // namespace skald::logql
