#include "chunk/gram_filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chunk/chunk.h"
#include "core/coding.h"

namespace skald::chunk {
namespace {

std::string Build(const std::vector<std::string>& lines,
                  double bits = GramFilterBuilder::kDefaultBitsPerGram) {
  GramFilterBuilder b(bits);
  for (const auto& l : lines) b.AddLine(l);
  std::string out;
  b.Finish(&out);
  return out;
}

TEST(GramFilterTest, EverySubstringOfEveryLineMayBeContained) {
  std::mt19937_64 rng(7);
  std::vector<std::string> lines;
  for (int i = 0; i < 300; i++) {
    std::string l;
    const size_t n = rng() % 120;
    for (size_t k = 0; k < n; k++) l.push_back(static_cast<char>(rng() % 96 + 32));
    lines.push_back(l);
  }
  lines.push_back("\xe2\x84\xaa\xff\x00\x01 binary");
  const std::string bytes = Build(lines);
  auto f = GramFilter::Parse(bytes);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  for (const auto& l : lines) {
    for (size_t at = 0; at < l.size(); at++) {
      for (size_t len = 1; at + len <= l.size() && len <= 12; len++) {
        std::string sub = l.substr(at, len);
        ASSERT_TRUE(f->MayContain(sub)) << sub;
        for (char& c : sub) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        ASSERT_TRUE(f->MayContain(sub)) << "upper " << sub;
      }
    }
  }
}

TEST(GramFilterTest, AbsentLiteralsAreRefutedAndShortOnesNever) {
  const std::string bytes =
      Build({"level=info msg=\"request served\" status=200 path=/api/v1/users",
             "level=warn msg=\"slow request\" duration=1.5s", "GET /index.html HTTP/1.1"});
  auto f = GramFilter::Parse(bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->MayContain("REQUEST"));
  EXPECT_TRUE(f->MayContain("status=200"));
  EXPECT_FALSE(f->MayContain("QQ_never_present_QQ"));
  EXPECT_FALSE(f->MayContain("timeout"));
  EXPECT_FALSE(f->MayContain("3f2a9c1e7b"));
  EXPECT_TRUE(f->MayContain("zqx"));  // shorter than an n-gram: cannot tell
  EXPECT_TRUE(f->MayContain(""));
  // A literal that only exists across two lines is not in any line.
  EXPECT_FALSE(f->MayContain("/usersleve"));
}

TEST(GramFilterTest, NoLinesOrShortLinesRefuteEverything) {
  for (const auto& lines : {std::vector<std::string>{}, std::vector<std::string>{"abc", "", "x"}}) {
    const std::string bytes = Build(lines);
    auto f = GramFilter::Parse(bytes);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->empty());
    EXPECT_FALSE(f->MayContain("abcd"));
    EXPECT_TRUE(f->MayContain("abc"));
  }
}

TEST(GramFilterTest, SizeFollowsDistinctGramsAndSaturatedBlocksGetNoFilter) {
  // Distinct n-grams come with the numbers: the filter grows with them, 2 bits each.
  std::vector<std::string> lines;
  for (int i = 0; i < 2000; i++) lines.push_back("id=" + std::to_string(i * 7919));
  GramFilterBuilder b;
  for (const auto& l : lines) b.AddLine(l);
  const size_t distinct = b.DistinctGrams();
  std::string bytes;
  b.Finish(&bytes);
  EXPECT_GT(distinct, 500u);
  EXPECT_NEAR(static_cast<double>(bytes.size()) * 8, distinct * 2.0, distinct * 2.0 * 0.1 + 128);
  auto f = GramFilter::Parse(bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_LT(f->Fill(), 0.45);
  EXPECT_EQ(b.DistinctGrams(), 0u);  // Finish reset the builder

  // Random bytes fill the whole hash space: no filter at all, and everything may match.
  std::mt19937_64 rng(1);
  std::string noise(1 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  const std::string none = Build({noise});
  EXPECT_TRUE(none.empty());
  auto g = GramFilter::Parse(none);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->empty());
  EXPECT_TRUE(g->MayContain("anything"));
}

TEST(GramFilterTest, MalformedFiltersAreCorruption) {
  const std::string good = Build({"hello world"});
  ASSERT_TRUE(GramFilter::Parse(good).ok());
  for (size_t n = 1; n < good.size(); n++) {
    EXPECT_EQ(GramFilter::Parse(good.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(GramFilter::Parse(good + "x").status().code(), StatusCode::kCorruption);
  std::string scheme = good;
  scheme[0] = 7;
  EXPECT_EQ(GramFilter::Parse(scheme).status().code(), StatusCode::kCorruption);
}

TEST(GramFilterTest, BlocksCarryFiltersIntoVersion2ChunksAndVersion1HasNone) {
  BlockBuilder bb;
  bb.Add(1, "connection refused by upstream", {});
  bb.Add(2, "retrying in 5s", {});
  EncodedBlock eb = bb.Finish(Codec::kZstd);
  ASSERT_FALSE(eb.filter.empty());
  for (uint8_t version : {uint8_t{2}, uint8_t{1}}) {
    ChunkWriter w(Codec::kZstd, "t", 1, "{}");
    w.set_version(version);
    w.AddBlock(eb);
    std::vector<BlockMeta> metas;
    const std::string chunk = w.Finish(&metas);
    auto r = ChunkReader::Open(chunk);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->header().version, version);
    ASSERT_EQ(r->blocks().size(), 1u);
    // The writer's block index (what the ingester keeps) points where the reader does.
    EXPECT_EQ(metas[0].filter_offset, r->blocks()[0].filter_offset);
    EXPECT_EQ(metas[0].filter_length, r->blocks()[0].filter_length);
    if (version == 1) {
      EXPECT_TRUE(r->block_filter(0).empty());
      continue;
    }
    EXPECT_EQ(r->block_filter(0), eb.filter);
    const GramFilter f = GramFilter::Trusted(r->block_filter(0));
    EXPECT_TRUE(f.MayContain("Upstream"));
    EXPECT_FALSE(f.MayContain("downstream"));
    std::vector<OwnedEntry> got;
    ASSERT_TRUE(DecodeChunkEntries(chunk, &got).ok());
    EXPECT_EQ(got.size(), 2u);
  }
}

}  // namespace
}  // namespace skald::chunk
