// Table-driven tests for the log pipeline (Pipeline / StreamPipeline) and sample extraction
// (SampleExtractor): each case runs one entry (stream labels, structured metadata, line)
// through a query's pipeline and checks whether it is kept, the output line and the labels
// per category (stream, structured metadata, parsed incl. `__error__`/`__error_details__`).
// Expected values follow Loki's LogQL documentation and ../shared/reference/loki-compat.md
// §6.4-6.9; a comment marks the cases that rest on Loki's observed behaviour or on a
// deliberate choice of ours. `__error_details__="*"` in an expectation accepts any text
// (the parsers' and templates' own tests pin those texts).
#include "logql/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "logql/parser.h"

namespace skald::logql {
namespace {

constexpr const char* kStream = R"({app="api", env="prod"})";

struct Case {
  const char* pipeline;  // appended to `{app="api"}`
  const char* line;
  bool kept;
  const char* out_line = nullptr;  // nullptr: the input line
  const char* parsed = "{}";
  const char* stream = kStream;
  const char* metadata = "{}";
  std::vector<std::pair<std::string, std::string>> md = {};  // input metadata
  const char* stream_labels = kStream;                       // input stream
};

Labels MustLabels(const char* text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Labels();
}

std::string Render(std::span<const LabelRef> labels, bool star_details) {
  std::vector<LabelRef> copy(labels.begin(), labels.end());
  for (LabelRef& l : copy) {
    if (star_details && l.name == "__error_details__") l.value = "*";
  }
  return ToLabels(copy).ToString();
}

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const std::string query = std::string(R"({app="api"} )") + c.pipeline;
    SCOPED_TRACE(query + "  <-  " + c.line);
    auto expr = ParseExpr(query);
    ASSERT_TRUE(expr.ok()) << expr.status().message();
    const LogSelector* sel = AsLogSelector(**expr);
    ASSERT_NE(sel, nullptr);
    auto pipeline = Pipeline::Compile(*sel);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().message();
    auto sp = (*pipeline)->ForStream(MustLabels(c.stream_labels));
    std::vector<MetadataPair> md;
    for (const auto& [k, v] : c.md) md.push_back(MetadataPair{k, v});
    // Twice: the second run checks that per-entry state is reset.
    for (int round = 0; round < 2; round++) {
      std::string_view out;
      bool kept = sp->Process(1000, c.line, md, &out);
      ASSERT_EQ(kept, c.kept);
      if (!kept) continue;
      EXPECT_EQ(out, c.out_line != nullptr ? c.out_line : c.line);
      const EntryLabels& l = sp->labels();
      const bool star =
          std::string_view(c.parsed).find("__error_details__=\"*\"") != std::string_view::npos;
      EXPECT_EQ(Render(l.stream, false), c.stream);
      EXPECT_EQ(Render(l.structured_metadata, false), c.metadata);
      EXPECT_EQ(Render(l.parsed, star), c.parsed);
      // `all` is the union of the three.
      std::vector<LabelRef> all;
      all.insert(all.end(), l.stream.begin(), l.stream.end());
      all.insert(all.end(), l.structured_metadata.begin(), l.structured_metadata.end());
      all.insert(all.end(), l.parsed.begin(), l.parsed.end());
      EXPECT_EQ(ToLabels(l.all).ToString(), ToLabels(all).ToString());
      EXPECT_EQ(l.all.size(), all.size());
    }
  }
}

// ---------------------------------------------------------------------------
// Line filters

TEST(PipelineTest, LineFilters) {
  RunCases({
      {R"(|= "err")", "an error here", true},
      {R"(|= "err")", "all fine", false},
      {R"(!= "err")", "all fine", true},
      {R"(!= "err")", "an error", false},
      {R"(|~ "e.r")", "xeyr", true},
      {R"(|~ "^err")", "an error", false},
      {R"(!~ "(?i)ERROR")", "an error", false},
      {R"(|= "")", "", true},
      {R"(|= "a" or "b")", "xbx", true},
      {R"(!= "a" or "b")", "xbx", false},
      {R"(!= "a" or "b")", "xcx", true},
      {R"(|> "<_> GET <_>")", "1.2.3.4 GET /x", true},
      {R"(!> "<_> GET <_>")", "1.2.3.4 GET /x", false},
      {R"(|= ip("10.0.0.0/8"))", "client 10.1.1.1 connected", true},
      {R"(|= ip("10.0.0.0/8"))", "client 11.1.1.1 connected", false},
      {R"(!= ip("10.0.0.0/8"))", "client 10.1.1.1 connected", false},
      {R"(|= ip("192.168.0.1-192.168.0.9"))", "x 192.168.0.5 y", true},
      {R"(|= ip("2001:db8::/32"))", "x 2001:db8::5 y", true},
      {R"(|= "a" |= "b")", "a only", false},
      // A line filter after another stage filters the current line.
      {R"(| line_format "{{.app}}" |= "api")", "nothing", true, "api"},
      {R"(| line_format "x" |= "orig")", "orig", false},
      {R"(| logfmt |= "level")", "level=info", true, nullptr, R"({level="info"})"},
      {R"(| logfmt != "level")", "level=info", false},
  });
}

