// Hostile push bodies (wire/push.h): decompression bombs, size claims in gzip trailers and
// snappy headers that lie, the decompression gate, and the body copies the decoder avoids.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <snappy.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "push_test_util.h"
#include "wire/push.h"
#include "wire/push_internal.h"

namespace skald::wire {
namespace {

using testing::Compress;

using ::testing::StartsWith;

// A JSON push body that inflates to about `size` bytes: one long line of 'a's.
std::string BigJson(size_t size) {
  std::string prefix = R"({"streams":[{"stream":{"a":"b"},"values":[["1",")";
  std::string suffix = R"("]]}]})";
  return prefix + std::string(size - prefix.size() - suffix.size(), 'a') + suffix;
}

// Peak virtual memory of this process (VmPeak, bytes). An allocation raises it whether or not
// its pages are ever touched, so it shows what a size claim made the decoder reserve.
size_t VmPeakBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmPeak:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  ADD_FAILURE() << "no VmPeak in /proc/self/status";
  return 0;
}

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

// Pseudo-random bytes (incompressible).
std::string Noise(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

TEST(DecompressionBombTest, GzipBombIsTooLargeWhileInflating) {
  const std::string bomb = Compress(std::string(64 << 20, '\0'), 16 + 15);  // 64 MiB of zeros
  ASSERT_LT(bomb.size(), 100u << 10);
  const size_t before = VmPeakBytes();
  auto r = DecodePushBody("application/json", "gzip", bomb, DecodeLimits{1 << 20});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
  EXPECT_THAT(r.status().message(), StartsWith("request body too large: "));
  // Stopped at the 1 MiB limit instead of inflating 64 MiB first.
  EXPECT_LT(VmPeakBytes() - before, 16u << 20);
}

TEST(DecompressionBombTest, DeflateAndZlibBombsAreTooLarge) {
  const std::string zeros(32 << 20, '\0');
  for (int bits : {-15, 15}) {
    const std::string bomb = Compress(zeros, bits);
    auto r = DecodePushBody("application/json", "deflate", bomb, DecodeLimits{1 << 20});
    ASSERT_FALSE(r.ok()) << bits;
    EXPECT_EQ(r.status().code(), StatusCode::kTooLarge) << bits;
  }
}

TEST(DecompressionBombTest, GzipOfSnappyProtobufIsBoundedByTheSameLimit) {
  // gzip(snappy(proto)): both layers are bounded; the gzip layer stops first.
  const std::string bomb = Compress(std::string(16 << 20, '\0'), 16 + 15);
  auto r = DecodePushBody("application/x-protobuf", "gzip", bomb, DecodeLimits{1 << 20});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
}

TEST(DecompressionBombTest, DefaultLimitIsTheBodyLimitNotLokis5000MiB) {
  EXPECT_EQ(DecodeLimits{}.max_decompressed_bytes, size_t{100} << 20);
}

TEST(DecompressionBombTest, GzipTrailerClaimingMoreIsNeverAllocated) {
  // 2 MiB of incompressible data whose ISIZE trailer claims 1 GiB: the old fast path trusted
  // any claim up to 1100x the body and reserved it before finding out.
  std::string gz = Compress(Noise(2 << 20), 16 + 15, Z_NO_COMPRESSION);
  const uint32_t claim = 1u << 30;
  for (int i = 0; i < 4; i++) gz[gz.size() - 4 + i] = static_cast<char>(claim >> (8 * i));
  const size_t before = VmPeakBytes();
  auto r = DecodePushBody("application/json", "gzip", gz, DecodeLimits{size_t{2} << 30});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_THAT(r.status().message(), StartsWith("gzip: "));
  EXPECT_LT(VmPeakBytes() - before, 64u << 20);
}

TEST(DecompressionBombTest, GzipTrailerClaimingLessIsCaughtByTheChecksum) {
  std::string gz = Compress(BigJson(1 << 20), 16 + 15);
  for (int i = 0; i < 4; i++) gz[gz.size() - 4 + i] = i == 0 ? 10 : 0;  // claims 10 bytes
  auto r = DecodePushBody("application/json", "gzip", gz, DecodeLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), Status::InvalidArgument("gzip: invalid checksum"));
}

TEST(DecompressionBombTest, SnappyHeaderClaiming4GiBReservesNothing) {
  // A 4 GiB - 1 claim followed by a few bytes: more than snappy could ever produce from them.
  const std::string body = Varint(0xFFFFFFFFull) + std::string(100, '\x01');
  const size_t before = VmPeakBytes();
  auto r = DecodePushProtobuf(body, DecodeLimits{SIZE_MAX});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), Status::InvalidArgument("decompress snappy: snappy: corrupt input"));
  EXPECT_LT(VmPeakBytes() - before, 64u << 20);
  // Over the limit is 413 before anything else.
  r = DecodePushProtobuf(body, DecodeLimits{});
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
}

TEST(DecompressionBombTest, SnappyHeaderClaimWithinTheRatioIsVerifiedBeforeAllocating) {
  // 1 MiB of junk claiming 20 MiB: possible for snappy (<= 21x), so the claim is checked by a
  // validation pass and the allocation never happens.
  const std::string body = Varint(20u << 20) + Noise(1 << 20);
  const size_t before = VmPeakBytes();
  auto r = DecodePushProtobuf(body, DecodeLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), Status::InvalidArgument("decompress snappy: snappy: corrupt input"));
  EXPECT_LT(VmPeakBytes() - before, 8u << 20);
}

