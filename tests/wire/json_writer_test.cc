// Tests for wire/json_writer.h: Go encoding/json string escaping, comma handling,
// number formatting.
#include "wire/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace skald::wire {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(AppendJsonStringTest, PlainAsciiIsQuotedVerbatim) {
  EXPECT_EQ(Quote(""), R"("")");
  EXPECT_EQ(Quote("hello world 123 /path?x=1"), R"("hello world 123 /path?x=1")");
}

TEST(AppendJsonStringTest, ShortEscapesForQuoteBackslashNewlineCrTab) {
  EXPECT_EQ(Quote("a\"b\\c\nd\re\tf"), R"("a\"b\\c\nd\re\tf")");
}

TEST(AppendJsonStringTest, OtherControlBytesUseLowercaseUnicodeEscapes) {
  EXPECT_EQ(Quote(std::string("\x00\x01\x08\x0c\x1b\x1f", 6)),
            R"("\u0000\u0001\u0008\u000c\u001b\u001f")");
}

TEST(AppendJsonStringTest, HtmlCharactersAreEscapedLikeGo) {
  EXPECT_EQ(Quote("<a href=\"x\">&</a>"), R"("\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e")");
}

TEST(AppendJsonStringTest, LineAndParagraphSeparatorsAreEscaped) {
  EXPECT_EQ(Quote("a\u2028b\u2029c"), R"("a\u2028b\u2029c")");
}

TEST(AppendJsonStringTest, ValidUtf8AndDelPassThrough) {
  EXPECT_EQ(Quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"");
}

TEST(AppendJsonStringTest, EachInvalidUtf8ByteBecomesReplacementEscape) {
  // Lone continuation byte, invalid lead byte.
  EXPECT_EQ(Quote("a\x80z\xffz"), R"("a\ufffdz\ufffdz")");
  // Truncated 3-byte sequence at the end: two bytes, two replacements.
  EXPECT_EQ(Quote("x\xe2\x82"), R"("x\ufffd\ufffd")");
  // UTF-16 surrogate encoded in UTF-8 (ED A0 80) is invalid: three replacements.
  EXPECT_EQ(Quote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
  // Overlong encoding of '/' (C0 AF).
  EXPECT_EQ(Quote("\xc0\xaf"), R"("\ufffd\ufffd")");
  // Above U+10FFFF (F4 90 80 80).
  EXPECT_EQ(Quote("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
}

TEST(AppendJsonStringTest, RandomConcatenationsOfKnownPiecesEscapeEachPiece) {
  // Pieces whose escaping doesn't depend on neighbours; strings made of them
  // exercise every alignment of special bytes relative to the 8-byte fast path.
  const std::vector<std::pair<std::string, std::string>> pieces = {
      {"a", "a"},
      {"hello world, ", "hello world, "},
      {"<", "\\u003c"},
      {">", "\\u003e"},
      {"&", "\\u0026"},
      {"\"", "\\\""},
      {"\\", "\\\\"},
      {"\n", "\\n"},
      {"\t", "\\t"},
      {std::string("\0", 1), "\\u0000"},
      {"\x1f", "\\u001f"},
      {"\x7f", "\x7f"},
      {"\xc3\xa9", "\xc3\xa9"},
      {"\xe2\x82\xac", "\xe2\x82\xac"},
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"\xe2\x80\xa8", "\\u2028"},
      {"\xff", "\\ufffd"},
      {"\xc0", "\\ufffd"},
  };
  std::mt19937 rng(42);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string in, want = "\"";
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const auto& [raw, esc] = pieces[rng() % pieces.size()];
      in += raw;
      want += esc;
    }
    want += "\"";
    ASSERT_EQ(Quote(in), want) << "iteration " << iter;
  }
}

TEST(AppendJsonStringTest, AppendsToExistingContent) {
  std::string out = "prefix:";
  AppendJsonString(&out, "v");
  EXPECT_EQ(out, "prefix:\"v\"");
}

TEST(JsonWriterTest, InsertsCommasInNestedStructures) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.BeginObject();
  w.Key("result");
  w.BeginArray();
  w.BeginObject();
  w.Key("a");
  w.Int(1);
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.Null();
  w.Bool(true);
  w.Bool(false);
  w.EndArray();
  w.Key("empty");
  w.BeginObject();
  w.EndObject();
  w.EndObject();
  w.Key("raw");
  w.Raw(R"({"x":[1,2]})");
  w.Key("n");
  w.Uint(18446744073709551615ull);
  w.EndObject();
  EXPECT_EQ(out, R"({"status":"success","data":{"result":[{"a":1},[],null,true,false],"empty":{}},)"
                 R"("raw":{"x":[1,2]},"n":18446744073709551615})");
}

TEST(JsonWriterTest, TopLevelArrayOfScalars) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.Int(std::numeric_limits<int64_t>::min());
  w.Int(0);
  w.String("x<y");
  w.Double(1.5);
  w.EndArray();
  EXPECT_EQ(out, R"([-9223372036854775808,0,"x\u003cy",1.5])");
}

TEST(JsonWriterTest, KeysAreEscaped) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a\"b");
  w.Int(1);
  w.EndObject();
  EXPECT_EQ(out, R"({"a\"b":1})");
}

std::string Dbl(double v) {
  std::string out;
  JsonWriter w(&out);
  w.Double(v);
  return out;
}

TEST(JsonWriterTest, DoubleIsShortestRoundTripInFixedNotation) {
  EXPECT_EQ(Dbl(1), "1");
  EXPECT_EQ(Dbl(0), "0");
  EXPECT_EQ(Dbl(-0.0), "-0");
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(1588889221.123), "1588889221.123");
  EXPECT_EQ(Dbl(1.0 / 60), "0.016666666666666666");
  EXPECT_EQ(Dbl(37.77166666666667), "37.77166666666667");
  EXPECT_EQ(Dbl(1e21), "1000000000000000000000");
  EXPECT_EQ(Dbl(1.5e-7), "0.00000015");
  EXPECT_EQ(Dbl(-2.5), "-2.5");
}

TEST(JsonWriterTest, NonFiniteDoublesAreWrittenAsZero) {
  EXPECT_EQ(Dbl(std::nan("")), "0");
  EXPECT_EQ(Dbl(std::numeric_limits<double>::infinity()), "0");
  EXPECT_EQ(Dbl(-std::numeric_limits<double>::infinity()), "0");
}

TEST(AppendGoFloatTest, SpellsSpecialsLikeGo) {
  std::string out;
  AppendGoFloat(&out, std::nan(""));
  out += ",";
  AppendGoFloat(&out, std::numeric_limits<double>::infinity());
  out += ",";
  AppendGoFloat(&out, -std::numeric_limits<double>::infinity());
  out += ",";
  AppendGoFloat(&out, 2);
  out += ",";
  AppendGoFloat(&out, std::numeric_limits<double>::denorm_min());
  // denorm_min's shortest round-trip form is 5e-324; fixed notation spells it out.
  EXPECT_EQ(out, "NaN,+Inf,-Inf,2,0." + std::string(323, '0') + "5");
}

}  // namespace
}  // namespace skald::wire