// ---------------------------------------------------------------------------
// Parsers and the naming policy

TEST(PipelineTest, JsonParser) {
  RunCases({
      {"| json", R"({"status":200,"msg":"ok"})", true, nullptr, R"({msg="ok", status="200"})"},
      {"| json", R"({"a":{"b":"c"}})", true, nullptr, R"({a_b="c"})"},
      {"| json", R"({"list":[1,2],"k":"v"})", true, nullptr, R"({k="v"})"},
      // A parsed name equal to a stream label gets `_extracted`.
      {"| json", R"({"app":"x","env":"y"})", true, nullptr,
       R"({app_extracted="x", env_extracted="y"})"},
      {"| json", "not json", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})"},
      {R"(| json s="status")", R"({"status":200,"msg":"ok"})", true, nullptr, R"({s="200"})"},
      {R"(| json v="a.b")", R"({"a":{"b":"c"}})", true, nullptr, R"({v="c"})"},
      {R"(| json v="a.b[1]")", R"({"a":{"b":["x","y"]}})", true, nullptr, R"({v="y"})"},
      // Loki docs: a missing field gives an empty value.
      {R"(| json v="nope")", R"({"a":1})", true, nullptr, R"({v=""})"},
      {R"(| json app)", R"({"app":"x"})", true, nullptr, R"({app_extracted="x"})"},
      // A second parser stage does not overwrite what the first extracted.
      {R"(| json | json)", R"({"a":"1"})", true, nullptr, R"({a="1"})"},
      {R"(| json | line_format "{\"a\":\"2\",\"b\":\"3\"}" | json)", R"({"a":"1"})", true,
       R"({"a":"2","b":"3"})", R"({a="1", b="3"})"},
      // Structured metadata keys collide too.
      {"| json",
       R"({"trace_id":"x"})",
       true,
       nullptr,
       R"({trace_id_extracted="x"})",
       kStream,
       R"({trace_id="abc"})",
       {{"trace_id", "abc"}}},
  });
}

TEST(PipelineTest, LogfmtParser) {
  RunCases({
      {"| logfmt", R"(level=info status=500 msg="hello world")", true, nullptr,
       R"({level="info", msg="hello world", status="500"})"},
      {"| logfmt", "a=1 a=2", true, nullptr, R"({a="1"})"},
      {"| logfmt", "env=dev", true, nullptr, R"({env_extracted="dev"})"},
      {"| logfmt", "flag a=1", true, nullptr, R"({a="1"})"},
      {"| logfmt --keep-empty", "flag a=1", true, nullptr, R"({a="1", flag=""})"},
      {R"(| logfmt s="status")", "status=500 x=1", true, nullptr, R"({s="500"})"},
      {"| logfmt", "no pairs at all", true},
      // A later parser does not overwrite an earlier one's label.
      {R"x(| logfmt | regexp "x a=(?P<a>\\d)")x", "a=1 x a=9", true, nullptr, R"({a="1"})"},
  });
}