TEST(DecompressionBombTest, HighlyCompressedSnappyWithinTheLimitStillDecodes) {
  PushRequestBuilder b;
  b.AddStream(R"({app="a"})");
  b.AddEntry(1, std::string(4 << 20, 'z'));  // snappy compresses this ~20x
  const PushRequest want = std::move(b).Build();
  const std::string pb = EncodePushProtobufSnappy(want);
  ASSERT_LT(pb.size() * 8, size_t{4} << 20);  // takes the verified path
  auto r = DecodePushProtobuf(pb, DecodeLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::Flatten(*r), testing::Flatten(want));
}

TEST(DecompressionGateTest, SlotsFollowTheMemoryBudget) {
  EXPECT_EQ(DecompressionGate::SlotsFor(100 << 20), 2u);  // default limit: 2 x 100 MiB
  EXPECT_EQ(DecompressionGate::SlotsFor(size_t{5000} << 20), 1u);
  EXPECT_EQ(DecompressionGate::SlotsFor(1 << 20), 64u);
  EXPECT_EQ(DecompressionGate::SlotsFor(16 << 20, 64 << 20), 4u);
  EXPECT_EQ(DecompressionGate(0).slots(), 1u);
}

TEST(DecompressionGateTest, ConcurrentInflationNeverExceedsTheSlots) {
  DecompressionGate gate(2);
  const std::string bomb = Compress(std::string(8 << 20, '\0'), 16 + 15);
  const std::string good = Compress(BigJson(1 << 20), 16 + 15);
  std::vector<std::thread> threads;
  std::vector<StatusCode> codes(16);
  for (size_t i = 0; i < codes.size(); i++) {
    threads.emplace_back([&, i] {
      auto r = DecodePushBody("application/json", "gzip", i % 2 ? bomb : good,
                              DecodeLimits{2 << 20, &gate});
      codes[i] = r.ok() ? StatusCode::kOk : r.status().code();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < codes.size(); i++) {
    EXPECT_EQ(codes[i], i % 2 ? StatusCode::kTooLarge : StatusCode::kOk) << i;
  }
  EXPECT_GE(gate.max_in_use(), 1u);  // every inflation went through the gate ...
  EXPECT_LE(gate.max_in_use(), 2u);  // ... and never more than two at once
  EXPECT_EQ(gate.in_use(), 0u);
}

TEST(DecompressionGateTest, UncompressedBodiesDoNotTakeASlot) {
  DecompressionGate gate(1);
  DecompressionGate::Pass held(&gate);  // the only slot is taken: a gzip body would wait
  auto r = DecodePushBody("application/json", "", BigJson(1000), DecodeLimits{1 << 20, &gate});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  PushRequestBuilder b;
  b.AddEntry(1, "x");
  r = DecodePushBody("application/x-protobuf", "snappy",
                     EncodePushProtobufSnappy(std::move(b).Build()), DecodeLimits{1 << 20, &gate});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(PushBodyCopyTest, PaddedJsonBodyIsParsedInPlace) {
  std::string body = BigJson(4096);
  body.reserve(body.size() + internal::kParsePadding);
  const char* begin = body.data();
  const char* end = begin + body.size();
  auto r = DecodePushBody("application/json", "", std::move(body), DecodeLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->streams.size(), 1u);
  const std::string_view line = r->streams[0].entries[0].line;
  // The line is a view into the very buffer that was passed in: no copy on the way.
  EXPECT_GE(line.data(), begin);
  EXPECT_LE(line.data() + line.size(), end);
}

TEST(PushBodyCopyTest, InflatedJsonIsParsedInTheInflateBuffer) {
  const std::string json = BigJson(1 << 20);
  auto r = DecodePushBody("application/json", "gzip", Compress(json, 16 + 15), DecodeLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->streams[0].entries[0].line.size(), json.size() - 100);
  // One buffer of the inflated size (plus padding and page rounding), not two.
  EXPECT_LT(r->OwnedBytes(), json.size() + (64 << 10));
}

TEST(ByteBufferTest, GrowsAcrossTheMappingThresholdKeepingContents) {
  internal::ByteBuffer b;
  ASSERT_TRUE(b.Resize(100));
  for (int i = 0; i < 100; i++) b.data()[i] = static_cast<char>(i);
  // Written but not yet set_size(): still kept (inflate fills capacity before set_size).
  ASSERT_TRUE(b.Resize(internal::ByteBuffer::kMapThreshold * 4));
  for (int i = 0; i < 100; i++) ASSERT_EQ(b.data()[i], static_cast<char>(i));
  b.data()[internal::ByteBuffer::kMapThreshold * 4 - 1] = 'e';
  ASSERT_TRUE(b.Resize(internal::ByteBuffer::kMapThreshold * 64));
  EXPECT_EQ(b.data()[internal::ByteBuffer::kMapThreshold * 4 - 1], 'e');
  for (int i = 0; i < 100; i++) ASSERT_EQ(b.data()[i], static_cast<char>(i));
  b.set_size(100);
  ASSERT_TRUE(b.Resize(200));  // shrink
  EXPECT_GE(b.capacity(), 200u);
  for (int i = 0; i < 100; i++) ASSERT_EQ(b.data()[i], static_cast<char>(i));
  internal::ByteBuffer moved = std::move(b);
  EXPECT_EQ(moved.size(), 100u);
  EXPECT_EQ(b.data(), nullptr);
}

}  // namespace
}  // namespace skald::wire
