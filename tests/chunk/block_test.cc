#include "chunk/block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

#include "core/coding.h"
#include "core/crc32c.h"
#include "test_util.h"

namespace skald::chunk {

namespace {

using testing::AddEntry;
using testing::AllocCounter;
using testing::BlockEntries;
using testing::RandomEntries;

constexpr Codec kAllCodecs[] = {Codec::kNone, Codec::kSnappy, Codec::kLz4, Codec::kZstd,
                                Codec::kGzip};

EncodedBlock MakeBlock(const std::vector<OwnedEntry>& entries, Codec codec) {
  BlockBuilder b;
  for (const auto& e : entries) AddEntry(&b, e);
  return b.Finish(codec);
}

// Recomputes the CRC trailer so that structural checks behind the checksum get exercised.
std::string Recrc(std::string bytes) {
  uint32_t crc = crc32c::Value(bytes.data(), bytes.size() - 4);
  std::string t;
  PutFixed32(&t, crc);
  bytes.replace(bytes.size() - 4, 4, t);
  return bytes;
}

class BlockCodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(BlockCodecTest, RoundTripWithMetadataEmptyLinesAndBinary) {
  auto entries = RandomEntries(3000, 1, -5'000'000'000, /*with_metadata=*/true);
  entries[0].line = "";
  entries[1].metadata = {{"a", ""}, {"", ""}, {"a", "a"}};
  EncodedBlock eb = MakeBlock(entries, GetParam());
  EXPECT_EQ(eb.meta.entries, entries.size());
  EXPECT_EQ(eb.meta.min_ts, entries.front().ts);
  EXPECT_EQ(eb.meta.max_ts, entries.back().ts);
  EXPECT_EQ(eb.meta.length, eb.bytes.size());
  if (GetParam() != Codec::kNone) {
    EXPECT_LT(eb.bytes.size(), eb.meta.uncompressed_size);
  }

  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  EXPECT_EQ(d.uncompressed_size(), eb.meta.uncompressed_size);
  ASSERT_EQ(d.size(), entries.size());
  EXPECT_EQ(BlockEntries(d), entries);
  // Columnar views agree with per-entry access.
  std::string all;
  for (const auto& e : entries) all += e.line;
  EXPECT_EQ(d.lines_data(), all);
  ASSERT_EQ(d.line_offsets().size(), entries.size() + 1);
  EXPECT_EQ(d.line_offsets().back(), all.size());
  for (size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(d.timestamps()[i], entries[i].ts);
}

TEST_P(BlockCodecTest, NoMetadataMeansZeroPairsEverywhere) {
  auto entries = RandomEntries(500, 2, 0, /*with_metadata=*/false);
  BlockBuilder b;
  for (const auto& e : entries) AddEntry(&b, e);
  const size_t raw = b.uncompressed_bytes();
  EncodedBlock eb = b.Finish(GetParam());
  EXPECT_EQ(eb.meta.uncompressed_size, raw) << "uncompressed_bytes() must predict the block";
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(d.metadata_count(i), 0u);
  EXPECT_EQ(BlockEntries(d), entries);
}

TEST_P(BlockCodecTest, UncompressedBytesMatchesEncodedSizeWithMetadata) {
  auto entries = RandomEntries(500, 3, 0, /*with_metadata=*/true);
  BlockBuilder b;
  for (const auto& e : entries) AddEntry(&b, e);
  const size_t raw = b.uncompressed_bytes();
  EXPECT_EQ(b.Finish(GetParam()).meta.uncompressed_size, raw);
}

TEST_P(BlockCodecTest, TimestampsOnlyDecodesJustTheTimeColumn) {
  auto entries = RandomEntries(1000, 4, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d, BlockColumns::kTimestampsOnly).ok());
  EXPECT_FALSE(d.has_lines());
  ASSERT_EQ(d.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(d.ts(i), entries[i].ts);
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  EXPECT_TRUE(d.has_lines());
}

TEST_P(BlockCodecTest, DecodeReusesBuffersWithoutAllocating) {
  auto entries = RandomEntries(2000, 5, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());  // warm up buffers and codec contexts
  AllocCounter::Start();
  Status s;
  for (int i = 0; i < 5; ++i) s = DecodeBlock(eb.bytes, &d);
  EXPECT_EQ(AllocCounter::Stop(), 0u);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(BlockEntries(d), entries);
}

TEST_P(BlockCodecTest, EveryByteFlipAndTruncationIsCorruption) {
  auto entries = RandomEntries(200, 6, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  DecodedBlock d;
  for (size_t i = 0; i < eb.bytes.size(); ++i) {
    std::string bad = eb.bytes;
    bad[i] ^= 0x20;
    EXPECT_EQ(DecodeBlock(bad, &d).code(), StatusCode::kCorruption) << i;
  }
  for (size_t n = 0; n < eb.bytes.size(); n += 1 + n / 16) {
    EXPECT_EQ(DecodeBlock(std::string_view(eb.bytes).substr(0, n), &d).code(),
              StatusCode::kCorruption)
        << n;
  }
}

TEST_P(BlockCodecTest, MutationsBehindValidChecksumNeverCrash) {
  auto entries = RandomEntries(100, 7, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  std::mt19937 rng(99);
  DecodedBlock d;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bad = eb.bytes;
    int flips = 1 + rng() % 3;
    for (int f = 0; f < flips; ++f) bad[rng() % (bad.size() - 4)] = static_cast<char>(rng());
    Status s = DecodeBlock(Recrc(bad), &d);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
      continue;
    }
    // A "successful" decode must still be internally consistent.
    ASSERT_EQ(d.line_offsets().size(), d.size() + 1);
    EXPECT_EQ(d.line_offsets().back(), d.lines_data().size());
    for (size_t i = 0; i < d.size(); ++i) {
      (void)d.line(i);
      for (size_t j = 0; j < d.metadata_count(i); ++j) (void)d.metadata(i, j);
    }
  }
}

// Where each column's stored bytes sit inside an encoded block (docs/formats/chunk.md):
// offset and length per column, in the order TS, LEN, LINES, META, and each column's codec.
struct ColumnLayout {
  size_t offset[4] = {};
  size_t stored[4] = {};
  uint8_t codec[4] = {};
};

ColumnLayout LayoutOf(std::string_view block) {
  ColumnLayout l;
  ByteReader r(block.substr(0, block.size() - 4));
  uint64_t n = 0, raw = 0, stored = 0;
  EXPECT_TRUE(r.GetUvarint(&n));
  for (int k = 0; k < 4; ++k) {
    EXPECT_TRUE(r.GetByte(&l.codec[k]) && r.GetUvarint(&raw) && r.GetUvarint(&stored));
    l.stored[k] = static_cast<size_t>(stored);
  }
  size_t at = block.size() - 4 - r.remaining();
  for (int k = 0; k < 4; ++k) {
    l.offset[k] = at;
    at += l.stored[k];
  }
  return l;
}

constexpr int kLinesColumn = 2;

struct ColumnCase {
  const char* name;
  BlockColumns cols;
  bool lengths, lines, metadata;
};
constexpr ColumnCase kColumnCases[] = {
    {"timestamps", BlockColumns::kTimestampsOnly, false, false, false},
    {"lengths", BlockColumns::kLengths, true, false, false},
    {"metadata", BlockColumns::kMetadata, false, false, true},
    {"lengths+metadata", BlockColumns::kLengths | BlockColumns::kMetadata, true, false, true},
    {"lines", BlockColumns::kLines, true, true, false},
    {"all", BlockColumns::kAll, true, true, true},
};

// Every column subset decodes exactly what the full decode gives for those columns, with or
// without metadata in the block; header sizes are known whatever was decoded.
TEST_P(BlockCodecTest, EveryColumnSubsetAgreesWithTheFullDecode) {
  for (bool with_metadata : {false, true}) {
    auto entries = RandomEntries(1500, 8, 1, with_metadata);
    EncodedBlock eb = MakeBlock(entries, GetParam());
    DecodedBlock full;
    ASSERT_TRUE(DecodeBlock(eb.bytes, &full).ok());
    EXPECT_EQ(full.has_metadata(), with_metadata);
    for (const ColumnCase& c : kColumnCases) {
      SCOPED_TRACE(std::string(c.name) + (with_metadata ? " with metadata" : " without"));
      DecodedBlock d;
      ASSERT_TRUE(DecodeBlock(eb.bytes, &d, c.cols).ok());
      ASSERT_EQ(d.size(), entries.size());
      EXPECT_EQ(d.has_lengths(), c.lengths);
      EXPECT_EQ(d.has_lines(), c.lines);
      EXPECT_EQ(d.has_metadata(), c.metadata && with_metadata);
      EXPECT_EQ(d.uncompressed_size(), eb.meta.uncompressed_size);
      EXPECT_EQ(d.lines_raw_size(), full.lines_data().size());
      EXPECT_EQ(d.metadata_raw_size(), full.metadata_raw_size());
      EXPECT_EQ(d.metadata_raw_size() > 0, with_metadata);
      for (size_t i = 0; i < entries.size(); ++i) {
        ASSERT_EQ(d.ts(i), entries[i].ts);
        if (c.lengths) ASSERT_EQ(d.line_size(i), entries[i].line.size()) << i;
        if (c.lines) ASSERT_EQ(d.line(i), entries[i].line) << i;
        ASSERT_EQ(d.metadata_count(i), c.metadata ? entries[i].metadata.size() : 0u) << i;
        for (size_t j = 0; j < d.metadata_count(i); ++j) {
          ASSERT_EQ(d.metadata(i, j).name, entries[i].metadata[j].first);
          ASSERT_EQ(d.metadata(i, j).value, entries[i].metadata[j].second);
        }
      }
    }
  }
}

// The checksum covers the stored line bytes, so damage there is Corruption in every decode
// mode, including the ones that never decompress lines.
TEST_P(BlockCodecTest, DamagedLineBytesAreCorruptionInEveryColumnSubset) {
  auto entries = RandomEntries(1500, 10, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  const ColumnLayout l = LayoutOf(eb.bytes);
  ASSERT_GT(l.stored[kLinesColumn], 2u);
  for (size_t at : {l.offset[kLinesColumn], l.offset[kLinesColumn] + l.stored[kLinesColumn] / 2,
                    l.offset[kLinesColumn] + l.stored[kLinesColumn] - 1}) {
    std::string bad = eb.bytes;
    bad[at] ^= 0x01;
    for (const ColumnCase& c : kColumnCases) {
      DecodedBlock d;
      EXPECT_EQ(DecodeBlock(bad, &d, c.cols).code(), StatusCode::kCorruption)
          << c.name << " at " << at;
    }
  }
}

TEST_P(BlockCodecTest, DecodeWithoutLinesReusesBuffersWithoutAllocating) {
  auto entries = RandomEntries(2000, 11, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  DecodedBlock d;
  const BlockColumns cols = BlockColumns::kLengths | BlockColumns::kMetadata;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d, cols).ok());  // warm up
  AllocCounter::Start();
  Status s;
  for (int i = 0; i < 5; ++i) s = DecodeBlock(eb.bytes, &d, cols);
  EXPECT_EQ(AllocCounter::Stop(), 0u);
  ASSERT_TRUE(s.ok());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, BlockCodecTest, ::testing::ValuesIn(kAllCodecs),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

// Without kLines the line column is never decompressed: a compressed LINES column that can
// no longer be decompressed (garbage behind a valid checksum) fails only the decodes that
// ask for lines.
// (An uncompressed column is used in place, so only compressing codecs apply.)
class CompressedLinesTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CompressedLinesTest, LineColumnIsNotDecompressedUnlessAskedFor) {
  auto entries = RandomEntries(1500, 9, 1, true);
  EncodedBlock eb = MakeBlock(entries, GetParam());
  const ColumnLayout l = LayoutOf(eb.bytes);
  ASSERT_EQ(l.codec[kLinesColumn], static_cast<uint8_t>(GetParam())) << "LINES must compress";
  std::string bad = eb.bytes;
  std::fill_n(bad.begin() + static_cast<ptrdiff_t>(l.offset[kLinesColumn]), l.stored[kLinesColumn],
              '\0');
  bad = Recrc(bad);
  for (const ColumnCase& c : kColumnCases) {
    SCOPED_TRACE(c.name);
    DecodedBlock d;
    Status st = DecodeBlock(bad, &d, c.cols);
    if (c.lines) {
      EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
      continue;
    }
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(d.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      ASSERT_EQ(d.ts(i), entries[i].ts);
      if (c.lengths) ASSERT_EQ(d.line_size(i), entries[i].line.size());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CompressingCodecs, CompressedLinesTest,
                         ::testing::Values(Codec::kSnappy, Codec::kLz4, Codec::kZstd, Codec::kGzip),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST(AllocCounterTest, CountsHeapAllocations) {
  // Self-check: the no-allocation tests below are only meaningful if counting works.
  AllocCounter::Start();
  auto* s = new std::string(100, 'x');
  const size_t n = AllocCounter::Stop();
  delete s;
  EXPECT_GE(n, 2u);
}

TEST(BlockTest, EmptyBuilderGivesEmptyBlock) {
  BlockBuilder b;
  EXPECT_EQ(b.entries(), 0u);
  EXPECT_EQ(b.uncompressed_bytes(), 0u);
  EncodedBlock eb = b.Finish(Codec::kZstd);
  EXPECT_EQ(eb.meta.entries, 0u);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.lines_data(), "");
}

TEST(BlockTest, FinishResetsBuilderIncludingSymbols) {
  BlockBuilder b;
  MetadataPair md1[] = {{"k", "v1"}, {"x", "y"}};
  b.Add(10, "first", md1);
  EncodedBlock one = b.Finish(Codec::kSnappy);
  EXPECT_EQ(b.entries(), 0u);
  MetadataPair md2[] = {{"other", "v2"}};
  b.Add(5, "second", md2);
  EncodedBlock two = b.Finish(Codec::kSnappy);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(two.bytes, &d).ok());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.line(0), "second");
  EXPECT_EQ(d.ts(0), 5);
  ASSERT_EQ(d.metadata_count(0), 1u);
  EXPECT_EQ(d.metadata(0, 0).name, "other");
  EXPECT_EQ(d.metadata(0, 0).value, "v2");
  EXPECT_EQ(two.meta.min_ts, 5);
}

TEST(BlockTest, ExtremeAndOutOfOrderTimestampsSurvive) {
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> ts = {kMax, kMin, -1, 0, kMax, -5'000'000'000, kMin, 42};
  BlockBuilder b;
  for (int64_t t : ts) b.Add(t, "x", {});
  EncodedBlock eb = b.Finish(Codec::kNone);
  EXPECT_EQ(eb.meta.min_ts, kMin);
  EXPECT_EQ(eb.meta.max_ts, kMax);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  ASSERT_EQ(d.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(d.ts(i), ts[i]);
}

TEST(BlockTest, SymbolsAreSharedWithinABlock) {
  // 1000 entries with the same pair must cost ~2 bytes each, not the strings each time.
  BlockBuilder b;
  std::string name(100, 'n'), value(100, 'v');
  MetadataPair md[] = {{name, value}};
  for (int i = 0; i < 1000; ++i) b.Add(i, "", md);
  EXPECT_LT(b.uncompressed_bytes(), 1000u * 8 + 300);
  EncodedBlock eb = b.Finish(Codec::kNone);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  for (size_t i = 0; i < d.size(); ++i) {
    ASSERT_EQ(d.metadata_count(i), 1u);
    EXPECT_EQ(d.metadata(i, 0).name, name);
    EXPECT_EQ(d.metadata(i, 0).value, value);
  }
}

TEST(BlockTest, ManyDistinctSymbolsGrowTheTable) {
  BlockBuilder b;
  std::vector<std::string> vals;
  for (int i = 0; i < 20000; ++i) vals.push_back("v" + std::to_string(i % 7000));
  for (int i = 0; i < 20000; ++i) {
    MetadataPair md[] = {{"id", vals[i]}};
    b.Add(i, "l", md);
  }
  EncodedBlock eb = b.Finish(Codec::kLz4);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(d.metadata(i, 0).value, vals[i]);
}

TEST(BlockTest, AddDoesNotAllocateOnceWarm) {
  auto entries = RandomEntries(2000, 8, 0, true);
  BlockBuilder b;
  for (const auto& e : entries) AddEntry(&b, e);
  (void)b.Finish(Codec::kZstd);
  std::vector<std::vector<MetadataPair>> mds;
  for (const auto& e : entries) {
    mds.emplace_back();
    for (const auto& [k, v] : e.metadata) mds.back().push_back({k, v});
  }
  AllocCounter::Start();
  for (size_t i = 0; i < entries.size(); ++i) b.Add(entries[i].ts, entries[i].line, mds[i]);
  EXPECT_EQ(AllocCounter::Stop(), 0u);
  EXPECT_EQ(b.entries(), entries.size());
}

TEST(BlockTest, IncompressibleColumnsAreStoredRaw) {
  std::mt19937 rng(3);
  BlockBuilder b;
  std::string line(1000, '\0');
  for (int i = 0; i < 50; ++i) {
    for (char& c : line) c = static_cast<char>(rng());
    b.Add(i, line, {});
  }
  EncodedBlock eb = b.Finish(Codec::kZstd);
  // Raw storage: the block is barely larger than its content (no compression blow-up).
  EXPECT_LT(eb.bytes.size(), eb.meta.uncompressed_size + 32);
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(eb.bytes, &d).ok());
  EXPECT_EQ(d.size(), 50u);
}

TEST(BlockTest, StructuralCorruptionBehindValidCrc) {
  // Entry count larger than the columns can hold.
  BlockBuilder b;
  b.Add(1, "abc", {});
  b.Add(2, "de", {});
  std::string bytes = b.Finish(Codec::kNone).bytes;
  DecodedBlock d;
  ASSERT_TRUE(DecodeBlock(bytes, &d).ok());
  std::string bad = bytes;
  bad[0] = 3;  // entry count 2 -> 3
  EXPECT_EQ(DecodeBlock(Recrc(bad), &d).code(), StatusCode::kCorruption);
  bad = bytes;
  bad[1] = 9;  // ts column codec byte -> unknown codec
  EXPECT_EQ(DecodeBlock(Recrc(bad), &d).code(), StatusCode::kCorruption);
  // Layout (no metadata, all raw): n | 4x(codec raw stored) | ts(2) | len(2) | lines(5) | crc.
  const size_t len_col = 1 + 4 * 3 + 2;
  bad = bytes;
  bad[len_col] = 4;  // first line length 3 -> 4: lengths add up to 6 != 5
  EXPECT_EQ(DecodeBlock(Recrc(bad), &d).code(), StatusCode::kCorruption);
  bad = bytes;
  bad[len_col] = 10;  // exceeds line bytes
  EXPECT_EQ(DecodeBlock(Recrc(bad), &d).code(), StatusCode::kCorruption);
  bad = bytes;
  bad.insert(bad.size() - 4, "x");  // trailing byte inside the checksummed body
  EXPECT_EQ(DecodeBlock(Recrc(bad), &d).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace skald::chunk
