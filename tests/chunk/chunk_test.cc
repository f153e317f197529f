#include "chunk/chunk.h"

#include <gtest/gtest.h>

#include <random>

#include "core/coding.h"
#include "core/crc32c.h"
#include "test_util.h"

namespace skald::chunk {
namespace {

using testing::AddEntry;
using testing::AllocCounter;
using testing::BlockEntries;
using testing::BuildChunk;
using testing::RandomEntries;

constexpr Codec kAllCodecs[] = {Codec::kNone, Codec::kSnappy, Codec::kLz4, Codec::kZstd,
                                Codec::kGzip};

class ChunkCodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(ChunkCodecTest, RoundTripManyEntriesAcrossBlockBoundaries) {
  auto entries = RandomEntries(20000, 11, 1'700'000'000'000'000'000, true);
  std::vector<BlockMeta> metas;
  std::string chunk = BuildChunk(entries, GetParam(), 16 << 10, &metas);
  ASSERT_GT(metas.size(), 10u);

  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ChunkHeader& h = r->header();
  EXPECT_EQ(h.version, kChunkFormatVersion);
  EXPECT_EQ(h.codec, GetParam());
  EXPECT_EQ(h.tenant, "tenant-a");
  EXPECT_EQ(h.fingerprint, 0x0123456789abcdefull);
  EXPECT_EQ(h.labels, R"({app="x", env="prod"})");
  EXPECT_EQ(h.min_ts, entries.front().ts);
  EXPECT_EQ(h.max_ts, entries.back().ts);
  EXPECT_EQ(h.entries, entries.size());

  ASSERT_EQ(r->blocks().size(), metas.size());
  uint64_t expect_offset = r->blocks()[0].offset;
  for (size_t i = 0; i < metas.size(); ++i) {
    const BlockMeta& m = r->blocks()[i];
    EXPECT_EQ(m.entries, metas[i].entries);
    EXPECT_EQ(m.min_ts, metas[i].min_ts);
    EXPECT_EQ(m.max_ts, metas[i].max_ts);
    EXPECT_EQ(m.length, metas[i].length);
    EXPECT_EQ(m.uncompressed_size, metas[i].uncompressed_size);
    EXPECT_EQ(m.offset, expect_offset);
    expect_offset += m.length;
  }
  EXPECT_EQ(expect_offset, chunk.size());

  std::vector<OwnedEntry> back;
  ASSERT_TRUE(DecodeChunkEntries(chunk, &back).ok());
  EXPECT_EQ(back, entries);
}

TEST_P(ChunkCodecTest, ReadBlockReusesBuffersWithoutAllocating) {
  auto entries = RandomEntries(4000, 12, 0, true);
  std::string chunk = BuildChunk(entries, GetParam(), 32 << 10);
  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok());
  DecodedBlock d;
  for (size_t i = 0; i < r->blocks().size(); ++i) ASSERT_TRUE(r->ReadBlock(i, &d).ok());
  // Steady state: the buffers have grown to the largest block.
  AllocCounter::Start();
  Status s;
  for (size_t i = 0; i < r->blocks().size() && s.ok(); ++i) s = r->ReadBlock(i, &d);
  EXPECT_EQ(AllocCounter::Stop(), 0u);
  EXPECT_TRUE(s.ok());
}

TEST_P(ChunkCodecTest, EveryByteFlipIsDetected) {
  auto entries = RandomEntries(150, 13, -100, true);
  std::string chunk = BuildChunk(entries, GetParam(), 2 << 10);
  ASSERT_TRUE(ChunkReader::Open(chunk).ok());
  DecodedBlock d;
  for (size_t i = 0; i < chunk.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string bad = chunk;
      bad[i] ^= static_cast<char>(mask);
      auto r = ChunkReader::Open(bad);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << i;
        continue;
      }
      Status first_error;
      for (size_t b = 0; b < r->blocks().size() && first_error.ok(); ++b) {
        first_error = r->ReadBlock(b, &d);
      }
      EXPECT_EQ(first_error.code(), StatusCode::kCorruption) << "undetected flip at " << i;
    }
  }
}

