#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace skald::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(ExtendPortable(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(Value(""), 0u);
  // RFC 3720 (iSCSI) B.4 test vectors.
  std::string zeros(32, '\0'), ones(32, '\xff'), inc(32, 0), dec(32, 0);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<char>(i);
    dec[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Value(zeros), 0x8A9136AAu);
  EXPECT_EQ(Value(ones), 0x62A8AB43u);
  EXPECT_EQ(Value(inc), 0x46DD794Eu);
  EXPECT_EQ(Value(dec), 0x113FDB5Cu);
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnAllLengthsAndAlignments) {
  std::mt19937 rng(42);
  std::string buf(4096 + 16, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t off = 0; off < 9; ++off) {
    for (size_t len : {0, 1, 3, 7, 8, 9, 31, 32, 33, 63, 100, 1000, 4096}) {
      EXPECT_EQ(Extend(0, buf.data() + off, len), ExtendPortable(0, buf.data() + off, len))
          << off << " " << len;
    }
  }
}

TEST(Crc32cTest, ExtendComposes) {
  std::string s = "hello, structured world of logs";
  for (size_t split = 0; split <= s.size(); ++split) {
    uint32_t a = Value(s.data(), split);
    EXPECT_EQ(Extend(a, s.data() + split, s.size() - split), Value(s));
  }
}

}  // namespace
}  // namespace skald::crc32c
