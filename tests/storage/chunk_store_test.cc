#include "storage/chunk_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/time.h"
#include "storage/fs_object_store.h"
#include "testing/fs/mem_object_store.h"

namespace skald::storage {
namespace {

std::string MakeChunk(std::string_view tenant, uint64_t fp, int64_t ts, std::string_view line) {
  chunk::BlockBuilder b;
  b.Add(ts, line, {});
  chunk::ChunkWriter w(chunk::Codec::kSnappy, std::string(tenant), fp, "{}");
  w.AddBlock(b.Finish(chunk::Codec::kSnappy));
  return w.Finish();
}

TEST(LocatorTest, ParsesObjectKeysAndPackRanges) {
  std::string_view object;
  bool packed = true;
  uint64_t off = 9, len = 9;
  ASSERT_TRUE(ParseLocator("chunks/t/00ff/1-2-3", &object, &packed, &off, &len));
  EXPECT_EQ(object, "chunks/t/00ff/1-2-3");
  EXPECT_FALSE(packed);
  ASSERT_TRUE(ParseLocator("packs/t/a-b-c#1048576+20913", &object, &packed, &off, &len));
  EXPECT_EQ(object, "packs/t/a-b-c");
  EXPECT_TRUE(packed);
  EXPECT_EQ(off, 1048576u);
  EXPECT_EQ(len, 20913u);
  for (const char* bad : {"p#", "p#1", "p#1+", "p#+1", "p#01+2", "p#1+2x", "p#-1+2",
                          "p#99999999999999999999999+1", "p#1+2+3"}) {
    EXPECT_FALSE(ParseLocator(bad, &object, &packed, &off, &len)) << bad;
  }
  EXPECT_EQ(LocatorObject("packs/t/a#1+2"), "packs/t/a");
  EXPECT_EQ(LocatorObject("chunks/t/a"), "chunks/t/a");
}

TEST(PackTest, PutPackWritesOneObjectWhoseLocatorsReadEachChunk) {
  MemObjectStore mem;
  ChunkStore cs(&mem);
  std::vector<std::string> bytes = {MakeChunk("t", 1, 100, "first"),
                                    MakeChunk("t", 2, 50, "second line"),
                                    MakeChunk("t", 1, 300, "third")};
  std::vector<PackItem> items = {
      {1, 100, 100, 1, bytes[0]}, {2, 50, 50, 1, bytes[1]}, {1, 300, 300, 1, bytes[2]}};
  auto locs = cs.PutPack("t", items);
  ASSERT_TRUE(locs.ok()) << locs.status().ToString();
  ASSERT_EQ(locs->size(), 3u);
  auto keys = mem.List("");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  const std::string& key = (*keys)[0];
  // The key spans every chunk: min 50, max 300.
  EXPECT_EQ(key.substr(0, 42), "packs/t/0000000000000032-000000000000012c-");
  uint64_t at = 0;
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ((*locs)[i], key + "#" + std::to_string(at) + "+" + std::to_string(bytes[i].size()));
    at += bytes[i].size();
    auto got = cs.ReadBytes((*locs)[i]);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, bytes[i]);
    auto c = cs.Open((*locs)[i], "t", items[i].fingerprint);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->size(), bytes[i].size());
    // The chunk's header must name the tenant and stream asked for.
    EXPECT_EQ(cs.Open((*locs)[i], "u", items[i].fingerprint).status().code(),
              StatusCode::kCorruption);
    EXPECT_EQ(cs.Open((*locs)[i], "t", 77).status().code(), StatusCode::kCorruption);
  }
  auto whole = mem.Get(key);
  ASSERT_TRUE(whole.ok());
  auto footer = ReadPackFooter(*whole);
  ASSERT_TRUE(footer.ok()) << footer.status().ToString();
  ASSERT_EQ(footer->size(), 3u);
  EXPECT_EQ((*footer)[1], (PackedChunk{2, 50, 50, 1, bytes[0].size(), bytes[1].size()}));
  // A range that is not a chunk, or past the end, is corruption, not a crash.
  EXPECT_EQ(cs.Open(key + "#1+5", "t", 1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(cs.Open(key + "#0+" + std::to_string(whole->size() + 1), "t", 1).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(cs.Open(key + "#x", "t", 1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(cs.Open("packs/t/missing#0+5", "t", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cs.PutPack("t", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PackTest, DamagedFootersAreCorruption) {
  MemObjectStore mem;
  ChunkStore cs(&mem);
  std::string c = MakeChunk("t", 1, 1, "x");
  ASSERT_TRUE(cs.PutPack("t", {{1, 1, 1, 1, c}}).ok());
  auto keys = mem.List("packs/");
  ASSERT_TRUE(keys.ok() && keys->size() == 1);
  const std::string pack = *mem.Get((*keys)[0]);
  ASSERT_TRUE(ReadPackFooter(pack).ok());
  for (size_t i = c.size(); i < pack.size(); i++) {  // every footer and trailer byte
    std::string bad = pack;
    bad[i] ^= 0x20;
    EXPECT_EQ(ReadPackFooter(bad).status().code(), StatusCode::kCorruption) << i;
  }
  for (size_t n = 0; n < pack.size(); n++) {
    EXPECT_EQ(ReadPackFooter(pack.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(ReadPackFooter("x" + pack).status().code(), StatusCode::kCorruption);
}

// Counts ranged reads, and answers them `cut` bytes short when asked (as a broken proxy
// might).
class RangeStore : public MemObjectStore {
 public:
  StatusOr<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    ranges++;
    auto got = ObjectStore::GetRange(key, offset, length);
    if (got.ok() && got->size() > cut) got->resize(got->size() - cut);
    return got;
  }
  int ranges = 0;
  size_t cut = 0;
};

// Packs n one-line chunks of streams first_fp.. (chunk i at ts i, line "line <i>").
StatusOr<std::vector<std::string>> PackOf(ChunkStore& cs, int n, uint64_t first_fp) {
  std::vector<std::string> bytes;
  std::vector<PackItem> items;
  for (int i = 0; i < n; i++) {
    bytes.push_back(MakeChunk("t", first_fp + i, i, "line " + std::to_string(i)));
  }
  for (int i = 0; i < n; i++) items.push_back({first_fp + i, i, i, 1, bytes[i]});
  return cs.PutPack("t", items);
}

TEST(PackTest, OpenManyCoalescesNeighboursAndKeepsEachResult) {
  RangeStore mem;
  ChunkStore cs(&mem);
  auto locs = PackOf(cs, 50, 100);
  ASSERT_TRUE(locs.ok());
  const std::string other = MakeChunk("t", 7, 1000, "x");
  auto second = cs.PutPack("t", {{7, 1000, 1000, 1, other}});
  ASSERT_TRUE(second.ok());
  // Every other chunk of the first pack (gaps well under 64 KiB), one of the second, a chunk
  // object, a missing pack and a wrong stream.
  std::vector<ChunkStore::Want> wants;
  for (int i = 0; i < 50; i += 2) wants.push_back({(*locs)[i], 100u + i});
  wants.push_back({(*second)[0], 7});
  auto alone = cs.Put("t", 9, 5, 5, MakeChunk("t", 9, 5, "alone"));
  ASSERT_TRUE(alone.ok());
  wants.push_back({*alone, 9});
  wants.push_back({"packs/t/missing#0+10", 1});
  wants.push_back({(*locs)[1], 555});
  mem.ranges = 0;
  auto got = cs.OpenMany("t", wants);
  ASSERT_EQ(got.size(), wants.size());
  for (size_t i = 0; i < 25; i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status().ToString();
    EXPECT_EQ((*got[i])->header().fingerprint, 100u + 2 * i);
  }
  EXPECT_TRUE(got[25].ok());
  EXPECT_TRUE(got[26].ok());
  EXPECT_EQ(got[27].status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got[28].status().code(), StatusCode::kCorruption);
  // First pack: one read for 26 chunks (incl. the wrong-stream one); second pack; missing.
  EXPECT_EQ(mem.ranges, 3);
}

// Chunks read together share the one read: each keeps it alive on its own, and a read that
// comes back short fails only the chunks it does not hold.
TEST(PackTest, OpenManyChunksShareTheReadAndShortReadsAreCorruption) {
  RangeStore mem;
  ChunkStore cs(&mem);
  auto locs = PackOf(cs, 3, 10);
  ASSERT_TRUE(locs.ok());
  std::vector<ChunkStore::Want> wants;
  for (int i = 0; i < 3; i++) wants.push_back({(*locs)[i], 10u + i});

  std::shared_ptr<const StoredChunk> kept;
  {
    auto got = cs.OpenMany("t", wants);
    ASSERT_TRUE(got[1].ok());
    kept = *got[1];
  }  // the other chunks and the result are gone; `kept` still holds the read
  chunk::DecodedBlock block;
  ASSERT_TRUE(kept->ReadBlock(0, &block).ok());
  ASSERT_EQ(block.size(), 1u);
  EXPECT_EQ(block.line(0), "line 1");

  mem.cut = 1;  // the last chunk's final byte is missing
  auto got = cs.OpenMany("t", wants);
  EXPECT_TRUE(got[0].ok());
  EXPECT_TRUE(got[1].ok());
  EXPECT_EQ(got[2].status().code(), StatusCode::kCorruption);
}

TEST(GetRangeTest, FilesystemAndDefaultReadOnlyTheRange) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("skald-getrange-" + std::to_string(NowNanos()));
  auto fs = FsObjectStore::Open(dir.string());
  ASSERT_TRUE(fs.ok());
  MemObjectStore mem;
  for (ObjectStore* s : {static_cast<ObjectStore*>(fs->get()), static_cast<ObjectStore*>(&mem)}) {
    ASSERT_TRUE(s->Put("packs/t/p", "0123456789").ok());
    EXPECT_EQ(*s->GetRange("packs/t/p", 2, 3), "234");
    EXPECT_EQ(*s->GetRange("packs/t/p", 0, 10), "0123456789");
    EXPECT_EQ(*s->GetRange("packs/t/p", 10, 0), "");
    EXPECT_EQ(s->GetRange("packs/t/p", 8, 3).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(s->GetRange("packs/t/p", 11, 0).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(s->GetRange("packs/t/q", 0, 1).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(s->GetRange("../x", 0, 1).status().code(), StatusCode::kInvalidArgument);
    // GetRangeShared: the same bytes and errors (the filesystem store's own, and the default
    // that wraps GetRange).
    EXPECT_EQ(s->GetRangeShared("packs/t/p", 2, 3)->bytes, "234");
    EXPECT_EQ(s->GetRangeShared("packs/t/p", 0, 10)->bytes, "0123456789");
    EXPECT_EQ(s->GetRangeShared("packs/t/p", 10, 0)->bytes, "");
    EXPECT_EQ(s->GetRangeShared("packs/t/p", 8, 3).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(s->GetRangeShared("packs/t/q", 0, 1).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(s->GetRangeShared("../x", 0, 1).status().code(), StatusCode::kInvalidArgument);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skald::storage
