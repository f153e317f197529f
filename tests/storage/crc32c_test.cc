// CRC-32C: known vectors (RFC 3720 B.4), incremental extension, and agreement
// of the hardware and table implementations.
#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace skald::storage {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32cPortable("123456789"), 0xE3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    std::string_view a = std::string_view(data).substr(0, cut);
    std::string_view b = std::string_view(data).substr(cut);
    EXPECT_EQ(Crc32c(b, Crc32c(a)), Crc32c(data)) << cut;
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnAllLengthsAndAlignments) {
  std::mt19937_64 rng(7);
  std::string buf(300, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t off = 0; off < 9; ++off) {
    for (size_t len = 0; len + off <= 260; ++len) {
      std::string_view s = std::string_view(buf).substr(off, len);
      ASSERT_EQ(Crc32c(s), Crc32cPortable(s)) << off << " " << len;
    }
  }
}

}  // namespace
}  // namespace skald::storage