TEST_P(ChunkCodecTest, TruncationAndTrailingBytesAreCorruption) {
  auto entries = RandomEntries(300, 14, 5, true);
  std::string chunk = BuildChunk(entries, GetParam(), 4 << 10);
  for (size_t n = 0; n < chunk.size(); ++n) {
    auto r = ChunkReader::Open(std::string_view(chunk).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  auto r = ChunkReader::Open(chunk + '\0');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

// ReadColumns decodes what ReadBlock decodes for the requested columns, and checks the
// block against its index entry the same way.
TEST_P(ChunkCodecTest, ReadColumnsWithoutLinesMatchesReadBlock) {
  auto entries = RandomEntries(5000, 12, 1'700'000'000'000'000'000, true);
  std::string chunk = BuildChunk(entries, GetParam(), 16 << 10);
  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GT(r->blocks().size(), 2u);
  DecodedBlock full, part;
  for (size_t b = 0; b < r->blocks().size(); ++b) {
    ASSERT_TRUE(r->ReadBlock(b, &full).ok());
    ASSERT_TRUE(r->ReadColumns(b, &part, BlockColumns::kLengths | BlockColumns::kMetadata).ok());
    EXPECT_FALSE(part.has_lines());
    ASSERT_EQ(part.size(), full.size());
    for (size_t i = 0; i < full.size(); ++i) {
      ASSERT_EQ(part.ts(i), full.ts(i));
      ASSERT_EQ(part.line_size(i), full.line(i).size());
      ASSERT_EQ(part.metadata_count(i), full.metadata_count(i));
    }
  }
  EXPECT_EQ(r->ReadColumns(r->blocks().size(), &part, BlockColumns::kMetadata).code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, ChunkCodecTest, ::testing::ValuesIn(kAllCodecs),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST(ChunkTest, BlocksInAnyTimeOrderWithNegativeTimestamps) {
  // Block 2 starts before block 1 ended (overlap) and block 3 is entirely earlier
  // (a negative delta across blocks), with negative timestamps throughout.
  std::vector<std::vector<int64_t>> blocks = {
      {-1000, -500, -500, 10}, {-700, -600, 20}, {-9'000'000'000, -8'999'999'999}};
  ChunkWriter w(Codec::kZstd, "t", 7, "{a=\"b\"}");
  BlockBuilder bb;
  for (const auto& ts : blocks) {
    for (int64_t t : ts) bb.Add(t, "line " + std::to_string(t), {});
    w.AddBlock(bb.Finish(Codec::kZstd));
  }
  EXPECT_EQ(w.block_count(), 3u);
  EXPECT_EQ(w.entries(), 9u);
  std::string chunk = w.Finish();
  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header().min_ts, -9'000'000'000);
  EXPECT_EQ(r->header().max_ts, 20);
  ASSERT_EQ(r->blocks().size(), 3u);
  DecodedBlock d;
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_EQ(r->blocks()[b].min_ts, blocks[b].front());
    EXPECT_EQ(r->blocks()[b].max_ts, blocks[b].back());
    ASSERT_TRUE(r->ReadBlock(b, &d).ok());
    ASSERT_EQ(d.size(), blocks[b].size());
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_EQ(d.ts(i), blocks[b][i]);
      EXPECT_EQ(d.line(i), "line " + std::to_string(blocks[b][i]));
    }
    ASSERT_TRUE(r->ReadTimestamps(b, &d).ok());
    EXPECT_FALSE(d.has_lines());
    EXPECT_EQ(d.ts(d.size() - 1), blocks[b].back());
  }
}

TEST(ChunkTest, ReencodeMergesSmallBlocksKeepsEntriesAndAddsFilters) {
  auto entries = RandomEntries(3000, 42, 1'000'000, /*with_metadata=*/true);
  // Small provisional blocks without filters, as the ingester's heads are cut.
  BlockBuilder bb;
  bb.set_build_filter(false);
  ChunkWriter w(Codec::kZstd, "tenant-a", 99, R"({app="x"})");
  for (const OwnedEntry& e : entries) {
    AddEntry(&bb, e);
    if (bb.uncompressed_bytes() >= 2000) w.AddBlock(bb.Finish(Codec::kZstd));
  }
  if (bb.entries()) w.AddBlock(bb.Finish(Codec::kZstd));
  const std::string small = w.Finish();
  auto before = ChunkReader::Open(small);
  ASSERT_TRUE(before.ok());
  for (size_t i = 0; i < before->blocks().size(); ++i) EXPECT_TRUE(before->block_filter(i).empty());

  for (int level : {0, 1, 9}) {
    SCOPED_TRACE(level);
    std::vector<BlockMeta> metas;
    auto big = ReencodeChunk(small, {.block_size = 32 << 10, .codec = Codec::kZstd, .level = level},
                             &metas);
    ASSERT_TRUE(big.ok()) << big.status().ToString();
    auto r = ChunkReader::Open(*big);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->header().tenant, "tenant-a");
    EXPECT_EQ(r->header().fingerprint, 99u);
    EXPECT_EQ(r->header().labels, R"({app="x"})");
    EXPECT_EQ(r->header().entries, entries.size());
    ASSERT_EQ(metas.size(), r->blocks().size());
    EXPECT_LT(r->blocks().size(), before->blocks().size() / 8);
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      EXPECT_EQ(metas[i].offset, r->blocks()[i].offset);
      EXPECT_FALSE(r->block_filter(i).empty()) << i;
      // Merged until the inputs hold block_size; merged metadata shares one symbol table,
      // so the block itself may be a little smaller.
      if (i + 1 < r->blocks().size()) {
        EXPECT_GE(r->blocks()[i].uncompressed_size, 30u << 10);
      }
    }
    std::vector<OwnedEntry> got;
    ASSERT_TRUE(DecodeChunkEntries(*big, &got).ok());
    EXPECT_EQ(got, entries);
  }
  // Higher levels never store more here.
  auto l1 = ReencodeChunk(small, {.block_size = 32 << 10, .codec = Codec::kZstd, .level = 1});
  auto l9 = ReencodeChunk(small, {.block_size = 32 << 10, .codec = Codec::kZstd, .level = 9});
  ASSERT_TRUE(l1.ok() && l9.ok());
  EXPECT_LE(l9->size(), l1->size());
}

TEST(ChunkTest, DetachFilterTakesTheOnlyBlocksFilterOut) {
  auto entries = RandomEntries(20, 7, 1'000'000, /*with_metadata=*/true);
  BlockBuilder bb;
  ChunkWriter w(Codec::kZstd, "tenant-a", 99, R"({app="x"})");
  for (const OwnedEntry& e : entries) AddEntry(&bb, e);
  w.AddBlock(bb.Finish(Codec::kZstd));
  const std::string one = w.Finish();
  auto before = ChunkReader::Open(one);
  ASSERT_TRUE(before.ok());
  const std::string want_filter(before->block_filter(0));
  ASSERT_FALSE(want_filter.empty());

  std::string rewritten = "untouched", filter = "untouched";
  // Over the limit: nothing moves.
  auto r = DetachFilter(one, want_filter.size() - 1, &rewritten, &filter);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(rewritten, "untouched");
  EXPECT_EQ(filter, "untouched");

  r = DetachFilter(one, want_filter.size(), &rewritten, &filter);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(*r);
  EXPECT_EQ(filter, want_filter);
  EXPECT_EQ(rewritten.size(), one.size() - want_filter.size());
  auto after = ChunkReader::Open(rewritten);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->block_filter(0).empty());
  EXPECT_EQ(after->header().tenant, "tenant-a");
  EXPECT_EQ(after->header().fingerprint, 99u);
  EXPECT_EQ(after->header().labels, R"({app="x"})");
  EXPECT_EQ(after->header().codec, Codec::kZstd);
  std::vector<OwnedEntry> got;
  ASSERT_TRUE(DecodeChunkEntries(rewritten, &got).ok());
  EXPECT_EQ(got, entries);
  // Once detached there is nothing left to take.
  std::string again, again_filter;
  r = DetachFilter(rewritten, 1 << 20, &again, &again_filter);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);

  // Two blocks: their filters stay.
  for (const OwnedEntry& e : entries) AddEntry(&bb, e);
  w.AddBlock(bb.Finish(Codec::kZstd));
  for (const OwnedEntry& e : entries) AddEntry(&bb, e);
  w.AddBlock(bb.Finish(Codec::kZstd));
  r = DetachFilter(w.Finish(), 1 << 20, &again, &again_filter);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);

  // Damaged input is an error, not a guess.
  std::string bad = one;
  bad[bad.size() / 2] ^= 1;
  bad[8] ^= 1;
  EXPECT_EQ(DetachFilter(bad, 1 << 20, &again, &again_filter).status().code(),
            StatusCode::kCorruption);
}

