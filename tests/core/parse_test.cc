#include "core/parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ascii.h"
#include "core/json_escape.h"
#include "core/time.h"
#include "core/utf8.h"

namespace skald {
namespace {

TEST(ParseTest, SplitCommaListKeepsNonEmptyItemsInOrder) {
  EXPECT_EQ(SplitCommaList(""), std::vector<std::string>{});
  EXPECT_EQ(SplitCommaList("host"), std::vector<std::string>{"host"});
  EXPECT_EQ(SplitCommaList(",a,,b c,"), (std::vector<std::string>{"a", "b c"}));
}

TEST(ParseTest, GoIntAcceptsSignAndRejectsOverflowWithGoTexts) {
  int64_t v = 0;
  EXPECT_EQ(ParseGoInt("-9223372036854775808", &v), NumError::kNone);
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ParseGoInt("+42", &v), NumError::kNone);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(ParseGoInt("9223372036854775808", &v), NumError::kRange);
  EXPECT_EQ(ParseGoInt("1_000", &v), NumError::kSyntax);  // base 10: no separators
  EXPECT_EQ(ParseGoInt("-", &v), NumError::kSyntax);
  EXPECT_EQ(GoNumErrorText("Atoi", "x", NumError::kSyntax),
            "strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(GoNumErrorText("ParseInt", "9", NumError::kRange),
            "strconv.ParseInt: parsing \"9\": value out of range");
}

TEST(ParseTest, GoFloatAcceptsEveryFormGoDoes) {
  double v = 0;
  EXPECT_TRUE(ParseGoFloat("1.5e3", &v, nullptr));
  EXPECT_EQ(v, 1500);
  EXPECT_TRUE(ParseGoFloat(".5", &v, nullptr));
  EXPECT_EQ(v, 0.5);
  EXPECT_TRUE(ParseGoFloat("0x1.8p1", &v, nullptr));
  EXPECT_EQ(v, 3);
  EXPECT_TRUE(ParseGoFloat("1_000.5", &v, nullptr));
  EXPECT_EQ(v, 1000.5);
  EXPECT_TRUE(ParseGoFloat("-Inf", &v, nullptr));
  EXPECT_EQ(v, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ParseGoFloat("infinity", &v, nullptr));
  EXPECT_TRUE(std::isinf(v));
  EXPECT_TRUE(ParseGoFloat("NaN", &v, nullptr));
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(ParseGoFloat("1e-400", &v, nullptr));  // underflow is not an error in Go
  EXPECT_EQ(v, 0);
}

TEST(ParseTest, GoFloatRejectsWhatGoRejects) {
  std::string err;
  double v = 7;
  for (const char* bad : {"", ".", "1e", "0x1", "1__0", "_1", "1_", "+nan", "1.2.3", "12a"}) {
    EXPECT_FALSE(ParseGoFloat(bad, &v, &err)) << bad;
    EXPECT_EQ(err, "strconv.ParseFloat: parsing \"" + std::string(bad) + "\": invalid syntax");
  }
  EXPECT_EQ(v, 7);  // untouched on syntax errors
  EXPECT_FALSE(ParseGoFloat("1e400", &v, &err));
  EXPECT_EQ(err, "strconv.ParseFloat: parsing \"1e400\": value out of range");
  EXPECT_EQ(v, std::numeric_limits<double>::infinity());  // Go returns ±Inf with ErrRange
}

TEST(ParseTest, HumanBytesUseSiAndIecUnits) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseHumanBytes("5KB", &v));
  EXPECT_EQ(v, 5000u);
  EXPECT_TRUE(ParseHumanBytes("5KiB", &v));
  EXPECT_EQ(v, 5120u);
  EXPECT_TRUE(ParseHumanBytes("1.5mb", &v));
  EXPECT_EQ(v, 1500000u);
  EXPECT_TRUE(ParseHumanBytes("1,024", &v));
  EXPECT_EQ(v, 1024u);
  EXPECT_FALSE(ParseHumanBytes("5XB", &v));
  EXPECT_FALSE(ParseHumanBytes("1.2.3B", &v));
  EXPECT_FALSE(ParseHumanBytes("100000PB", &v));  // over uint64
}

