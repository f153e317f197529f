// Tests for skald-bench's structured line formats: the records are valid
// logfmt and JSON that parse back to the documented fields and the wrapped
// line, generation is deterministic per seed, and plain stays the corpus line.
#include "tools/bench/line_format.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tools/bench/push_bench.h"
#include "wire/push.h"

namespace skald::bench {
namespace {

// A small logfmt reader for the tests (go-logfmt's grammar as Loki's parser
// reads it): key=value pairs separated by spaces; a value is bare (up to the
// next space) or double-quoted with \" \\ \n \r \t \uXXXX escapes.
// Returns false on anything else.
bool ParseLogfmt(std::string_view s, std::vector<std::pair<std::string, std::string>>* out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq == i) return false;
    std::string key(s.substr(i, eq - i));
    if (key.find_first_of(" \"") != std::string::npos) return false;
    i = eq + 1;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (i >= s.size()) return false;
        char e = s[i++];
        switch (e) {
          case '"':
          case '\\':
            value.push_back(e);
            break;
          case 'n':
            value.push_back('\n');
            break;
          case 'r':
            value.push_back('\r');
            break;
          case 't':
            value.push_back('\t');
            break;
          case 'u': {
            if (i + 4 > s.size() || s.substr(i, 2) != "00") return false;
            value.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16)));
            i += 4;
            break;
          }
          default:
            return false;
        }
      }
      if (!closed) return false;
      if (i < s.size() && s[i] != ' ') return false;
    } else {
      size_t j = s.find(' ', i);
      if (j == std::string_view::npos) j = s.size();
      value = std::string(s.substr(i, j - i));
      if (value.find_first_of("\"=") != std::string::npos) return false;
      i = j;
    }
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

// Go's time.ParseDuration for the units AppendGoDuration writes, in microseconds.
bool ParseGoDurationMicros(const std::string& s, double* us) {
  size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  if (n == 0) return false;
  double v = std::stod(s.substr(0, n));
  std::string unit = s.substr(n);
  if (unit == "us") {
    *us = v;
  } else if (unit == "ms") {
    *us = v * 1e3;
  } else if (unit == "s") {
    *us = v * 1e6;
  } else {
    return false;
  }
  return true;
}

const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical"};
const std::set<std::string> kMethodsSet = {"GET", "POST", "PUT", "DELETE", "PATCH"};

// Lines that stress quoting: quotes, backslashes, '=', tabs, control bytes,
// UTF-8 and an invalid byte.
CorpusSource TrickySource() {
  CorpusSource s;
  s.name = "tricky";
  for (std::string line : {
           std::string("user said \"hi\" and left"),
           std::string("path C:\\temp\\x and a=b c==d"),
           std::string("tab\there\rcr and bell \x07 and del \x7f end"),
           std::string("caf\xc3\xa9 \xe2\x82\xac 42 ERROR ok"),
           std::string("bad utf8 \xff\xfe here [error] x"),
           std::string("{\"already\":\"json\"}"),
           std::string("trailing backslash \\"),
       }) {
    s.bytes += line.size();
    s.templates.push_back(AnalyzeTemplate(line));
  }
  return s;
}

std::vector<CorpusSource> TestSources() {
  std::vector<CorpusSource> v;
  v.push_back(Corpus::BuiltIn().sources()[0]);
  v.push_back(TrickySource());
  std::string dir = std::string(SKALD_SOURCE_DIR) + "/testdata/loghub";
  if (std::filesystem::exists(dir)) {
    StatusOr<Corpus> c = Corpus::LoadDir(dir);
    EXPECT_TRUE(c.ok());
    if (c.ok()) {
      for (const auto& s : c->sources()) v.push_back(s);
    }
  }
  return v;
}

