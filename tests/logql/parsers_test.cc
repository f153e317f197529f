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
  // Loki's LabelsBuilder.Set for parsers with parameters: replaces a value of that name.
  void Put(std::string_view name, std::string_view value) override {
    EXPECT_FALSE(name.empty());
    seen.insert(std::string(name));
    for (auto& [n, v] : got) {
      if (n == name) {
        v = std::string(value);
        return;
      }
    }
    got.emplace_back(std::string(name), std::string(value));
  }  // The test streams have no label named like a requested key.
  bool IsStreamOrMetadata(std::string_view) const override { return false; }

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

// Go jsonparser error texts Loki reports in __error_details__.
constexpr const char* kObjErr = "Value looks like object, but can't find closing '}' symbol";
constexpr const char* kJsonErr = "Malformed JSON error";
constexpr const char* kArrErr = "Value is array, but can't find closing ']' symbol";
constexpr const char* kStrErr = "Value is string, but can't find closing '\"' symbol";
constexpr const char* kTypeErr = "Unknown value type";
constexpr const char* kEscErr = "Encountered an invalid escape sequence in a string";
constexpr const char* kNotObject = "expecting json object(6), but it is not";

// The example line of Loki's json parser documentation.
constexpr const char* kDocsJson =
    R"({"protocol":"HTTP/2.0","servers":["129.0.1.1","10.2.1.3"],"request":{"time":"6.032","method":"GET","host":"foo.grafana.net","size":"55","headers":{"Accept":"*/*","User-Agent":"curl/7.68.0"}},"response":{"status":401,"size":"228","latency_seconds":"6.031"}})";

TEST(JsonParserTest, ExtractsEveryScalarLeafAsLokiDocuments) {
  RunCases({
      // Loki docs example: nested keys joined with `_`, arrays skipped.
      {"| json",
       kDocsJson,
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
      // Numbers keep their JSON text; booleans as written; null is "" (loki-compat §6.5).
      {"| json",
       R"({"n":-1.5e3,"t":true,"f":false,"z":null})",
       {{"n", "-1.5e3"}, {"t", "true"}, {"f", "false"}}},  // null: no label (Loki)
      {"| json",
       R"({"big":12345678901234567890,"f":0.10})",
       {{"big", "12345678901234567890"}, {"f", "0.10"}}},
      {"| json", "  { \"a\" : \"x\" ,\n\t\"b\" : 2 }  ", {{"a", "x"}, {"b", "2"}}},
      {"| json", "{}", {}},
      {"| json", " { } ", {}},
      {"| json", R"({"a":[1,2,{"b":3}],"c":"d"})", {{"c", "d"}}},
      {"| json", R"({"a":[{"b":1}],"c":[]})", {}},
      {"| json", R"({"a":{"b":{"c":{"d":"deep"}}}})", {{"a_b_c_d", "deep"}}},
      {"| json", R"({"a":{},"b":"1"})", {{"b", "1"}}},
      {"| json", R"({"a":{"x":1},"b":{"x":2}})", {{"a_x", "1"}, {"b_x", "2"}}},
      // Braces and quotes inside strings do not confuse the nesting.
      {"| json", R"({"a":{"b":"}{"},"c":1})", {{"a_b", "}{"}, {"c", "1"}}},
      {"| json", R"({"a":{"b":"x\"}"},"c":1})", {{"a_b", "x\"}"}, {"c", "1"}}},
      {"| json", R"({"a":"x\\"})", {{"a", "x\\"}}},
      {"| json", R"({"s":""})", {{"s", ""}}},
  });
}

TEST(JsonParserTest, UnescapesStringsAndDropsInvalidUtf8) {
  RunCases({
      {"| json", R"({"a":"x\"y"})", {{"a", "x\"y"}}},
      {"| json", R"({"a":"tab\there\nnl\r\b\f"})", {{"a", "tab\there\nnl\r\b\f"}}},
      {"| json", R"({"a":"\u00e9\u4e2d"})", {{"a", "é中"}}},
      {"| json", R"({"a":"\ud83d\ude00"})", {{"a", "😀"}}},
      {"| json", R"({"a":"back\\slash\/"})", {{"a", "back\\slash/"}}},
      {"| json", R"({"a":"héllo"})", {{"a", "héllo"}}},
      // Loki drops invalid UTF-8 and U+FFFD from json values.
      {"| json", "{\"a\":\"x\xffy\"}", {{"a", "xy"}}},
      {"| json", R"({"a":"x\ufffdy"})", {{"a", "xy"}}},
      {"| json", "{\"a\":\"x\xef\xbf\xbdy\"}", {{"a", "xy"}}},
      // An undecodable value (bad escape, lone surrogate) becomes "" without an error.
      {"| json", R"({"a":"\x","b":"ok"})", {{"a", ""}, {"b", "ok"}}},
      {"| json", R"({"a":"\ud800"})", {{"a", ""}}},
      {"| json", R"({"a":"\u12"})", {{"a", ""}}},
      // Keys are unescaped before sanitizing.
      {"| json", R"({"k\u0065y":"v"})", {{"key", "v"}}},
  });
}

TEST(JsonParserTest, SanitizesKeys) {
  RunCases({
      {"| json", R"({"a.b":1})", {{"a_b", "1"}}},
      {"| json", R"({"User-Agent":"x"})", {{"User_Agent", "x"}}},
      {"| json", R"({"1a":1})", {{"_1a", "1"}}},
      {"| json", R"({" sp ":1})", {{"sp", "1"}}},
      {"| json", R"({"a:b":1})", {{"a_b", "1"}}},
      {"| json", R"({"é":1})", {{"_", "1"}}},
      {"| json", R"({"aé中b":1})", {{"a__b", "1"}}},
      // Only the first part of a nested name gets the digit prefix (it follows a `_`).
      {"| json", R"({"a":{"1b":2}})", {{"a_1b", "2"}}},
      {"| json", R"({"1a":{"b":2}})", {{"_1a_b", "2"}}},
      {"| json", R"({"a-b":{"c.d":2}})", {{"a_b_c_d", "2"}}},
      // Decision: an empty (or all-space) key yields no label.
      {"| json", R"({"":1,"b":2})", {{"b", "2"}}},
      {"| json", R"({"  ":1})", {}},
  });
}

TEST(JsonParserTest, FirstValueOfADuplicateNameWins) {
  RunCases({
      {"| json", R"({"a":1,"a":2})", {{"a", "1"}}},
      {"| json", R"({"a_b":1,"a":{"b":2}})", {{"a_b", "1"}}},
      {"| json", R"({"a.b":1,"a-b":2})", {{"a_b", "1"}}},
  });
}

TEST(JsonParserTest, InvalidJsonSetsJsonParserErrAndKeepsWhatCameBefore) {
  // Details are the texts of the Go JSON reader Loki uses (observed behaviour); labels read
  // before the error stay, as in Loki.
  RunCases({
      {"| json", "not json", {}, "JSONParserErr", kObjErr},
      {"| json", "", {}, "JSONParserErr", kObjErr},
      {"| json", "   ", {}, "JSONParserErr", kObjErr},
      {"| json", "[1,2]", {}, "JSONParserErr", kObjErr},
      {"| json", R"("str")", {}, "JSONParserErr", kObjErr},
      {"| json", "{", {}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a")", {}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a":)", {}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a" 1})", {}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a)", {}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a":1)", {{"a", "1"}}, "JSONParserErr", kArrErr},
      {"| json", R"({"a":"x)", {}, "JSONParserErr", kStrErr},
      {"| json", R"({"a":tru})", {}, "JSONParserErr", kTypeErr},
      {"| json", R"({"a":nul})", {}, "JSONParserErr", kTypeErr},
      {"| json", R"({"a":x})", {}, "JSONParserErr", kTypeErr},
      {"| json", R"({a:1})", {}, "JSONParserErr", kObjErr},
      {"| json", R"({"a":1 "b":2})", {{"a", "1"}}, "JSONParserErr", kObjErr},
      {"| json", R"({"a":1,"b":{"c":2})", {{"a", "1"}, {"b_c", "2"}}, "JSONParserErr", kArrErr},
      {"| json", R"({"a":{"b":1,"c"}})", {{"a_b", "1"}}, "JSONParserErr", kJsonErr},
      {"| json", R"({"a":{"b":1})", {{"a_b", "1"}}, "JSONParserErr", kArrErr},
      {"| json", R"({"a":{"b":1)", {}, "JSONParserErr", kObjErr},
      {"| json", R"({"a":[1,2})", {}, "JSONParserErr", kArrErr},
      {"| json", R"({"a\x":1})", {}, "JSONParserErr", kEscErr},
  });
}

TEST(JsonParserTest, IsAsLenientAsLoki) {
  // Observed behaviour of Loki's JSON reader, kept for identical answers: bytes after the
  // object, a trailing comma and unvalidated number tokens are accepted.
  RunCases({
      {"| json", R"({"a":1} trailing)", {{"a", "1"}}},
      {"| json", R"({"a":"b"}}})", {{"a", "b"}}},
      {"| json", R"({"a":1,})", {{"a", "1"}}},
      {"| json", R"({"a":12abc})", {{"a", "12abc"}}},
      {"| json", R"({"a":-})", {{"a", "-"}}},
  });
}

TEST(JsonParserTest, SkipsNamesAnEarlierStageExtracted) {
  auto parser = NewLineParser(StageOf("| json"));
  ASSERT_TRUE(parser.ok());
  RecordingSink sink;
  sink.preparsed = {"a"};
  EXPECT_FALSE((*parser)->Parse(R"({"a":"1","b":"2"})", &sink));
  EXPECT_EQ(sink.got, (Labels{{"b", "2"}}));
}

TEST(JsonParserTest, DeepNestingDoesNotOverflowTheStack) {
  std::string line;
  for (int i = 0; i < 100000; i++) line += "{\"a\":";
  line += "1";
  for (int i = 0; i < 100000; i++) line += "}";
  auto parser = NewLineParser(StageOf("| json"));
  ASSERT_TRUE(parser.ok());
  RecordingSink sink;
  EXPECT_FALSE((*parser)->Parse(line, &sink));
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].second, "1");
  EXPECT_EQ(sink.got[0].first.size(), 2 * 100000 - 1);
}

TEST(JsonExpressionParserTest, ExtractsRequestedPaths) {
  RunCases({
      // Loki docs examples.
      {R"(| json first_server="servers[0]", ua="request.headers[\"User-Agent\"]")",
       kDocsJson,
       {{"first_server", "129.0.1.1"}, {"ua", "curl/7.68.0"}}},
      {R"(| json server_list="servers", headers="request.headers")",
       kDocsJson,
       {{"server_list", R"(["129.0.1.1","10.2.1.3"])"},
        {"headers", R"({"Accept":"*/*","User-Agent":"curl/7.68.0"})"}}},
      {R"(| json protocol)", kDocsJson, {{"protocol", "HTTP/2.0"}}},
      {R"(| json status="response.status", m="request.method")",
       kDocsJson,
       {{"status", "401"}, {"m", "GET"}}},
      {R"(| json a="a.b")", R"({"a":{"b":"x"}})", {{"a", "x"}}},
      {R"(| json a="a[\"b\"]")", R"({"a":{"b":"x"}})", {{"a", "x"}}},
      {R"(| json a="[\"a.b\"]")", R"({"a.b":"dotted","a":{"b":"nested"}})", {{"a", "dotted"}}},
      {R"(| json a="list[1][0]")", R"({"list":[[1],[2,3]]})", {{"a", "2"}}},
      {R"(| json a="list[1].b")", R"({"list":[{"b":1},{"b":2}]})", {{"a", "2"}}},
      {R"(| json a="[1]")", R"([10, 20])", {{"a", "20"}}},
      {R"(| json a="a")", R"({"a":{"b":1}})", {{"a", R"({"b":1})"}}},
      {R"(| json a="a")", R"({"a":"x\ny\u00e9"})", {{"a", "x\nyé"}}},
      {R"(| json a="a", b="b", c="c")",
       R"({"a":null,"b":true,"c":1.5})",
       {{"a", ""}, {"b", "true"}, {"c", "1.5"}}},
      {R"(| json x="a", y="a")", R"({"a":"v"})", {{"x", "v"}, {"y", "v"}}},
      {R"(| json a="a")", R"({"a":1,"a":2})", {{"a", "1"}}},
      {R"(| json a="a.b")", R"({"z":[1,{"q":"}"}],"a":{"c":[],"b":"found"}})", {{"a", "found"}}},
  });
}

