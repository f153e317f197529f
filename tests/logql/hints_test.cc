// Label hints (parsers.h LabelHints, pipeline.h): hinted json / logfmt parsers report only
// the wanted names with the same error result; log pipelines parse lazily behind label
// filters; sample extractors grouped `by (...)` extract only what the grouping reads. The
// oracle is the same query compiled without hints (pipeline_internal.h): over a few dozen
// lines, malformed ones included, every hinted answer must equal the unhinted one — for log
// queries exactly (a log query shows every label, as in Loki), for metric queries after the
// grouping, and exactly again for samples that carry `__error__`.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "logql/parser.h"
#include "logql/parsers.h"
#include "logql/pipeline.h"
#include "logql/pipeline_internal.h"

namespace skald::logql {
namespace {

constexpr const char* kStream = R"({app="api", env="prod"})";

// JSON lines: well formed, duplicate keys, keys that collide with stream labels or need
// sanitizing, nesting, arrays, and lines malformed before, between and after the keys the
// queries below read.
const std::vector<std::string> kJsonLines = {
    R"({"level":"error","status":500,"path":"/a","msg":"x"})",
    R"({"level":"info","status":200,"nested":{"level":"deep","a":{"b":"c"}}})",
    R"({"status":"503","level":"error","level":"warn"})",
    R"({"level":"error","status":500,"broken":})",
    R"({"level":"error","status":500, "x": "unterminated)",
    R"({"level":"error" "status":1})",
    R"(not json at all)",
    R"({"lev\u0065l":"error","status":"5x"})",
    R"({"level":"err\"or","status":404})",
    R"({"app":"shadow","level":"error","status":500})",
    R"({"level_extracted":"zzz","level":"error"})",
    R"({"a.b":"dot","level":"error","status":501})",
    R"({"1num":"digit","level":"error"})",
    R"({"level":null,"status":true})",
    R"({"level":["error"],"status":[500]})",
    R"({"request":{"status":502,"level":"error"},"level":"warn"})",
    R"({"level":"error","status":500,"tags":["a",{"b":1}],"after":"x"})",
    R"({"level":"error","status":5e2})",
    R"({ "level" : "error" , "status" : 500 })",
    R"({})",
    "",
    R"({"level":"error","status":500}}} trailing)",
    "{\"level\":\"\xff bad utf8\",\"status\":500}",
    R"({"level":"error","status":500,"nested":{"x":{"y":1}})",
    R"({"level":"error","status":"1.5s","took":"250ms","request":{"status":"x{"}})",
    R"({"request":{"level":"error","a":[1,{"b":"}"}]},"status":500})",
    R"({"level":"error","status":500,"msg":"\q"})",
    R"({"status":"500","status":"200","level":"error"})",
    R"(["level","error"])",
    R"({"level":"error","status":500,"level":"info","end":true)",
    R"({"a":{" ":"blank key"},"level":"error"})",
};

// logfmt lines: duplicates, flags, empty values, bad quoting, stray `=` and `"`.
const std::vector<std::string> kLogfmtLines = {
    R"(level=error status=500 path=/a msg="x y")",
    R"(level=info status=200)",
    R"(status=503 level=error level=warn)",
    R"(level=error status=500 broken="unterminated)",
    R"(level=error status=500 a="x\q" b=1)",
    R"(level= status=500)",
    R"(level status=500)",
    R"(app=shadow level=error status=500)",
    R"(=bad level=error status=500)",
    R"(level=error status=5x)",
    R"(level="err\"or" status=404)",
    R"(a.b=dot level=error status=501)",
    R"(status=500 status=200)",
    "",
    R"(level=error status=500 stray"quote)",
    R"(level=error x==y status=502 took=1s)",
    R"(level=error status=500 path="/p" level_extracted=q)",
    "l\xc3\xa9vel=error status=500",
    R"(1level=error status=503)",
    R"(status="500" level="error")",
};

Labels MustLabels(const char* text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Labels();
}

std::string Render(std::span<const LabelRef> labels) { return ToLabels(labels).ToString(); }