TEST(ChunkTest, ReencodePutsMergedBlocksInTimestampOrder) {
  // Sorted blocks that overlap in time (out-of-order pushes cut into different heads).
  ChunkWriter w(Codec::kNone, "t", 1, "{a=\"b\"}");
  BlockBuilder bb;
  for (int64_t t : {10, 20, 30}) bb.Add(t, "a" + std::to_string(t), {});
  w.AddBlock(bb.Finish(Codec::kNone));
  for (int64_t t : {15, 20, 25}) bb.Add(t, "b" + std::to_string(t), {});
  w.AddBlock(bb.Finish(Codec::kNone));
  for (int64_t t : {5, 50}) bb.Add(t, "c" + std::to_string(t), {});
  w.AddBlock(bb.Finish(Codec::kNone));
  auto out = ReencodeChunk(w.Finish(), {.block_size = 1 << 20, .codec = Codec::kNone});
  ASSERT_TRUE(out.ok());
  std::vector<OwnedEntry> got;
  ASSERT_TRUE(DecodeChunkEntries(*out, &got).ok());
  std::vector<std::string> lines;
  for (const auto& e : got) lines.push_back(e.line);
  // Stable: a20 (first block) stays before b20.
  EXPECT_EQ(lines,
            (std::vector<std::string>{"c5", "a10", "b15", "a20", "b20", "b25", "a30", "c50"}));
  auto r = ChunkReader::Open(*out);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blocks().size(), 1u);
  EXPECT_EQ(r->blocks()[0].min_ts, 5);
  EXPECT_EQ(r->blocks()[0].max_ts, 50);
  // Corrupt input is refused, not re-encoded.
  std::string bad = *out;
  bad[bad.size() / 2] ^= 0x20;
  EXPECT_FALSE(ReencodeChunk(bad, {}).ok());
}