TEST(JsonExpressionParserTest, MissingPathsGiveEmptyValues) {
  RunCases({
      {R"(| json a="nope")", R"({"b":1})", {{"a", ""}}},
      {R"(| json a="servers[5]")", kDocsJson, {{"a", ""}}},
      {R"(| json a="protocol.x")", kDocsJson, {{"a", ""}}},
      {R"(| json a="servers.x")", kDocsJson, {{"a", ""}}},
      {R"(| json a="request[0]")", kDocsJson, {{"a", ""}}},
      {R"(| json a="a")", R"("just a string")", {{"a", ""}}},
      {R"(| json a="a")", "[]", {{"a", ""}}},
  });
}

TEST(JsonExpressionParserTest, RejectsLinesThatAreNotJson) {
  // Loki checks only the first non-space byte ({, [ or ") and sets no details.
  RunCases({
      {R"(| json a="a")", "not json", {}, "JSONParserErr"},
      {R"(| json a="a")", "", {}, "JSONParserErr"},
      {R"(| json a="a")", "12", {}, "JSONParserErr"},
      {R"(| json a="a")", R"(  {"a":"ok"})", {{"a", "ok"}}},
      // Malformed before the path is found: the key is missing (an empty label), no error,
      // as in Loki (whose lenient key scanner would even find a=2 past the missing comma).
      {R"(| json a="a")", R"({"b":1 "a":2})", {{"a", ""}}},
      {R"(| json a="a")", R"({"level":"error","msg":"truncat)", {{"a", ""}}},
      // The value found is malformed: the label is set empty and the error too.
      {R"(| json a="a")", R"({"a":"x)", {{"a", ""}}, "JSONParserErr"},
  });
}

