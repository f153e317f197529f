// Tests for the JSON push codec (wire/push.h): v1 decoding rules, canonical
// label strings, escapes, errors, round trips, and the legacy v0 body.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "push_test_util.h"
#include "wire/push.h"

namespace skald::wire {
namespace {

using testing::FlatStream;
using testing::Flatten;
using ::testing::HasSubstr;

std::vector<FlatStream> MustDecode(const std::string& body) {
  auto r = DecodePushJson(body);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\nbody: " << body;
  if (!r.ok()) return {};
  return Flatten(*r);
}

void ExpectJsonError(const std::string& body, const std::string& message_part) {
  auto r = DecodePushJson(body);
  ASSERT_FALSE(r.ok()) << "decoded: " << body;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), ::testing::StartsWith("JSON decode error: "));
  EXPECT_THAT(r.status().message(), HasSubstr(message_part)) << body;
}

TEST(PushJsonTest, DecodesDocumentedExample) {
  std::string body = R"({"streams": [
    {"stream": {"job": "app", "env": "prod"},
     "values": [
       ["1570818238000000000", "line one"],
       ["1570818238000000001", "line two", {"trace_id": "0242ac120002", "user_id": "u1"}]
     ]}
  ]})";
  std::vector<FlatStream> want = {
      {R"({env="prod", job="app"})",
       {{1570818238000000000, "line one", {}},
        {1570818238000000001, "line two", {{"trace_id", "0242ac120002"}, {"user_id", "u1"}}}}}};
  EXPECT_EQ(MustDecode(body), want);
}

TEST(PushJsonTest, CanonicalLabelsAreSortedGoQuotedAndLastDuplicateWins) {
  std::string body =
      R"({"streams":[{"stream":{"z":"1","a":"x\"y\\z\n\t","m":"caf\u00e9 \u0001","a":"second"},)"
      R"("values":[]}]})";
  auto got = MustDecode(body);
  ASSERT_EQ(got.size(), 1u);
  // The duplicate key "a" keeps the later value, as Go's map does.
  EXPECT_EQ(got[0].labels, "{a=\"second\", m=\"caf\xc3\xa9 \\x01\", z=\"1\"}");

  got = MustDecode(R"({"streams":[{"stream":{"b":"x\"y\\z\n\t"},"values":[]}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, R"({b="x\"y\\z\n\t"})");
}

TEST(PushJsonTest, MissingOrNullStreamObjectGivesEmptyLabels) {
  auto got = MustDecode(R"({"streams":[{"values":[["1","a"]]},{"stream":null}]})");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, "{}");
  EXPECT_EQ(got[1].labels, "{}");
  EXPECT_TRUE(got[1].entries.empty());
}

TEST(PushJsonTest, RepeatedStreamObjectsMerge) {
  auto got = MustDecode(R"({"streams":[{"stream":{"b":"2"},"values":[],"stream":{"a":"1"}}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, R"({a="1", b="2"})");
}

TEST(PushJsonTest, NullValuesAndNullStreamsAreTolerated) {
  auto got = MustDecode(R"({"streams":[{"stream":{"a":"1"},"values":null}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].entries.empty());
  EXPECT_TRUE(MustDecode(R"({"streams":null})").empty());
  EXPECT_TRUE(MustDecode(R"({})").empty());
  EXPECT_TRUE(MustDecode(R"({"other":[1,{"x":2}],"streams":[]})").empty());
}

TEST(PushJsonTest, ElementsAfterTheThirdAreIgnored) {
  auto got = MustDecode(
      R"({"streams":[{"stream":{"a":"1"},"values":[["5","l",{"k":"v"},42,{"x":[1]},"z"]]}]})");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].entries.size(), 1u);
  EXPECT_EQ(got[0].entries[0].metadata.size(), 1u);
}

TEST(PushJsonTest, EmptyMetadataObjectAndDuplicateMetadataKeysAreKept) {
  auto got = MustDecode(
      R"({"streams":[{"values":[["1","a",{}],["2","b",{"k":"1","k":"2","e\u0301":"\u00e9"}]]}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].entries[0].metadata.empty());
  std::vector<std::pair<std::string, std::string>> want = {
      {"k", "1"}, {"k", "2"}, {"e\xcc\x81", "\xc3\xa9"}};
  EXPECT_EQ(got[0].entries[1].metadata, want);
}

TEST(PushJsonTest, LineEscapesAreDecoded) {
  auto got = MustDecode(
      R"({"streams":[{"values":[["1","q\" b\\ s\/ \b\f\n\r\t \u0041\u00e9\u20ac \ud83d\ude00 \u0000"]]}]})");
  ASSERT_EQ(got.size(), 1u);
  const char kWant[] = "q\" b\\ s/ \b\f\n\r\t A\xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \0";
  EXPECT_EQ(got[0].entries[0].line, std::string(kWant, sizeof(kWant) - 1));
}

