// Test helpers for the push codecs: a flat, owning copy of a PushRequest (over
// the kit's entry type) that gtest can compare and print, and a tiny
// independent protobuf wire encoder.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "tests/testing/entries.h"
#include "wire/push.h"

namespace skald::wire::testing {

// zlib-compresses `in` in one call; window_bits: 16+15 gzip, 15 zlib, -15 raw deflate.
inline std::string Compress(const std::string& in, int window_bits,
                            int level = Z_BEST_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The kit's owning entry (tests/testing/entries.h): ts, line, metadata.
using FlatEntry = skald::testing::Entry;

struct FlatStream {
  std::string labels;
  std::vector<FlatEntry> entries;
  bool operator==(const FlatStream&) const = default;
};

inline std::vector<FlatStream> Flatten(const PushRequest& req) {
  std::vector<FlatStream> out;
  for (const PushStream& s : req.streams) {
    FlatStream fs{std::string(s.labels), {}};
    for (const PushEntry& e : s.entries) {
      FlatEntry fe{e.timestamp_ns, std::string(e.line), {}};
      for (const MetadataPair& p : req.MetadataOf(e)) {
        fe.metadata.emplace_back(std::string(p.name), std::string(p.value));
      }
      fs.entries.push_back(std::move(fe));
    }
    out.push_back(std::move(fs));
  }
  return out;
}

inline void PrintTo(const FlatStream& s, std::ostream* os) {
  *os << s.labels << ": [";
  for (const auto& e : s.entries) {
    PrintTo(e, os);
    *os << " ";
  }
  *os << "]";
}

// Minimal protobuf wire encoder, independent of the code under test.
inline std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
inline std::string Tag(uint64_t field, int wire) { return Varint(field << 3 | wire); }
inline std::string Len(uint64_t field, const std::string& payload) {
  return Tag(field, 2) + Varint(payload.size()) + payload;
}
inline std::string VarintField(uint64_t field, uint64_t v) { return Tag(field, 0) + Varint(v); }

}  // namespace skald::wire::testing
