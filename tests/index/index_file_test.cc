// Index files: exact bytes of a small file (pinned to docs/formats/index.md),
// round trips, chunk ordering and range filtering, writer validation, and
// corruption detection (every flipped bit and every truncation is reported as
// Corruption; structurally bad content behind valid checksums never crashes).
#include "index/index_file.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "chunk/gram_filter.h"
#include "index/mem_index.h"
#include "test_util.h"

namespace skald::index {
namespace {

using namespace skald::index::testing;  // NOLINT
using FPs = std::vector<uint64_t>;
using Strings = std::vector<std::string>;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

ChunkRef Chunk(uint64_t fp, int64_t min_ts, int64_t max_ts, std::string key, uint32_t entries = 1,
               uint64_t compressed = 10, uint64_t uncompressed = 20) {
  ChunkRef c;
  c.fingerprint = fp;
  c.min_ts = min_ts;
  c.max_ts = max_ts;
  c.entries = entries;
  c.compressed_bytes = compressed;
  c.uncompressed_bytes = uncompressed;
  c.key = std::move(key);
  return c;
}

std::string Hex(std::string_view b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

IndexFileReader MustOpen(std::string bytes) {
  auto r = IndexFileReader::Open(std::move(bytes));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// The detached filter of the worked example's second chunk: its one line is "oops".
std::string OopsFilter() {
  chunk::GramFilterBuilder b;
  b.AddLine("oops");
  std::string f;
  b.Finish(&f);
  return f;
}

ChunkRef WithFilter(ChunkRef c, std::string filter) {
  c.filter = std::move(filter);
  return c;
}

// The worked example of docs/formats/index.md.
std::string GoldenFile() {
  IndexFileWriter w;
  w.AddSeries(0x0102030405060708, L({{"a", "b"}}));
  w.AddChunk(
      WithFilter(Chunk(0x0102030405060708, 2000, 2000, "p/x#100+50", 1, 50, 60), OopsFilter()));
  w.AddChunk(Chunk(0x0102030405060708, 1000, 1500, "p/x#0+100", 3, 100, 300));
  auto bytes = w.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return *bytes;
}

TEST(IndexFileTest, GoldenBytesMatchTheFormatDocument) {
  // clang-format off
  const std::string expected =
      "534b495803000000"                    // header: "SKIX", version 3, reserved
      "03016101620470" "2f7823"             // symbols @8 (10): 3, "a", "b", "p/x#"
      "904151e0"                            //   crc
      "01" "0807060504030201" "01" "0001"   // series @22 (12): 1, fp, 1 label, a=b
      "b6063afd"                            //   crc
      "02"                                  // chunks @38 (43): 2 chunks
      "00" "f403" "03" "64" "ac02" "03" "04" "05302b313030" "00"  // +0, 500, 3, 100, 300,
                                            //   symbol 2 + 1, 4, "0+100", no filter
      "e807" "00" "01" "32" "3c" "00" "04" "063130302b3530"  // +1000, 0, 1, 50, 60,
                                            //   previous key, 4, "100+50",
      "0a" "01" "01" "0000000000004000"     //   filter: 10 bytes, scheme 1, 1 word
      "ec14b005"                            //   crc
      "01" "00" "0100" "01" "01" "0100"     // postings @85 (8): a -> {0}; a=b -> {0}
      "05048241"                            //   crc
      "0800000000000000" "0a00000000000000" // TOC @97: symbols
      "1600000000000000" "0c00000000000000" //   series
      "2600000000000000" "2b00000000000000" //   chunks
      "5500000000000000" "0800000000000000" //   postings
      "e803000000000000" "d007000000000000" //   min_ts 1000, max_ts 2000
      "0100000000000000" "0200000000000000" //   1 series, 2 chunks
      "735bd47d"                            //   TOC crc
      "534b4958";                           // trailing magic
  // clang-format on
  EXPECT_EQ(Hex(GoldenFile()), expected);
}

TEST(IndexFileTest, GoldenFileReadsBack) {
  IndexFileReader r = MustOpen(GoldenFile());
  EXPECT_EQ(r.size_bytes(), 201u);
  EXPECT_EQ(r.version(), 3);
  EXPECT_EQ(r.filter_bytes(), 10u);
  EXPECT_EQ(r.min_ts(), 1000);
  EXPECT_EQ(r.max_ts(), 2000);
  EXPECT_EQ(r.num_series(), 1u);
  EXPECT_EQ(r.num_chunks(), 2u);
  EXPECT_EQ(*r.LabelsOf(0x0102030405060708), L({{"a", "b"}}));
  EXPECT_EQ(r.Chunks(0x0102030405060708, kMin, kMax),
            (std::vector<ChunkRef>{
                Chunk(0x0102030405060708, 1000, 1500, "p/x#0+100", 3, 100, 300),
                WithFilter(Chunk(0x0102030405060708, 2000, 2000, "p/x#100+50", 1, 50, 60),
                           OopsFilter())}));
}

std::string Unhex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

TEST(IndexFileTest, DetachedFiltersRefuteChunksWhileTheyAreRead) {
  IndexFileReader r = MustOpen(GoldenFile());
  // A probe asking for "oops" keeps the chunk; one asking for "nope" refutes it; the chunk
  // without a filter is always kept.
  for (const std::string needle : {"oops", "OOPS", "nope"}) {
    FilterProbe probe = [&](std::string_view filter) {
      return chunk::GramFilter::Trusted(filter).MayContain(needle);
    };
    ChunkSelection sel;
    sel.probe = &probe;
    sel.copy_filters = false;
    std::vector<ChunkRef> got;
    const size_t n = r.AppendChunksAt(0, kMin, kMax, &got, &sel);
    const bool refuted = needle == "nope";
    EXPECT_EQ(n, refuted ? 1u : 2u) << needle;
    EXPECT_EQ(sel.refuted, refuted ? 1u : 0u) << needle;
    ASSERT_EQ(got.size(), n);
    EXPECT_EQ(got[0].key, "p/x#0+100");
    for (const ChunkRef& c : got) EXPECT_TRUE(c.filter.empty());
  }
  // Chunks outside the time range are neither probed nor counted.
  FilterProbe never = [](std::string_view) { return false; };
  ChunkSelection sel;
  sel.probe = &never;
  std::vector<ChunkRef> got;
  EXPECT_EQ(r.AppendChunksAt(0, kMin, 1999, &got, &sel), 1u);
  EXPECT_EQ(sel.refuted, 0u);
}

// The version 2 worked example of docs/formats/index.md (written before version 3, without
// detached filters): still read as it was.
TEST(IndexFileTest, Version2FilesStillRead) {
  // clang-format off
  const std::string v2 =
      "534b495802000000"                    // header: "SKIX", version 2, reserved
      "03016101620470" "2f7823"             // symbols @8 (10): 3, "a", "b", "p/x#"
      "904151e0"                            //   crc
      "01" "0807060504030201" "01" "0001"   // series @22 (12): 1, fp, 1 label, a=b
      "b6063afd"                            //   crc
      "02"                                  // chunks @38 (31): 2 chunks
      "00" "f403" "03" "64" "ac02" "03" "04" "05302b313030"  // +0, 500, 3, 100, 300,
                                            //   symbol 2 + 1, 4, "0+100"
      "e807" "00" "01" "32" "3c" "00" "04" "063130302b3530"  // +1000, 0, 1, 50, 60,
                                            //   previous key, 4, "100+50"
      "3a57ce68"                            //   crc
      "01" "00" "0100" "01" "01" "0100"     // postings @73 (8): a -> {0}; a=b -> {0}
      "05048241"                            //   crc
      "0800000000000000" "0a00000000000000" // TOC @85: symbols
      "1600000000000000" "0c00000000000000" //   series
      "2600000000000000" "1f00000000000000" //   chunks
      "4900000000000000" "0800000000000000" //   postings
      "e803000000000000" "d007000000000000" //   min_ts 1000, max_ts 2000
      "0100000000000000" "0200000000000000" //   1 series, 2 chunks
      "0aae3c0e"                            //   TOC crc
      "534b4958";                           // trailing magic
  // clang-format on
  IndexFileReader r = MustOpen(Unhex(v2));
  EXPECT_EQ(r.size_bytes(), 189u);
  EXPECT_EQ(r.version(), 2);
  EXPECT_EQ(r.filter_bytes(), 0u);
  EXPECT_EQ(
      r.Chunks(0x0102030405060708, kMin, kMax),
      (std::vector<ChunkRef>{Chunk(0x0102030405060708, 1000, 1500, "p/x#0+100", 3, 100, 300),
                             Chunk(0x0102030405060708, 2000, 2000, "p/x#100+50", 1, 50, 60)}));
}

// The version 1 worked example of docs/formats/index.md (written before version 2): still
// read as it was.
TEST(IndexFileTest, Version1FilesStillRead) {
  // clang-format off
  const std::string v1 =
      "534b495801000000"                    // header: "SKIX", version 1, reserved
      "0201610162"                          // symbols @8 (5): 2, "a", "b"
      "84912af8"                            //   crc
      "01" "0807060504030201" "01" "0001"   // series @17 (12): 1, fp, 1 label, a=b
      "b6063afd"                            //   crc
      "02"                                  // chunks @33 (24): 2 chunks
      "d00f" "f403" "03" "64" "ac02" "00" "04632f6b31"  // zz(1000), 500, 3, 100, 300, 0, "c/k1"
      "e807" "00" "01" "32" "3c" "03" "0132"            // +1000, 0, 1, 50, 60, 3, "2"
      "ded09ed1"                            //   crc
      "01" "00" "0100" "01" "01" "0100"     // postings @61 (8): a -> {0}; a=b -> {0}
      "05048241"                            //   crc
      "0800000000000000" "0500000000000000" // TOC @73: symbols
      "1100000000000000" "0c00000000000000" //   series
      "2100000000000000" "1800000000000000" //   chunks
      "3d00000000000000" "0800000000000000" //   postings
      "e803000000000000" "d007000000000000" //   min_ts 1000, max_ts 2000
      "0100000000000000" "0200000000000000" //   1 series, 2 chunks
      "4e2654a8"                            //   TOC crc
      "534b4958";                           // trailing magic
  // clang-format on
  IndexFileReader r = MustOpen(Unhex(v1));
  EXPECT_EQ(r.size_bytes(), 177u);
  EXPECT_EQ(r.min_ts(), 1000);
  EXPECT_EQ(r.max_ts(), 2000);
  EXPECT_EQ(*r.LabelsOf(0x0102030405060708), L({{"a", "b"}}));
  EXPECT_EQ(r.Chunks(0x0102030405060708, kMin, kMax),
            (std::vector<ChunkRef>{Chunk(0x0102030405060708, 1000, 1500, "c/k1", 3, 100, 300),
                                   Chunk(0x0102030405060708, 2000, 2000, "c/k2", 1, 50, 60)}));
  EXPECT_TRUE(r.HasChunks(0x0102030405060708, 1600, 2000));
  EXPECT_EQ(r.Select({}), FPs{0x0102030405060708});
}

TEST(IndexFileTest, RoundTripMatchesBruteForceAndMemIndex) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 10; ++round) {
    std::vector<Series> series = RandomSeries(rng, 80);
    IndexFileWriter w;
    MemIndex mem;
    std::map<uint64_t, std::vector<ChunkRef>> want_chunks;
    for (const auto& s : series) {
      w.AddSeries(s.fp, s.labels);
      mem.Add(s.fp, s.labels);
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        int64_t min = static_cast<int64_t>(rng() % 100000) - 50000;
        // Chunk objects, packed chunks of a few packs (keys coded against the pack's
        // prefix) and keys with several '#'.
        const std::string id = std::to_string(s.fp) + "+" + std::to_string(i);
        std::string key;
        switch (rng() % 3) {
          case 0:
            key = "chunks/t/" + std::to_string(s.fp) + "/" + std::to_string(i);
            break;
          case 1:
            key = "packs/t/" + std::to_string(rng() % 3) + "#" + id;
            break;
          default:
            key = "#" + std::to_string(rng() % 2) + "#" + id;
            break;
        }
        ChunkRef c = Chunk(s.fp, min, min + static_cast<int64_t>(rng() % 1000), key,
                           static_cast<uint32_t>(rng()), rng(), rng() % 1000);
        if (rng() % 2 == 0) {  // a detached filter of the chunk's "line", its id
          chunk::GramFilterBuilder b;
          b.AddLine(id);
          b.Finish(&c.filter);
        }
        w.AddChunk(c);
        want_chunks[s.fp].push_back(c);
      }
    }
    auto bytes = w.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    IndexFileReader r = MustOpen(*bytes);
    ASSERT_EQ(r.num_series(), series.size());
    for (const auto& s : series) {
      ASSERT_EQ(*r.LabelsOf(s.fp), s.labels);
      std::vector<ChunkRef> want = want_chunks[s.fp];
      std::sort(want.begin(), want.end(), [](const ChunkRef& a, const ChunkRef& b) {
        return std::tie(a.min_ts, a.max_ts, a.key) < std::tie(b.min_ts, b.max_ts, b.key);
      });
      ASSERT_EQ(r.Chunks(s.fp, kMin, kMax), want);
    }
    EXPECT_EQ(r.LabelNames(), mem.LabelNames());
    for (const auto& name : mem.LabelNames()) EXPECT_EQ(r.LabelValues(name), mem.LabelValues(name));
    for (int q = 0; q < 100; ++q) {
      std::vector<Matcher> ms = RandomMatchers(rng);
      ASSERT_EQ(r.Select(ms), BruteForce(series, ms)) << Describe(ms);
      // The ordinal accessors agree with the fingerprint ones, series by series.
      std::vector<uint64_t> fps;
      for (uint64_t ord : r.SelectOrdinals(ms)) {
        const uint64_t fp = r.FingerprintAt(ord);
        fps.push_back(fp);
        ASSERT_EQ(r.LabelsAt(ord), *r.LabelsOf(fp));
        const int64_t from = static_cast<int64_t>(rng() % 100000) - 50000;
        std::vector<ChunkRef> got = {Chunk(1, 0, 0, "kept")};  // appended after what is there
        const size_t added = r.AppendChunksAt(ord, from, from + 2000, &got);
        ASSERT_EQ(added, got.size() - 1);
        got.erase(got.begin());
        ASSERT_EQ(got, r.Chunks(fp, from, from + 2000));
      }
      ASSERT_EQ(fps, r.Select(ms));
    }
  }
}

TEST(IndexFileTest, SelectSemanticsOnFile) {
  IndexFileWriter w;
  w.AddSeries(1, L({{"app", "api"}, {"env", "prod"}}));
  w.AddSeries(2, L({{"app", "web"}}));
  w.AddSeries(3, L({{"job", "x"}, {"pod", ""}}));
  IndexFileReader r = MustOpen(*w.Finish());
  EXPECT_EQ(r.Select({}), (FPs{1, 2, 3}));
  EXPECT_EQ(r.Select({Eq("env", "")}), (FPs{2, 3}));
  EXPECT_EQ(r.Select({Neq("app", "api")}), (FPs{2, 3}));
  EXPECT_EQ(r.Select({Re("app", "api|web")}), (FPs{1, 2}));
  EXPECT_EQ(r.Select({Nre("app", ".+")}), (FPs{3}));
  EXPECT_EQ(r.Select({Eq("pod", "")}), (FPs{1, 2, 3}));  // empty value == absent
  EXPECT_EQ(r.Select({Eq("nope", "x")}), FPs{});
  EXPECT_EQ(r.LabelNames(), (Strings{"app", "env", "job"}));
  EXPECT_EQ(*r.LabelsOf(3), L({{"job", "x"}, {"pod", ""}}));
  EXPECT_FALSE(r.LabelsOf(4).has_value());
  EXPECT_TRUE(r.Chunks(4, kMin, kMax).empty());
}

TEST(IndexFileTest, ChunksAreSortedDedupedAndRangeFiltered) {
  IndexFileWriter w;
  w.AddChunk(Chunk(5, 300, 400, "k/c"));  // before its series: allowed
  w.AddSeries(5, L({{"a", "1"}}));
  w.AddChunk(Chunk(5, 100, 200, "k/a"));
  w.AddChunk(Chunk(5, 100, 150, "k/b"));
  w.AddChunk(Chunk(5, 999, 999, "k/a"));  // duplicate key: first one wins
  IndexFileReader r = MustOpen(*w.Finish());
  auto keys = [&](int64_t from, int64_t through) {
    Strings out;
    for (const auto& c : r.Chunks(5, from, through)) out.push_back(c.key);
    return out;
  };
  EXPECT_EQ(keys(kMin, kMax), (Strings{"k/b", "k/a", "k/c"}));
  EXPECT_EQ(keys(151, 299), (Strings{"k/a"}));
  EXPECT_EQ(keys(200, 300), (Strings{"k/a", "k/c"}));  // both ends inclusive
  EXPECT_EQ(keys(401, 500), Strings{});
  EXPECT_EQ(keys(0, 99), Strings{});
  EXPECT_TRUE(r.HasChunks(5, 400, 400));
  EXPECT_FALSE(r.HasChunks(5, 201, 299));
  EXPECT_EQ(r.min_ts(), 100);
  EXPECT_EQ(r.max_ts(), 400);
  EXPECT_TRUE(r.Overlaps(400, 1000));
  EXPECT_FALSE(r.Overlaps(401, 1000));
}

TEST(IndexFileTest, ExtremeTimestampsRoundTrip) {
  IndexFileWriter w;
  w.AddSeries(1, L({{"a", "1"}}));
  w.AddChunk(Chunk(1, kMin, kMax, "wide"));
  w.AddChunk(Chunk(1, -5, -1, "negative"));
  w.AddChunk(Chunk(1, kMax, kMax, "last"));
  IndexFileReader r = MustOpen(*w.Finish());
  std::vector<ChunkRef> got = r.Chunks(1, kMin, kMax);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], Chunk(1, kMin, kMax, "wide"));
  EXPECT_EQ(got[1], Chunk(1, -5, -1, "negative"));
  EXPECT_EQ(got[2], Chunk(1, kMax, kMax, "last"));
  EXPECT_EQ(r.min_ts(), kMin);
  EXPECT_EQ(r.max_ts(), kMax);
}