TEST(ChunkTest, EmptyChunkAndEmptyBlocks) {
  ChunkWriter w(Codec::kGzip, "t", 1, "{}");
  BlockBuilder bb;
  w.AddBlock(bb.Finish(Codec::kGzip));  // no entries: ignored
  EXPECT_EQ(w.block_count(), 0u);
  EXPECT_EQ(w.compressed_bytes(), 0u);
  std::string chunk = w.Finish();
  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->header().entries, 0u);
  EXPECT_EQ(r->header().codec, Codec::kGzip);
  EXPECT_TRUE(r->blocks().empty());
  DecodedBlock d;
  EXPECT_EQ(r->ReadBlock(0, &d).code(), StatusCode::kInvalidArgument);
}

TEST(ChunkTest, CompressedBytesTracksBlocksAndFinishResets) {
  auto entries = RandomEntries(1000, 15, 0, false);
  BlockBuilder bb;
  ChunkWriter w(Codec::kLz4, "t", 1, "{}");
  size_t sum = 0, filters = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    AddEntry(&bb, entries[i]);
    if (i % 100 == 99) {
      EncodedBlock eb = bb.Finish(Codec::kLz4);
      sum += eb.bytes.size();
      filters += eb.filter.size();
      w.AddBlock(std::move(eb));
      EXPECT_EQ(w.compressed_bytes(), sum);
    }
  }
  EXPECT_EQ(w.block_count(), 10u);
  std::string chunk = w.Finish();
  EXPECT_GT(chunk.size(), sum);
  // Preamble, header and CRCs; ~16 B of index and a filter (+ its length) per block.
  EXPECT_LT(chunk.size(), sum + filters + 64 + 20 * 10);
  EXPECT_EQ(w.block_count(), 0u);
  EXPECT_EQ(w.compressed_bytes(), 0u);
  std::vector<OwnedEntry> back;
  ASSERT_TRUE(DecodeChunkEntries(chunk, &back).ok());
  EXPECT_EQ(back, entries);
}

