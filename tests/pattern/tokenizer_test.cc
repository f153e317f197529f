// Tokeniser cases; expectations follow Loki 3.7.6's pkg/pattern/drain tokenizers.
#include "pattern/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skald::pattern {
namespace {

std::vector<std::string> Punct(std::string_view line) {
  std::vector<std::string_view> t;
  std::vector<int> s;
  TokenizePunctuation(line, &t, &s);
  return {t.begin(), t.end()};
}

TEST(TokenizerTest, PunctuationSplitsAtSpacesEqualsAndPunctuation) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Punct("key1=value1 key2=value2"), (V{"key1", "=", "value1", "key2", "=", "value2"}));
  EXPECT_EQ(Punct("key1:value1 key2:value2"), (V{"key1:value1", "key2:value2"}));
  EXPECT_EQ(Punct(R"({"key1":"value1", "key2":"value2"})"),
            (V{"{", "\"", "key1", "\"", ":", "\"", "value1", "\"", ",", "\"", "key2", "\"", ":",
               "\"", "value2", "\"", "}"}));
  EXPECT_EQ(Punct(R"(key1=value1 msg="this is a message")"),
            (V{"key1", "=", "value1", "msg", "=", "\"", "this", "is", "a", "message", "\""}));
  // Symbols ($ + < > | ~ ^ `) and non-ASCII stay inside tokens.
  EXPECT_EQ(Punct("09:17:38.033366 \xe2\x96\xb6 INFO a$b+c<d>"),
            (V{"09:17:38.033366", "\xe2\x96\xb6", "INFO", "a$b+c<d>"}));
}

TEST(TokenizerTest, PunctuationCombinesTheSuffixAfter127Tokens) {
  std::string line;
  for (int i = 0; i < 126; i++) line += "A ";
  EXPECT_EQ(Punct(line + "127 128").size(), 128u);
  auto t = Punct(line + "127 128 129");
  ASSERT_EQ(t.size(), 128u);
  EXPECT_EQ(t.back(), "128 129");
}

TEST(TokenizerTest, JoinRestoresSpacesAndCollapsesPlaceholders) {
  Tokenizer tok(LineFormat::kUnknown, 3000, {});
  std::vector<std::string_view> t;
  std::vector<int> s;
  SkipReason why;
  ASSERT_TRUE(tok.Tokenize("a  b [c] d=e", &t, &s, &why));
  std::vector<std::string> owned(t.begin(), t.end());
  EXPECT_EQ(tok.Join(owned, s), "a  b [c] d=e");
  owned[0] = "<_>";
  owned[1] = "<_>";
  EXPECT_EQ(tok.Join(owned, s), "<_>  <_> [c] d=e");
  EXPECT_EQ(DeduplicatePlaceholders("<_><_><_> x <_><_>"), "<_> x <_>");
  EXPECT_EQ(DeduplicatePlaceholders("a<_><_>b"), "a<_>b");
  // A leading space is recorded after token -1, which Loki's Join never reaches: no spaces.
  ASSERT_TRUE(tok.Tokenize(" a b c", &t, &s, &why));
  owned.assign(t.begin(), t.end());
  EXPECT_EQ(tok.Join(owned, s), "abc");
}

TEST(TokenizerTest, DetectLogFormat) {
  EXPECT_EQ(DetectLogFormat(R"({"a":1})"), LineFormat::kJson);
  EXPECT_EQ(DetectLogFormat("level=info msg=hello"), LineFormat::kLogfmt);
  EXPECT_EQ(DetectLogFormat(R"(level=info msg="hello world" x=1)"), LineFormat::kLogfmt);
  EXPECT_EQ(DetectLogFormat("level=info msg=hello world"), LineFormat::kUnknown);
  EXPECT_EQ(DetectLogFormat("plain text line"), LineFormat::kUnknown);
  EXPECT_EQ(DetectLogFormat("a=1b=2"), LineFormat::kLogfmt);
  EXPECT_EQ(DetectLogFormat("x"), LineFormat::kUnknown);
  EXPECT_EQ(DetectLogFormat("k-1=v"), LineFormat::kUnknown);
}

TEST(TokenizerTest, LogfmtReplacesTimeFieldsAndRequotes) {
  Tokenizer tok(LineFormat::kLogfmt, 3000, {});
  std::vector<std::string_view> t;
  std::vector<int> s;
  SkipReason why;
  ASSERT_TRUE(tok.Tokenize(R"(ts=2024-01-01T00:00:00Z level=info msg="a \"b\" c" TIME=5 t=1)", &t,
                           &s, &why));
  std::vector<std::string> owned(t.begin(), t.end());
  EXPECT_EQ(owned, (std::vector<std::string>{"ts", "<_>", "level", "info", "msg", "a \"b\" c",
                                             "TIME", "<_>", "t", "<_>"}));
  EXPECT_EQ(tok.Join(owned, s), R"(ts=<_> level=info msg="a \"b\" c" TIME=<_> t=<_>)");
  // Syntax errors skip the line.
  EXPECT_FALSE(tok.Tokenize(R"(a="unterminated)", &t, &s, &why));
  EXPECT_EQ(why, SkipReason::kParseError);
  EXPECT_FALSE(tok.Tokenize("a=b=c", &t, &s, &why));
  // A bare key has an empty value.
  ASSERT_TRUE(tok.Tokenize("a b=", &t, &s, &why));
  owned.assign(t.begin(), t.end());
  EXPECT_EQ(tok.Join(owned, s), "a= b=");
}

TEST(TokenizerTest, JsonTokenisesTheMessageField) {
  Tokenizer tok(LineFormat::kJson, 3000, {"log", "msg_", "message", "msg", "_msg", "content"});
  std::vector<std::string_view> t;
  std::vector<int> s;
  SkipReason why;
  ASSERT_TRUE(tok.Tokenize(R"({"level":"info","nested":{"msg":"no"},"msg":"user 5 logged \"in\""})",
                           &t, &s, &why));
  std::vector<std::string> owned(t.begin(), t.end());
  EXPECT_EQ(owned, (std::vector<std::string>{"user", "5", "logged", "\\", "\"", "in", "\\", "\""}));
  owned[1] = "<_>";
  EXPECT_EQ(tok.Join(owned, s), R"(<_>user <_> logged \"in\"<_>)");
  // log is preferred over msg; no string message field: skipped.
  std::string_view v;
  ASSERT_TRUE(FindJsonStringField(R"({"msg":"a","log":"b"})", {"log", "msg"}, &v));
  EXPECT_EQ(v, "b");
  EXPECT_FALSE(tok.Tokenize(R"({"msg":5})", &t, &s, &why));
  EXPECT_FALSE(tok.Tokenize(R"({"other":"x"})", &t, &s, &why));
}

TEST(TokenizerTest, TooLongLinesAreSkipped) {
  Tokenizer tok(LineFormat::kUnknown, 10, {});
  std::vector<std::string_view> t;
  std::vector<int> s;
  SkipReason why;
  EXPECT_FALSE(tok.Tokenize("01234567890", &t, &s, &why));
  EXPECT_EQ(why, SkipReason::kLineTooLong);
  EXPECT_TRUE(tok.Tokenize("0123456789", &t, &s, &why));
}

}  // namespace
}  // namespace skald::pattern