TEST(PipelineTest, RegexpPatternUnpack) {
  RunCases({
      {R"x(| regexp "(?P<method>\\w+) (?P<path>\\S+)")x", "GET /x HTTP", true, nullptr,
       R"({method="GET", path="/x"})"},
      {R"x(| regexp "(?P<method>\\d+)")x", "no digits", true},
      {R"x(| regexp "(?P<app>\\w+)")x", "web", true, nullptr, R"({app_extracted="web"})"},
      {R"(| pattern "<ip> - <_> \"<method> <path> <_>\" <status>")",
       R"(1.2.3.4 - - "GET /a HTTP/1.1" 200)", true, nullptr,
       R"({ip="1.2.3.4", method="GET", path="/a", status="200"})"},
      {"| unpack", R"({"_entry":"orig line","pod":"p1"})", true, "orig line", R"({pod="p1"})"},
      {"| unpack", R"({"app":"x","_entry":"l"})", true, "l", R"({app_extracted="x"})"},
      // Not packed (no `_entry`): Loki 3.7 unpacks nothing.
      {"| unpack", R"({"app":"x"})", true},
      {"| unpack | drop __error_details__", "plain", true, nullptr,
       R"({__error__="JSONParserErr"})"},
      {R"(| unpack | json)", R"({"_entry":"{\"a\":\"1\"}","pod":"p1"})", true, R"({"a":"1"})",
       R"({a="1", pod="p1"})"},
  });
}

TEST(PipelineTest, ParserErrorsKeepWhatWasExtractedAndLaterStagesRun) {
  RunCases({
      {"| logfmt | json", "a=1", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*", a="1"})"},
      {R"(| json | __error__="")", "bad", false},
      {R"(| json | __error__!="")", "bad", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})"},
      {R"(| json | __error__="JSONParserErr")", "bad", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})"},
      {R"(| json | __error__="" | line_format "ok")", R"({"a":1})", true, "ok", R"({a="1"})"},
  });
}

// ---------------------------------------------------------------------------
// Label filters

TEST(PipelineTest, NumericLabelFilters) {
  RunCases({
      {"| logfmt | status >= 500", "status=500", true, nullptr, R"({status="500"})"},
      {"| logfmt | status >= 500", "status=200", false},
      {"| logfmt | status > 500", "status=500", false},
      {"| logfmt | status == 200", "status=200", true, nullptr, R"({status="200"})"},
      {"| logfmt | status = 200", "status=200", true, nullptr, R"({status="200"})"},
      {"| logfmt | status != 200", "status=200", false},
      {"| logfmt | status < 300", "status=200", true, nullptr, R"({status="200"})"},
      {"| logfmt | status <= 199", "status=200", false},
      {"| logfmt | v > 1", "v=1.5", true, nullptr, R"({v="1.5"})"},
      {"| logfmt | v > 1", "v=1e3", true, nullptr, R"({v="1e3"})"},
      {"| logfmt | v < 0", "v=-2", true, nullptr, R"({v="-2"})"},
      // Missing label: dropped.
      {"| logfmt | status > 1", "other=1", false},
      // Conversion failure: kept with LabelFilterErr and Go's error text.
      {"| logfmt | status > 1", "status=abc", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", status="abc"})"},
      // Loki 3: an entry with an error and without the label is dropped too...
      {"| json | status > 1", "bad", false},
      // ...one with the label is compared, and a failed conversion keeps the first error.
      {"| logfmt | json | status > 1", "status=5", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*", status="5"})"},
      {"| logfmt | json | status > 1", "status=0", false},
      {"| logfmt | json | status > 1", "status=x", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*", status="x"})"},
  });
}

TEST(PipelineTest, DurationAndBytesLabelFilters) {
  RunCases({
      {"| logfmt | took > 250ms", "took=300ms", true, nullptr, R"({took="300ms"})"},
      {"| logfmt | took > 250ms", "took=1s", true, nullptr, R"({took="1s"})"},
      {"| logfmt | took > 250ms", "took=100ms", false},
      {"| logfmt | took >= 1.5s", "took=1500ms", true, nullptr, R"({took="1500ms"})"},
      {"| logfmt | took == 1m", "took=60s", true, nullptr, R"({took="60s"})"},
      {"| logfmt | took > 1s", "took=fast", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="time: invalid duration \"fast\"", took="fast"})"},
      {"| logfmt | size > 1KB", "size=2KB", true, nullptr, R"({size="2KB"})"},
      {"| logfmt | size > 1KiB", "size=1000B", false},
      {"| logfmt | size >= 1KiB", "size=1024", true, nullptr, R"({size="1024"})"},
      {"| logfmt | size < 1MB", "size=1.5KiB", true, nullptr, R"({size="1.5KiB"})"},
      {R"(| logfmt | size > 1KB)", R"(size="3 kb")", true, nullptr, R"({size="3 kb"})"},
      {"| logfmt | size > 1KB", "size=huge", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing \"\": invalid syntax", size="huge"})"},
      {"| logfmt | size > 1KB", "size=12parsecs", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="unhandled size name: parsecs", size="12parsecs"})"},
  });
}