TEST(ChunkTest, HeaderCodecIsRecordedEvenIfBlocksUseAnother) {
  // Blocks are self-describing per column; the header records the chunk's configured codec.
  BlockBuilder bb;
  bb.Add(1, std::string(1000, 'a'), {});
  ChunkWriter w(Codec::kSnappy, "t", 1, "{}");
  w.AddBlock(bb.Finish(Codec::kZstd));
  std::string chunk = w.Finish();
  auto r = ChunkReader::Open(chunk);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header().codec, Codec::kSnappy);
  DecodedBlock d;
  ASSERT_TRUE(r->ReadBlock(0, &d).ok());
  EXPECT_EQ(d.line(0), std::string(1000, 'a'));
}

// --- Forged chunks: valid checksums, inconsistent contents -------------------------------

struct Forge {
  std::string tenant = "t", labels = "{}";
  uint8_t version = kChunkFormatVersion, codec = 0;
  uint64_t fingerprint = 1, entries = 0;
  int64_t min_ts = 0, max_ts = 0;
  std::vector<BlockMeta> metas;  // entries/min/max/length/uncompressed used
  std::vector<std::string> blocks;
  std::vector<std::string> filters;  // version 2: one per block (the filter section)
  std::string filter_extra;          // version 2: appended to the filter section

  std::string Build() const {
    std::string header, index, out = "SKCH";
    PutUvarint(&header, tenant.size());
    header += tenant;
    PutFixed64(&header, fingerprint);
    PutUvarint(&header, labels.size());
    header += labels;
    PutUvarint(&header, ZigZagEncode(min_ts));
    PutUvarint(&header, ZigZagEncode(max_ts));
    PutUvarint(&header, entries);
    PutUvarint(&index, metas.size());
    for (const BlockMeta& m : metas) {
      PutUvarint(&index, m.entries);
      PutUvarint(&index, ZigZagEncode(m.min_ts));
      PutUvarint(&index, static_cast<uint64_t>(m.max_ts) - static_cast<uint64_t>(m.min_ts));
      PutUvarint(&index, m.length);
      PutUvarint(&index, m.uncompressed_size);
    }
    std::string fsec;
    for (const auto& f : filters) PutLengthPrefixed(&fsec, f);
    fsec += filter_extra;
    const bool v2 = version >= 2;
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(codec));
    out.append(2, '\0');
    PutFixed32(&out, header.size());
    PutFixed32(&out, index.size());
    if (v2) PutFixed32(&out, fsec.size());
    out += header;
    PutFixed32(&out, crc32c::Value(out));
    out += index;
    PutFixed32(&out, crc32c::Value(index));
    if (v2) {
      out += fsec;
      PutFixed32(&out, crc32c::Value(fsec));
    }
    for (const auto& b : blocks) out += b;
    return out;
  }
};

Forge ValidForge() {
  BlockBuilder bb;
  bb.Add(10, "a", {});
  bb.Add(20, "bb", {});
  EncodedBlock eb = bb.Finish(Codec::kNone);
  Forge f;
  f.entries = 2;
  f.min_ts = 10;
  f.max_ts = 20;
  f.metas = {eb.meta};
  f.blocks = {eb.bytes};
  f.filters = {eb.filter};
  return f;
}

Status OpenAndRead(const std::string& chunk) {
  auto r = ChunkReader::Open(chunk);
  if (!r.ok()) return r.status();
  DecodedBlock d;
  for (size_t i = 0; i < r->blocks().size(); ++i) SKALD_RETURN_IF_ERROR(r->ReadBlock(i, &d));
  return Status::OK();
}