std::unique_ptr<Expr> MustParse(const std::string& query) {
  auto expr = ParseExpr(query);
  EXPECT_TRUE(expr.ok()) << query << ": " << expr.status().message();
  return expr.ok() ? std::move(expr).value() : nullptr;
}

// ---- LabelHints and hinted parsers ----

TEST(LabelHints, AskingForAnExtractedNameAlsoAsksForTheParsedName) {
  LabelHints h({"status", "level_extracted"});
  EXPECT_TRUE(h.Wants("status"));
  EXPECT_TRUE(h.Wants("level"));
  EXPECT_TRUE(h.Wants("level_extracted"));
  EXPECT_FALSE(h.Wants("statu"));
  EXPECT_FALSE(h.Wants("path"));
  EXPECT_EQ(h.IndexOf("nope"), -1);
}

TEST(LabelHints, WantsNestedMatchesOnlyWholePrefixes) {
  LabelHints h({"request_status"});
  EXPECT_TRUE(h.WantsNested("request"));
  EXPECT_FALSE(h.WantsNested("req"));
  EXPECT_FALSE(h.WantsNested("request_status"));
  EXPECT_FALSE(h.WantsNested("response"));
}

class CollectingSink : public ParsedSink {
 public:
  void Add(std::string_view name, std::string_view value) override {
    for (const auto& [n, v] : got) {
      if (n == name) return;  // the first value wins, as the label builder does
    }
    got.emplace_back(std::string(name), std::string(value));
  }
  bool AlreadyParsed(std::string_view name) const override {
    for (const auto& [n, v] : got) {
      if (n == name) return true;
    }
    return false;
  }
  void SetLine(std::string_view) override {}
  void Put(std::string_view name, std::string_view value) override {
    for (auto& [n, v] : got) {
      if (n == name) {
        v = std::string(value);
        return;
      }
    }
    got.emplace_back(std::string(name), std::string(value));
  }  // The test streams have no label named like a requested key.
  bool IsStreamOrMetadata(std::string_view) const override { return false; }

  std::vector<std::pair<std::string, std::string>> got;
};

std::unique_ptr<LineParser> MakeParser(const std::string& stage,
                                       std::shared_ptr<const LabelHints> hints) {
  auto expr = MustParse("{a=\"b\"} " + stage);
  if (!expr) return nullptr;
  auto p = NewLineParser(AsLogSelector(*expr)->stages.at(0), std::move(hints));
  EXPECT_TRUE(p.ok());
  return p.ok() ? std::move(p).value() : nullptr;
}

// A hinted parser reports exactly the wanted subset of what the unhinted one reports, in
// the same order, with the same error and error details.
void CheckHintedParser(const std::string& stage, const std::vector<std::string>& lines,
                       const std::vector<std::string>& wanted) {
  auto hints = std::make_shared<const LabelHints>(wanted);
  auto full = MakeParser(stage, nullptr);
  auto hinted = MakeParser(stage, hints);
  ASSERT_TRUE(full && hinted);
  for (const std::string& line : lines) {
    SCOPED_TRACE(stage + "  <-  " + line);
    CollectingSink fs, hs;
    ParseError fe = full->Parse(line, &fs);
    ParseError he = hinted->Parse(line, &hs);
    EXPECT_EQ(fe.error, he.error);
    EXPECT_EQ(fe.details, he.details);
    std::vector<std::pair<std::string, std::string>> expect;
    for (const auto& kv : fs.got) {
      if (hints->Wants(kv.first)) expect.push_back(kv);
    }
    EXPECT_EQ(hs.got, expect);
  }
}

TEST(HintedParsers, JsonReportsOnlyWantedNamesWithTheSameErrors) {
  CheckHintedParser("| json", kJsonLines, {"level"});
  CheckHintedParser("| json", kJsonLines, {"status", "request_status"});
  CheckHintedParser("| json", kJsonLines, {"nested_a_b", "a_b", "_1num", "after"});
  CheckHintedParser("| json", kJsonLines, {"a"});
  CheckHintedParser("| json", kJsonLines, {});
}