TEST(LevelOfLineTest, RecognisesTheLevelWordsOfTheLoghubFormats) {
  struct Case {
    const char* line;
    const char* level;
  };
  const Case cases[] = {
      {"081109 203615 148 INFO dfs.DataNode$PacketResponder: x", "info"},
      {"2015-07-29 17:41:44,747 - WARN  [QuorumPeer] - Notification", "warn"},
      {"17/06/09 20:10:42 ERROR executor.Executor: boom", "error"},
      {"- 1117838570 2005.06.03 R02 RAS KERNEL FATAL data TLB error", "critical"},
      {"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", "info"},
      {"[Sun Dec 04 04:47:44 2005] [error] mod_jk child", "error"},
      {"03-17 16:13:38.811  1702  2395 D WindowManager: x", "debug"},
      {"03-17 16:13:38.811  1702  2395 E AndroidRuntime: FATAL", "error"},
      {"level DEBUG then ERROR", "debug"},  // the first level word wins
      {"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure", ""},
      {"an error in lower case is not a level word", ""},
      {"INFORMATION and ERRORS are not level words", ""},
      {"INFORMATION first, then INFO", "info"},
      {"I went home at 3 I think", ""},  // a lone letter needs two numbers before it
      {"pid 1702 2395 W tag", "warn"},
      {"", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(LevelOfLine(c.line), c.level) << c.line;
}

TEST(GoDurationTest, WritesGoParseableDurations) {
  struct Case {
    int64_t us;
    const char* text;
  };
  const Case cases[] = {
      {0, "0us"},        {850, "850us"},      {999, "999us"},    {1000, "1ms"},
      {12500, "12.5ms"}, {12549, "12.5ms"},   {12550, "12.6ms"}, {999949, "999.9ms"},
      {999950, "1s"},    {1234000, "1.234s"}, {2000000, "2s"},   {1230400, "1.23s"},
      {60000000, "60s"}, {-5, "0us"},
  };
  for (const Case& c : cases) {
    std::string s;
    AppendGoDuration(&s, c.us);
    EXPECT_EQ(s, c.text) << c.us;
  }
}

TEST(LogfmtValueTest, QuotesOnlyWhatNeedsQuoting) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"GET", "GET"},
      {"/api/v1/users", "/api/v1/users"},
      {"", "\"\""},
      {"a b", "\"a b\""},
      {"a=b", "\"a=b\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"C:\\x", "\"C:\\\\x\""},
      {"t\tn\nr\r", "\"t\\tn\\nr\\r\""},
      {std::string("bell\x07", 5), "\"bell\\u0007\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
  };
  for (const Case& c : cases) {
    std::string s;
    AppendLogfmtValue(&s, c.in);
    EXPECT_EQ(s, c.out) << c.in;
  }
}

TEST(JsonStringTest, EscapesControlBytesAndReplacesInvalidUtf8) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"plain", "\"plain\""},
      {"q\"b\\", "\"q\\\"b\\\\\""},
      {"\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\""},
      {std::string("\x01\x1f", 2), "\"\\u0001\\u001f\""},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
      {"bad\xff", "\"bad\xef\xbf\xbd\""},
      {"trunc\xe2\x82", "\"trunc\xef\xbf\xbd\xef\xbf\xbd\""},
      {"overlong\xc0\xaf", "\"overlong\xef\xbf\xbd\xef\xbf\xbd\""},
      {"surrogate\xed\xa0\x80", "\"surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
  };
  for (const Case& c : cases) {
    std::string s;
    AppendJsonString(&s, c.in);
    EXPECT_EQ(s, c.out) << c.in;
  }
}

// Checks the parsed fields of one record against the documented shape.
void CheckFields(const std::map<std::string, std::string>& f, const std::string& msg,
                 const std::string& host) {
  ASSERT_EQ(f.size(), 8u);
  EXPECT_TRUE(kLevels.count(f.at("level"))) << f.at("level");
  std::string_view derived = LevelOfLine(msg);
  if (!derived.empty()) {
    EXPECT_EQ(f.at("level"), derived) << msg;
  }
  EXPECT_EQ(f.at("host"), host);
  EXPECT_TRUE(kMethodsSet.count(f.at("method"))) << f.at("method");
  EXPECT_EQ(f.at("path").rfind("/", 0), 0u) << f.at("path");
  int status = std::stoi(f.at("status"));
  EXPECT_GE(status, 200);
  EXPECT_LE(status, 599);
  double us = 0;
  EXPECT_TRUE(ParseGoDurationMicros(f.at("duration"), &us)) << f.at("duration");
  EXPECT_GE(us, 50);
  EXPECT_LE(us, 60e6);
  EXPECT_GE(std::stoll(f.at("bytes")), 0);
  EXPECT_EQ(f.at("msg"), msg);
}