TEST(LogfmtParserTest, ExtractsPairs) {
  RunCases({
      // Loki docs example.
      {"| logfmt",
       R"(at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" service=8ms status=200)",
       {{"at", "info"},
        {"method", "GET"},
        {"path", "/"},
        {"host", "grafana.net"},
        {"fwd", "124.133.124.161"},
        {"service", "8ms"},
        {"status", "200"}}},
      {"| logfmt", "level=info msg=hello", {{"level", "info"}, {"msg", "hello"}}},
      {"| logfmt", R"(msg="hello world" n=1)", {{"msg", "hello world"}, {"n", "1"}}},
      {"| logfmt", "a=1\tb=2  c=3\n", {{"a", "1"}, {"b", "2"}, {"c", "3"}}},
      {"| logfmt", "", {}},
      {"| logfmt", "   ", {}},
      {"| logfmt", "a=1 a=2", {{"a", "1"}}},
      {"| logfmt", "a=héllo", {{"a", "héllo"}}},
      {"| logfmt", "a=x:y/z?q", {{"a", "x:y/z?q"}}},
  });
}

TEST(LogfmtParserTest, UnquotesValuesAsGoLogfmt) {
  RunCases({
      {"| logfmt", R"(msg="say \"hi\"")", {{"msg", "say \"hi\""}}},
      {"| logfmt", R"(a="x\ty\nz\\")", {{"a", "x\ty\nz\\"}}},
      {"| logfmt", R"(a="\u00e9")", {{"a", "é"}}},
      {"| logfmt", R"(a="\ud83d\ude00")", {{"a", "😀"}}},
      {"| logfmt", R"(a="\ud800")", {{"a", "\xEF\xBF\xBD"}}},
      {"| logfmt", R"(a="it\'s\/")", {{"a", "it's/"}}},
      {"| logfmt", R"(a="a=b c")", {{"a", "a=b c"}}},
      // Without a backslash the quoted bytes are taken as they are.
      {"| logfmt", "a=\"x\ty\"", {{"a", "x\ty"}}},
  });
}