TEST(ParseTest, ConfigByteSizesAreBinaryAndRoundTrip) {
  EXPECT_EQ(*ParseByteSize("256KB"), 256 << 10);
  EXPECT_EQ(*ParseByteSize(" 1 mib "), 1 << 20);
  EXPECT_EQ(*ParseByteSize("64"), 64);
  EXPECT_EQ(ParseByteSize("5 parsecs").status().message(), "unknown size unit \"parsecs\"");
  EXPECT_EQ(ParseByteSize("KB").status().message(),
            "expected a size in bytes (e.g. 262144 or \"256KB\")");
  EXPECT_EQ(ParseByteSize("9000000PB").status().message(), "value out of range");
  EXPECT_EQ(FormatByteSize(256 << 10), "256KB");
  EXPECT_EQ(FormatByteSize(1000), "1000B");
  EXPECT_EQ(FormatByteSize(0), "0B");
}

TEST(ParseTest, PromDurationErrorsArePrometheusTexts) {
  EXPECT_EQ(ParsePromDuration("").status().message(), "empty duration string");
  EXPECT_EQ(ParsePromDuration("1m1h").status().message(), "not a valid duration string: \"1m1h\"");
  EXPECT_EQ(ParsePromDuration("5x").status().message(), "unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(ParsePromDuration("300y").status().message(), "duration out of range");
  EXPECT_EQ(*ParsePromDuration("292y"), 292 * 365 * kNanosPerDay);
}

TEST(ParseTest, GoDurationTruncatesFractionsLikeGo) {
  EXPECT_EQ(*ParseGoDuration("1.0000000005s"), kNanosPerSecond);
  EXPECT_EQ(*ParseGoDuration("1.9ns"), 1);
  EXPECT_EQ(*ParseGoDuration("-9223372036.854775808s"), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParseGoDuration("9223372036.854775808s").ok());
  EXPECT_EQ(*ParseGoDuration("3\xC2\xB5s"), 3000);  // micro sign
  EXPECT_EQ(ParseGoDuration("1").status().message(), "time: invalid duration \"1\"");
}

TEST(AsciiTest, FoldsOnlyAsciiLetters) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "ab"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9"));  // É vs é: not ASCII
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));                // 0x5B vs 0x7B differ by 0x20
  EXPECT_EQ(AsciiLower("MiXeD-09"), "mixed-09");
}

TEST(Utf8Test, DecodesEncodesAndValidatesLikeGo) {
  char32_t r = 0;
  EXPECT_EQ(DecodeUtf8Rune("\xE2\x82\xAC", &r), 3u);
  EXPECT_EQ(r, 0x20AC);
  EXPECT_EQ(DecodeUtf8Rune("\xC0\x80", &r), 0u);          // overlong
  EXPECT_EQ(DecodeUtf8Rune("\xED\xA0\x80", &r), 0u);      // surrogate
  EXPECT_EQ(DecodeUtf8Rune("\xF4\x90\x80\x80", &r), 0u);  // above U+10FFFF
  EXPECT_EQ(DecodeUtf8Rune("\xE2\x82", &r), 0u);          // truncated
  char buf[4];
  EXPECT_EQ(std::string(buf, EncodeUtf8(buf, 0x1F600)), "\xF0\x9F\x98\x80");
  EXPECT_TRUE(IsValidUtf8("plain \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("bad \xFF"));
}

TEST(JsonEscapeTest, LogfmtDialectLeavesHtmlAndLineSeparatorsAlone) {
  const std::string_view s = "<a&b> \xE2\x80\xA8 \"q\"\n\x01\xFF";
  std::string go, logfmt;
  AppendJsonString(&go, s);
  AppendJsonString(&logfmt, s, JsonEscaping::kLogfmt);
  EXPECT_EQ(go, "\"\\u003ca\\u0026b\\u003e \\u2028 \\\"q\\\"\\n\\u0001\\ufffd\"");
  EXPECT_EQ(logfmt, "\"<a&b> \xE2\x80\xA8 \\\"q\\\"\\n\\u0001\\ufffd\"");
}

TEST(JsonEscapeTest, GoNoHtmlDialectIsWhatPdataAsStringWrites) {
  // HTML characters verbatim, line separators escaped, \b \f short (Go >= 1.22).
  std::string out;
  AppendJsonString(&out, "<a&b> \xE2\x80\xA8 \b\f\x01\xFF", JsonEscaping::kGoNoHtml);
  EXPECT_EQ(out, "\"<a&b> \\u2028 \\b\\f\\u0001\\ufffd\"");
  std::string go;
  AppendJsonString(&go, "\b\f");
  EXPECT_EQ(go, "\"\\u0008\\u000c\"");  // the kGo dialect keeps its long forms
}

}  // namespace
}  // namespace skald
