#include "chunk/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace skald::chunk {
namespace {

constexpr Codec kAllCodecs[] = {Codec::kNone, Codec::kSnappy, Codec::kLz4, Codec::kZstd,
                                Codec::kGzip};

TEST(CodecTest, ParseAndNameRoundTrip) {
  for (Codec c : kAllCodecs) {
    auto p = ParseCodec(CodecName(c));
    ASSERT_TRUE(p.ok()) << CodecName(c);
    EXPECT_EQ(*p, c);
  }
  EXPECT_EQ(CodecName(Codec::kZstd), "zstd");
  EXPECT_EQ(*ParseCodec("lz4-256k"), Codec::kLz4);
  EXPECT_EQ(*ParseCodec("flate"), Codec::kGzip);
  auto bad = ParseCodec("brotli");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseCodec("ZSTD").ok());
  EXPECT_EQ(CodecName(static_cast<Codec>(9)), "unknown");
}

std::string SampleText(size_t n) {
  std::mt19937 rng(7);
  std::string s;
  while (s.size() < n) {
    s += "level=info msg=\"request served\" status=" + std::to_string(200 + rng() % 5) +
         " duration_ms=" + std::to_string(rng() % 1000) + "\n";
  }
  s.resize(n);
  return s;
}

class CodecRoundTrip : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecRoundTrip, CompressesAndRestoresExactly) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{300000}}) {
    std::string in = SampleText(n), comp, back = "garbage to be replaced";
    ASSERT_TRUE(Compress(GetParam(), in, &comp).ok());
    if (GetParam() != Codec::kNone && n >= 300000) {
      EXPECT_LT(comp.size(), in.size() / 3);
    }
    ASSERT_TRUE(Decompress(GetParam(), comp, in.size(), &back).ok()) << n;
    EXPECT_EQ(back, in);
  }
}

TEST_P(CodecRoundTrip, WrongSizeOrGarbageIsCorruption) {
  std::string in = SampleText(5000), comp, back;
  ASSERT_TRUE(Compress(GetParam(), in, &comp).ok());
  EXPECT_EQ(Decompress(GetParam(), comp, in.size() + 1, &back).code(), StatusCode::kCorruption);
  EXPECT_EQ(Decompress(GetParam(), comp, in.size() - 1, &back).code(), StatusCode::kCorruption);
  // Absurd claimed size must be rejected before allocating.
  EXPECT_EQ(Decompress(GetParam(), "abc", size_t{1} << 40, &back).code(), StatusCode::kCorruption);
  if (GetParam() != Codec::kNone) {
    std::mt19937 rng(1);
    for (int iter = 0; iter < 200; ++iter) {
      std::string junk = comp;
      junk[rng() % junk.size()] ^= static_cast<char>(1 + rng() % 255);
      Status s = Decompress(GetParam(), junk, in.size(), &back);
      // Some flips may still decode (e.g. inside literals); it must never crash.
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kCorruption);
      }
    }
  }
}

TEST(CodecTest, CompressAppendKeepsPrefix) {
  std::string out = "prefix";
  ASSERT_TRUE(CompressAppend(Codec::kZstd, SampleText(1000), &out).ok());
  EXPECT_EQ(out.substr(0, 6), "prefix");
  std::string back;
  ASSERT_TRUE(Decompress(Codec::kZstd, std::string_view(out).substr(6), 1000, &back).ok());
  EXPECT_EQ(back, SampleText(1000));
}

TEST(CodecTest, UnknownCodec) {
  std::string out;
  EXPECT_EQ(Compress(static_cast<Codec>(7), "x", &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress(static_cast<Codec>(7), "x", 1, &out).code(), StatusCode::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecRoundTrip, ::testing::ValuesIn(kAllCodecs),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

}  // namespace
}  // namespace skald::chunk