TEST(PipelineTest, StringAndIpLabelFilters) {
  RunCases({
      {R"(| logfmt | level="error")", "level=error", true, nullptr, R"({level="error"})"},
      {R"(| logfmt | level="error")", "level=info", false},
      {R"(| logfmt | level!="error")", "level=info", true, nullptr, R"({level="info"})"},
      {R"(| logfmt | level=~"err.*")", "level=error", true, nullptr, R"({level="error"})"},
      // Regex matchers are anchored, as in stream selectors.
      {R"(| logfmt | level=~"rr")", "level=error", false},
      {R"(| logfmt | level!~"info|debug")", "level=info", false},
      // A missing label compares as "".
      {R"(| logfmt | level="")", "x=1", true, nullptr, R"({x="1"})"},
      {R"(| logfmt | level!="")", "x=1", false},
      // Stream labels and structured metadata are visible to label filters.
      {R"(| env="prod")", "line", true},
      {R"(| env="dev")", "line", false},
      {R"(| trace_id="abc")",
       "line",
       true,
       nullptr,
       "{}",
       kStream,
       R"({trace_id="abc"})",
       {{"trace_id", "abc"}}},
      {R"(| logfmt | addr = ip("10.0.0.0/8"))", "addr=10.2.3.4", true, nullptr,
       R"({addr="10.2.3.4"})"},
      {R"(| logfmt | addr = ip("10.0.0.0/8"))", "addr=192.168.1.1", false},
      {R"(| logfmt | addr != ip("10.0.0.0/8"))", "addr=192.168.1.1", true, nullptr,
       R"({addr="192.168.1.1"})"},
      {R"(| logfmt | addr = ip("10.0.0.1-10.0.0.5"))", "addr=10.0.0.3", true, nullptr,
       R"({addr="10.0.0.3"})"},
      {R"(| logfmt | addr = ip("10.0.0.0/8"))", "other=1", false},
      // ip() keeps an entry that already has an error (Loki's code comment).
      {R"(| json | addr = ip("10.0.0.0/8"))", "bad", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})"},
  });
}

TEST(PipelineTest, CombinedLabelFilters) {
  RunCases({
      {R"(| logfmt | status >= 500 or level="error")", "status=200 level=error", true, nullptr,
       R"({level="error", status="200"})"},
      {R"(| logfmt | status >= 500 or level="error")", "status=200 level=info", false},
      {R"(| logfmt | status >= 500 and level="error")", "status=500 level=info", false},
      {R"(| logfmt | status >= 500, level="error")", "status=500 level=error", true, nullptr,
       R"({level="error", status="500"})"},
      {R"(| logfmt | status >= 500 level="error")", "status=500 level=info", false},
      {R"(| logfmt | (status >= 500 or level="warn") and app="api")", "status=200 level=warn", true,
       nullptr, R"({level="warn", status="200"})"},
      {R"(| logfmt | status >= 500 or level="warn" and app="web")", "status=200 level=warn", false},
      {R"(| logfmt | status >= 500 | level="error")", "status=500 level=info", false},
      // The failing conversion keeps the entry through `or`.
      {R"(| logfmt | status > 1 or level="x")", "status=abc", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="*", status="abc"})"},
      // `and` keeps the error side's verdict: kept.
      {R"(| logfmt | status > 1 and level="")", "status=abc", true, nullptr,
       R"({__error__="LabelFilterErr", __error_details__="*", status="abc"})"},
  });
}

// ---------------------------------------------------------------------------
// line_format, label_format, decolorize

