#include "core/go_string.h"

#include <gtest/gtest.h>

namespace skald {
namespace {

TEST(GoStringTest, QuoteMatchesStrconvQuote) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuote("\n\t\r\a\b\f\v"), R"("\n\t\r\a\b\f\v")");
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x7f", 3)), R"("\x00\x01\x7f")");
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");
  EXPECT_EQ(GoQuote("héllo 日本"), "\"héllo 日本\"");
  EXPECT_EQ(GoQuote("\xE2\x80\xA8"), R"("\u2028")");
}

TEST(GoStringTest, UnquoteDoubleAndRaw) {
  EXPECT_EQ(*GoUnquote(R"("a\"b")"), "a\"b");
  EXPECT_EQ(*GoUnquote(R"("\u00e9\U0001F600\x41\101")"),
            "é\xF0\x9F\x98\x80"
            "AA");
  EXPECT_EQ(*GoUnquote("`a\\b\"c`"), "a\\b\"c");
  EXPECT_FALSE(GoUnquote(R"("abc)").ok());
  EXPECT_FALSE(GoUnquote(R"("\q")").ok());
  EXPECT_FALSE(GoUnquote(R"("\ud800")").ok());
  EXPECT_FALSE(GoUnquote("\"a\nb\"").ok());
  EXPECT_FALSE(GoUnquote(R"("a"b)").ok());
  EXPECT_FALSE(GoUnquote("\"\xff\"").ok());
}

TEST(GoStringTest, ParseLiteralReportsConsumed) {
  std::string v;
  size_t n = 0;
  ASSERT_TRUE(ParseGoStringLiteral(R"("ab" rest)", &v, &n).ok());
  EXPECT_EQ(v, "ab");
  EXPECT_EQ(n, 4u);
}

TEST(GoStringTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("日本語"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE6\x97"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace skald