TEST(PushJsonTest, LoneSurrogatesBecomeReplacementCharacter) {
  auto got = MustDecode(R"({"streams":[{"values":[["1","a\ud800b\udc00c\ud800\u0041"]]}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].entries[0].line,
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd"
            "c\xef\xbf\xbd"
            "A");
}

TEST(PushJsonTest, ShortValuesArraysAreAcceptedLikeLoki) {
  // Loki's decoder only type-checks the elements that are present: [] and
  // ["ts"] give timestamp 0 / empty line (later rejected by validation).
  auto got = MustDecode(R"({"streams":[{"values":[[],["7"]]}]})");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].entries.size(), 2u);
  EXPECT_EQ(got[0].entries[0], (testing::FlatEntry{0, "", {}}));
  EXPECT_EQ(got[0].entries[1], (testing::FlatEntry{7, "", {}}));
}

TEST(PushJsonTest, TimestampsAcceptNegativeAndRejectGarbage) {
  auto got = MustDecode(R"({"streams":[{"values":[["-5","a"],["9223372036854775807","b"]]}]})");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].entries[0].ts, -5);
  EXPECT_EQ(got[0].entries[1].ts, 9223372036854775807);
  ExpectJsonError(R"({"streams":[{"values":[["12a","x"]]}]})",
                  "invalid \"values\" timestamp \"12a\"");
  ExpectJsonError(R"({"streams":[{"values":[["","x"]]}]})", "invalid \"values\" timestamp");
  ExpectJsonError(R"({"streams":[{"values":[["+1","x"]]}]})", "invalid \"values\" timestamp");
  ExpectJsonError(R"({"streams":[{"values":[["1.5","x"]]}]})", "invalid \"values\" timestamp");
  ExpectJsonError(R"({"streams":[{"values":[["9223372036854775808","x"]]}]})",
                  "invalid \"values\" timestamp");
}

TEST(PushJsonErrorTest, NumberTimestampIsRejected) {
  ExpectJsonError(R"({"streams":[{"stream":{"a":"1"},"values":[[1570818238000000000,"x"]]}]})",
                  "the \"values\" timestamp must be a string of nanoseconds");
}

TEST(PushJsonErrorTest, NonStringLineIsRejected) {
  ExpectJsonError(R"({"streams":[{"values":[["1",5]]}]})", "log line must be a string");
  ExpectJsonError(R"({"streams":[{"values":[["1",null]]}]})", "log line must be a string");
}

TEST(PushJsonErrorTest, BadStructuredMetadataIsRejected) {
  ExpectJsonError(R"({"streams":[{"values":[["1","x",{"k":1}]]}]})",
                  "the value of structured metadata \"k\" must be a string");
  ExpectJsonError(R"({"streams":[{"values":[["1","x",{"k":{"n":"v"}}]]}]})", "must be a string");
  ExpectJsonError(R"({"streams":[{"values":[["1","x",["k","v"]]]}]})", "must be an object");
  ExpectJsonError(R"({"streams":[{"values":[["1","x",null]]}]})", "must be an object");
}

TEST(PushJsonErrorTest, NonStringLabelValueIsRejected) {
  ExpectJsonError(R"({"streams":[{"stream":{"app":1},"values":[]}]})",
                  "the value of label \"app\" in \"stream\" must be a string");
  ExpectJsonError(R"({"streams":[{"stream":["a"],"values":[]}]})", "\"stream\" must be an object");
}

TEST(PushJsonErrorTest, StructuralShapeErrors) {
  ExpectJsonError(R"([])", "the body must be a JSON object");
  ExpectJsonError(R"("x")", "the body must be a JSON object");
  ExpectJsonError(R"({"streams":{}})", "\"streams\" must be an array");
  ExpectJsonError(R"({"streams":[5]})", "each element of \"streams\" must be an object");
  ExpectJsonError(R"({"streams":[{"values":{}}]})", "\"values\" must be an array");
  ExpectJsonError(R"({"streams":[{"values":["1","x"]}]})",
                  "each \"values\" entry must be an array");
}

TEST(PushJsonErrorTest, MalformedJsonIsRejected) {
  for (const char* body :
       {"", "   ", "{", R"({"streams":[)", R"({"streams":[{"values":[["1","x"]]})",
        R"({"streams":[{"values":[["1","x]]}]})", R"({"streams" [] })",
        R"({"streams":[]} trailing)", R"({"streams":[]}{})"}) {
    auto r = DecodePushJson(body);
    EXPECT_FALSE(r.ok()) << body;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(r.status().message(), ::testing::StartsWith("JSON decode error: "));
    }
  }
}