TEST(ChunkForgeTest, ValidForgeOpens) {
  EXPECT_TRUE(OpenAndRead(ValidForge().Build()).ok());
  Forge v1 = ValidForge();
  v1.version = 1;  // no filter section
  EXPECT_TRUE(OpenAndRead(v1.Build()).ok());
  Forge none = ValidForge();
  none.filters = {""};  // a block without a filter
  EXPECT_TRUE(OpenAndRead(none.Build()).ok());
}

TEST(ChunkForgeTest, BadFilterSectionsAreCorruption) {
  auto expect_corrupt = [](const Forge& f, const char* what) {
    Status s = OpenAndRead(f.Build());
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << what << ": " << s.ToString();
  };
  Forge f = ValidForge();
  f.filters.clear();
  expect_corrupt(f, "fewer filters than blocks");
  f = ValidForge();
  f.filter_extra = "x";
  expect_corrupt(f, "trailing bytes in the filter section");
  f = ValidForge();
  f.filters[0][0] = 2;
  expect_corrupt(f, "unknown filter scheme");
  f = ValidForge();
  f.filters[0].pop_back();
  expect_corrupt(f, "filter shorter than its word count");
  f = ValidForge();
  f.filters = {std::string("\x01\x00", 2)};
  expect_corrupt(f, "zero words");
  f = ValidForge();
  f.filters = {std::string("\x01\x81\x10", 3) + std::string(2049 * 8, '\0')};
  expect_corrupt(f, "more than 2048 words");
}

TEST(ChunkForgeTest, InconsistenciesBehindValidChecksumsAreCorruption) {
  auto expect_corrupt = [](const Forge& f, const char* what) {
    Status s = OpenAndRead(f.Build());
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << what << ": " << s.ToString();
  };
  Forge f = ValidForge();
  f.version = 3;
  expect_corrupt(f, "future version");
  f = ValidForge();
  f.version = 0;
  expect_corrupt(f, "version 0");
  f = ValidForge();
  f.codec = 5;
  expect_corrupt(f, "unknown codec");
  f = ValidForge();
  f.entries = 3;
  expect_corrupt(f, "header entries != index");
  f = ValidForge();
  f.max_ts = 21;
  expect_corrupt(f, "header max != index");
  f = ValidForge();
  f.min_ts = 30;
  f.max_ts = 20;
  expect_corrupt(f, "min > max");
  f = ValidForge();
  f.metas[0].entries = 3;
  f.entries = 3;
  expect_corrupt(f, "index entries != block");
  f = ValidForge();
  f.metas[0].min_ts = 9;
  f.min_ts = 9;
  expect_corrupt(f, "index min_ts != block");
  f = ValidForge();
  f.metas[0].uncompressed_size += 1;
  expect_corrupt(f, "index uncompressed size != block");
  f = ValidForge();
  f.metas[0].length += 1;
  expect_corrupt(f, "block length past end");
  f = ValidForge();
  f.blocks[0] += "x";
  expect_corrupt(f, "trailing bytes");
  f = ValidForge();
  f.metas[0].entries = 0;
  f.entries = 0;
  expect_corrupt(f, "block with zero entries");
  f = ValidForge();
  f.metas[0].max_ts = std::numeric_limits<int64_t>::min() + 1;  // span wraps
  f.metas[0].min_ts = std::numeric_limits<int64_t>::max();
  expect_corrupt(f, "time span overflow");
}

TEST(ChunkTest, RandomMutationsNeverCrash) {
  auto entries = RandomEntries(200, 16, 0, true);
  std::string chunk = BuildChunk(entries, Codec::kSnappy, 2 << 10);
  std::mt19937 rng(5);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string bad = chunk;
    switch (iter % 3) {
      case 0:
        bad[rng() % bad.size()] = static_cast<char>(rng());
        break;
      case 1:
        bad.resize(rng() % bad.size());
        break;
      default:
        bad.insert(rng() % bad.size(), 1, static_cast<char>(rng()));
        break;
    }
    Status s = OpenAndRead(bad);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    }
  }
}

}  // namespace
}  // namespace skald::chunk
