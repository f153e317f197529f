#include "core/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace skald {
namespace {

TEST(CodingTest, FixedIntsAreLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0c0b0a0908070605ull);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0c0b0a0908070605ull);
}

TEST(CodingTest, UvarintBytesMatchProtobuf) {
  std::string s;
  PutUvarint(&s, 0);
  PutUvarint(&s, 127);
  PutUvarint(&s, 128);
  PutUvarint(&s, 300);
  EXPECT_EQ(s, std::string("\x00\x7f\x80\x01\xac\x02", 6));
  EXPECT_EQ(UvarintSize(0), 1u);
  EXPECT_EQ(UvarintSize(300), 2u);
  EXPECT_EQ(UvarintSize(std::numeric_limits<uint64_t>::max()), kMaxVarintBytes);
}

TEST(CodingTest, ZigZagMapsSmallMagnitudesToSmallCodes) {
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(-2), 3u);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{12345}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ZigZagDecode(ZigZagEncode(v)), v);
  }
}

TEST(CodingTest, ReaderRoundTripsEveryKind) {
  std::string s;
  s.push_back('\x07');
  PutFixed32(&s, 0xdeadbeef);
  PutFixed64(&s, 1ull << 60);
  PutUvarint(&s, std::numeric_limits<uint64_t>::max());
  PutVarint(&s, -42);
  PutLengthPrefixed(&s, "hello");
  ByteReader r(s);
  uint8_t b;
  uint32_t f32;
  uint64_t f64, u;
  int64_t i;
  std::string_view bytes;
  ASSERT_TRUE(r.GetByte(&b) && r.GetFixed32(&f32) && r.GetFixed64(&f64) && r.GetUvarint(&u) &&
              r.GetVarint(&i) && r.GetLengthPrefixed(&bytes));
  EXPECT_EQ(b, 7);
  EXPECT_EQ(f32, 0xdeadbeefu);
  EXPECT_EQ(f64, 1ull << 60);
  EXPECT_EQ(u, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(i, -42);
  EXPECT_EQ(bytes, "hello");
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.offset(), s.size());
  EXPECT_TRUE(r.ok());
}

TEST(CodingTest, TruncationIsReportedAndSticky) {
  std::string s =
      "\x05"
      "abc";  // claims 5 bytes, has 3
  ByteReader r(s);
  std::string_view v;
  EXPECT_FALSE(r.GetLengthPrefixed(&v));
  EXPECT_EQ(r.error(), CodingError::kTruncated);
  uint8_t b;
  EXPECT_FALSE(r.GetByte(&b));  // sticky even though bytes remain
  EXPECT_EQ(r.offset(), 1u);    // stays where the failing read started
}

TEST(CodingTest, OverlongAndOverflowingVarintsAreMalformed) {
  // 11 bytes with the continuation bit: longer than any uint64.
  std::string eleven(10, '\x80');
  eleven.push_back('\x01');
  ByteReader r1(eleven);
  uint64_t v;
  EXPECT_FALSE(r1.GetUvarint(&v));
  EXPECT_EQ(r1.error(), CodingError::kMalformed);
  // 10th byte > 1 sets bits beyond 64.
  std::string big(9, '\xff');
  big.push_back('\x02');
  ByteReader r2(big);
  EXPECT_FALSE(r2.GetUvarint(&v));
  EXPECT_EQ(r2.error(), CodingError::kMalformed);
  // A varint cut short is truncation, not malformation.
  ByteReader r3(std::string_view("\x80\x80", 2));
  EXPECT_FALSE(r3.GetUvarint(&v));
  EXPECT_EQ(r3.error(), CodingError::kTruncated);
}

TEST(CodingTest, MinimalModeRejectsRedundantZeroGroups) {
  const std::string_view padded("\x80\x00", 2);  // 0 in two bytes
  uint64_t v = 99;
  ByteReader any(padded);
  EXPECT_TRUE(any.GetUvarint(&v));
  EXPECT_EQ(v, 0u);
  ByteReader minimal(padded, ByteReader::Varints::kMinimal);
  EXPECT_FALSE(minimal.GetUvarint(&v));
  EXPECT_EQ(minimal.error(), CodingError::kMalformed);
  EXPECT_EQ(minimal.offset(), 0u);
  // Minimal multi-byte encodings and a lone zero are fine.
  ByteReader ok(std::string_view("\x00\xac\x02", 3), ByteReader::Varints::kMinimal);
  EXPECT_TRUE(ok.GetUvarint(&v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ok.GetUvarint(&v));
  EXPECT_EQ(v, 300u);
}

TEST(CodingTest, FailMarksMalformedOnce) {
  ByteReader r(std::string_view("\x01\x02", 2));
  EXPECT_FALSE(r.Fail());
  EXPECT_FALSE(r.Fail(CodingError::kTruncated));
  EXPECT_EQ(r.error(), CodingError::kMalformed);
}

}  // namespace
}  // namespace skald
