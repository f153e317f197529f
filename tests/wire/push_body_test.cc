// Tests for DecodePushBody (wire/push.h): Content-Type / Content-Encoding
// dispatch, gzip / deflate bodies, size limits, and media-type parsing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "push_test_util.h"
#include "wire/push.h"

namespace skald::wire {
namespace {

using testing::Compress;

using testing::FlatStream;
using testing::Flatten;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Gzip(const std::string& in) { return Compress(in, 16 + 15); }

const char kJson[] =
    R"({"streams":[{"stream":{"app":"a"},"values":[["1","one"],["2","two",{"k":"v"}]]}]})";

std::vector<FlatStream> Want() {
  return {{R"({app="a"})", {{1, "one", {}}, {2, "two", {{"k", "v"}}}}}};
}

PushRequest WantRequest() {
  PushRequestBuilder b;
  b.AddStream(R"({app="a"})");
  b.AddEntry(1, "one");
  b.AddEntry(2, "two", {{"k", "v"}});
  return std::move(b).Build();
}

std::vector<FlatStream> MustDecode(std::string_view ct, std::string_view ce, std::string body,
                                   DecodeLimits limits = {}) {
  auto r = DecodePushBody(ct, ce, std::move(body), limits);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Flatten(*r) : std::vector<FlatStream>{};
}

TEST(DecodePushBodyTest, JsonMediaTypeWithParametersSelectsJson) {
  EXPECT_EQ(MustDecode("application/json", "", kJson), Want());
  EXPECT_EQ(MustDecode("application/json; charset=utf-8", "", kJson), Want());
  EXPECT_EQ(MustDecode("  Application/JSON ;charset=\"utf-8\"", "", kJson), Want());
}

TEST(DecodePushBodyTest, OtherMediaTypesSelectSnappyProtobuf) {
  std::string pb = EncodePushProtobufSnappy(WantRequest());
  EXPECT_EQ(MustDecode("application/x-protobuf", "", pb), Want());
  EXPECT_EQ(MustDecode("application/octet-stream", "snappy", pb), Want());
  EXPECT_EQ(MustDecode("text", "", pb), Want());  // a bare type is a valid media type
  // JSON sent with a protobuf content type is parsed as snappy and fails.
  auto r = DecodePushBody("application/x-protobuf", "", kJson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(DecodePushBodyTest, MissingContentTypeIsNoMediaType) {
  auto r = DecodePushBody("", "", kJson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), Status::InvalidArgument("mime: no media type"));
  r = DecodePushBody("; charset=utf-8", "", kJson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "mime: no media type");
}

TEST(DecodePushBodyTest, GzipJson) {
  EXPECT_EQ(MustDecode("application/json", "gzip", Gzip(kJson)), Want());
}

TEST(DecodePushBodyTest, GzipWithConcatenatedMembers) {
  std::string json = kJson;
  std::string body = Gzip(json.substr(0, 20)) + Gzip(json.substr(20));
  EXPECT_EQ(MustDecode("application/json", "gzip", body), Want());
}

TEST(DecodePushBodyTest, GzipProtobufIsGzipOfSnappy) {
  std::string body = Gzip(EncodePushProtobufSnappy(WantRequest()));
  EXPECT_EQ(MustDecode("application/x-protobuf", "gzip", body), Want());
}

TEST(DecodePushBodyTest, DeflateAcceptsRawAndZlibWrapped) {
  EXPECT_EQ(MustDecode("application/json", "deflate", Compress(kJson, -15)), Want());
  EXPECT_EQ(MustDecode("application/json", "deflate", Compress(kJson, 15)), Want());
}

TEST(DecodePushBodyTest, UnsupportedEncodingIsRejected) {
  for (const char* enc : {"br", "zstd", "GZIP", "gzip, deflate"}) {
    auto r = DecodePushBody("application/json", enc, kJson);
    ASSERT_FALSE(r.ok()) << enc;
    EXPECT_EQ(r.status(), Status::InvalidArgument(std::string("Content-Encoding \"") + enc +
                                                  "\" not supported"));
  }
}

TEST(DecodePushBodyTest, CorruptAndTruncatedGzipAreInvalidArgument) {
  auto r = DecodePushBody("application/json", "gzip", "definitely not gzip data at all");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "gzip: invalid header");

  std::string gz = Gzip(kJson);
  r = DecodePushBody("application/json", "gzip", gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "gzip: unexpected EOF");

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  r = DecodePushBody("application/json", "gzip", bad_crc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "gzip: invalid checksum");

  r = DecodePushBody("application/json", "deflate", std::string("\xff\xff\xff\xff", 4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("flate: "));
}

TEST(DecodePushBodyTest, DecompressedSizeLimitGivesTooLarge) {
  std::string big = R"({"streams":[{"values":[["1",")" + std::string(1 << 20, 'a') + R"("]]}]})";
  for (const char* enc : {"gzip", "deflate"}) {
    std::string body = std::string(enc) == "gzip" ? Gzip(big) : Compress(big, -15);
    ASSERT_LT(body.size(), 10000u);
    auto r = DecodePushBody("application/json", enc, body, DecodeLimits{100000});
    ASSERT_FALSE(r.ok()) << enc;
    EXPECT_EQ(r.status().code(), StatusCode::kTooLarge) << enc;
    EXPECT_THAT(r.status().message(), StartsWith("request body too large: ")) << enc;
    // Exactly at the limit is fine.
    auto ok = DecodePushBody("application/json", enc, body, DecodeLimits{big.size()});
    EXPECT_TRUE(ok.ok()) << enc << ": " << ok.status().ToString();
    auto over = DecodePushBody("application/json", enc, body, DecodeLimits{big.size() - 1});
    EXPECT_EQ(over.status().code(), StatusCode::kTooLarge) << enc;
  }
  // Uncompressed JSON over the limit.
  auto r = DecodePushBody("application/json", "", big, DecodeLimits{1000});
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
  // Snappy protobuf over the limit (after gzip too).
  PushRequestBuilder b;
  b.AddStream("{}");
  b.AddEntry(1, std::string(100000, 'x'));
  std::string pb = EncodePushProtobufSnappy(std::move(b).Build());
  r = DecodePushBody("application/x-protobuf", "", pb, DecodeLimits{50000});
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
  r = DecodePushBody("application/x-protobuf", "gzip", Gzip(pb), DecodeLimits{50000});
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
}

TEST(DecodePushBodyTest, ForgedGzipSizeTrailerIsHarmless) {
  std::string gz = Gzip(kJson);
  // Claim 4 GiB - 1 uncompressed bytes: must neither allocate that nor succeed.
  for (int i = 1; i <= 4; ++i) gz[gz.size() - i] = '\xff';
  auto r = DecodePushBody("application/json", "gzip", gz);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "gzip: invalid checksum");
}

TEST(ParseMediaTypeTest, FollowsGoMimeRules) {
  EXPECT_EQ(*ParseMediaType("application/json"), "application/json");
  EXPECT_EQ(*ParseMediaType("Application/X-Protobuf"), "application/x-protobuf");
  EXPECT_EQ(*ParseMediaType("text"), "text");
  EXPECT_EQ(*ParseMediaType("application/json;"), "application/json");
  EXPECT_EQ(*ParseMediaType("application/json; a=1; b=\"x;y\"; a=1"), "application/json");
  EXPECT_EQ(ParseMediaType("").status().message(), "mime: no media type");
  EXPECT_EQ(ParseMediaType("/json").status().message(), "mime: no media type");
  EXPECT_EQ(ParseMediaType("application json").status().message(),
            "mime: expected slash after first token");
  EXPECT_EQ(ParseMediaType("application/").status().message(), "mime: expected token after slash");
  EXPECT_EQ(ParseMediaType("application/json/x").status().message(),
            "mime: unexpected content after media subtype");
  EXPECT_EQ(ParseMediaType("application/json; charset").status().message(),
            "mime: invalid media parameter");
  EXPECT_EQ(ParseMediaType("application/json; a=1; a=2").status().message(),
            "mime: duplicate parameter name");
}

}  // namespace
}  // namespace skald::wire