TEST(PipelineTest, LineFormat) {
  RunCases({
      {R"(| logfmt | line_format "{{.status}} {{.app}}")", "status=500", true, "500 api",
       R"({status="500"})"},
      {R"(| line_format "{{.missing}}!")", "x", true, "!"},
      {R"(| line_format "[{{__line__}}]")", "orig", true, "[orig]"},
      {R"(| line_format "{{.app}}" | line_format "{{__line__}}-{{.env}}")", "x", true, "api-prod"},
      {R"(| line_format "{\"a\":\"{{.app}}\"}" | json)", "x", true, R"({"a":"api"})",
       R"({a="api"})"},
      {R"(| json | line_format "{{.__error__}}")", "bad", true, "JSONParserErr",
       R"({__error__="JSONParserErr", __error_details__="*"})"},
      {R"(| line_format "{{.trace_id}}")",
       "x",
       true,
       "abc",
       "{}",
       kStream,
       R"({trace_id="abc"})",
       {{"trace_id", "abc"}}},
      // The template data as a whole holds every label.
      {R"(| logfmt | line_format "{{ len . }}")", "a=1", true, "3", R"({a="1"})"},
      {R"(| line_format "{{ index . \"env\" }}")", "x", true, "prod"},
      // An execution error keeps the line as it was and sets TemplateFormatErr.
      {R"(| line_format "{{.app.x}}")", "orig", true, nullptr,
       R"({__error__="TemplateFormatErr", __error_details__="template: line:1:6: executing \"line\" at <.app.x>: can't evaluate field x in type string"})"},
      {R"(| line_format "{{.app.x}}" | __error__="")", "orig", false},
      {R"(| line_format "{{ ToUpper }}" | drop __error_details__)", "orig", true, nullptr,
       R"({__error__="TemplateFormatErr"})"},
  });
}

TEST(PipelineTest, LabelFormat) {
  RunCases({
      // Rename: the source goes, the destination is a parsed label.
      {"| logfmt | label_format lvl=level", "level=info", true, nullptr, R"({lvl="info"})"},
      {"| label_format application=app", "x", true, nullptr, R"({application="api"})",
       R"({env="prod"})"},
      {"| label_format x=nope", "x", true},
      // Template form; referenced labels stay.
      {R"(| label_format x="{{.app}}-{{.env}}")", "l", true, nullptr, R"({x="api-prod"})"},
      // Overwriting a stream label: the result counts as parsed and shadows it.
      {R"(| label_format app="new")", "l", true, nullptr, R"({app="new"})", R"({env="prod"})"},
      {R"(| label_format app="{{.app}}")", "l", true, nullptr, R"({app="api"})", R"({env="prod"})"},
      {R"(| label_format x="{{__line__}}")", "the line", true, nullptr, R"({x="the line"})"},
      // Templates of one stage see the labels as they were before the stage (Loki builds
      // the template data once per stage; our reading of its behaviour).
      {R"(| label_format a="1", b="{{.a}}")", "l", true, nullptr, R"({a="1", b=""})"},
      {R"(| label_format a="1" | label_format b="{{.a}}")", "l", true, nullptr,
       R"({a="1", b="1"})"},
      {R"(| logfmt | label_format level="{{.level | ToUpper}}")", "level=info", true, nullptr,
       R"({level="INFO"})"},
      // label_format results are parsed labels, so a later parser does not overwrite them.
      {R"(| label_format a="x" | logfmt)", "a=1 b=2", true, nullptr, R"({a="x", b="2"})"},
      // A template error sets TemplateFormatErr and leaves the destination unset; the other
      // formats of the stage still apply. Loki names these templates "label".
      {R"(| label_format x="{{.app.x}}", y="ok")", "l", true, nullptr,
       R"({__error__="TemplateFormatErr", __error_details__="template: label:1:6: executing \"label\" at <.app.x>: can't evaluate field x in type string", y="ok"})"},
      {R"(| label_format x="{{ .app | ToUpper }}-{{ .env }}")", "l", true, nullptr,
       R"({x="API-prod"})"},
      // Metadata renamed keeps its value, now as a parsed label (deliberate: Loki's docs
      // say label_format results are parsed labels).
      {"| label_format t=trace_id",
       "l",
       true,
       nullptr,
       R"({t="abc"})",
       kStream,
       "{}",
       {{"trace_id", "abc"}}},
  });
}

TEST(PipelineTest, Decolorize) {
  RunCases({
      {"| decolorize", "\x1b[31mred\x1b[0m text", true, "red text"},
      {"| decolorize", "plain", true},
      {R"(| decolorize |= "red text")", "\x1b[31mred\x1b[0m text", true, "red text"},
      {R"(| decolorize | logfmt)", "\x1b[1mlevel\x1b[0m=warn", true, "level=warn",
       R"({level="warn"})"},
  });
}

// ---------------------------------------------------------------------------
// drop and keep

