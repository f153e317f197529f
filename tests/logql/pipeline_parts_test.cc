// Tests for the pieces the log pipeline is built from: ip() matching, ANSI stripping, the
// labels builder's naming policy and result spans, value conversions and label filter
// execution (including `__error__` handling). Expected values follow Loki's documented
// behaviour (LogQL docs, ../shared/reference/loki-compat.md §6); where a case rests on
// Loki's observed behaviour or a deliberate choice, the comment says so.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "logql/decolorize.h"
#include "logql/ip_match.h"
#include "logql/label_filter_exec.h"
#include "logql/labels_builder.h"
#include "logql/parser.h"

namespace skald::logql {
namespace {

// ---------------------------------------------------------------------------
// ip()

struct IpCase {
  const char* pattern;
  const char* text;
  bool match;
};

TEST(IpMatchTest, ContainsMatchFollowsLoki) {
  const IpCase cases[] = {
      // single addresses
      {"192.168.0.1", "192.168.0.1", true},
      {"192.168.0.1", "from 192.168.0.1 to", true},
      {"192.168.0.1", "from 192.168.0.10 to", false},
      {"192.168.0.1", "x=192.168.0.1:8080", true},             // the span stops at ':'
      {"3.180.71.3", "93.180.71.3 - - [17/May/2015]", false},  // the docs' example
      {"3.180.71.3", "3.180.71.3 - - [17/May/2015]", true},
      {"::1", "addr ::1 end", true},
      {"::1", "::1", false},  // Loki needs five bytes to try an IPv6 candidate (observed)
      {"2001:db8::1", "src=2001:db8::1 dst", true},
      {"2001:db8::1", "src=2001:0db8:0:0:0:0:0:1 dst", true},
      // ranges
      {"192.168.0.1-192.189.10.12", "host 192.170.3.4 ok", true},
      {"192.168.0.1-192.189.10.12", "host 192.190.3.4 ok", false},
      {"2001:db8::1-2001:db8::8", "v6 2001:db8::5 here", true},
      {"2001:db8::1-2001:db8::8", "v6 2001:db8::9 here", false},
      // CIDR
      {"192.51.100.0/24", "a 192.51.100.77 b", true},
      {"192.51.100.0/24", "a 192.51.101.77 b", false},
      {"10.0.0.0/8", "10.255.255.255", true},
      {"2001:db8::/32", "x 2001:db8:ffff::1 y", true},
      {"2001:db8::/32", "x 2001:db9::1 y", false},
      // families never mix
      {"::ffff:1.2.3.4", "1.2.3.4 ", false},
      {"0.0.0.0/0", "fe80::1 only", false},
      {"::/0", "fe80::1 only", true},
      // leading zeros are not IPv4 (netip)
      {"192.168.0.1", "192.168.00.1", false},
      {"1.2.3.4", "", false},
  };
  for (const IpCase& c : cases) {
    auto m = IpMatcher::Create(c.pattern);
    ASSERT_TRUE(m.ok()) << c.pattern << ": " << m.status().message();
    EXPECT_EQ(m->ContainsMatch(c.text), c.match) << c.pattern << " in \"" << c.text << "\"";
  }
}

TEST(IpMatchTest, InvalidPatternsAreRejectedWithLokisText) {
  for (const char* p : {"foo", "1.2.3", "10.0.0.0/33", "10.0.0.0/08", "2.2.2.2-1.1.1.1",
                        "1.1.1.1-::2", "1:2:3:4:5:6:7:8:9", "1.2.3.256", ""}) {
    auto m = IpMatcher::Create(p);
    ASSERT_FALSE(m.ok()) << p;
    EXPECT_EQ(m.status().message(), std::string("ip: invalid pattern: \"") + p + "\"");
  }
}

TEST(IpMatchTest, ParsesAddressesLikeNetip) {
  IpAddr a;
  EXPECT_TRUE(ParseIpAddr("::", &a));
  EXPECT_TRUE(ParseIpAddr("::ffff:1.2.3.4", &a));
  EXPECT_TRUE(ParseIpAddr("1:2:3:4:5:6:1.2.3.4", &a));
  EXPECT_FALSE(ParseIpAddr("1:2:3:4:5:6:7:1.2.3.4", &a));
  EXPECT_FALSE(ParseIpAddr("1:2:3:4:5:6:7::8", &a));  // `::` must stand for a zero field
  EXPECT_FALSE(ParseIpAddr("12345::1", &a));
  EXPECT_FALSE(ParseIpAddr("1::2::3", &a));
  EXPECT_FALSE(ParseIpAddr("fe80::1%eth0", &a));
  IpAddr b;
  ASSERT_TRUE(ParseIpAddr("2001:db8::1", &a));
  ASSERT_TRUE(ParseIpAddr("2001:0db8:0000::0001", &b));
  EXPECT_EQ(CompareIpAddr(a, b), 0);
}

// ---------------------------------------------------------------------------
// decolorize

TEST(DecolorizeTest, StripsAnsiSequences) {
  const std::pair<const char*, const char*> cases[] = {
      {"plain", "plain"},
      {"\x1b[31mred\x1b[0m", "red"},
      {"\x1b[1;31;42mbold\x1b[m done", "bold done"},
      {"\x1b]0;title\x07text", "text"},
      {"\xc2\x9b"
       "32mgreen",
       "green"},
      {"\x1b[12345m", "m"},  // up to four digits, then the next digit is the final byte
      {"\x1b[?25h cursor", " cursor"},
      {"lone \x1b escape", "lone \x1b escape"},
      {"\x1b[1;x", ";x"},  // backtracking: the last digit is the final byte, ";" stays
  };
  std::string out;
  for (const auto& [in, want] : cases) {
    StripAnsi(in, &out);
    EXPECT_EQ(out, want) << in;
  }
  EXPECT_FALSE(MayHaveAnsi("no escapes"));
  EXPECT_TRUE(MayHaveAnsi("a\x1b[0m"));
}

// ---------------------------------------------------------------------------
// LabelsBuilder

std::string Str(std::span<const LabelRef> labels) { return ToLabels(labels).ToString(); }

Labels MustLabels(const char* text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Labels();
}

TEST(LabelsBuilderTest, MetadataCollidingWithAStreamLabelGetsTheSuffix) {
  LabelsBuilder b(MustLabels(R"({app="api", level="info"})"));
  b.Reset();
  MetadataPair md[] = {{"level", "debug"}, {"trace_id", "abc"}};
  b.AddMetadata(md);
  const EntryLabels& l = b.Finish();
  EXPECT_EQ(Str(l.stream), R"({app="api", level="info"})");
  EXPECT_EQ(Str(l.structured_metadata), R"({level_extracted="debug", trace_id="abc"})");
  EXPECT_EQ(Str(l.parsed), "{}");
  EXPECT_EQ(Str(l.all), R"({app="api", level="info", level_extracted="debug", trace_id="abc"})");
}

TEST(LabelsBuilderTest, ParsedNamesCollideWithStreamAndMetadataAndFirstValueWins) {
  LabelsBuilder b(MustLabels(R"({app="api"})"));
  b.Reset();
  MetadataPair md[] = {{"trace_id", "abc"}};
  b.AddMetadata(md);
  b.Add("app", "x");
  b.Add("trace_id", "y");
  b.Add("status", "200");
  b.Add("status", "500");  // first value wins
  b.Add("app", "z");       // app_extracted already set
  EXPECT_TRUE(b.AlreadyParsed("app"));
  EXPECT_TRUE(b.AlreadyParsed("status"));
  EXPECT_FALSE(b.AlreadyParsed("other"));
  const EntryLabels& l = b.Finish();
  EXPECT_EQ(Str(l.parsed), R"({app_extracted="x", status="200", trace_id_extracted="y"})");
  EXPECT_EQ(Str(l.stream), R"({app="api"})");
  EXPECT_EQ(Str(l.structured_metadata), R"({trace_id="abc"})");
}

TEST(LabelsBuilderTest, SetShadowsAndDelRemovesEveryKind) {
  LabelsBuilder b(MustLabels(R"({app="api", env="prod"})"));
  b.Reset();
  MetadataPair md[] = {{"pod", "p1"}};
  b.AddMetadata(md);
  b.Set("app", "renamed", /*copy=*/true);
  b.Del("env");
  b.Set("pod", "p2", false);
  const EntryLabels& l = b.Finish();
  EXPECT_EQ(Str(l.stream), "{}");
  EXPECT_EQ(Str(l.structured_metadata), "{}");
  EXPECT_EQ(Str(l.parsed), R"({app="renamed", pod="p2"})");
  EXPECT_EQ(b.Get("app").value_or("?"), "renamed");
  EXPECT_FALSE(b.Get("env").has_value());
}

TEST(LabelsBuilderTest, ResetRestoresTheStreamAndErrorsGoUnderParsed) {
  LabelsBuilder b(MustLabels(R"({app="api"})"));
  b.Reset();
  b.Del("app");
  b.SetError("JSONParserErr", "boom");
  const EntryLabels& l1 = b.Finish();
  EXPECT_EQ(Str(l1.parsed), R"({__error__="JSONParserErr", __error_details__="boom"})");
  EXPECT_EQ(Str(l1.stream), "{}");
  b.Reset();
  const EntryLabels& l2 = b.Finish();
  EXPECT_EQ(Str(l2.all), R"({app="api"})");
  EXPECT_EQ(Str(l2.stream), R"({app="api"})");
}

TEST(LabelsBuilderTest, EqualSetsHashEqual) {
  LabelsBuilder a(MustLabels(R"({app="api"})"));
  LabelsBuilder b(MustLabels(R"({app="api", x="1"})"));
  a.Reset();
  a.Add("x", "1");
  b.Reset();
  uint64_t ha = a.Finish().hash;
  uint64_t hb = b.Finish().hash;
  EXPECT_EQ(ha, hb);
  a.Reset();
  a.Add("x", "2");
  EXPECT_NE(a.Finish().hash, hb);
}

// ---------------------------------------------------------------------------
// Conversions

TEST(ConversionTest, BytesLikeGoHumanize) {
  const std::pair<const char*, uint64_t> ok[] = {
      {"42", 42},
      {"42B", 42},
      {"5 MiB", 5ull << 20},
      {"3k", 3000},
      {"1G", 1000000000},
      {"1,024kb", 1024000},
      {"1.5KiB", 1536},
      {"2 eb", 2000000000000000000ull},
  };
  for (const auto& [s, want] : ok) {
    uint64_t v = 0;
    std::string err;
    EXPECT_TRUE(ConvertBytes(s, &v, &err)) << s << ": " << err;
    EXPECT_EQ(v, want) << s;
  }
  uint64_t v = 0;
  std::string err;
  EXPECT_FALSE(ConvertBytes("12 parsecs", &v, &err));
  EXPECT_EQ(err, "unhandled size name: parsecs");
  EXPECT_FALSE(ConvertBytes("abc", &v, &err));
  EXPECT_EQ(err, "strconv.ParseFloat: parsing \"\": invalid syntax");
}

TEST(ConversionTest, DurationsAndFloatsLikeGo) {
  int64_t d = 0;
  std::string err;
  EXPECT_TRUE(ConvertDuration("1.5s", &d, &err));
  EXPECT_EQ(d, 1500000000);
  EXPECT_TRUE(ConvertDuration("2h45m", &d, &err));
  EXPECT_FALSE(ConvertDuration("5 s", &d, &err));
  EXPECT_EQ(err, "time: invalid duration \"5 s\"");
  double f = 0;
  EXPECT_TRUE(ConvertFloat("1e3", &f, &err));
  EXPECT_EQ(f, 1000);
  EXPECT_FALSE(ConvertFloat("12ms", &f, &err));
  EXPECT_EQ(err, "strconv.ParseFloat: parsing \"12ms\": invalid syntax");
}

// ---------------------------------------------------------------------------
// Label filters (the full table is in pipeline_test.cc; these pin the evaluation order)

LabelFilterExec FilterOf(const std::string& stage) {
  auto e = ParseExpr("{app=\"api\"} " + stage);
  EXPECT_TRUE(e.ok()) << stage << ": " << e.status().message();
  const LogSelector* sel = AsLogSelector(**e);
  auto f = LabelFilterExec::Compile(*sel->stages.back().label_filter);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return std::move(f).value();
}

TEST(LabelFilterExecTest, OrStopsAtTheFirstPassingSideAndAndEvaluatesBoth) {
  LabelsBuilder b(MustLabels(R"({app="api"})"));
  // `or`: the left side passes, so the right side (which would record an error) is skipped.
  b.Reset();
  b.Add("x", "abc");
  EXPECT_TRUE(FilterOf(R"(| app="api" or x > 1)").Process(&b));
  EXPECT_FALSE(b.HasError());
  // `and`: the left side fails, Loki still evaluates the right side (the entry is dropped
  // either way).
  b.Reset();
  b.Add("x", "abc");
  EXPECT_FALSE(FilterOf(R"(| app="web" and x > 1)").Process(&b));
  EXPECT_EQ(b.error(), "LabelFilterErr");
}

TEST(LabelFilterExecTest, TypedFiltersKeepErroredEntriesAndDropMissingLabels) {
  LabelsBuilder b(MustLabels(R"({app="api"})"));
  b.Reset();
  b.SetError("JSONParserErr", "x");
  // Loki 3: a missing label fails a typed filter even with an error set; ip() lets errors by.
  EXPECT_FALSE(FilterOf("| status > 500").Process(&b));
  EXPECT_TRUE(FilterOf(R"(| addr = ip("10.0.0.0/8"))").Process(&b));
  b.Add("status", "503");
  EXPECT_TRUE(FilterOf("| status > 500").Process(&b));
  EXPECT_FALSE(FilterOf("| status > 503").Process(&b));
  b.Reset();
  b.SetError("JSONParserErr", "x");
  b.Add("status", "abc");
  EXPECT_TRUE(FilterOf("| status > 500").Process(&b));
  EXPECT_EQ(b.error(), "JSONParserErr");  // the first error stays
  EXPECT_EQ(b.error_details(), "x");
  EXPECT_FALSE(FilterOf(R"(| __error__ = "")").Process(&b));
  b.Reset();
  EXPECT_FALSE(FilterOf("| status > 500").Process(&b));
  EXPECT_FALSE(FilterOf(R"(| addr = ip("10.0.0.0/8"))").Process(&b));
  EXPECT_FALSE(FilterOf(R"(| addr != ip("10.0.0.0/8"))").Process(&b));
  EXPECT_TRUE(FilterOf(R"(| status = "")").Process(&b));  // missing compares as ""
}

}  // namespace
}  // namespace skald::logql
