// Tests for the LogQL parser stages' line parsers (logql/parsers.h): json, logfmt, regexp,
// pattern, unpack and label-name sanitizing. Expected values come from Loki's LogQL
// documentation and docs/reference facts (loki-compat.md §6.5); cases marked "Decision" are
// where the docs leave the behaviour open and Skald chose deliberately (docs/logql.md).
#include "logql/parsers.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "logql/parser.h"

namespace skald::logql {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Models the pipeline's label builder: first value of a name wins, names in `preparsed`
// count as extracted by an earlier stage. Checks every view handed over is non-empty-named.
class RecordingSink : public ParsedSink {
 public:
  void Add(std::string_view name, std::string_view value) override {
    EXPECT_FALSE(name.empty());
    if (AlreadyParsed(name)) return;
    seen.insert(std::string(name));
    got.emplace_back(std::string(name), std::string(value));
  }
  bool AlreadyParsed(std::string_view name) const override {
    return seen.count(std::string(name)) > 0 || preparsed.count(std::string(name)) > 0;
  }
  void SetLine(std::string_view l) override { line = std::string(l); }

  Labels got;
  std::set<std::string> seen;
  std::set<std::string> preparsed;
  std::optional<std::string> line;
};

// The stage of `{x="y"} <stage>`, parsed by the LogQL parser.
PipelineStage StageOf(const std::string& stage) {
  auto expr = ParseExpr("{x=\"y\"} " + stage);
  EXPECT_TRUE(expr.ok()) << stage << ": " << expr.status().message();
  if (!expr.ok()) return {};
  const LogSelector* sel = AsLogSelector(**expr);
  EXPECT_NE(sel, nullptr);
  EXPECT_EQ(sel->stages.size(), 1u);
  return sel->stages.at(0);
}

struct Case {
  Case(std::string s, std::string l, Labels w, std::string e = "", std::string d = "",
       std::optional<std::string> nl = std::nullopt)
      : stage(std::move(s)),
        line(std::move(l)),
        want(std::move(w)),
        error(std::move(e)),
        details(std::move(d)),
        new_line(std::move(nl)) {}
  std::string stage;  // e.g. `| json`
  std::string line;
  Labels want;                          // in extraction order
  std::string error;                    // __error__ ("" = none)
  std::string details;                  // __error_details__
  std::optional<std::string> new_line;  // unpack's `_entry`
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.stage << " over `" << c.line << "`";
}

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c);
    auto parser = NewLineParser(StageOf(c.stage));
    ASSERT_TRUE(parser.ok()) << parser.status().message();
    // Twice through the same parser (scratch reuse) and once through a clone.
    for (int round = 0; round < 3; round++) {
      LineParser* p = round < 2 ? parser->get() : nullptr;
      std::unique_ptr<LineParser> clone;
      if (round == 2) {
        clone = (*parser)->Clone();
        p = clone.get();
      }
      RecordingSink sink;
      ParseError err = p->Parse(c.line, &sink);
      EXPECT_EQ(sink.got, c.want);
      EXPECT_EQ(std::string(err.error), c.error);
      EXPECT_EQ(std::string(err.details), c.details);
      EXPECT_EQ(sink.line, c.new_line);
    }
  }
}

constexpr const char* kObjErr = "Value looks like object, but can't find closing '}' symbol";

TEST(JsonParserTest, ExtractsEveryScalarLeafAsLokiDocuments) {
  RunCases({
      // Loki docs example: nested keys joined with `_`, arrays skipped.
      {"| json",
       R"({"protocol":"HTTP/2.0","servers":["129.0.1.1","10.2.1.3"],"request":{"time":"6.032","method":"GET","host":"foo.grafana.net","size":"55","headers":{"Accept":"*/*","User-Agent":"curl/7.68.0"}},"response":{"status":401,"size":"228","latency_seconds":"6.031"}})",
       {{"protocol", "HTTP/2.0"},
        {"request_time", "6.032"},
        {"request_method", "GET"},
        {"request_host", "foo.grafana.net"},
        {"request_size", "55"},
        {"request_headers_Accept", "*/*"},
        {"request_headers_User_Agent", "curl/7.68.0"},
        {"response_status", "401"},
        {"response_size", "228"},
        {"response_latency_seconds", "6.031"}}},
      {"| json", R"({"a":1})", {{"a", "1"}}},
      {"| json", R"({"a":{"b":1}})", {{"a_b", "1"}}},
      {"| json",
       R"({"n":-1.5e3,"t":true,"f":false,"z":null})",
       {{"n", "-1.5e3"}, {"t", "true"}, {"f", "false"}, {"z", ""}}},
      {"| json", R"(  { "a" : "x" , "b" : 2 }  )", {{"a", "x"}, {"b", "2"}}},
      {"| json", "{}", {}},
      {"| json", R"({"a":[1,2,{"b":3}],"c":"d"})", {{"c", "d"}}},
      {"| json", R"({"a":{"b":{"c":{"d":"deep"}}}})", {{"a_b_c_d", "deep"}}},
      {"| json", R"({"a":{},"b":"1"})", {{"b", "1"}}},
  });
}

TEST(JsonParserTest, UnescapesStrings) {
  RunCases({
      {"| json", R"({"a":"x\"y"})", {{"a", "x\"y"}}},
      {"| json", R"({"a":"tab\there\nnl"})", {{"a", "tab\there\nnl"}}},
      {"| json", R"({"a":"\u00e9\u4e2d"})", {{"a", "é中"}}},
      {"| json", R"({"a":"\ud83d\ude00"})", {{"a", "😀"}}},
      {"| json", R"({"a":"back\\slash\/"})", {{"a", "back\\slash/"}}},
      {"| json", R"({"k\u0065y":"v"})", {{"key", "v"}}},
  });
}

TEST(LogfmtParserTest, ExtractsPairs) {
  RunCases({
      {"| logfmt", "level=info msg=hello", {{"level", "info"}, {"msg", "hello"}}},
      {"| logfmt", R"(msg="hello world" n=1)", {{"msg", "hello world"}, {"n", "1"}}},
      {"| logfmt", R"(msg="say \"hi\"")", {{"msg", "say \"hi\""}}},
      {"| logfmt", "flag a=1", {{"a", "1"}}},
      {"| logfmt", "a= b=2", {{"b", "2"}}},
      {"| logfmt", "a=1 a=2", {{"a", "1"}}},
  });
}

}  // namespace
}  // namespace skald::logql