TEST(LogfmtParserTest, DropsEmptyValuesUnlessKeepEmpty) {
  RunCases({
      {"| logfmt", "flag a=1", {{"a", "1"}}},
      {"| logfmt", "a= b=2", {{"b", "2"}}},
      {"| logfmt", R"(a="" b=2)", {{"b", "2"}}},
      {"| logfmt --keep-empty", "flag a=1", {{"flag", ""}, {"a", "1"}}},
      {"| logfmt --keep-empty", R"(a= b="" c)", {{"a", ""}, {"b", ""}, {"c", ""}}},
  });
}

TEST(LogfmtParserTest, SanitizesKeys) {
  RunCases({
      {"| logfmt", "a.b=1", {{"a_b", "1"}}},
      {"| logfmt", "1a=1", {{"_1a", "1"}}},
      {"| logfmt", "User-Agent=curl", {{"User_Agent", "curl"}}},
      {"| logfmt", "é=1", {{"_", "1"}}},
      {"| logfmt", "a:b=1 a_b=2", {{"a_b", "1"}}},
  });
}

TEST(LogfmtParserTest, NonStrictSkipsMalformedPairs) {
  // Decision: after a malformed pair the rest of that token is skipped (go-logfmt leaves the
  // recovery to its caller; Loki's docs only say malformed pairs are skipped).
  RunCases({
      {"| logfmt", "a=b=c d=1", {{"d", "1"}}},
      {"| logfmt", "=b d=1", {{"d", "1"}}},
      {"| logfmt", R"(a"b=1 d=1)", {{"d", "1"}}},
      {"| logfmt", R"(a=x"y d=1)", {{"d", "1"}}},
      {"| logfmt", R"(x=1 a="unterminated d=1)", {{"x", "1"}}},
      {"| logfmt", R"(a="\q" d=1)", {{"d", "1"}}},
      {"| logfmt", "\xff=1 d=1", {{"d", "1"}}},
      {"| logfmt", "some free text here", {}},
  });
}