TEST(HintedParsers, LogfmtReportsOnlyWantedNamesWithTheSameErrors) {
  for (const char* stage : {"| logfmt", "| logfmt --strict", "| logfmt --keep-empty",
                            "| logfmt --strict --keep-empty"}) {
    CheckHintedParser(stage, kLogfmtLines, {"status"});
    CheckHintedParser(stage, kLogfmtLines, {"level", "status"});
    CheckHintedParser(stage, kLogfmtLines, {"a_b", "_1level", "l_vel", "took"});
    CheckHintedParser(stage, kLogfmtLines, {});
  }
}

TEST(HintedParsers, LogfmtWithParamsReadsTheWholeLine) {
  // `logfmt a, b` reads the whole line: every requested label starts empty and the last
  // value of a key wins (Loki's LabelsBuilder.Set); one key feeds the first label asking.
  auto p = MakeParser("| logfmt status, lvl=\"level\", x=\"status\"", nullptr);
  CollectingSink s;
  EXPECT_FALSE(p->Parse("status= level=warn status=500 level=error broken\"", &s));
  EXPECT_EQ(s.got, (std::vector<std::pair<std::string, std::string>>{
                       {"status", "500"}, {"lvl", "error"}, {"x", ""}}));
  auto strict = MakeParser("| logfmt --strict status", nullptr);
  CollectingSink t;
  EXPECT_TRUE(strict->Parse("status=500 broken\"", &t));  // the error after the key counts
}

TEST(HintedParsers, LogfmtKeepsTheFirstOfDuplicateKeysWhenItStopsEarly) {
  auto p = MakeParser("| logfmt",
                      std::make_shared<const LabelHints>(std::vector<std::string>{"status"}));
  CollectingSink s;
  EXPECT_FALSE(p->Parse("status=500 status=200 level=x", &s));
  EXPECT_EQ(s.got, (std::vector<std::pair<std::string, std::string>>{{"status", "500"}}));
}

// ---- Log pipelines: lazy parsing must not be visible ----

const std::vector<const char*> kJsonLogQueries = {
    R"(| json | level="error")",
    R"(| json | status>=500)",
    R"(| json | level="error" | status>=500)",
    R"(| json | level=~"err.*" or status>=500)",
    R"(| json | status>=500 | level="error")",
    R"(| json | __error__="")",
    R"(| json | __error__!="")",
    R"(| json | level_extracted="zzz")",
    R"(| json | app_extracted="shadow")",
    R"(| json | app="api")",
    R"(| json | request_status>=500)",
    R"(| json | a_b="dot")",
    R"(| json |= "error" | level="error" != "nothing")",
    R"(| json | level="error" | line_format "{{.status}} {{.path}}")",
    R"(| json | level="error" | drop status)",
    R"(| json | level="error" | keep path)",
    R"(| json | level="error" | logfmt | status>=500)",
    R"(| json | status > 400 | label_format s=status)",
    R"(| json | status > 1s)",
    R"(| json | took < 1s)",
    R"(| json | status = ip("10.0.0.0/8"))",
    R"(| json | level="error" | json | status>=500)",
    R"(| logfmt | level="error")",
};

const std::vector<const char*> kLogfmtLogQueries = {
    R"(| logfmt | status>=500)",
    R"(| logfmt | level="error")",
    R"(| logfmt | level="error" | status>=500)",
    R"(| logfmt --strict | status>=500)",
    R"(| logfmt --keep-empty | level="")",
    R"(| logfmt | status>=500 | keep level)",
    R"(| logfmt | level_extracted="q")",
    R"(| logfmt | app_extracted="shadow" or status>=500)",
    R"(| logfmt | took > 500ms)",
    R"(| logfmt | __error__="" | status>=500)",
    R"(| logfmt | status>=500 | line_format "{{.level}}")",
    R"(| json | level="error")",
};

using StreamInputs = std::vector<std::pair<const char*, std::vector<MetadataPair>>>;

