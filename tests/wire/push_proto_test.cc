// Tests for the logproto.PushRequest protobuf codec (wire/push.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <snappy.h>

#include <limits>

#include "push_test_util.h"
#include "wire/push.h"
#include "wire/push_compare.h"

namespace skald::wire {
namespace {

using testing::FlatEntry;
using testing::FlatStream;
using testing::Flatten;
using ::testing::HasSubstr;
using testing::Len;
using testing::Tag;
using testing::Varint;
using testing::VarintField;

PushRequest SampleRequest() {
  PushRequestBuilder b;
  b.AddStream(R"({app="api", env="prod"})");
  b.AddEntry(1700000000123456789, "GET /index.html 200");
  b.AddEntry(1700000000123456790, "POST /login 401", {{"trace_id", "abc123"}, {"user", "u1"}});
  b.AddStream(R"({app="db"})");
  b.AddEntry(-1, "before the epoch");  // seconds -1, nanos 999999999
  b.AddEntry(0, "", {{"k", ""}});
  b.AddStream("{}");  // stream without entries
  return std::move(b).Build();
}

std::vector<FlatStream> SampleFlat() {
  return {
      {R"({app="api", env="prod"})",
       {{1700000000123456789, "GET /index.html 200", {}},
        {1700000000123456790, "POST /login 401", {{"trace_id", "abc123"}, {"user", "u1"}}}}},
      {R"({app="db"})", {{-1, "before the epoch", {}}, {0, "", {{"k", ""}}}}},
      {"{}", {}},
  };
}

TEST(PushRequestBuilderTest, BuildsWhatWasAdded) {
  PushRequest req = SampleRequest();
  EXPECT_EQ(Flatten(req), SampleFlat());
  EXPECT_EQ(req.TotalEntries(), 4u);
  EXPECT_EQ(req.metadata.size(), 3u);
}

TEST(PushRequestBuilderTest, EntryWithoutStreamGoesToEmptyLabelStream) {
  PushRequestBuilder b;
  b.AddEntry(5, "x");
  PushRequest req = std::move(b).Build();
  ASSERT_EQ(req.streams.size(), 1u);
  EXPECT_EQ(req.streams[0].labels, "{}");
}

TEST(PushProtobufTest, RawRoundTripPreservesEverything) {
  auto decoded = DecodePushProtobufRaw(EncodePushProtobufRaw(SampleRequest()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Flatten(*decoded), SampleFlat());
}

TEST(PushProtobufTest, SnappyRoundTripPreservesEverything) {
  auto decoded = DecodePushProtobuf(EncodePushProtobufSnappy(SampleRequest()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Flatten(*decoded), SampleFlat());
}

TEST(PushProtobufTest, EncoderProducesExpectedWireBytes) {
  PushRequestBuilder b;
  b.AddStream(R"({a="b"})");
  b.AddEntry(1'500'000'000, "x", {{"k", "v"}});
  b.AddEntry(0, "");
  std::string ts = VarintField(1, 1) + VarintField(2, 500'000'000);
  std::string entry1 = Len(1, ts) + Len(2, "x") + Len(3, Len(1, "k") + Len(2, "v"));
  std::string entry2 = Len(1, "");  // zero timestamp: empty message, empty line omitted
  std::string want = Len(1, Len(1, R"({a="b"})") + Len(2, entry1) + Len(2, entry2));
  EXPECT_EQ(EncodePushProtobufRaw(std::move(b).Build()), want);
}

TEST(PushProtobufTest, NegativeTimestampUsesNonNegativeNanos) {
  PushRequestBuilder b;
  b.AddStream("{}");
  b.AddEntry(-1, "x");
  std::string ts = VarintField(1, static_cast<uint64_t>(int64_t{-1})) + VarintField(2, 999'999'999);
  std::string want = Len(1, Len(1, "{}") + Len(2, Len(1, ts) + Len(2, "x")));
  EXPECT_EQ(EncodePushProtobufRaw(std::move(b).Build()), want);
}

TEST(PushProtobufTest, DecodesHandWrittenMessageAndSkipsUnknownFields) {
  // Unknown fields of every wire type at every level, plus hash / parsed / format.
  const std::string unknown = VarintField(15, 7) + Tag(16, 1) + std::string(8, '\x01') +
                              Len(17, "zz") + Tag(18, 5) + std::string(4, '\x02');
  std::string ts = unknown + VarintField(1, 10) + VarintField(2, 5);
  std::string pair = Len(1, "trace") + unknown + Len(2, "t1");
  std::string entry = Len(1, ts) + unknown + Len(2, "hello") + Len(3, pair) +
                      Len(4, Len(1, "parsed") + Len(2, "ignored"));
  std::string stream = VarintField(3, 12345) + Len(1, R"({job="x"})") + unknown + Len(2, entry);
  std::string req = Len(2, "loki") + unknown + Len(1, stream);
  auto decoded = DecodePushProtobufRaw(req);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  std::vector<FlatStream> want = {{R"({job="x"})", {{10'000'000'005, "hello", {{"trace", "t1"}}}}}};
  EXPECT_EQ(Flatten(*decoded), want);
}

TEST(PushProtobufTest, RepeatedTimestampFieldsMergeAndLastLabelsWin) {
  std::string entry = Len(1, VarintField(1, 3)) + Len(1, VarintField(2, 7)) + Len(2, "l");
  std::string stream = Len(1, "{a=\"1\"}") + Len(2, entry) + Len(1, "{a=\"2\"}");
  auto decoded = DecodePushProtobufRaw(Len(1, stream));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  std::vector<FlatStream> want = {{"{a=\"2\"}", {{3'000'000'007, "l", {}}}}};
  EXPECT_EQ(Flatten(*decoded), want);
}

TEST(PushProtobufTest, EmptyInputIsAnEmptyRequest) {
  auto decoded = DecodePushProtobufRaw("");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->streams.empty());
}

TEST(PushProtobufTest, InvalidUtf8IsKeptAsIs) {
  PushRequestBuilder b;
  b.AddStream("{}");
  b.AddEntry(1, std::string("bad \xff\xfe utf8"));
  auto decoded = DecodePushProtobufRaw(EncodePushProtobufRaw(std::move(b).Build()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->streams[0].entries[0].line, std::string("bad \xff\xfe utf8"));
}

void ExpectProtoError(const std::string& raw, const std::string& message_part) {
  auto decoded = DecodePushProtobufRaw(raw);
  ASSERT_FALSE(decoded.ok()) << "decoded although " << message_part << " expected";
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr(message_part));
  EXPECT_THAT(decoded.status().message(), ::testing::StartsWith("proto: "));
}

TEST(PushProtobufErrorTest, TruncatedInputIsRejected) {
  PushRequestBuilder b;
  b.AddStream(R"({app="x"})");
  b.AddEntry(1700000000123456789, "line one", {{"k", "v"}});
  b.AddEntry(-5, "line two");
  std::string full = EncodePushProtobufRaw(std::move(b).Build());
  // A single top-level stream: cutting anywhere inside it is an error.
  for (size_t cut = 1; cut < full.size(); ++cut) {
    auto decoded = DecodePushProtobufRaw(full.substr(0, cut));
    EXPECT_FALSE(decoded.ok()) << "cut at " << cut;
  }
  ExpectProtoError(full.substr(0, full.size() - 1), "unexpected EOF");
  ExpectProtoError("\x0a", "unexpected EOF");  // tag without length
  ExpectProtoError(
      "\x0a\x05"
      "ab",
      "unexpected EOF");                                    // length beyond the end
  ExpectProtoError(Tag(20, 0) + "\x80", "unexpected EOF");  // truncated varint
  ExpectProtoError(Tag(20, 1) + "1234567", "unexpected EOF");
  ExpectProtoError(Tag(20, 5) + "123", "unexpected EOF");
}

TEST(PushProtobufErrorTest, IllegalWireTypesAreRejectedAtEveryLevel) {
  for (int wire : {3, 4, 6, 7}) {
    ExpectProtoError(Tag(9, wire), "illegal wireType " + std::to_string(wire));
    ExpectProtoError(Len(1, Tag(9, wire)), "StreamAdapter: illegal wireType");
    ExpectProtoError(Len(1, Len(2, Tag(9, wire))), "EntryAdapter: illegal wireType");
    ExpectProtoError(Len(1, Len(2, Len(1, Tag(9, wire)))), "Timestamp: illegal wireType");
    ExpectProtoError(Len(1, Len(2, Len(3, Tag(9, wire)))), "LabelPairAdapter: illegal wireType");
  }
}

TEST(PushProtobufErrorTest, WrongWireTypeForKnownFieldIsRejected) {
  ExpectProtoError(VarintField(1, 1), "wrong wireType = 0 for field Streams");
  ExpectProtoError(Len(1, VarintField(1, 1)), "wrong wireType = 0 for field Labels");
  ExpectProtoError(Len(1, Len(3, "x")), "wrong wireType = 2 for field Hash");
  ExpectProtoError(Len(1, Len(2, VarintField(2, 1))), "wrong wireType = 0 for field Line");
  ExpectProtoError(Len(1, Len(2, Len(1, Len(1, "x")))), "wrong wireType = 2 for field Seconds");
  ExpectProtoError(Len(1, Len(2, Len(3, VarintField(2, 1)))), "wrong wireType = 0 for field Value");
}

TEST(PushProtobufErrorTest, FieldNumberZeroIsRejected) {
  ExpectProtoError(VarintField(0, 1), "illegal tag 0");
}

TEST(PushProtobufErrorTest, OverlongVarintIsRejected) {
  // 11 bytes of continuation.
  ExpectProtoError(Tag(20, 0) + std::string(10, '\x80') + "\x01", "integer overflow");
  // 10th byte carries more than the 64th bit.
  ExpectProtoError(Tag(20, 0) + std::string(9, '\xff') + "\x02", "integer overflow");
  // 10 bytes with the 10th byte == 1 is the maximum: accepted.
  EXPECT_TRUE(DecodePushProtobufRaw(Tag(20, 0) + std::string(9, '\xff') + "\x01").ok());
}

TEST(PushProtobufErrorTest, NanosOutOfRangeIsRejected) {
  auto with_ts = [](const std::string& ts) { return Len(1, Len(2, Len(1, ts))); };
  ExpectProtoError(with_ts(VarintField(2, 1'000'000'000)), "nanos 1000000000 not in range");
  ExpectProtoError(with_ts(VarintField(2, static_cast<uint64_t>(int64_t{-1}))),
                   "nanos -1 not in range");
  EXPECT_TRUE(DecodePushProtobufRaw(with_ts(VarintField(2, 999'999'999))).ok());
}

TEST(PushProtobufErrorTest, TimestampOverflowIsRejected) {
  auto with_ts = [](const std::string& ts) { return Len(1, Len(2, Len(1, ts))); };
  ExpectProtoError(with_ts(VarintField(1, 9'300'000'000)), "out of the representable range");
  ExpectProtoError(
      with_ts(VarintField(1, 9'223'372'036) + VarintField(2, 999'999'999)),  // > INT64_MAX ns
      "out of the representable range");
  auto ok =
      DecodePushProtobufRaw(with_ts(VarintField(1, 9'223'372'036) + VarintField(2, 854'775'807)));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->streams[0].entries[0].timestamp_ns, std::numeric_limits<int64_t>::max());
}

TEST(PushProtobufSnappyTest, CorruptSnappyIsInvalidArgument) {
  for (std::string bad : {std::string(), std::string("\xff\xff\xff\xff\xff\xff"),
                          std::string("\x05\x00garbage", 9)}) {
    auto decoded = DecodePushProtobuf(bad);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(decoded.status().message(), "decompress snappy: snappy: corrupt input");
  }
  // Valid length header but truncated body.
  std::string good = EncodePushProtobufSnappy(SampleRequest());
  auto decoded = DecodePushProtobuf(good.substr(0, good.size() - 3));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "decompress snappy: snappy: corrupt input");
}

TEST(PushProtobufSnappyTest, DecompressedSizeLimitIsCheckedBeforeAllocating) {
  std::string good = EncodePushProtobufSnappy(SampleRequest());
  std::string raw = EncodePushProtobufRaw(SampleRequest());
  auto decoded = DecodePushProtobuf(good, DecodeLimits{raw.size() - 1});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kTooLarge);
  EXPECT_THAT(decoded.status().message(), ::testing::StartsWith("request body too large: "));
  EXPECT_TRUE(DecodePushProtobuf(good, DecodeLimits{raw.size()}).ok());
  // A header claiming 4 GiB - 1 (snappy's maximum) with a tiny body: rejected
  // from the header alone.
  std::string bomb = Varint(0xFFFFFFFFull) + std::string("\x00", 1);
  auto big = DecodePushProtobuf(bomb, DecodeLimits{1 << 20});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kTooLarge);
}

TEST(PushRequestTest, ViewsStayValidAfterMoves) {
  // A tiny raw body would live in std::string's inline buffer if the request
  // didn't keep it on the heap.
  std::string raw = Len(1, Len(1, "{}") + Len(2, Len(2, "hi")));
  ASSERT_LT(raw.size(), 16u);
  auto decoded = DecodePushProtobufRaw(raw);
  ASSERT_TRUE(decoded.ok());
  std::vector<PushRequest> holder;
  holder.push_back(std::move(*decoded));
  for (int i = 0; i < 20; ++i) holder.push_back(PushRequest());  // force reallocation
  PushRequest moved = std::move(holder[0]);
  holder.clear();
  ASSERT_EQ(moved.streams.size(), 1u);
  EXPECT_EQ(moved.streams[0].labels, "{}");
  EXPECT_EQ(moved.streams[0].entries[0].line, "hi");

  auto snappy = DecodePushProtobuf(EncodePushProtobufSnappy(SampleRequest()));
  ASSERT_TRUE(snappy.ok());
  PushRequest a = std::move(*snappy);
  PushRequest b;
  b = std::move(a);
  EXPECT_EQ(Flatten(b), SampleFlat());

  PushRequest built = SampleRequest();
  PushRequest built2 = std::move(built);
  EXPECT_EQ(Flatten(built2), SampleFlat());
}

TEST(PushRequestTest, MetadataOfReturnsTheEntrysPairs) {
  PushRequest req = SampleRequest();
  auto md = req.MetadataOf(req.streams[0].entries[1]);
  ASSERT_EQ(md.size(), 2u);
  EXPECT_EQ(md[0].name, "trace_id");
  EXPECT_EQ(md[1].value, "u1");
  EXPECT_TRUE(req.MetadataOf(req.streams[0].entries[0]).empty());
}

TEST(PushContentEqualTest, ComparesContentNotStorage) {
  PushRequest a = SampleRequest();
  auto b = DecodePushProtobufRaw(EncodePushProtobufRaw(a));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(PushContentEqual(a, *b));
  b->streams[0].entries[1].timestamp_ns += 1;
  EXPECT_FALSE(PushContentEqual(a, *b));
  b->streams[0].entries[1].timestamp_ns -= 1;
  b->metadata[1].value = "other";
  EXPECT_FALSE(PushContentEqual(a, *b));
  b->metadata[1].value = a.metadata[1].value;
  b->streams[1].labels = "{}";
  EXPECT_FALSE(PushContentEqual(a, *b));
  b->streams[1].labels = a.streams[1].labels;
  b->streams[2].entries.push_back(PushEntry{1, "x"});
  EXPECT_FALSE(PushContentEqual(a, *b));
  b->streams[2].entries.clear();
  EXPECT_TRUE(PushContentEqual(a, *b));
}

TEST(StringArenaTest, LargeAndSmallAllocationsKeepAddressesAfterMove) {
  StringArena arena;
  std::vector<std::string_view> views;
  std::vector<std::string> want;
  for (int i = 0; i < 2000; ++i) {
    want.push_back(
        std::string(static_cast<size_t>(i % 97) * (i % 7 == 0 ? 1000 : 1), 'a' + i % 26));
    views.push_back(arena.Copy(want.back()));
  }
  StringArena moved = std::move(arena);
  // The moved-from arena is empty and usable.
  EXPECT_EQ(arena.bytes_reserved(), 0u);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(arena.Copy("again"), "again");
  moved.Copy(std::string(100000, 'z'));
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(views[i], want[i]) << i;
}

}  // namespace
}  // namespace skald::wire