TEST(LogfmtParserTest, StrictStopsWithGoLogfmtErrors) {
  RunCases({
      {"| logfmt --strict",
       "a=b=c d=1",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 4 : unexpected '='"},
      {"| logfmt --strict",
       "x=1 a=b=c",
       {{"x", "1"}},
       "LogfmtParserErr",
       "logfmt syntax error at pos 8 : unexpected '='"},
      {"| logfmt --strict",
       "=b",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 1 : unexpected '='"},
      {"| logfmt --strict",
       R"(a"b=1)",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 2 : unexpected '\"'"},
      {"| logfmt --strict",
       R"(a="abc)",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 7 : unterminated quoted value"},
      {"| logfmt --strict",
       R"(a="\x")",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 7 : invalid quoted value"},
      {"| logfmt --strict",
       "\xff=1",
       {},
       "LogfmtParserErr",
       "logfmt syntax error at pos 2 : invalid key"},
      {"| logfmt --strict", "a=1 b=2", {{"a", "1"}, {"b", "2"}}},
      {"| logfmt --strict --keep-empty",
       "a b=1 c=x=",
       {{"a", ""}, {"b", "1"}},
       "LogfmtParserErr",
       "logfmt syntax error at pos 10 : unexpected '='"},
  });
}

TEST(LogfmtParserTest, ParametersExtractOnlyTheNamedKeys) {
  RunCases({
      // Loki docs: `| logfmt host, fwd_ip="fwd"`.
      {R"(| logfmt host, fwd_ip="fwd")",
       R"(at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" status=200)",
       {{"host", "grafana.net"}, {"fwd_ip", "124.133.124.161"}}},
      // A requested key is kept even without a value.
      {"| logfmt flag", "flag a=1", {{"flag", ""}}},
      // Loki: a requested key missing from the line is an empty label.
      {"| logfmt host", "a=1", {{"host", ""}}},
      // Loki compares the line's key *sanitized* with the requested key as written, so a
      // key that needs sanitizing never matches (observed: Loki 3.7).
      {R"(| logfmt ua="User-Agent")", "User-Agent=curl", {{"ua", ""}}},
      {R"(| logfmt ua="User_Agent")", "User-Agent=curl", {{"ua", "curl"}}},
      // One key feeds one label: the first requested (Loki picks one at random).
      {R"(| logfmt a="k", b="k")", "k=v", {{"a", "v"}, {"b", ""}}},
      // The last value of a repeated key wins (LabelsBuilder.Set).
      {"| logfmt k", "k=1 k=2", {{"k", "2"}}},
      {"| logfmt --strict host",
       "host=a x=\"",
       {{"host", "a"}},
       "LogfmtParserErr",
       "logfmt syntax error at pos 11 : unterminated quoted value"},
  });
}