// Runs every query over every line of every (stream, metadata) input through the planned
// pipeline (hints, lazy parsing, required-value skip) and the unplanned one: same answers.
void CompareLogQueries(const std::vector<const char*>& queries,
                       const std::vector<std::string>& lines,
                       const StreamInputs& inputs = {
                           {kStream, {}},
                           {R"({app="api", level="stream"})", {}},
                           {kStream, {MetadataPair{"status", "999"}, MetadataPair{"trace", "t1"}}},
                       }) {
  for (const char* q : queries) {
    const std::string query = std::string(R"({app="api"} )") + q;
    auto expr = MustParse(query);
    ASSERT_NE(expr, nullptr);
    const LogSelector* sel = AsLogSelector(*expr);
    ASSERT_NE(sel, nullptr);
    auto hinted = Pipeline::Compile(*sel);
    auto plain = internal::CompilePipelineWithoutHints(*sel);
    ASSERT_TRUE(hinted.ok() && plain.ok()) << query;
    for (const auto& [stream, md] : inputs) {
      auto hs = (*hinted)->ForStream(MustLabels(stream));
      auto ps = (*plain)->ForStream(MustLabels(stream));
      for (const std::string& line : lines) {
        SCOPED_TRACE(query + "  " + stream + "  <-  " + line);
        std::string_view hl, pl;
        const bool hk = hs->Process(1, line, md, &hl);
        const bool pk = ps->Process(1, line, md, &pl);
        ASSERT_EQ(hk, pk);
        if (!pk) continue;
        EXPECT_EQ(hl, pl);
        const EntryLabels& h = hs->labels();
        const EntryLabels& p = ps->labels();
        EXPECT_EQ(Render(h.all), Render(p.all));
        EXPECT_EQ(Render(h.stream), Render(p.stream));
        EXPECT_EQ(Render(h.structured_metadata), Render(p.structured_metadata));
        EXPECT_EQ(Render(h.parsed), Render(p.parsed));
        EXPECT_EQ(h.hash, p.hash);
      }
    }
  }
}

TEST(RequiredValuePrefilter, DropsOnlyEntriesThePipelineDrops) {
  // `| json | level="error"` skips lines without the bytes `error` — unless an escape or a
  // non-ASCII byte could produce them, or metadata / a stream label supplies `level`.
  const std::vector<std::string> lines = {
      R"({"level":"error","status":500})",
      R"({"level":"info","status":500})",
      R"({"level":"err\u006fr","status":500})",  // escaped: parses to "error"
      "{\"level\":\"err\xffor\"}",               // invalid UTF-8 dropped: "error"
      R"({"lev\u0065l":"error"})",
      R"({"msg":"no level"})",
      R"(level=error status=500)",
      R"(level="err\x6fr" status=500)",
      R"(level=info msg="a b")",
      R"(msg="a b" level=warn)",
      "not json",
      "",
  };
  const std::vector<const char*> queries = {
      R"(| json | level="error")",
      R"(| json | level="error", status>=500)",
      R"(| json | level_extracted="error")",
      R"(|= "e" | json |= "r" | level="error" | line_format "{{.status}}")",
      R"(| logfmt | level="error")",
      R"(| logfmt | msg="a b")",
      R"(| logfmt --strict | level="error" or status>=500)",
      R"(| json lvl="level" | lvl="error")",
  };
  CompareLogQueries(queries, lines,
                    {
                        {kStream, {}},
                        {R"({app="api", level="error"})", {}},
                        {kStream, {MetadataPair{"level", "error"}}},
                        {R"({app="api", level="x"})", {MetadataPair{"level", "error"}}},
                    });
}

TEST(LazyParsing, JsonLogQueriesGiveTheUnhintedResults) {
  CompareLogQueries(kJsonLogQueries, kJsonLines);
}

TEST(LazyParsing, LogfmtLogQueriesGiveTheUnhintedResults) {
  CompareLogQueries(kLogfmtLogQueries, kLogfmtLines);
}

TEST(LazyParsing, LogQueryResultsKeepEveryParsedLabel) {
  // A log query shows all labels (Loki applies no parser hints to log queries either).
  auto expr = MustParse(R"({app="api"} | json | level="error")");
  auto p = Pipeline::Compile(*AsLogSelector(*expr));
  ASSERT_TRUE(p.ok());
  auto sp = (*p)->ForStream(MustLabels(kStream));
  std::string_view out;
  ASSERT_TRUE(sp->Process(1, R"({"level":"error","status":500,"req":{"path":"/a"}})", {}, &out));
  EXPECT_EQ(Render(sp->labels().parsed), R"({level="error", req_path="/a", status="500"})");
  EXPECT_FALSE(sp->Process(1, R"({"level":"info","status":200})", {}, &out));
}