TEST(PipelineTest, Drop) {
  RunCases({
      {"| logfmt | drop level", "level=info a=1", true, nullptr, R"({a="1"})"},
      {"| drop app", "l", true, nullptr, "{}", R"({env="prod"})"},
      {"| drop app, env", "l", true, nullptr, "{}", "{}"},
      {R"(| logfmt | drop level="info")", "level=info a=1", true, nullptr, R"({a="1"})"},
      {R"(| logfmt | drop level="warn")", "level=info a=1", true, nullptr,
       R"({a="1", level="info"})"},
      {R"(| logfmt | drop level=~"i.*")", "level=info", true},
      {"| drop nope", "l", true},
      {"| json | drop __error__", "bad", true, nullptr, R"({__error_details__="*"})"},
      {"| json | drop __error__, __error_details__", "bad", true},
      {R"(| json | drop __error__="LogfmtParserErr")", "bad", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})"},
      {"| drop trace_id", "l", true, nullptr, "{}", kStream, "{}", {{"trace_id", "abc"}}},
  });
}

TEST(PipelineTest, Keep) {
  RunCases({
      {"| logfmt | keep level", "level=info a=1", true, nullptr, R"({level="info"})", "{}"},
      {"| logfmt | keep app, a", "level=info a=1", true, nullptr, R"({a="1"})", R"({app="api"})"},
      {R"(| logfmt | keep level="info", a)", "level=info a=1", true, nullptr,
       R"({a="1", level="info"})", "{}"},
      {R"(| logfmt | keep level="warn", a)", "level=info a=1", true, nullptr, R"({a="1"})", "{}"},
      // keep never removes `__error__` / `__error_details__`.
      {"| json | keep app", "bad", true, nullptr,
       R"({__error__="JSONParserErr", __error_details__="*"})", R"({app="api"})"},
      {"| keep nope", "l", true, nullptr, "{}", "{}"},
      {"| keep trace_id",
       "l",
       true,
       nullptr,
       "{}",
       "{}",
       R"({trace_id="abc"})",
       {{"trace_id", "abc"}}},
      // Keep compares the effective value: the parsed label shadows the stream one.
      {R"(| label_format app="new" | keep app="api")", "l", true, nullptr, "{}", "{}"},
  });
}

// ---------------------------------------------------------------------------
// Structured metadata

TEST(PipelineTest, StructuredMetadata) {
  RunCases({
      // The issue's bug: a metadata key equal to a stream label must not overwrite it.
      {"", "l", true, nullptr, "{}", kStream, R"({app_extracted="web"})", {{"app", "web"}}},
      {"",
       "l",
       true,
       nullptr,
       "{}",
       kStream,
       R"({pod="p1", trace_id="abc"})",
       {{"trace_id", "abc"}, {"pod", "p1"}}},
      {R"(| app_extracted="web")",
       "l",
       true,
       nullptr,
       "{}",
       kStream,
       R"({app_extracted="web"})",
       {{"app", "web"}}},
      {R"(|= "l" | pod="p2")", "l", false, nullptr, "{}", kStream, "{}", {{"pod", "p1"}}},
      // A parsed name equal to the renamed metadata key: first stays.
      {"| logfmt",
       "pod=p9",
       true,
       nullptr,
       R"({pod_extracted="p9"})",
       kStream,
       R"({pod="p1"})",
       {{"pod", "p1"}}},
  });
}

// ---------------------------------------------------------------------------
// Compile errors and OnlyLineFilters

StatusOr<std::shared_ptr<const Pipeline>> CompileQuery(const std::string& q) {
  auto expr = ParseExpr(q);
  EXPECT_TRUE(expr.ok()) << q << ": " << expr.status().message();
  if (!expr.ok()) return expr.status();
  return Pipeline::Compile(*AsLogSelector(**expr));
}