TEST(RegexpParserTest, NamedGroupsBecomeLabels) {
  RunCases({
      // Loki docs example.
      {R"re(| regexp "(?P<method>\\w+) (?P<path>[\\w|/]+) \\((?P<status>\\d+?)\\) (?P<duration>.*)")re",
       "POST /api/prom/api/v1/query_range (200) 1.5s",
       {{"method", "POST"},
        {"path", "/api/prom/api/v1/query_range"},
        {"status", "200"},
        {"duration", "1.5s"}}},
      {R"re(| regexp "(?P<a>x+)")re", "no match here", {}},
      {R"re(| regexp "(?P<a>\\d+)")re", "abc 123 def 456", {{"a", "123"}}},
      {R"re(| regexp "(\\w+) (?P<b>\\w+)")re", "one two", {{"b", "two"}}},
      // A group that does not take part in the match gives "" (Go's nil submatch).
      {R"re(| regexp "(?P<a>x)?(?P<b>y)")re", "y", {{"a", ""}, {"b", "y"}}},
      {R"re(| regexp "(?P<a>a|ab)(?P<b>c|bcd)")re", "abcd", {{"a", "a"}, {"b", "bcd"}}},
      {R"re(| regexp "^(?P<a>\\S+)")re", "first second", {{"a", "first"}}},
      {R"re(| regexp "(?P<a>.*)")re", "", {{"a", ""}}},
      {R"re(| regexp "(?i)level=(?P<l>[a-z]+)")re", "LEVEL=Warn", {{"l", "Warn"}}},
      {R"re(| regexp "(?P<all>é+)")re", "xééy", {{"all", "éé"}}},
  });
}

TEST(PatternParserTest, CapturesAsLokiDocuments) {
  RunCases({
      // Loki docs example (nginx access log).
      {R"(| pattern "<ip> - - <_> \"<method> <uri> <_>\" <status> <size> <_> \"<agent>\" <_>")",
       R"(0.191.12.2 - - [10/Jun/2021:09:14:29 +0000] "GET /api/plugins/versioncheck HTTP/1.1" 200 2 "-" "Go-http-client/2.0" "13.76.247.102, 34.120.177.193" "TLSv1.2" "US" "")",
       {{"ip", "0.191.12.2"},
        {"method", "GET"},
        {"uri", "/api/plugins/versioncheck"},
        {"status", "200"},
        {"size", "2"},
        {"agent", "Go-http-client/2.0"}}},
      // Loki docs example (Kubernetes event).
      {R"(| pattern "<_> <level> <_> <msg>")",
       "2021-01-01 info main hello world",
       {{"level", "info"}, {"msg", "hello world"}}},
      // A leading literal anchors the match at the line start.
      {R"(| pattern "foo <a>")", "foo bar", {{"a", "bar"}}},
      {R"(| pattern "foo <a>")", "xfoo bar", {}},
      // A capture whose literal is missing takes the rest of the line and ends the match.
      {R"(| pattern "<a> - <b>")", "x y", {{"a", "x y"}}},
      // Bytes after a final literal are ignored.
      {R"(| pattern "<a> end")", "x end more", {{"a", "x"}}},
      {R"(| pattern "<a>,<b>")", ",x", {{"a", ""}, {"b", "x"}}},
      {R"(| pattern "<a>,<b>,<c>")", "1,2,3,4", {{"a", "1"}, {"b", "2"}, {"c", "3,4"}}},
      {R"(| pattern "<_> <a>")", "x y z", {{"a", "y z"}}},
      {R"(| pattern "<a>")", "whole line", {{"a", "whole line"}}},
      {R"(| pattern "<a>")", "", {}},
      {R"(| pattern "[<ts>] <msg>")", "[12:00] hi", {{"ts", "12:00"}, {"msg", "hi"}}},
      {R"(| pattern "[<ts>] <msg>")", "12:00 hi", {}},
      {R"(| pattern "a <x> b")", "a ", {{"x", ""}}},
  });
}