TEST(RecordTest, LogfmtRecordsParseBackToTheFieldsAndTheWrappedLine) {
  int records = 0;
  for (const CorpusSource& src : TestSources()) {
    LineGenerator lines(&src, 9, 4);
    RecordGenerator rec(9, 4, "host-4");
    std::string msg, out;
    for (int i = 0; i < 400; ++i) {
      lines.Next(&msg);
      rec.Format(LineFormat::kLogfmt, msg, &out);
      std::vector<std::pair<std::string, std::string>> kv;
      ASSERT_TRUE(ParseLogfmt(out, &kv)) << out;
      std::vector<std::string> keys;
      std::map<std::string, std::string> f;
      for (auto& [k, v] : kv) {
        keys.push_back(k);
        f[k] = v;
      }
      ASSERT_EQ(keys, (std::vector<std::string>{"level", "host", "method", "path", "status",
                                                "duration", "bytes", "msg"}))
          << out;
      CheckFields(f, msg, "host-4");
      ++records;
    }
  }
  EXPECT_GE(records, 800);
}

TEST(RecordTest, JsonRecordsAreValidJsonWithTypedFieldsAndTheWrappedLine) {
  simdjson::dom::parser parser;
  int records = 0;
  for (const CorpusSource& src : TestSources()) {
    LineGenerator lines(&src, 11, 2);
    RecordGenerator rec(11, 2, "host-2");
    std::string msg, out;
    for (int i = 0; i < 400; ++i) {
      lines.Next(&msg);
      rec.Format(LineFormat::kJson, msg, &out);
      simdjson::dom::element doc;
      ASSERT_FALSE(parser.parse(out).get(doc)) << out;
      simdjson::dom::object obj;
      ASSERT_FALSE(doc.get_object().get(obj)) << out;
      std::map<std::string, std::string> f;
      for (auto [key, value] : obj) {
        std::string k(key);
        if (k == "status" || k == "bytes") {
          int64_t n;
          ASSERT_FALSE(value.get_int64().get(n)) << k << " is not an integer in " << out;
          f[k] = std::to_string(n);
        } else {
          std::string_view sv;
          ASSERT_FALSE(value.get_string().get(sv)) << k << " is not a string in " << out;
          f[k] = std::string(sv);
        }
      }
      // JSON cannot carry invalid UTF-8: such bytes come back as U+FFFD.
      std::string expect;
      AppendJsonString(&expect, msg);
      std::string_view back;
      ASSERT_FALSE(parser.parse(expect).get_string().get(back));
      CheckFields(f, std::string(back), "host-2");
      if (src.name != "tricky") {
        EXPECT_EQ(f["msg"], msg);
      }
      ++records;
    }
  }
  EXPECT_GE(records, 800);
}

TEST(RecordTest, DeterministicPerSeedAndStreamAndIndependentOfTheWrappedLines) {
  Corpus c = Corpus::BuiltIn();
  const CorpusSource* src = &c.sources()[0];
  for (LineFormat f : {LineFormat::kLogfmt, LineFormat::kJson}) {
    StreamLines a(src, 5, 7, f, "host-7"), b(src, 5, 7, f, "host-7");
    StreamLines other_seed(src, 6, 7, f, "host-7");
    LineGenerator plain(src, 5, 7);
    std::string la, lb, lo, lp;
    int differ = 0;
    for (int i = 0; i < 300; ++i) {
      a.Next(&la);
      b.Next(&lb);
      other_seed.Next(&lo);
      plain.Next(&lp);
      ASSERT_EQ(la, lb);
      differ += la != lo;
      // Wrapping draws from its own generator: the wrapped line is the plain one.
      std::string wrapped;
      if (f == LineFormat::kLogfmt) {
        AppendLogfmtValue(&wrapped, lp);
        EXPECT_EQ(la.substr(la.size() - wrapped.size()), wrapped);
      } else {
        AppendJsonString(&wrapped, lp);
        EXPECT_EQ(la.substr(la.size() - wrapped.size() - 1), wrapped + "}");
      }
    }
    EXPECT_GT(differ, 250);
  }
  // kPlain is exactly the corpus generator.
  StreamLines p(src, 5, 7, LineFormat::kPlain, "host-7");
  LineGenerator g(src, 5, 7);
  std::string lp, lg;
  for (int i = 0; i < 100; ++i) {
    p.Next(&lp);
    g.Next(&lg);
    ASSERT_EQ(lp, lg);
  }
}