TEST(LazyParsing, AnErrorAfterTheFilteredKeysIsStillReported) {
  // Decision: Loki stops parsing once its hints are satisfied (so it may miss this error);
  // Skald checks the whole line as an unhinted parse does.
  auto expr = MustParse(R"({app="api"} | json | level="error")");
  auto p = Pipeline::Compile(*AsLogSelector(*expr));
  ASSERT_TRUE(p.ok());
  auto sp = (*p)->ForStream(MustLabels(kStream));
  std::string_view out;
  ASSERT_TRUE(sp->Process(1, R"({"level":"error","status":500,"broken":})", {}, &out));
  const std::string parsed = Render(sp->labels().parsed);
  EXPECT_NE(parsed.find(R"(__error__="JSONParserErr")"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find(R"(status="500")"), std::string::npos) << parsed;
}

// ---- Sample extraction with a grouping ----

struct MetricCase {
  const char* range_expr;  // a range aggregation
  const char* outer_by;    // nullptr: no outer grouping; else the label list of `sum by`
  const std::vector<std::string>* lines;
};

// The labels of `all` listed in `by`, or every label for a sample with an error.
// What a grouping `by` keeps of a sample's labels, errors included. (An errored sample keeps
// the labels its run extracted, hinted or not — as in Loki — so only what the grouping and
// the error read is compared.)
std::string Grouped(const EntryLabels& l, const std::vector<std::string>& by) {
  std::vector<LabelRef> kept;
  for (const LabelRef& r : l.all) {
    bool listed = r.name == "__error__" || r.name == "__error_details__";
    for (const std::string& b : by) listed = listed || b == r.name;
    if (listed) kept.push_back(r);
  }
  return Render(kept);
}

TEST(HintedExtraction, GroupedSamplesMatchTheUnhintedOnes) {
  const std::vector<MetricCase> cases = {
      {R"(count_over_time({app="api"} | json [1m]))", "level", &kJsonLines},
      {R"(count_over_time({app="api"} | json | status>=500 [1m]))", "level", &kJsonLines},
      {R"(count_over_time({app="api"} | json | __error__="" [1m]))", "level", &kJsonLines},
      {R"(bytes_over_time({app="api"} | json | level="error" [1m]))", "path", &kJsonLines},
      {R"(rate({app="api"} | json [1m]))", "", &kJsonLines},
      {R"(count_over_time({app="api"} | json [1m]))", "request_level, a_b", &kJsonLines},
      {R"(avg_over_time({app="api"} | json | unwrap status [1m]) by (level))", nullptr,
       &kJsonLines},
      {R"(max_over_time({app="api"} | json | unwrap request_status | __error__="" [1m]) by (level))",
       nullptr, &kJsonLines},
      {R"(count_over_time({app="api"} | json | line_format "{{.level}}" [1m]))", "level",
       &kJsonLines},
      {R"(count_over_time({app="api"} | json | label_format lvl=level [1m]))", "lvl", &kJsonLines},
      {R"(count_over_time({app="api"} | json | keep level, status [1m]))", "level", &kJsonLines},
      {R"(count_over_time({app="api"} | json | level="error" | logfmt [1m]))", "status",
       &kJsonLines},
      {R"(count_over_time({app="api"} | logfmt [1m]))", "level", &kLogfmtLines},
      {R"(sum_over_time({app="api"} | logfmt | unwrap status | __error__="" [1m]))", "path",
       &kLogfmtLines},
      {R"(sum_over_time({app="api"} | logfmt --strict | unwrap status [1m]))", "level",
       &kLogfmtLines},
      {R"(quantile_over_time(0.9, {app="api"} | logfmt | unwrap duration(took) [1m]) by (level))",
       nullptr, &kLogfmtLines},
      {R"(count_over_time({app="api"} | logfmt | level_extracted="q" [1m]))", "app_extracted",
       &kLogfmtLines},
      {R"(count_over_time({app="api"} | logfmt [1m]))", "level", &kJsonLines},
  };
  for (const MetricCase& c : cases) {
    auto expr = MustParse(c.range_expr);
    ASSERT_NE(expr, nullptr);
    const auto& r = static_cast<const RangeAggregationExpr&>(*expr);
    std::optional<Grouping> outer;
    std::vector<std::string> by;
    if (c.outer_by != nullptr) {
      outer = Grouping{};
      auto g = MustParse(std::string("sum by (") + c.outer_by + ") (" + c.range_expr + ")");
      ASSERT_NE(g, nullptr);
      outer = static_cast<const VectorAggregationExpr&>(*g).grouping;
      by = outer->labels;
    } else {
      by = r.grouping->labels;
    }
    auto hinted = SampleExtractor::Compile(r, outer);
    auto plain = internal::CompileExtractorWithoutHints(r);
    ASSERT_TRUE(hinted.ok() && plain.ok()) << c.range_expr;
    for (const char* stream : {kStream, R"({app="api", level="stream"})"}) {
      auto hs = (*hinted)->ForStream(MustLabels(stream));
      auto ps = (*plain)->ForStream(MustLabels(stream));
      for (const std::string& line : *c.lines) {
        SCOPED_TRACE(std::string(c.range_expr) + " by " + (c.outer_by ? c.outer_by : "") + "  " +
                     stream + "  <-  " + line);
        double hv = -1, pv = -2;
        const bool hk = hs->Process(1, line, {}, &hv);
        const bool pk = ps->Process(1, line, {}, &pv);
        ASSERT_EQ(hk, pk);
        if (!pk) continue;
        EXPECT_EQ(hv, pv);
        EXPECT_EQ(Grouped(hs->labels(), by), Grouped(ps->labels(), by));
        // Equal label sets must hash equal (the accumulator looks series up by hash).
        if (Render(hs->labels().all) == Render(ps->labels().all)) {
          EXPECT_EQ(hs->labels().hash, ps->labels().hash);
        }
      }
    }
  }
}

TEST(HintedExtraction, GroupedSamplesCarryOnlyWhatTheGroupingReads) {
  auto expr = MustParse(R"(count_over_time({app="api"} | json [1m]))");
  auto g = MustParse(R"(sum by (level) (count_over_time({app="api"} | json [1m])))");
  auto ex = SampleExtractor::Compile(static_cast<const RangeAggregationExpr&>(*expr),
                                     static_cast<const VectorAggregationExpr&>(*g).grouping);
  ASSERT_TRUE(ex.ok());
  auto s = (*ex)->ForStream(MustLabels(kStream));
  double v = 0;
  ASSERT_TRUE(s->Process(1, R"({"level":"error","status":500,"path":"/a"})", {}, &v));
  EXPECT_EQ(Render(s->labels().all), R"({app="api", env="prod", level="error"})");
  // A sample with an error keeps the labels the hinted run extracted (Loki's pipeline error
  // names such a series, observed with Loki 3.7).
  ASSERT_TRUE(s->Process(1, R"({"level":"error","status":500,"broken":})", {}, &v));
  EXPECT_EQ(Render(s->labels().all),
            R"({__error__="JSONParserErr", __error_details__="Unknown value type", )"
            R"(app="api", env="prod", level="error"})");
}

TEST(HintedExtraction, WithoutGroupingEveryLabelIsKept) {
  for (const char* q :
       {R"(count_over_time({app="api"} | json [1m]))",
        R"(avg_over_time({app="api"} | json | unwrap status [1m]) without (path))"}) {
    auto expr = MustParse(q);
    auto ex = SampleExtractor::Compile(static_cast<const RangeAggregationExpr&>(*expr));
    ASSERT_TRUE(ex.ok());
    auto s = (*ex)->ForStream(MustLabels(kStream));
    double v = 0;
    ASSERT_TRUE(s->Process(1, R"({"level":"error","status":500,"path":"/a"})", {}, &v)) << q;
    EXPECT_NE(Render(s->labels().all).find(R"(path="/a")"), std::string::npos) << q;
  }
}

}  // namespace
}  // namespace skald::logql