TEST(PushJsonErrorTest, InvalidEscapeIsRejected) {
  ExpectJsonError(R"({"streams":[{"values":[["1","bad \x escape"]]}]})", "invalid escape");
  ExpectJsonError(R"({"streams":[{"values":[["1","bad \u12g4"]]}]})", "invalid escape");
  ExpectJsonError(R"({"streams":[{"stream":{"a\q":"v"}}]})", "invalid escape");
}

TEST(PushJsonErrorTest, InvalidUtf8IsRejected) {
  ExpectJsonError("{\"streams\":[{\"values\":[[\"1\",\"bad \xff\"]]}]}", "UTF-8");
}

TEST(PushJsonTest, EncodeThenDecodeRoundTrips) {
  PushRequestBuilder b;
  b.AddStream(R"({app="web", env="prod"})");
  b.AddEntry(1, "plain");
  b.AddEntry(2, "needs \"escaping\" <html> & \\ \n\t \x01 \xe2\x80\xa8 caf\xc3\xa9",
             {{"trace_id", "t<1>"}, {"user", ""}});
  b.AddStream(R"({a="x\"y\\z\n"})");
  b.AddEntry(-3, "");
  b.AddStream("{}");
  PushRequest req = std::move(b).Build();
  std::string json = EncodePushJson(req);
  auto decoded = DecodePushJson(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << json;
  EXPECT_EQ(Flatten(*decoded), Flatten(req));
}

TEST(PushJsonTest, EncoderWritesV1Shape) {
  PushRequestBuilder b;
  b.AddStream(R"({b="2", a="1"})");
  b.AddEntry(1570818238000000000, "line one");
  b.AddEntry(1570818238000000001, "two", {{"k", "v"}});
  EXPECT_EQ(
      EncodePushJson(std::move(b).Build()),
      R"({"streams":[{"stream":{"a":"1","b":"2"},"values":[["1570818238000000000","line one"],)"
      R"(["1570818238000000001","two",{"k":"v"}]]}]})");
}

TEST(PushJsonTest, ViewsStayValidAfterMoves) {
  // A body short enough for std::string's inline buffer, and one with escapes
  // (arena-backed strings).
  std::string small = R"({"streams":[{"values":[["1","x"]]}]})";
  std::string escaped =
      R"({"streams":[{"stream":{"k":"v\n"},"values":[["1","a\tb",{"m":"\u00e9"}]]}]})";
  for (const std::string& body : {small, escaped}) {
    auto r = DecodePushJson(body);
    ASSERT_TRUE(r.ok());
    auto want = Flatten(*r);
    std::vector<PushRequest> holder;
    holder.push_back(std::move(*r));
    for (int i = 0; i < 20; ++i) holder.push_back(PushRequest());
    PushRequest moved = std::move(holder[0]);
    holder.clear();
    // Decode something else on this thread so the parser's buffers are reused.
    ASSERT_TRUE(
        DecodePushJson(R"({"streams":[{"stream":{"zz":"yy\n"},"values":[["2","qq\t"]]}]})").ok());
    EXPECT_EQ(Flatten(moved), want);
  }
}

TEST(PushJsonTest, BodyWithoutSpareCapacityIsPadded) {
  std::string body = R"({"streams":[{"values":[["1","x"]]}]})";
  body.shrink_to_fit();
  auto r = DecodePushJson(std::move(body));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->streams[0].entries[0].line, "x");
}

TEST(PushJsonLegacyTest, DecodesV0Body) {
  std::string body = R"({"streams":[{"labels":"{job=\"x\"}","entries":[
      {"ts":"2018-12-18T08:28:06.801064-04:00","line":"hello"},
      {"ts":"1970-01-01T00:00:01Z","line":"md","structuredMetadata":[{"name":"k","value":"v"}]}]}]})";
  auto r = DecodePushJsonLegacy(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<FlatStream> want = {
      {R"({job="x"})", {{1545136086801064000, "hello", {}}, {1'000'000'000, "md", {{"k", "v"}}}}}};
  EXPECT_EQ(Flatten(*r), want);
}

TEST(PushJsonLegacyTest, RejectsBadTimestamp) {
  auto r = DecodePushJsonLegacy(R"({"streams":[{"labels":"{}","entries":[{"ts":"yesterday"}]}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("invalid \"ts\""));
}

}  // namespace
}  // namespace skald::wire