TEST(RecordTest, FieldMixIsRealistic) {
  // Deterministic for the seed: these bounds pin the documented mix, not chance.
  RecordGenerator rec(1, 0, "host-0");
  std::map<std::string, int> levels;
  std::set<std::string> paths;
  std::map<std::string, int> path_count;
  int s2xx = 0, s5xx = 0;
  std::vector<int64_t> durations;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    RecordFields f = rec.Draw("no level word here");
    levels[std::string(f.level)]++;
    paths.insert(std::string(f.path));
    path_count[std::string(f.path)]++;
    s2xx += f.status / 100 == 2;
    s5xx += f.status / 100 == 5;
    durations.push_back(f.duration_us);
  }
  EXPECT_NEAR(levels["info"], 0.80 * n, 0.02 * n);
  EXPECT_NEAR(levels["error"], 0.04 * n, 0.01 * n);
  EXPECT_NEAR(s2xx, 0.91 * n, 0.02 * n);
  EXPECT_NEAR(s5xx, 0.03 * n, 0.01 * n);
  EXPECT_GE(paths.size(), 45u);
  EXPECT_LE(paths.size(), static_cast<size_t>(kRecordPathCount));
  EXPECT_GT(path_count["/api/v1/users"], path_count["/api/v1/debug/pprof"] * 5);  // skewed
  std::sort(durations.begin(), durations.end());
  EXPECT_NEAR(static_cast<double>(durations[n / 2]), 25000, 2500);  // median ~25 ms
  EXPECT_GT(durations[n * 99 / 100], 200000);                       // a long tail
}

TEST(LineFormatModeTest, ParsesModesAndMixedGivesAThirdOfTheStreamsEach) {
  EXPECT_EQ(*ParseLineFormatMode("plain"), LineFormatMode::kPlain);
  EXPECT_EQ(*ParseLineFormatMode("mixed"), LineFormatMode::kMixed);
  EXPECT_EQ(ParseLineFormatMode("xml").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StreamLineFormat(LineFormatMode::kJson, 4), LineFormat::kJson);
  EXPECT_EQ(StreamLineFormat(LineFormatMode::kMixed, 0), LineFormat::kPlain);
  EXPECT_EQ(StreamLineFormat(LineFormatMode::kMixed, 1), LineFormat::kLogfmt);
  EXPECT_EQ(StreamLineFormat(LineFormatMode::kMixed, 2), LineFormat::kJson);
  EXPECT_EQ(StreamLineFormat(LineFormatMode::kMixed, 99), LineFormat::kPlain);
  // Mixed streams of each format read every source.
  std::map<LineFormat, std::set<size_t>> seen;
  for (int s = 0; s < 100; ++s) {
    seen[StreamLineFormat(LineFormatMode::kMixed, s)].insert(
        StreamSource(LineFormatMode::kMixed, s, 12));
  }
  for (auto& [f, sources] : seen) EXPECT_EQ(sources.size(), 12u) << LineFormatName(f);
  EXPECT_EQ(StreamSource(LineFormatMode::kPlain, 13, 12), 1u);
  EXPECT_EQ(StreamSource(LineFormatMode::kJson, 13, 12), 1u);
}