TEST(PipelineTest, CompileErrors) {
  // Loki 3.7's texts (observed): a stage that does not build is a stage error.
  EXPECT_EQ(CompileQuery(R"({a="b"} | x = ip("nope"))").status().message(),
            "parse error : stage '| x=ip(\"nope\")' : ip: invalid pattern: \"nope\"");
  EXPECT_EQ(CompileQuery(R"({a="b"} |= ip("1.2.3"))").status().message(),
            "parse error : stage '|= ip(\"1.2.3\")' : ip: invalid pattern: \"1.2.3\"");
  EXPECT_EQ(CompileQuery(R"({a="b"} | label_format a="1", a="2")").status().message(),
            "parse error : stage '| label_format a=\"1\",a=\"2\"' : multiple label name 'a' not "
            "allowed in a single format operation");
  EXPECT_EQ(CompileQuery(R"({a="b"} | label_format a="{{.x", b="y")").status().message(),
            "parse error : stage '| label_format a=\"{{.x\",b=\"y\"' : invalid template for label "
            "'a': template: label:1: unclosed action");
  EXPECT_EQ(
      CompileQuery(R"({a="b"} |= "a" |~ "(")").status().message(),
      "parse error : stage '|= \"a\" |~ \"(\"' : error parsing regexp: missing closing ): `(`");
  EXPECT_EQ(
      CompileQuery(R"({a="b"} | line_format "{{.a")").status().message(),
      "parse error : stage '| line_format \"{{.a\"' : invalid line template: template: line:1: "
      "unclosed action");
}

TEST(PipelineTest, OnlyLineFilters) {
  EXPECT_TRUE((*CompileQuery(R"({a="b"})"))->OnlyLineFilters());
  EXPECT_TRUE((*CompileQuery(R"({a="b"} |= "x" != "y")"))->OnlyLineFilters());
  EXPECT_FALSE((*CompileQuery(R"({a="b"} |= "x" | logfmt)"))->OnlyLineFilters());
  EXPECT_FALSE((*CompileQuery(R"({a="b"} | drop a)"))->OnlyLineFilters());
}

TEST(PipelineTest, LabelsWithoutStagesAreTheStreamLabelsWithAStableHash) {
  auto p = *CompileQuery(R"({app="api"} |= "x")");
  auto s1 = p->ForStream(MustLabels(kStream));
  std::string_view out;
  ASSERT_TRUE(s1->Process(1, "x", {}, &out));
  uint64_t h = s1->labels().hash;
  EXPECT_EQ(ToLabels(s1->labels().all).ToString(), kStream);
  // The same labels reached through a pipeline that adds nothing hash the same.
  auto p2 = *CompileQuery(R"({app="api"} | logfmt)");
  auto s2 = p2->ForStream(MustLabels(R"({app="api"})"));
  ASSERT_TRUE(s2->Process(1, "env=prod", {}, &out));
  // env is parsed here rather than a stream label, but `all` is the same set.
  EXPECT_EQ(s2->labels().hash, h);
  ASSERT_TRUE(s2->Process(1, "env=dev", {}, &out));
  EXPECT_NE(s2->labels().hash, h);
}

// ---------------------------------------------------------------------------
// Sample extraction

struct SampleCase {
  const char* query;
  const char* line;
  bool has_sample;
  double value = 0;
  const char* labels = "";  // all labels of the sample
  std::vector<std::pair<std::string, std::string>> md = {};
};

void RunSampleCases(const std::vector<SampleCase>& cases) {
  for (const SampleCase& c : cases) {
    SCOPED_TRACE(std::string(c.query) + "  <-  " + c.line);
    auto expr = ParseExpr(c.query);
    ASSERT_TRUE(expr.ok()) << expr.status().message();
    ASSERT_EQ((*expr)->kind(), ExprKind::kRangeAggregation);
    auto ex = SampleExtractor::Compile(static_cast<const RangeAggregationExpr&>(**expr));
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto s = (*ex)->ForStream(MustLabels(kStream));
    std::vector<MetadataPair> md;
    for (const auto& [k, v] : c.md) md.push_back(MetadataPair{k, v});
    for (int round = 0; round < 2; round++) {
      double v = -1;
      bool ok = s->Process(1000, c.line, md, &v);
      ASSERT_EQ(ok, c.has_sample);
      if (!ok) continue;
      EXPECT_DOUBLE_EQ(v, c.value);
      std::vector<LabelRef> all(s->labels().all.begin(), s->labels().all.end());
      for (LabelRef& l : all) {
        if (l.name == "__error_details__" &&
            std::string_view(c.labels).find("=\"*\"") != std::string_view::npos)
          l.value = "*";
      }
      EXPECT_EQ(ToLabels(all).ToString(), c.labels);
    }
  }
}

TEST(SampleExtractorTest, CountsAndBytes) {
  RunSampleCases({
      {R"(count_over_time({app="api"}[1m]))", "hello", true, 1, kStream},
      {R"(rate({app="api"} |= "hel" [1m]))", "hello", true, 1, kStream},
      {R"(rate({app="api"} |= "x" [1m]))", "hello", false},
      {R"(absent_over_time({app="api"}[1m]))", "hello", true, 1, kStream},
      {R"(bytes_over_time({app="api"}[1m]))", "hello", true, 5, kStream},
      {R"(bytes_rate({app="api"} | line_format "ab" [1m]))", "hello", true, 2, kStream},
      {R"(count_over_time({app="api"} | logfmt [1m]))", "a=1", true, 1,
       R"({a="1", app="api", env="prod"})"},
      {R"(count_over_time({app="api"}[1m]))",
       "x",
       true,
       1,
       R"({app="api", app_extracted="web", env="prod"})",
       {{"app", "web"}}},
  });
}

TEST(SampleExtractorTest, Unwrap) {
  RunSampleCases({
      {R"(sum_over_time({app="api"} | logfmt | unwrap v [1m]))", "v=2.5 x=1", true, 2.5,
       R"({app="api", env="prod", x="1"})"},
      {R"(sum_over_time({app="api"} | logfmt | unwrap v [1m]))", "x=1", false},
      {R"(sum_over_time({app="api"} | logfmt | unwrap v [1m]))", "v= x=1", false},
      {R"(sum_over_time({app="api"} | logfmt --keep-empty | unwrap v [1m]))", "v= x=1", false},
      {R"(avg_over_time({app="api"} | logfmt | unwrap duration(d) [1m]))", "d=1m30s", true, 90,
       kStream},
      {R"(avg_over_time({app="api"} | logfmt | unwrap duration_seconds(d) [1m]))", "d=250ms", true,
       0.25, kStream},
      {R"(max_over_time({app="api"} | logfmt | unwrap bytes(b) [1m]))", "b=2KiB", true, 2048,
       kStream},
      {R"(rate({app="api"} | logfmt | unwrap v [1m]))", "v=3", true, 3, kStream},
      // Conversion failure: kept with SampleExtractionErr (value 0), and with the unwrapped
      // label (Loki drops it through the grouping, which an errored sample skips).
      {R"(sum_over_time({app="api"} | logfmt | unwrap v [1m]))", "v=abc", true, 0,
       R"({__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", app="api", env="prod", v="abc"})"},
      {R"(sum_over_time({app="api"} | logfmt | unwrap duration(v) [1m]))", "v=abc", true, 0,
       R"({__error__="SampleExtractionErr", __error_details__="time: invalid duration \"abc\"", app="api", env="prod", v="abc"})"},
      // Post-unwrap label filters.
      {R"(sum_over_time({app="api"} | logfmt | unwrap v | __error__="" [1m]))", "v=abc", false},
      {R"(sum_over_time({app="api"} | logfmt | unwrap v | __error__="" [1m]))", "v=4", true, 4,
       kStream},
      {R"(sum_over_time({app="api"} | logfmt | unwrap v | x > 1 [1m]))", "v=4 x=2", true, 4,
       R"({app="api", env="prod", x="2"})"},
      {R"(sum_over_time({app="api"} | logfmt | unwrap v | x > 1 [1m]))", "v=4 x=0", false},
      // Unwrapping a stream label (it is removed from the sample's labels too).
      {R"(sum_over_time({app="api"} | label_format n="7" | unwrap n [1m]))", "l", true, 7, kStream},
      {R"(sum_over_time({app="api"} | unwrap env [1m]))", "l", true, 0,
       R"({__error__="SampleExtractionErr", __error_details__="*", app="api", env="prod"})"},
  });
}

TEST(SampleExtractorTest, StreamLabelsOnly) {
  auto only = [](const char* q) {
    auto expr = ParseExpr(q);
    EXPECT_TRUE(expr.ok()) << q;
    auto ex = SampleExtractor::Compile(static_cast<const RangeAggregationExpr&>(**expr));
    EXPECT_TRUE(ex.ok()) << q;
    return (*ex)->StreamLabelsOnly();
  };
  EXPECT_TRUE(only(R"(count_over_time({app="api"}[1m]))"));
  EXPECT_TRUE(only(R"(bytes_rate({app="api"}[1m]))"));
  EXPECT_FALSE(only(R"(count_over_time({app="api"} |= "x" [1m]))"));
  EXPECT_FALSE(only(R"(rate({app="api"} | json [1m]))"));
  EXPECT_FALSE(only(R"(sum_over_time({app="api"} | unwrap x [1m]))"));
}

}  // namespace
}  // namespace skald::logql