TEST(UnpackParserTest, UnpacksPromtailPackedEntries) {
  RunCases({
      // Loki docs example.
      {"| unpack",
       R"({"container":"myapp","pod":"pod-3223f","_entry":"original log message"})",
       {{"container", "myapp"}, {"pod", "pod-3223f"}},
       "",
       "",
       "original log message"},
      {"| unpack", R"({"_entry":"a\nb \"q\""})", {}, "", "", "a\nb \"q\""},
      // Loki 3.7 (observed, and so its code reads): an object without `_entry` is not a
      // packed entry and unpacks to nothing.
      {"| unpack", R"({"a":"x"})", {}},
      // Only string values are unpacked.
      {"| unpack",
       R"({"a":1,"b":"x","c":{"d":"e"},"f":[1],"_entry":"l"})",
       {{"b", "x"}},
       "",
       "",
       "l"},
      {"| unpack",
       R"({"a.b":"x","1c":"y","_entry":"l"})",
       {{"a_b", "x"}, {"_1c", "y"}},
       "",
       "",
       "l"},
      {"| unpack", R"({"a":"\u00e9","_entry":"l"})", {{"a", "é"}}, "", "", "l"},
      // A later key of the same name wins (LabelsBuilder.Set).
      {"| unpack", R"({"a":"1","a":"2","_entry":"l"})", {{"a", "2"}}, "", "", "l"},
      {"| unpack", "", {}},
      {"| unpack", "{}", {}},
      {"| unpack", "not json", {}, "JSONParserErr", kNotObject},
      {"| unpack", "[1]", {}, "JSONParserErr", kNotObject},
      // As Loki, only the very first byte is checked.
      {"| unpack", R"( {"a":"b"})", {}, "JSONParserErr", kNotObject},
      // A malformed object unpacks nothing, not even the keys read before the damage.
      {"| unpack", R"({"a":"b")", {}, "JSONParserErr", kArrErr},
      {"| unpack", R"({"a":"b","_entry":"x)", {}, "JSONParserErr", kStrErr},
      {"| unpack", R"({"_entry":"\q"})", {}, "JSONParserErr", kEscErr},
  });
}

struct BadStage {
  PipelineStage::Kind kind;
  std::string param;
  std::vector<LabelExtraction> extractions;
  std::string error;
};

TEST(NewLineParserTest, RejectsInvalidStagesWithLokisText) {
  const std::vector<BadStage> cases = {
      {PipelineStage::Kind::kRegexp, "(\\w+)", {}, "at least one named capture must be supplied"},
      {PipelineStage::Kind::kRegexp, "abc", {}, "at least one named capture must be supplied"},
      {PipelineStage::Kind::kRegexp, "(?P<1a>x)", {}, "invalid extracted label name '1a'"},
      // Found by logql_pipeline_fuzz: a requested logfmt label is always set, so its name
      // must be valid (the lexer makes an identifier of any unknown byte).
      {PipelineStage::Kind::kLogfmt,
       "",
       {LabelExtraction{"\x01", "\x01"}},
       "invalid extracted label name '\x01'"},
      {PipelineStage::Kind::kRegexp,
       "(?P<a>x",
       {},
       "error parsing regexp: missing closing ): `(?P<a>x`"},
      {PipelineStage::Kind::kRegexp, "(?P<a>x)(?P<a>y)", {}, "duplicate extracted label name 'a'"},
      {PipelineStage::Kind::kPattern, "<_> foo", {}, "at least one capture is required"},
      {PipelineStage::Kind::kPattern,
       "<a><b>",
       {},
       "found consecutive capture '<a><b>': invalid expression"},
      {PipelineStage::Kind::kPattern,
       "<a> <a>",
       {},
       "duplicate capture name (a): invalid expression"},
      {PipelineStage::Kind::kJson,
       "",
       {{"a", "a..b"}},
       "cannot parse expression [a..b]: syntax error: unexpected ."},
      {PipelineStage::Kind::kJson,
       "",
       {{"a", "a["}},
       "cannot parse expression [a[]: syntax error: unexpected end of expression"},
      {PipelineStage::Kind::kJson,
       "",
       {{"a", ""}},
       "cannot parse expression []: syntax error: empty expression"},
      {PipelineStage::Kind::kLabelFilter, "", {}, "not a parser stage"},
  };
  for (const BadStage& c : cases) {
    SCOPED_TRACE(c.param);
    PipelineStage st;
    st.kind = c.kind;
    st.param = c.param;
    st.extractions = c.extractions;
    auto p = NewLineParser(st);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().message(), c.error);
  }
}

TEST(SanitizeLabelNameTest, FollowsLoki) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a", "a"},     {"a.b", "a_b"}, {"User-Agent", "User_Agent"},
      {"1a", "_1a"},  {" a ", "a"},   {"a b", "a_b"},
      {"é", "_"},     {"a:b", "a_b"}, {"", ""},
      {"  ", ""},     {"_x_", "_x_"}, {"\xff", "_"},
      {"\tx\n", "x"}, {"9", "_9"},    {"a\xc2\xa0", "a"},
  };
  for (const auto& [in, want] : cases) {
    std::string out = "p:";
    SanitizeLabelName(in, &out);
    EXPECT_EQ(out, "p:" + want) << in;
  }
}

}  // namespace
}  // namespace skald::logql