TEST(IndexFileTest, EmptyFileAndSeriesWithoutChunks) {
  IndexFileReader empty = MustOpen(*IndexFileWriter().Finish());
  EXPECT_EQ(empty.num_series(), 0u);
  EXPECT_TRUE(empty.Select({}).empty());
  EXPECT_TRUE(empty.LabelNames().empty());
  EXPECT_EQ(empty.min_ts(), kMax);
  EXPECT_EQ(empty.max_ts(), kMin);
  EXPECT_FALSE(empty.Overlaps(kMin, kMax));

  IndexFileWriter w;
  w.AddSeries(9, L({{"a", "1"}}));
  IndexFileReader r = MustOpen(*w.Finish());
  EXPECT_EQ(r.Select({Eq("a", "1")}), FPs{9});
  EXPECT_TRUE(r.Chunks(9, kMin, kMax).empty());
  EXPECT_FALSE(r.Overlaps(kMin, kMax));
}

TEST(IndexFileTest, FinishRejectsInconsistentInput) {
  {
    IndexFileWriter w;
    w.AddSeries(1, L({{"a", "1"}}));
    w.AddChunk(Chunk(2, 0, 1, "k"));
    EXPECT_EQ(w.Finish().status().code(), StatusCode::kInvalidArgument);
  }
  {
    IndexFileWriter w;
    w.AddSeries(1, L({{"a", "1"}}));
    w.AddChunk(Chunk(1, 5, 4, "k"));
    EXPECT_EQ(w.Finish().status().code(), StatusCode::kInvalidArgument);
  }
  {
    IndexFileWriter w;
    w.AddSeries(1, L({{"a", "1"}}));
    w.AddChunk(Chunk(1, 0, 1, ""));
    EXPECT_EQ(w.Finish().status().code(), StatusCode::kInvalidArgument);
  }
  {
    IndexFileWriter w;
    w.AddSeries(1, L({{"a", "1"}}));
    w.AddSeries(1, L({{"a", "1"}}));  // same labels again: fine
    EXPECT_TRUE(w.Finish().ok());
    w.AddSeries(1, L({{"a", "2"}}));  // collision
    EXPECT_EQ(w.Finish().status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(IndexFileTest, ReaderCopiesOutliveTheOriginal) {
  std::optional<IndexFileReader> copy;
  {
    IndexFileReader r = MustOpen(GoldenFile());
    copy = r;
  }
  EXPECT_EQ(copy->Select({Eq("a", "b")}), FPs{0x0102030405060708});
}

// A file with several series, labels and chunks for the corruption tests.
std::string SampleFile() {
  IndexFileWriter w;
  w.AddSeries(10, L({{"app", "api"}, {"env", "prod"}}));
  w.AddSeries(20, L({{"app", "web"}, {"env", "dev"}, {"pod", "p1"}}));
  w.AddSeries(30, L({{"job", "x"}}));
  w.AddChunk(Chunk(10, 100, 200, "chunks/t/a/1"));
  w.AddChunk(Chunk(10, 150, 300, "chunks/t/a/2"));
  w.AddChunk(WithFilter(Chunk(20, -7, 7, "chunks/t/b/1"), OopsFilter()));
  return *w.Finish();
}

TEST(IndexFileTest, EveryFlippedBitIsCorruption) {
  const std::string good = SampleFile();
  ASSERT_TRUE(IndexFileReader::Open(good).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto r = IndexFileReader::Open(std::move(bad));
      ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
      ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    }
  }
}

TEST(IndexFileTest, EveryTruncationAndExtensionIsCorruption) {
  const std::string good = SampleFile();
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = IndexFileReader::Open(good.substr(0, n));
    ASSERT_EQ(r.status().code(), StatusCode::kCorruption) << "length " << n;
  }
  EXPECT_EQ(IndexFileReader::Open(good + "x").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(IndexFileReader::Open("x" + good).status().code(), StatusCode::kCorruption);
}

TEST(IndexFileTest, StructuralDamageBehindValidChecksumsIsCorruption) {
  // Symbols "a","b" swapped to "b","a": checksums fixed, order check fires.
  std::string bytes = GoldenFile();
  bytes[10] = 'b';
  bytes[12] = 'a';
  internal::FixChecksumsForTesting(&bytes);
  auto r = IndexFileReader::Open(bytes);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("symbols not strictly sorted"), std::string::npos)
      << r.status().ToString();

  // Series count says 2 but only one series follows.
  bytes = GoldenFile();
  bytes[22] = 2;
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_EQ(IndexFileReader::Open(bytes).status().code(), StatusCode::kCorruption);

  // Second chunk's key shares more bytes than the first key has.
  bytes = GoldenFile();
  ASSERT_EQ(bytes[62], 4);  // "shared" of chunk 2
  bytes[62] = 10;
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_EQ(IndexFileReader::Open(bytes).status().code(), StatusCode::kCorruption);

  // First chunk's key is based on a symbol that does not exist, or shares more of its
  // symbol than the symbol has.
  bytes = GoldenFile();
  ASSERT_EQ(bytes[46], 3);  // "base" of chunk 1
  bytes[46] = 4;
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_EQ(IndexFileReader::Open(bytes).status().code(), StatusCode::kCorruption);
  bytes = GoldenFile();
  ASSERT_EQ(bytes[47], 4);  // "shared" of chunk 1
  bytes[47] = 5;
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_EQ(IndexFileReader::Open(bytes).status().code(), StatusCode::kCorruption);

  // First chunk's min_ts below the file's (its offset from the TOC's min_ts wraps).
  bytes = GoldenFile();
  ASSERT_EQ(bytes[39], 0);
  bytes.replace(39, 1, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
  const size_t toc = bytes.size() - 104;
  bytes.replace(toc + 40, 8, std::string("\x34\x00\x00\x00\x00\x00\x00\x00", 8));  // chunks length
  bytes.replace(toc + 48, 8,
                std::string("\x5e\x00\x00\x00\x00\x00\x00\x00", 8));  // postings offset
  internal::FixChecksumsForTesting(&bytes);
  auto wrapped = IndexFileReader::Open(bytes);
  EXPECT_EQ(wrapped.status().code(), StatusCode::kCorruption);
  EXPECT_NE(wrapped.status().message().find("bad chunk ref"), std::string::npos)
      << wrapped.status().ToString();

  // A detached filter of another scheme, or of a size its word count does not give.
  bytes = GoldenFile();
  ASSERT_EQ(bytes[71], 1);  // scheme of chunk 2's filter
  bytes[71] = 2;
  internal::FixChecksumsForTesting(&bytes);
  auto bad_filter = IndexFileReader::Open(bytes);
  EXPECT_EQ(bad_filter.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad_filter.status().message().find("bad chunk filter"), std::string::npos)
      << bad_filter.status().ToString();
  bytes = GoldenFile();
  ASSERT_EQ(bytes[72], 1);  // word count of chunk 2's filter
  bytes[72] = 2;
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_EQ(IndexFileReader::Open(bytes).status().code(), StatusCode::kCorruption);

  // Unchanged content with fixed checksums still opens (the helper is sane).
  bytes = GoldenFile();
  internal::FixChecksumsForTesting(&bytes);
  EXPECT_TRUE(IndexFileReader::Open(bytes).ok());
}

TEST(IndexFileTest, RandomMutationsBehindValidChecksumsNeverCrash) {
  const std::string good = SampleFile();
  std::mt19937_64 rng(5);
  int opened = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes = good;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Mutate only section payloads so framing stays plausible.
      size_t i = 8 + rng() % (bytes.size() - 8 - 104);
      bytes[i] = static_cast<char>(rng() % 4 == 0 ? 0xff : rng());
    }
    internal::FixChecksumsForTesting(&bytes);
    auto r = IndexFileReader::Open(bytes);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), StatusCode::kCorruption);
      continue;
    }
    ++opened;
    // Whatever was accepted must be safe to query.
    for (uint64_t fp : r->Select({})) {
      r->LabelsOf(fp);
      r->Chunks(fp, kMin, kMax);
      r->HasChunks(fp, 0, 1000);
    }
    for (const auto& n : r->LabelNames()) {
      r->LabelValues(n);
      r->Select({Re(n, ".+"), Neq("env", "prod")});
    }
  }
  EXPECT_GT(opened, 0);  // some mutations (e.g. of key bytes) stay valid
}

}  // namespace
}  // namespace skald::index