TEST(MixedPushTest, StreamsCarryTheirFormatLabelRecordsAndIncreasingTimestampsOverTheSpan) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o;
  o.line_format = "mixed";
  o.streams = 9;
  o.hosts = 4;
  o.connections = 2;
  o.batch = 50;
  o.lines = 9000;
  o.ts_span_ns = 24LL * 3600 * 1000000000LL;
  o.ts_end_ns = 1700000000LL * 1000000000LL;
  EXPECT_EQ(StreamLabels(o, 5), "{job=\"bench\", host=\"host-1\", stream=\"5\", format=\"json\"}");
  StatusOr<PushPlan> plan = MakePushPlan(o, c, /*now_ns=*/o.ts_end_ns + 12345);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->t0_ns, o.ts_end_ns - o.ts_span_ns);  // -ts-end wins over now
  EXPECT_LT(plan->last_ns, o.ts_end_ns);
  EXPECT_GE(plan->last_ns, o.ts_end_ns - 2 * plan->step_ns);
  Url url = *ParseUrl("http://localhost:3100");
  std::atomic<int64_t> pool{0};
  std::map<std::string, std::vector<int64_t>> ts;
  uint64_t raw_by_format[kLineFormatCount] = {}, raw_decoded[kLineFormatCount] = {};
  simdjson::dom::parser parser;
  for (int conn = 0; conn < plan->connections; ++conn) {
    for (const auto& r : EncodeConnectionRequests(c, o, url, *plan, conn, &pool)) {
      for (int f = 0; f < kLineFormatCount; ++f) raw_by_format[f] += r.raw_bytes_by_format[f];
      std::string body = r.bytes.substr(r.bytes.find("\r\n\r\n") + 4);
      StatusOr<wire::PushRequest> req = wire::DecodePushProtobuf(body);
      ASSERT_TRUE(req.ok()) << req.status().ToString();
      for (const auto& s : req->streams) {
        std::string labels(s.labels);
        LineFormat f = labels.find("format=\"plain\"") != std::string::npos    ? LineFormat::kPlain
                       : labels.find("format=\"logfmt\"") != std::string::npos ? LineFormat::kLogfmt
                                                                               : LineFormat::kJson;
        ASSERT_NE(labels.find("format=\"" + std::string(LineFormatName(f)) + "\""),
                  std::string::npos)
            << labels;
        for (const auto& e : s.entries) {
          ts[labels].push_back(e.timestamp_ns);
          raw_decoded[static_cast<int>(f)] += e.line.size();
          std::string_view line = e.line;
          if (f == LineFormat::kJson) {
            simdjson::dom::element doc;
            ASSERT_FALSE(parser.parse(line.data(), line.size()).get(doc)) << line;
          } else if (f == LineFormat::kLogfmt) {
            std::vector<std::pair<std::string, std::string>> kv;
            ASSERT_TRUE(ParseLogfmt(line, &kv)) << line;
            ASSERT_EQ(kv.size(), 8u);
            EXPECT_EQ(kv[1].second, labels.substr(labels.find("host=\"") + 6, 6)) << labels;
          } else {
            // Not wrapped (the built-in corpus has logfmt- and JSON-looking lines of its own).
            EXPECT_EQ(line.find(" path=/"), std::string_view::npos) << line;
            EXPECT_EQ(line.find("\"path\":\"/"), std::string_view::npos) << line;
          }
        }
      }
    }
  }
  for (int f = 0; f < kLineFormatCount; ++f) {
    EXPECT_EQ(raw_by_format[f], raw_decoded[f]) << f;
    EXPECT_GT(raw_by_format[f], 0u) << f;
  }
  ASSERT_EQ(ts.size(), 9u);
  for (const auto& [labels, v] : ts) {
    ASSERT_EQ(v.size(), 1000u) << labels;
    EXPECT_EQ(v.front(), o.ts_end_ns - o.ts_span_ns);
    EXPECT_LT(v.back(), o.ts_end_ns);
    for (size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1], v[i]) << labels;
  }
}

}  // namespace
}  // namespace skald::bench
