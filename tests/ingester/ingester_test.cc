// Unit tests for the ingester: push/snapshot, ordering and deduplication,
// the out-of-order window, block and chunk cutting, flushing to a real object
// store and index, the background flush loop, label lookups, tenant isolation
// and concurrent push/snapshot/flush.
#include "ingester/ingester.h"
#include "ingester/streams.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/metrics.h"
#include "core/time.h"
#include "index/index_store.h"
#include "storage/chunk_store.h"
#include "storage/fs_object_store.h"
#include "testing/fs/fault_file_system.h"
#include "testing/fs/fault_object_store.h"
#include "testing/fs/mem_file_system.h"
#include "testing/fs/mem_object_store.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/wait.h"
#include "wal/format.h"
#include "wal/wal.h"

namespace skald::ingester {
namespace {

using testing::SampleValue;
using testing::WaitFor;

// 2023-11-14T22:13:20Z.
constexpr int64_t kBase = int64_t{1'700'000'000} * kNanosPerSecond;
constexpr std::string_view kTenant = "tenant-a";

using Meta = std::vector<std::pair<std::string, std::string>>;

struct Entry {
  int64_t ts = 0;
  std::string line;
  Meta md;
  bool operator==(const Entry& o) const { return ts == o.ts && line == o.line && md == o.md; }
  bool operator<(const Entry& o) const {
    return std::tie(ts, line, md) < std::tie(o.ts, o.line, o.md);
  }
};

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  os << "{" << e.ts << ", \"" << e.line << "\"";
  for (const auto& [n, v] : e.md) os << ", " << n << "=" << v;
  return os << "}";
}

Labels L(std::string_view text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : Labels();
}

Matcher Eq(std::string name, std::string value) {
  auto m = Matcher::Create(MatchType::kEqual, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

// Pushes entries (views built here, valid for the call only).
AppendResult Push(Ingester& ing, std::string_view tenant, const Labels& labels,
                  const std::vector<Entry>& entries) {
  std::vector<std::vector<MetadataPair>> metas(entries.size());
  std::vector<AppendEntry> batch;
  for (size_t i = 0; i < entries.size(); i++) {
    for (const auto& [n, v] : entries[i].md) metas[i].push_back({n, v});
    batch.push_back({entries[i].ts, entries[i].line, metas[i]});
  }
  AppendResult r;
  Status st = ing.Push(tenant, labels, batch, &r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return r;
}

std::vector<Entry> DecodeBytes(std::string_view bytes) {
  chunk::DecodedBlock d;
  Status st = chunk::DecodeBlock(bytes, &d);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<Entry> out;
  if (!st.ok()) return out;
  for (size_t i = 0; i < d.size(); i++) {
    Entry e{d.ts(i), std::string(d.line(i)), {}};
    for (size_t j = 0; j < d.metadata_count(i); j++) {
      auto p = d.metadata(i, j);
      e.md.emplace_back(std::string(p.name), std::string(p.value));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Decodes a BlockRef and checks it agrees with its own summary.
std::vector<Entry> DecodeRef(const chunk::BlockRef& ref) {
  std::vector<Entry> out = DecodeBytes(ref.bytes);
  EXPECT_EQ(out.size(), ref.entries);
  if (!out.empty()) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const auto& e : out) lo = std::min(lo, e.ts), hi = std::max(hi, e.ts);
    EXPECT_EQ(lo, ref.min_ts);
    EXPECT_EQ(hi, ref.max_ts);
  }
  return out;
}

// Every entry of a chunk object, in block order.
std::vector<Entry> DecodeChunk(std::string_view bytes) {
  auto reader = chunk::ChunkReader::Open(bytes);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Entry> out;
  if (!reader.ok()) return out;
  for (size_t i = 0; i < reader->blocks().size(); i++) {
    auto part = DecodeBytes(reader->block_bytes(i));
    EXPECT_EQ(part.size(), reader->blocks()[i].entries);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// All entries of every stream visible in a snapshot, keyed by label string, in
// block order (blocks are each checked to be sorted by timestamp).
std::map<std::string, std::vector<Entry>> SnapshotEntries(Ingester& ing, std::string_view tenant,
                                                          const std::vector<Matcher>& m = {},
                                                          int64_t from = INT64_MIN,
                                                          int64_t through = INT64_MAX) {
  std::map<std::string, std::vector<Entry>> out;
  for (const auto& snap : ing.Snapshot(tenant, m, from, through)) {
    EXPECT_EQ(snap.fingerprint, snap.labels.Fingerprint());
    auto& dst = out[snap.labels.ToString()];
    for (const auto& ref : snap.blocks) {
      auto part = DecodeRef(ref);
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end(),
                                 [](const Entry& a, const Entry& b) { return a.ts < b.ts; }));
      dst.insert(dst.end(), part.begin(), part.end());
    }
  }
  return out;
}

std::vector<Entry> Sorted(std::vector<Entry> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string Line(int i, size_t len = 0) {
  std::string s = "line-" + std::to_string(i);
  if (s.size() < len) s.append(len - s.size(), 'x');
  return s;
}

class IngesterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Ingester> New(IngesterOptions o = {}, metrics::Registry* reg = nullptr) {
    return std::make_unique<Ingester>(o, &store_, &index_, reg);
  }

  // Every chunk in the index for the tenant over [from, through].
  std::vector<index::IndexStore::SeriesChunks> Indexed(std::string_view tenant,
                                                       int64_t from = kBase - kNanosPerDay,
                                                       int64_t through = kBase + kNanosPerDay,
                                                       const std::vector<Matcher>& m = {}) {
    auto r = index_.Query(tenant, from, through, m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<index::IndexStore::SeriesChunks>{};
  }

  std::vector<Entry> ChunkEntries(const index::ChunkRef& ref) {
    auto bytes = storage::ChunkStore(&store_).ReadBytes(ref.key);
    EXPECT_TRUE(bytes.ok()) << ref.key << ": " << bytes.status().ToString();
    if (!bytes.ok()) return {};
    EXPECT_EQ(bytes->size(), ref.compressed_bytes);
    return DecodeChunk(*bytes);
  }

  // All entries of the tenant's flushed chunks, keyed by label string.
  std::map<std::string, std::vector<Entry>> StoredEntries(std::string_view tenant) {
    std::map<std::string, std::vector<Entry>> out;
    for (const auto& s : Indexed(tenant)) {
      for (const auto& c : s.chunks) {
        auto part = ChunkEntries(c);
        auto& dst = out[s.labels.Get().ToString()];
        dst.insert(dst.end(), part.begin(), part.end());
      }
    }
    return out;
  }

  // Chunks written: chunk objects, and the chunks inside pack objects.
  size_t ChunkObjects() {
    auto keys = store_.List("chunks/");
    EXPECT_TRUE(keys.ok());
    size_t n = keys.ok() ? keys->size() : 0;
    auto packs = store_.List("packs/");
    EXPECT_TRUE(packs.ok());
    if (!packs.ok()) return n;
    for (const std::string& k : *packs) {
      auto bytes = store_.Get(k);
      EXPECT_TRUE(bytes.ok());
      if (!bytes.ok()) continue;
      auto footer = storage::ReadPackFooter(*bytes);
      EXPECT_TRUE(footer.ok()) << footer.status().ToString();
      if (footer.ok()) n += footer->size();
    }
    return n;
  }

  storage::MemObjectStore store_;
  index::IndexStore index_{&store_};
};

TEST_F(IngesterTest, PushThenSnapshotReturnsEveryEntryExactlyOnce) {
  auto ing = New();
  std::map<std::string, std::vector<Entry>> pushed;
  const std::vector<Labels> streams = {L(R"({app="a"})"), L(R"({app="b", env="prod"})"),
                                       L(R"({app="c"})")};
  uint32_t appended = 0;
  for (int round = 0; round < 5; round++) {
    for (size_t s = 0; s < streams.size(); s++) {
      std::vector<Entry> batch;
      for (int i = 0; i < 20; i++) {
        int n = round * 20 + i;
        batch.push_back({kBase + n * kNanosPerSecond + static_cast<int64_t>(s),
                         Line(n) + "-s" + std::to_string(s),
                         {}});
      }
      auto r = Push(*ing, kTenant, streams[s], batch);
      EXPECT_EQ(r.duplicates, 0u);
      EXPECT_TRUE(r.rejected.empty());
      appended += r.appended;
      auto& dst = pushed[streams[s].ToString()];
      dst.insert(dst.end(), batch.begin(), batch.end());
    }
  }
  EXPECT_EQ(appended, 300u);
  EXPECT_EQ(ing->ActiveStreams(), 3u);
  EXPECT_GT(ing->MemoryBytes(), 0u);

  auto got = SnapshotEntries(*ing, kTenant);
  ASSERT_EQ(got.size(), 3u);
  for (auto& [ls, entries] : pushed) {
    EXPECT_EQ(Sorted(got[ls]), Sorted(entries)) << ls;
  }
  // The snapshot is a copy: pushing more does not change blocks already taken.
  auto snaps = ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
  Push(*ing, kTenant, streams[0], {{kBase + 999 * kNanosPerSecond, "later", {}}});
  size_t total = 0;
  for (const auto& s : snaps)
    for (const auto& b : s.blocks) total += DecodeRef(b).size();
  EXPECT_EQ(total, 300u);
}

TEST_F(IngesterTest, SnapshotSelectsByMatchersAndTimeRange) {
  auto ing = New();
  Push(*ing, kTenant, L(R"({app="a"})"), {{kBase + 10, "a10", {}}, {kBase + 20, "a20", {}}});
  Push(*ing, kTenant, L(R"({app="b"})"), {{kBase + 30, "b30", {}}});

  auto only_a = SnapshotEntries(*ing, kTenant, {Eq("app", "a")});
  ASSERT_EQ(only_a.size(), 1u);
  EXPECT_EQ(only_a.begin()->first, R"({app="a"})");

  // [from, through): b's only entry at +30 is outside [+10, +30).
  auto ranged = ing->Snapshot(kTenant, {}, kBase + 10, kBase + 30);
  ASSERT_EQ(ranged.size(), 1u);
  EXPECT_EQ(ranged[0].labels.ToString(), R"({app="a"})");
  EXPECT_TRUE(ing->Snapshot(kTenant, {}, kBase + 21, kBase + 30).empty());
  EXPECT_EQ(ing->Snapshot(kTenant, {}, kBase + 30, kBase + 31).size(), 1u);
  EXPECT_TRUE(ing->Snapshot("nobody", {}, INT64_MIN, INT64_MAX).empty());
}

TEST_F(IngesterTest, UnorderedPushesComeBackSortedInEveryBlock) {
  IngesterOptions o;
  o.block_size = 600;
  auto ing = New(o);
  std::vector<Entry> pushed;
  for (int i = 0; i < 200; i++) pushed.push_back({kBase + i * kNanosPerMilli, Line(i), {}});
  std::mt19937 rng(7);
  std::shuffle(pushed.begin(), pushed.end(), rng);
  for (size_t i = 0; i < pushed.size(); i += 7) {
    std::vector<Entry> batch(pushed.begin() + i, pushed.begin() + std::min(i + 7, pushed.size()));
    auto r = Push(*ing, kTenant, L(R"({app="x"})"), batch);
    EXPECT_EQ(r.appended, batch.size());
  }
  auto snaps = ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_GT(snaps[0].blocks.size(), 5u);
  std::vector<Entry> all;
  for (const auto& b : snaps[0].blocks) {
    auto part = DecodeRef(b);
    ASSERT_TRUE(std::is_sorted(part.begin(), part.end(),
                               [](const Entry& a, const Entry& c) { return a.ts < c.ts; }));
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(Sorted(all), Sorted(pushed));

  // With one head block only, the whole snapshot is one sorted block.
  auto ing2 = New();
  Push(*ing2, kTenant, L(R"({app="y"})"),
       {{kBase + 3, "c", {}}, {kBase + 1, "a", {}}, {kBase + 2, "b", {}}});
  auto one = SnapshotEntries(*ing2, kTenant);
  std::vector<Entry> want = {{kBase + 1, "a", {}}, {kBase + 2, "b", {}}, {kBase + 3, "c", {}}};
  EXPECT_EQ(one[R"({app="y"})"], want);
}

TEST_F(IngesterTest, IdenticalEntryIsStoredOnce) {
  auto ing = New();
  const Labels ls = L(R"({app="dup"})");
  Meta md = {{"trace_id", "t1"}};
  auto r1 = Push(*ing, kTenant, ls, {{kBase, "same", md}, {kBase, "same", md}});
  EXPECT_EQ(r1.appended, 1u);
  EXPECT_EQ(r1.duplicates, 1u);
  auto r2 = Push(*ing, kTenant, ls, {{kBase, "same", md}});
  EXPECT_EQ(r2.appended, 0u);
  EXPECT_EQ(r2.duplicates, 1u);
  EXPECT_TRUE(r2.rejected.empty());

  // Not consecutive on push, but adjacent once the head is sorted: still one copy.
  Push(*ing, kTenant, ls,
       {{kBase + 5, "five", {}}, {kBase + 1, "one", {}}, {kBase + 5, "five", {}}});

  auto got = SnapshotEntries(*ing, kTenant)[ls.ToString()];
  std::vector<Entry> want = {{kBase, "same", md}, {kBase + 1, "one", {}}, {kBase + 5, "five", {}}};
  EXPECT_EQ(got, want);

  // The flushed chunk holds each entry once too.
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(StoredEntries(kTenant)[ls.ToString()], want);
  auto idx = Indexed(kTenant);
  ASSERT_EQ(idx.size(), 1u);
  ASSERT_EQ(idx[0].chunks.size(), 1u);
  EXPECT_EQ(idx[0].chunks[0].entries, 3u);
}

TEST_F(IngesterTest, RetriedEntryAfterABlockCutIsStoredOnce) {
  IngesterOptions o;
  o.block_size = 200;  // the second entry's push cuts the head
  auto ing = New(o);
  const Labels ls = L(R"({app="retry"})");
  Push(*ing, kTenant, ls, {{kBase, Line(0, 150), {}}});
  Push(*ing, kTenant, ls, {{kBase + 1, Line(1, 150), {}}});
  ASSERT_GE(ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX)[0].blocks.size(), 1u);
  // A client retrying its last push after the cut: the entry now lives in a block.
  auto r = Push(*ing, kTenant, ls, {{kBase + 1, Line(1, 150), {}}});
  EXPECT_EQ(r.appended, 0u);
  EXPECT_EQ(r.duplicates, 1u);
  auto got = SnapshotEntries(*ing, kTenant)[ls.ToString()];
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(IngesterTest, SameTimestampDifferentLineOrMetadataAreAllKeptInArrivalOrder) {
  auto ing = New();
  const Labels ls = L(R"({app="ts"})");
  auto r = Push(*ing, kTenant, ls,
                {{kBase, "b", {}},
                 {kBase, "a", {}},
                 {kBase, "a", {{"k", "v"}}},
                 {kBase - 1, "earlier", {}},
                 {kBase, "c", {}}});
  EXPECT_EQ(r.appended, 5u);
  EXPECT_EQ(r.duplicates, 0u);
  std::vector<Entry> want = {{kBase - 1, "earlier", {}},
                             {kBase, "b", {}},
                             {kBase, "a", {}},
                             {kBase, "a", {{"k", "v"}}},
                             {kBase, "c", {}}};
  EXPECT_EQ(SnapshotEntries(*ing, kTenant)[ls.ToString()], want);
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(StoredEntries(kTenant)[ls.ToString()], want);
}

TEST_F(IngesterTest, OutOfOrderWindowRejectsWithLokiMessage) {
  IngesterOptions o;
  o.out_of_order_window = kNanosPerHour;
  auto ing = New(o);
  const Labels ls = L(R"({app="ooo"})");
  // Newest entry: 2023-11-15T00:13:20.5Z; cutoff = 2023-11-14T23:13:20.5Z.
  const int64_t newest = kBase + 2 * kNanosPerHour + 500 * kNanosPerMilli;
  const int64_t cutoff = newest - kNanosPerHour;
  const int64_t too_old = kBase + 250 * kNanosPerMilli;  // 2023-11-14T22:13:20.25Z
  auto r = Push(*ing, kTenant, ls,
                {{newest, "newest", {}},
                 {too_old, "old", {}},
                 {cutoff, "at-cutoff", {}},
                 {cutoff - 1, "just-behind", {}}});
  EXPECT_EQ(r.appended, 2u);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].first, too_old);
  // Loki formats both times with Go's time.RFC3339 (whole seconds).
  EXPECT_EQ(r.rejected[0].second,
            "entry too far behind, entry timestamp is: 2023-11-14T22:13:20Z, oldest acceptable "
            "timestamp is: 2023-11-14T23:13:20Z");
  EXPECT_EQ(r.rejected[1].first, cutoff - 1);
  EXPECT_EQ(r.rejected[1].second,
            "entry too far behind, entry timestamp is: 2023-11-14T23:13:20Z, oldest acceptable "
            "timestamp is: 2023-11-14T23:13:20Z");

  // Rejected entries are not stored; the window follows the newest entry.
  std::vector<Entry> want = {{cutoff, "at-cutoff", {}}, {newest, "newest", {}}};
  EXPECT_EQ(SnapshotEntries(*ing, kTenant)[ls.ToString()], want);
  auto r2 = Push(*ing, kTenant, ls, {{newest + kNanosPerHour, "newer", {}}, {cutoff, "x", {}}});
  EXPECT_EQ(r2.appended, 1u);
  ASSERT_EQ(r2.rejected.size(), 1u);
  EXPECT_EQ(r2.rejected[0].first, cutoff);

  // Other streams have their own window.
  auto r3 = Push(*ing, kTenant, L(R"({app="other"})"), {{too_old, "fine", {}}});
  EXPECT_EQ(r3.appended, 1u);
  EXPECT_TRUE(r3.rejected.empty());
}

TEST_F(IngesterTest, BlocksAreCutAtBlockSize) {
  IngesterOptions o;
  o.block_size = 1000;
  o.codec = chunk::Codec::kNone;
  auto ing = New(o);
  const size_t kLen = 88;
  std::vector<Entry> pushed;
  for (int i = 0; i < 35; i++) pushed.push_back({kBase + i, Line(i, kLen), {}});
  for (const auto& e : pushed) Push(*ing, kTenant, L(R"({app="blk"})"), {e});

  auto snaps = ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(snaps.size(), 1u);
  const auto& blocks = snaps[0].blocks;
  ASSERT_GE(blocks.size(), 3u);
  size_t total = 0;
  for (size_t i = 0; i < blocks.size(); i++) {
    total += blocks[i].entries;
    if (i + 1 == blocks.size()) continue;  // the head
    // Not cut late (before the last entry the line bytes alone were under the
    // block size) and not cut early (entries plus a small per-entry overhead reach it).
    EXPECT_LT((blocks[i].entries - 1) * kLen, o.block_size) << i;
    EXPECT_GE(blocks[i].entries * (kLen + 16), o.block_size) << i;
    EXPECT_EQ(blocks[i].entries, blocks[0].entries) << i;
  }
  EXPECT_EQ(total, pushed.size());
  EXPECT_LE(blocks.back().entries, blocks[0].entries);
  EXPECT_EQ(snaps[0].head_lines, blocks.back().entries);
  EXPECT_EQ(snaps[0].head_bytes, blocks.back().entries * kLen);
}

TEST_F(IngesterTest, ProvisionalHeadBlocksAreReencodedIntoFilteredBlocksAtFlush) {
  metrics::Registry reg;
  IngesterOptions o;
  o.block_size = 4000;
  o.head_block_size = 1000;
  o.target_size = 2500;  // a few provisional blocks close a chunk ("full")
  auto ing = New(o, &reg);
  const Labels labels = L(R"({app="early"})");
  std::vector<Entry> pushed;
  for (int i = 0; i < 300; i++) {
    // Slightly out of order within each push of 10, some entries with metadata.
    const int64_t ts = kBase + (i / 10) * 100 + (9 - i % 10);
    Meta md;
    if (i % 7 == 0) md = {{"trace_id", "t" + std::to_string(i)}};
    pushed.push_back({ts, Line(i, 60 + i % 40), md});
  }
  for (size_t i = 0; i < pushed.size(); i += 10) {
    Push(*ing, kTenant, labels, std::vector<Entry>(pushed.begin() + i, pushed.begin() + i + 10));
  }

  // In memory: small blocks without filters (only the head may carry one, built per query).
  auto snaps = ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(snaps.size(), 1u);
  ASSERT_GT(snaps[0].blocks.size(), 6u);
  std::vector<Entry> in_memory;
  for (size_t i = 0; i < snaps[0].blocks.size(); i++) {
    const auto& b = snaps[0].blocks[i];
    if (i + 1 < snaps[0].blocks.size()) {
      EXPECT_TRUE(b.filter.empty()) << i;
      EXPECT_LT(b.uncompressed_size, 1000u + 200u) << i;
    }
    auto part = DecodeRef(b);
    in_memory.insert(in_memory.end(), part.begin(), part.end());
  }
  EXPECT_EQ(Sorted(in_memory), Sorted(pushed));
  // Memory per buffered byte is exported: raw bytes held vs the bytes they take.
  {
    const std::string m = reg.Expose();
    const double raw =
        SampleValue(m, R"(skald_ingester_tenant_buffered_bytes{tenant="tenant-a"})").value_or(0);
    const double held =
        SampleValue(m, R"(skald_ingester_tenant_memory_bytes{tenant="tenant-a"})").value_or(0);
    size_t pushed_bytes = 0;
    for (const auto& e : pushed) pushed_bytes += e.line.size();
    EXPECT_GE(raw, static_cast<double>(pushed_bytes));
    EXPECT_GT(held, 0);
    EXPECT_LT(held, raw / 2) << "provisional blocks hold the lines compressed";
  }

  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(SampleValue(reg.Expose(), R"(skald_ingester_tenant_buffered_bytes{tenant="tenant-a"})"),
            0);
  auto idx = Indexed(kTenant, kBase - kNanosPerDay, kBase + kNanosPerDay, {Eq("app", "early")});
  ASSERT_EQ(idx.size(), 1u);
  ASSERT_GT(idx[0].chunks.size(), 1u);  // closed as full on the way
  std::vector<Entry> stored;
  for (const auto& c : idx[0].chunks) {
    auto bytes = storage::ChunkStore(&store_).ReadBytes(c.key);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(c.compressed_bytes, bytes->size());
    auto reader = chunk::ChunkReader::Open(*bytes);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const auto& blocks = reader->blocks();
    uint64_t uncompressed = 0;
    for (const auto& b : blocks) uncompressed += b.uncompressed_size;
    EXPECT_EQ(c.uncompressed_bytes, uncompressed);  // the stored blocks' sizes
    for (size_t i = 0; i < blocks.size(); i++) {
      EXPECT_FALSE(reader->block_filter(i).empty()) << i;  // every stored block has its filter
      if (i + 1 < blocks.size()) {
        EXPECT_GE(blocks[i].uncompressed_size, 3000u) << i;
      }
    }
    for (size_t i = 0; i < blocks.size(); i++) {
      // Each stored block is in timestamp order, though the pushes were not.
      auto part = DecodeBytes(reader->block_bytes(i));
      EXPECT_TRUE(std::is_sorted(part.begin(), part.end(),
                                 [](const Entry& a, const Entry& b) { return a.ts < b.ts; }));
      stored.insert(stored.end(), part.begin(), part.end());
    }
  }
  EXPECT_EQ(Sorted(stored), Sorted(pushed));
  EXPECT_EQ(SampleValue(reg.Expose(), "skald_ingester_chunks_reencoded_total"),
            static_cast<double>(idx[0].chunks.size()));
}

TEST_F(IngesterTest, AChunkOfOnlyAHeadIsStoredWithoutReencoding) {
  metrics::Registry reg;
  IngesterOptions o;
  o.block_size = 4000;
  o.head_block_size = 1000;
  auto ing = New(o, &reg);
  Push(*ing, kTenant, L(R"({app="tiny"})"), {{kBase, "one small line", {}}});
  ASSERT_TRUE(ing->FlushAll().ok());
  auto idx = Indexed(kTenant);
  ASSERT_EQ(idx.size(), 1u);
  ASSERT_EQ(idx[0].chunks.size(), 1u);
  auto bytes = storage::ChunkStore(&store_).ReadBytes(idx[0].chunks[0].key);
  ASSERT_TRUE(bytes.ok());
  auto reader = chunk::ChunkReader::Open(*bytes);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(reader->blocks().size(), 1u);
  // Its filter was built when the head was cut; being small, it went to the index.
  EXPECT_TRUE(reader->block_filter(0).empty());
  auto keys = store_.List("index/");
  ASSERT_TRUE(keys.ok() && keys->size() == 1u);
  auto file = index::IndexFileReader::Open(*store_.Get((*keys)[0]));
  ASSERT_TRUE(file.ok());
  auto refs = file->Chunks(idx[0].fingerprint, INT64_MIN, INT64_MAX);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_FALSE(refs[0].filter.empty());
  EXPECT_EQ(SampleValue(reg.Expose(), "skald_ingester_chunks_reencoded_total"), 0);
}

// Blocks whose lines total under block_filter_min_bytes are stored without a filter (a
// query reads them); larger ones, final or re-encoded, get one.
TEST_F(IngesterTest, OnlyBlocksOfAtLeastTheMinimumLineBytesGetFilters) {
  IngesterOptions o;
  o.block_size = 4000;
  o.head_block_size = 1000;
  o.block_filter_min_bytes = 512;
  o.index_filter_max_bytes = 0;  // filters stay in the chunks
  auto ing = New(o);
  // 10 lines of 50 bytes: 500 line bytes, one final block.
  for (int i = 0; i < 10; i++)
    Push(*ing, kTenant, L(R"({app="under"})"), {{kBase + i, Line(i, 50), {}}});
  // 11 lines: 550 line bytes.
  for (int i = 0; i < 11; i++)
    Push(*ing, kTenant, L(R"({app="over"})"), {{kBase + i, Line(i, 50), {}}});
  // 40 lines: 2000 line bytes, cut into provisional heads and re-encoded at flush.
  for (int i = 0; i < 40; i++)
    Push(*ing, kTenant, L(R"({app="reencoded"})"), {{kBase + i, Line(i, 50), {}}});
  ASSERT_TRUE(ing->FlushAll().ok());
  std::map<std::string, bool> has_filter;
  for (const auto& s : Indexed(kTenant)) {
    ASSERT_EQ(s.chunks.size(), 1u);
    auto bytes = storage::ChunkStore(&store_).ReadBytes(s.chunks[0].key);
    ASSERT_TRUE(bytes.ok());
    auto reader = chunk::ChunkReader::Open(*bytes);
    ASSERT_TRUE(reader.ok());
    ASSERT_EQ(reader->blocks().size(), 1u);
    has_filter[s.labels.Get().ToString()] = !reader->block_filter(0).empty();
  }
  EXPECT_EQ(has_filter, (std::map<std::string, bool>{{R"({app="over"})", true},
                                                     {R"({app="reencoded"})", true},
                                                     {R"({app="under"})", false}}));
}

// A re-encoded chunk of one block with a small filter has the filter in its index entry
// instead of in the chunk; chunks of several blocks, and filters over the limit, stay as
// they were.
TEST_F(IngesterTest, SmallChunksFiltersGoToTheIndex) {
  IngesterOptions o;
  o.block_size = 4000;
  o.head_block_size = 1000;
  o.index_filter_max_bytes = 100;
  auto ing = New(o);
  // 40 lines of 50 bytes: 2,000 line bytes in provisional heads, one stored block with a
  // small filter (few distinct 4-grams).
  for (int i = 0; i < 40; i++)
    Push(*ing, kTenant, L(R"({app="small"})"), {{kBase + i, Line(i, 50), {}}});
  // Random-looking lines: one block, but a filter over 100 bytes.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 40; i++) {
    std::string line;
    for (int k = 0; k < 50; k++) line.push_back(static_cast<char>('a' + rng() % 26));
    Push(*ing, kTenant, L(R"({app="wide"})"), {{kBase + i, line, {}}});
  }
  // 200 lines: 10,000 line bytes, three stored blocks.
  for (int i = 0; i < 200; i++)
    Push(*ing, kTenant, L(R"({app="large"})"), {{kBase + i, Line(i, 50), {}}});
  // Two lines, never cut before the flush: a final block, stored as built.
  for (int i = 0; i < 2; i++)
    Push(*ing, kTenant, L(R"({app="tiny"})"), {{kBase + i, Line(i + 7, 50), {}}});
  ASSERT_TRUE(ing->FlushAll().ok());

  auto keys = store_.List("index/");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  auto file = index::IndexFileReader::Open(*store_.Get((*keys)[0]));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->version(), index::kIndexFormatVersion);
  std::map<std::string, std::pair<size_t, bool>> seen;  // blocks, filter in the index
  for (uint64_t fp : file->Select({})) {
    std::vector<index::ChunkRef> refs = file->Chunks(fp, INT64_MIN, INT64_MAX);
    ASSERT_EQ(refs.size(), 1u);
    auto bytes = storage::ChunkStore(&store_).ReadBytes(refs[0].key);
    ASSERT_TRUE(bytes.ok());
    auto reader = chunk::ChunkReader::Open(*bytes);
    ASSERT_TRUE(reader.ok());
    const bool detached = !refs[0].filter.empty();
    EXPECT_EQ(refs[0].compressed_bytes, bytes->size());
    for (size_t b = 0; b < reader->blocks().size(); b++) {
      // Either the index holds it or the chunk does, never both.
      EXPECT_NE(detached, !reader->block_filter(b).empty());
    }
    if (detached) {
      EXPECT_LE(refs[0].filter.size(), 100u);
      auto f = chunk::GramFilter::Parse(refs[0].filter);
      ASSERT_TRUE(f.ok());
      EXPECT_TRUE(f->MayContain("line-7xx"));
      EXPECT_FALSE(f->MayContain("zqxjkvw"));
    }
    seen[file->LabelsOf(fp)->ToString()] = {reader->blocks().size(), detached};
  }
  EXPECT_EQ(seen,
            (std::map<std::string, std::pair<size_t, bool>>{{R"({app="large"})", {3, false}},
                                                            {R"({app="small"})", {1, true}},
                                                            {R"({app="tiny"})", {1, true}},
                                                            {R"({app="wide"})", {1, false}}}));

  // A query probes the index's filter: the absent word refutes the small chunk without
  // reading it, a present one keeps it.
  uint64_t refuted = 0;
  index::FilterProbe absent = [](std::string_view f) {
    return chunk::GramFilter::Trusted(f).MayContain("zqxjkvw");
  };
  auto q = index_.Query(kTenant, kBase - kNanosPerHour, kBase + kNanosPerHour, {Eq("app", "small")},
                        &absent, &refuted);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->empty());
  EXPECT_EQ(refuted, 1u);
  index::FilterProbe present = [](std::string_view f) {
    return chunk::GramFilter::Trusted(f).MayContain("LINE-7");
  };
  refuted = 0;
  q = index_.Query(kTenant, kBase - kNanosPerHour, kBase + kNanosPerHour, {}, &present, &refuted);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 4u);
  EXPECT_EQ(refuted, 0u);
  for (const auto& series : *q) EXPECT_TRUE(series.chunks[0].filter.empty());
}

// A chunk closed with one small block keeps its filter beside its bytes until it is flushed:
// a snapshot of it still offers the filter, and a flush that fails and is retried still puts
// it in the index entry.
TEST_F(IngesterTest, AClosedChunksDetachedFilterServesSnapshotsUntilFlushed) {
  storage::FaultObjectStore faulty(&store_);
  auto ing = std::make_unique<Ingester>(IngesterOptions{}, &faulty, &index_, nullptr);
  Push(*ing, kTenant, L(R"({app="a"})"), {{kBase, "GET /api/orders 200", {}}});
  faulty.FailWhen(storage::FaultObjectStore::Op::kPut, "packs/");
  EXPECT_FALSE(ing->FlushAll().ok());  // closed, not stored

  auto snaps = ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(snaps.size(), 1u);
  ASSERT_EQ(snaps[0].blocks.size(), 1u);
  auto f = chunk::GramFilter::Parse(snaps[0].blocks[0].filter);
  ASSERT_TRUE(f.ok());
  ASSERT_FALSE(f->empty());
  EXPECT_TRUE(f->MayContain("orders"));
  EXPECT_FALSE(f->MayContain("zqxjkvw"));

  faulty.Heal();
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_TRUE(ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).empty());
  auto keys = store_.List("index/");
  ASSERT_TRUE(keys.ok() && keys->size() == 1u);
  auto file = index::IndexFileReader::Open(*store_.Get((*keys)[0]));
  ASSERT_TRUE(file.ok());
  const uint64_t fp = L(R"({app="a"})").Fingerprint();
  auto refs = file->Chunks(fp, INT64_MIN, INT64_MAX);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].filter, snaps[0].blocks[0].filter);
  auto bytes = storage::ChunkStore(&store_).ReadBytes(refs[0].key);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(refs[0].compressed_bytes, bytes->size());
  auto reader = chunk::ChunkReader::Open(*bytes);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(reader->block_filter(0).empty());
  EXPECT_EQ(ing->MemoryBytes(), 0u);
}

TEST_F(IngesterTest, ChunksAreClosedAtTargetSize) {
  const size_t kLen = 88;
  auto push_all = [&](Ingester& ing, std::string_view labels) {
    for (int i = 0; i < 35; i++) Push(ing, kTenant, L(labels), {{kBase + i, Line(i, kLen), {}}});
  };
  IngesterOptions o;
  o.block_size = 1000;
  o.codec = chunk::Codec::kNone;

  // Learn the stored size of one full block.
  size_t block_bytes = 0, per_block = 0;
  {
    auto probe = New(o);
    push_all(*probe, R"({app="probe"})");
    auto snaps = probe->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX);
    ASSERT_EQ(snaps.size(), 1u);
    ASSERT_GE(snaps[0].blocks.size(), 3u);
    block_bytes = snaps[0].blocks[0].bytes.size();
    per_block = snaps[0].blocks[0].entries;
  }
  ASSERT_GT(per_block, 0u);
  const size_t full_blocks = 35 / per_block;

  struct Case {
    size_t target;
    std::vector<uint32_t> want_entries;  // per chunk, in time order
  };
  std::vector<Case> cases;
  {
    // Every cut block closes its chunk.
    Case c{1, {}};
    for (size_t b = 0; b < full_blocks; b++) c.want_entries.push_back(per_block);
    if (35 % per_block) c.want_entries.push_back(35 % per_block);
    cases.push_back(c);
  }
  {
    // Two blocks per chunk.
    Case c{block_bytes + 1, {}};
    size_t left = 35;
    while (left > 0) {
      size_t n = std::min(left, 2 * per_block);
      c.want_entries.push_back(n);
      left -= n;
    }
    cases.push_back(c);
  }
  cases.push_back({1 << 30, {35}});  // never by size: one chunk at FlushAll

  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE("target_size=" + std::to_string(c.target));
    o.target_size = c.target;
    auto ing = New(o);
    const std::string app = "t" + std::to_string(n++);
    push_all(*ing, "{app=\"" + app + "\"}");
    ASSERT_TRUE(ing->FlushAll().ok());
    auto idx = Indexed(kTenant, kBase - kNanosPerDay, kBase + kNanosPerDay, {Eq("app", app)});
    ASSERT_EQ(idx.size(), 1u);
    std::vector<uint32_t> got;
    std::vector<Entry> all;
    for (const auto& ch : idx[0].chunks) {
      got.push_back(ch.entries);
      auto part = ChunkEntries(ch);
      EXPECT_EQ(part.size(), ch.entries);
      all.insert(all.end(), part.begin(), part.end());
    }
    EXPECT_EQ(got, c.want_entries);
    EXPECT_EQ(all.size(), 35u);
    for (size_t i = 0; i < all.size(); i++) EXPECT_EQ(all[i].line, Line(i, kLen));
  }
}

TEST_F(IngesterTest, FlushAllWritesChunksAndIndexAndEmptiesMemory) {
  metrics::Registry reg;
  auto ing = New({}, &reg);
  const Labels a = L(R"({app="a", env="prod"})");
  const Labels b = L(R"({app="b"})");
  std::vector<Entry> ea, eb;
  for (int i = 0; i < 50; i++) {
    ea.push_back({kBase + (49 - i) * kNanosPerSecond, Line(i), {{"i", std::to_string(i)}}});
    eb.push_back({kBase + 7 + i * kNanosPerMilli, "b" + std::to_string(i), {}});
  }
  Push(*ing, kTenant, a, ea);
  Push(*ing, kTenant, b, eb);
  ASSERT_EQ(ing->ActiveStreams(), 2u);
  ASSERT_GT(ing->MemoryBytes(), 0u);
  EXPECT_NE(reg.Expose().find(R"(loki_ingester_memory_streams{tenant="tenant-a"} 2)"),
            std::string::npos)
      << reg.Expose();
  EXPECT_EQ(SampleValue(reg.Expose(), "loki_ingester_memory_chunks"), 2);  // one open each
  EXPECT_EQ(SampleValue(reg.Expose(), R"(loki_ingester_streams_created_total{tenant="tenant-a"})"),
            2);

  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(ing->ActiveStreams(), 0u);
  EXPECT_EQ(ing->MemoryBytes(), 0u);
  EXPECT_TRUE(ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).empty());
  EXPECT_TRUE(ing->LabelNames(kTenant).empty());
  EXPECT_EQ(ChunkObjects(), 2u);

  auto idx = Indexed(kTenant);
  ASSERT_EQ(idx.size(), 2u);
  for (const auto& s : idx) {
    const bool is_a = s.labels.Get() == a;
    ASSERT_TRUE(is_a || s.labels.Get() == b) << s.labels.Get().ToString();
    const auto& pushed = is_a ? ea : eb;
    EXPECT_EQ(s.fingerprint, s.labels.Get().Fingerprint());
    ASSERT_EQ(s.chunks.size(), 1u);
    const auto& c = s.chunks[0];
    auto sorted = Sorted(pushed);
    EXPECT_EQ(c.fingerprint, s.fingerprint);
    EXPECT_EQ(c.min_ts, sorted.front().ts);
    EXPECT_EQ(c.max_ts, sorted.back().ts);
    EXPECT_EQ(c.entries, pushed.size());
    EXPECT_EQ(c.key.rfind("packs/" + std::string(kTenant) + "/", 0), 0u) << c.key;
    EXPECT_EQ(ChunkEntries(c), sorted);
  }
  // Matchers select in the index too.
  auto only_b = Indexed(kTenant, kBase - kNanosPerDay, kBase + kNanosPerDay, {Eq("app", "b")});
  ASSERT_EQ(only_b.size(), 1u);
  EXPECT_EQ(only_b[0].labels.Get(), b);

  std::string exposed = reg.Expose();
  EXPECT_EQ(SampleValue(exposed, R"(loki_ingester_chunks_flushed_total{reason="forced"})"), 2)
      << exposed;
  EXPECT_EQ(SampleValue(exposed, R"(loki_ingester_chunks_stored_total{tenant="tenant-a"})"), 2);
  EXPECT_EQ(SampleValue(exposed, "loki_ingester_chunk_size_bytes_count"), 2);
  EXPECT_EQ(SampleValue(exposed, "loki_ingester_chunk_entries_sum"), 100);
  EXPECT_EQ(SampleValue(exposed, "loki_ingester_chunk_utilization_count"), 2);
  EXPECT_EQ(SampleValue(exposed, "loki_ingester_memory_chunks"), 0);
  EXPECT_EQ(SampleValue(exposed, R"(loki_ingester_streams_removed_total{tenant="tenant-a"})"), 2);
  EXPECT_NE(exposed.find(R"(loki_ingester_memory_streams{tenant="tenant-a"} 0)"), std::string::npos)
      << exposed;

  // Nothing left: a second FlushAll writes nothing new.
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 2u);

  // New data for a flushed stream starts a new in-memory stream and a new chunk.
  Push(*ing, kTenant, a, {{kBase + kNanosPerHour, "again", {}}});
  EXPECT_EQ(ing->ActiveStreams(), 1u);
  ASSERT_TRUE(ing->FlushAll().ok());
  auto again = Indexed(kTenant, kBase - kNanosPerDay, kBase + kNanosPerDay, {Eq("app", "a")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].chunks.size(), 2u);
  EXPECT_EQ(ing->MemoryBytes(), 0u);
}

TEST_F(IngesterTest, MemoryBytesReturnsToZeroAfterCutsAndCloses) {
  IngesterOptions o;
  o.block_size = 500;
  o.target_size = 700;
  auto ing = New(o);
  std::vector<Entry> batch;
  for (int i = 0; i < 300; i++) batch.push_back({kBase + i, Line(i, 40), {}});
  // Several cuts and closes inside one push call and across calls.
  Push(*ing, kTenant, L(R"({app="m"})"), batch);
  for (int i = 300; i < 400; i++)
    Push(*ing, kTenant, L(R"({app="m"})"), {{kBase + i, Line(i, 40), {}}});
  EXPECT_GT(ing->MemoryBytes(), 0u);
  EXPECT_LT(ing->MemoryBytes(), 400u * 100);  // bounded by what was pushed
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(ing->MemoryBytes(), 0u);
  size_t stored = 0;
  for (auto& [ls, v] : StoredEntries(kTenant)) stored += v.size();
  EXPECT_EQ(stored, 400u);
}

TEST_F(IngesterTest, FlushAllSplitsIndexByDayForChunksSpanningMidnight) {
  auto ing = New();
  const int64_t midnight = (kBase / kNanosPerDay + 1) * kNanosPerDay;
  Push(*ing, kTenant, L(R"({app="mid"})"),
       {{midnight - kNanosPerSecond, "before", {}}, {midnight + kNanosPerSecond, "after", {}}});
  ASSERT_TRUE(ing->FlushAll().ok());
  // Found from either day, once.
  const std::pair<int64_t, int64_t> ranges[] = {
      {midnight - kNanosPerHour, midnight - 500 * kNanosPerMilli},
      {midnight + 500 * kNanosPerMilli, midnight + kNanosPerHour}};
  for (auto [from, through] : ranges) {
    auto idx = Indexed(kTenant, from, through);
    ASSERT_EQ(idx.size(), 1u) << from;
    ASSERT_EQ(idx[0].chunks.size(), 1u);
    EXPECT_EQ(idx[0].chunks[0].entries, 2u);
  }
  auto late = Indexed(kTenant, midnight + kNanosPerDay + kNanosPerHour,
                      midnight + kNanosPerDay + 2 * kNanosPerHour);
  EXPECT_TRUE(late.empty());
}

TEST_F(IngesterTest, FlushLoopFlushesIdleStreams) {
  IngesterOptions o;
  o.flush_check_period = 10 * kNanosPerMilli;
  o.chunk_idle_period = 100 * kNanosPerMilli;
  auto ing = New(o);
  ing->Start();
  Push(*ing, kTenant, L(R"({app="idle"})"), {{kBase, "one", {}}, {kBase + 1, "two", {}}});
  EXPECT_EQ(ing->ActiveStreams(), 1u);
  EXPECT_TRUE(WaitFor([&] { return ing->ActiveStreams() == 0; }));
  ing->Stop();
  EXPECT_EQ(ing->ActiveStreams(), 0u);
  EXPECT_EQ(ing->MemoryBytes(), 0u);
  EXPECT_EQ(ChunkObjects(), 1u);
  std::vector<Entry> want = {{kBase, "one", {}}, {kBase + 1, "two", {}}};
  EXPECT_EQ(StoredEntries(kTenant)[R"({app="idle"})"], want);
  ing->Stop();  // idempotent
}

TEST_F(IngesterTest, FlushLoopFlushesChunksAtMaxAgeButKeepsActiveStream) {
  IngesterOptions o;
  o.flush_check_period = 10 * kNanosPerMilli;
  o.chunk_idle_period = kNanosPerHour;
  o.max_chunk_age = 50 * kNanosPerMilli;
  auto ing = New(o);
  ing->Start();
  Push(*ing, kTenant, L(R"({app="old"})"), {{kBase, "one", {}}});
  EXPECT_TRUE(WaitFor([&] { return ChunkObjects() != 0; }));
  // The pass that wrote the chunk then drops it from memory.
  EXPECT_TRUE(WaitFor([&] { return ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).empty(); }));
  ing->Stop();
  EXPECT_EQ(ChunkObjects(), 1u);
  EXPECT_TRUE(ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).empty());
  // Not idle: the stream itself stays (its labels are still served).
  EXPECT_EQ(ing->ActiveStreams(), 1u);
  EXPECT_EQ(ing->LabelValues(kTenant, "app"), std::vector<std::string>{"old"});
}

TEST_F(IngesterTest, FlushLoopLeavesBusyStreamsAlone) {
  IngesterOptions o;
  o.flush_check_period = 5 * kNanosPerMilli;
  o.checkpoint_duration = 0;  // a checkpoint after every flush pass: a pass counter
  metrics::Registry reg;
  auto ing = New(o, &reg);  // idle 30m, max age 2h
  MemFileSystem fs;
  auto w = wal::Wal::Open({.dir = "/wal", .fsync = false, .fs = &fs});
  ASSERT_TRUE(w.ok());
  ing->AttachWal(w->get(), "/wal", &fs);
  Push(*ing, kTenant, L(R"({app="busy"})"), {{kBase, "one", {}}});
  ing->Start();
  // Wait for several flush passes rather than for some time.
  EXPECT_TRUE(WaitFor([&] {
    return SampleValue(reg.Expose(), "loki_ingester_checkpoint_creations_total").value_or(0) >= 5;
  }));
  ing->Stop();
  EXPECT_EQ(ChunkObjects(), 0u);
  EXPECT_EQ(ing->ActiveStreams(), 1u);
  EXPECT_EQ(SnapshotEntries(*ing, kTenant)[R"({app="busy"})"].size(), 1u);
}

TEST_F(IngesterTest, LabelNamesValuesAndSeries) {
  auto ing = New();
  Push(*ing, kTenant, L(R"({app="a", env="prod"})"), {{kBase, "x", {}}});
  Push(*ing, kTenant, L(R"({app="b", env="dev"})"), {{kBase, "x", {}}});
  Push(*ing, kTenant, L(R"({app="a", team="core"})"), {{kBase, "x", {}}});
  EXPECT_EQ(ing->LabelNames(kTenant), (std::vector<std::string>{"app", "env", "team"}));
  EXPECT_EQ(ing->LabelValues(kTenant, "app"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ing->LabelValues(kTenant, "env"), (std::vector<std::string>{"dev", "prod"}));
  EXPECT_TRUE(ing->LabelValues(kTenant, "nope").empty());

  auto series_strings = [&](const std::vector<Matcher>& m) {
    std::vector<std::string> out;
    for (const auto& l : ing->Series(kTenant, m)) out.push_back(l.ToString());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(series_strings({Eq("app", "a")}),
            (std::vector<std::string>{R"({app="a", env="prod"})", R"({app="a", team="core"})"}));
  EXPECT_EQ(series_strings({Eq("app", "a"), Eq("env", "prod")}),
            (std::vector<std::string>{R"({app="a", env="prod"})"}));
  EXPECT_EQ(series_strings({}).size(), 3u);
  EXPECT_TRUE(series_strings({Eq("app", "zzz")}).empty());

  EXPECT_TRUE(ing->LabelNames("other").empty());
  EXPECT_TRUE(ing->Series("other", {}).empty());
}

TEST_F(IngesterTest, TenantsAreIsolated) {
  auto ing = New();
  const Labels ls = L(R"({app="shared"})");
  Push(*ing, "t1", ls, {{kBase, "from-t1", {}}});
  Push(*ing, "t2", ls, {{kBase + 1, "from-t2", {}}});
  Push(*ing, "t2", L(R"({only="t2"})"), {{kBase, "x", {}}});

  auto t1 = SnapshotEntries(*ing, "t1");
  ASSERT_EQ(t1.size(), 1u);
  EXPECT_EQ(t1[ls.ToString()], (std::vector<Entry>{{kBase, "from-t1", {}}}));
  auto t2 = SnapshotEntries(*ing, "t2");
  ASSERT_EQ(t2.size(), 2u);
  EXPECT_EQ(t2[ls.ToString()], (std::vector<Entry>{{kBase + 1, "from-t2", {}}}));
  EXPECT_EQ(ing->LabelNames("t1"), std::vector<std::string>{"app"});
  EXPECT_EQ(ing->LabelNames("t2"), (std::vector<std::string>{"app", "only"}));
  EXPECT_TRUE(SnapshotEntries(*ing, "t3").empty());

  ASSERT_TRUE(ing->FlushAll().ok());
  auto s1 = StoredEntries("t1");
  ASSERT_EQ(s1.size(), 1u);
  EXPECT_EQ(s1[ls.ToString()], (std::vector<Entry>{{kBase, "from-t1", {}}}));
  auto i2 = Indexed("t2");
  EXPECT_EQ(i2.size(), 2u);
  for (const auto& s : i2)
    for (const auto& c : s.chunks) EXPECT_EQ(c.key.rfind("packs/t2/", 0), 0u) << c.key;
  EXPECT_TRUE(Indexed("t3").empty());
}

TEST_F(IngesterTest, FlushesToFilesystemStore) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("skald-ingester-test-" + std::to_string(::getpid()) + "-" + std::to_string(NowNanos()));
  {
    auto fs = storage::FsObjectStore::Open(dir.string());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    index::IndexStore idx(fs->get());
    Ingester ing({}, fs->get(), &idx, nullptr);
    std::vector<Entry> pushed;
    for (int i = 0; i < 100; i++) pushed.push_back({kBase + i, Line(i), {{"k", "v"}}});
    Push(ing, kTenant, L(R"({app="fs"})"), pushed);
    ASSERT_TRUE(ing.FlushAll().ok());
    auto q = idx.Query(kTenant, kBase - kNanosPerHour, kBase + kNanosPerHour, {});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    ASSERT_EQ(q->size(), 1u);
    ASSERT_EQ((*q)[0].chunks.size(), 1u);
    auto bytes = storage::ChunkStore(fs->get()).ReadBytes((*q)[0].chunks[0].key);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(DecodeChunk(*bytes), pushed);
  }
  std::filesystem::remove_all(dir);
}

// Packed objects: a flush pass writes a tenant's chunks into packs of at most
// pack_target_size bytes (a chunk larger than that gets a pack of its own), each listing its
// chunks in its footer, and the index points into them; pack_target_size 0 writes one
// object per chunk, as before packs.
TEST_F(IngesterTest, FlushPacksChunksUpToTheTargetSize) {
  for (size_t target : {size_t{0}, size_t{600}, size_t{32} << 20}) {
    SCOPED_TRACE("pack_target_size=" + std::to_string(target));
    storage::MemObjectStore store;
    index::IndexStore idx(&store);
    IngesterOptions o;
    o.pack_target_size = target;
    Ingester ing(o, &store, &idx, nullptr);
    std::map<std::string, std::vector<Entry>> pushed;
    for (int s = 0; s < 20; s++) {
      const Labels ls = L("{app=\"s" + std::to_string(s) + "\"}");
      std::vector<Entry> entries;
      for (int i = 0; i < 10; i++) entries.push_back({kBase + i, Line(s * 100 + i), {}});
      Push(ing, kTenant, ls, entries);
      pushed[ls.ToString()] = entries;
    }
    ASSERT_TRUE(ing.FlushAll().ok());
    auto chunk_objects = store.List("chunks/");
    auto packs = store.List("packs/");
    ASSERT_TRUE(chunk_objects.ok() && packs.ok());
    size_t packed = 0;
    for (const std::string& k : *packs) {
      auto bytes = store.Get(k);
      ASSERT_TRUE(bytes.ok());
      auto footer = storage::ReadPackFooter(*bytes);
      ASSERT_TRUE(footer.ok()) << footer.status().ToString();
      packed += footer->size();
      size_t sum = 0;
      for (const auto& c : *footer) sum += c.length;
      if (footer->size() > 1) {
        EXPECT_LE(sum, target) << k;
      }
    }
    if (target == 0) {
      EXPECT_EQ(chunk_objects->size(), 20u);
      EXPECT_TRUE(packs->empty());
    } else {
      EXPECT_TRUE(chunk_objects->empty());
      EXPECT_EQ(packed, 20u);
      if (target > 1000000) {
        EXPECT_EQ(packs->size(), 1u);
      } else {
        EXPECT_GT(packs->size(), 2u);
      }
    }
    // Every chunk reads back through its locator.
    auto q = idx.Query(kTenant, kBase - kNanosPerHour, kBase + kNanosPerHour, {});
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->size(), 20u);
    storage::ChunkStore chunks(&store);
    for (const auto& series : *q) {
      ASSERT_EQ(series.chunks.size(), 1u);
      auto c = chunks.Open(series.chunks[0].key, kTenant, series.fingerprint);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      auto bytes = chunks.ReadBytes(series.chunks[0].key);
      ASSERT_TRUE(bytes.ok());
      EXPECT_EQ(bytes->size(), series.chunks[0].compressed_bytes);
      EXPECT_EQ(DecodeChunk(*bytes), pushed[series.labels.Get().ToString()]);
      // Another tenant's or stream's chunk is refused even with a valid locator.
      EXPECT_EQ(chunks.Open(series.chunks[0].key, "other", series.fingerprint).status().code(),
                StatusCode::kCorruption);
    }
  }
}

// A slow store that fails one operation in three, for pack and index writes alike, while
// four threads push and a fifth keeps flushing: flushes fail and are retried, and once the
// store heals one more flush stores every acknowledged entry exactly once (an entry whose
// pack was written but whose index write failed is written again, never indexed twice).
TEST_F(IngesterTest, AFlappingSlowStoreLosesNothing) {
  storage::FaultObjectStore faulty(&store_);
  index::IndexStore flaky_index(&faulty);
  IngesterOptions o;
  o.flush_batch_size = 4000;
  o.pack_target_size = 2000;
  auto ing = std::make_unique<Ingester>(o, &faulty, &flaky_index, nullptr);
  faulty.Flap(3, 7);
  faulty.SetLatency(std::chrono::microseconds(200));

  constexpr int kThreads = 4, kStreams = 10, kRounds = 30;
  std::vector<std::map<std::string, std::vector<Entry>>> pushed(kThreads);
  std::atomic<bool> done{false};
  std::atomic<int> failed_flushes{0}, flushes{0};
  std::thread flusher([&] {
    while (!done.load()) {
      flushes++;
      if (!ing->FlushAll().ok()) failed_flushes++;
    }
  });
  std::vector<std::thread> pushers;
  for (int t = 0; t < kThreads; t++) {
    pushers.emplace_back([&, t] {
      for (int r = 0; r < kRounds; r++) {
        for (int s = 0; s < kStreams; s++) {
          std::string text = "{app=\"flap\", t=\"";
          text += std::to_string(t);
          text += "\", s=\"";
          text += std::to_string(s);
          text += "\"}";
          const Labels ls = L(text);
          std::vector<Entry> entries = {{kBase + r * 10, Line(t * 100000 + s * 1000 + r), {}}};
          Push(*ing, kTenant, ls, entries);
          auto& dst = pushed[t][ls.ToString()];
          dst.insert(dst.end(), entries.begin(), entries.end());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let flushes interleave
      }
    });
  }
  for (auto& th : pushers) th.join();
  while (flushes.load() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done = true;
  flusher.join();
  EXPECT_GT(faulty.failures(), 0u);
  EXPECT_GT(failed_flushes.load(), 0);

  faulty.Heal();
  ASSERT_TRUE(ing->FlushAll().ok());
  std::map<std::string, std::vector<Entry>> want;
  for (auto& m : pushed) want.merge(m);
  EXPECT_EQ(StoredEntries(kTenant), want);
  EXPECT_TRUE(SnapshotEntries(*ing, kTenant).empty());
  EXPECT_EQ(ing->MemoryBytes(), 0u);
}

// With a small flush_batch_size a pass closes, writes and indexes streams a batch at a time,
// in fingerprint order: several index files, packs over disjoint fingerprint ranges, and
// every line stored once. A store that refuses every pack fails each batch alike, keeps
// everything in memory, and the next pass writes it all.
TEST_F(IngesterTest, FlushInBatchesWritesEveryStreamOnce) {
  storage::FaultObjectStore faulty(&store_);
  IngesterOptions o;
  o.flush_batch_size = 2000;
  o.pack_target_size = 1000;
  auto ing = std::make_unique<Ingester>(o, &faulty, &index_, nullptr);
  std::map<std::string, std::vector<Entry>> pushed;
  for (int s = 0; s < 60; s++) {
    const Labels ls = L("{app=\"s" + std::to_string(s) + "\"}");
    std::vector<Entry> entries;
    for (int i = 0; i < 5; i++) entries.push_back({kBase + i, Line(s * 100 + i), {}});
    Push(*ing, kTenant, ls, entries);
    pushed[ls.ToString()] = entries;
  }

  faulty.FailWhen(storage::FaultObjectStore::Op::kPut, "packs/");
  EXPECT_FALSE(ing->FlushAll().ok());
  EXPECT_TRUE(StoredEntries(kTenant).empty());
  EXPECT_EQ(SnapshotEntries(*ing, kTenant), pushed);

  faulty.Heal();
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(StoredEntries(kTenant), pushed);
  EXPECT_TRUE(SnapshotEntries(*ing, kTenant).empty());
  EXPECT_EQ(ing->MemoryBytes(), 0u);

  auto index_files = store_.List("index/" + std::string(kTenant) + "/");
  ASSERT_TRUE(index_files.ok());
  EXPECT_GT(index_files->size(), 2u);
  // Each batch is a fingerprint range of its own: no two packs' ranges overlap.
  auto packs = store_.List("packs/");
  ASSERT_TRUE(packs.ok());
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const std::string& k : *packs) {
    auto bytes = store_.Get(k);
    ASSERT_TRUE(bytes.ok());
    auto footer = storage::ReadPackFooter(*bytes);
    ASSERT_TRUE(footer.ok()) << footer.status().ToString();
    for (size_t i = 1; i < footer->size(); ++i) {
      EXPECT_LT((*footer)[i - 1].fingerprint, (*footer)[i].fingerprint);
    }
    ranges.emplace_back(footer->front().fingerprint, footer->back().fingerprint);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LT(ranges[i - 1].second, ranges[i].first);
}

// 4 threads push to overlapping streams while one thread snapshots and another
// flushes; afterwards every pushed entry is stored exactly once.
TEST_F(IngesterTest, ConcurrentPushSnapshotAndFlushLoseAndDuplicateNothing) {
  IngesterOptions o;
  o.block_size = 2048;
  o.target_size = 4096;
  o.shards = 4;
  auto ing = New(o);
  constexpr int kThreads = 4, kStreams = 6, kPerThread = 3000;
  std::vector<Labels> streams;
  for (int s = 0; s < kStreams; s++) streams.push_back(L("{s=\"" + std::to_string(s) + "\"}"));

  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0}, flushes{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < kPerThread; i += 5) {
        int s = static_cast<int>(rng() % kStreams);
        std::vector<Entry> batch;
        for (int k = i; k < i + 5; k++) {
          // Unique per (thread, k); jitter keeps it out of order but inside the window.
          int64_t ts = kBase + static_cast<int64_t>(k) * kNanosPerMilli +
                       static_cast<int64_t>(rng() % 1000) * 1000 + t;
          batch.push_back({ts, "t" + std::to_string(t) + "-" + std::to_string(k), {}});
        }
        auto r = Push(*ing, kTenant, streams[s], batch);
        if (r.appended != batch.size()) failed = true;
        // Halfway, make sure the reader and the flusher have run while pushes go on.
        if (i == kPerThread / 2) {
          if (!WaitFor([&] { return snapshots.load() > 0 && flushes.load() > 0; })) failed = true;
        }
      }
    });
  }
  std::thread snapshotter([&] {
    while (!done) {
      for (const auto& snap : ing->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX)) {
        for (const auto& b : snap.blocks) {
          chunk::DecodedBlock d;
          if (!chunk::DecodeBlock(b.bytes, &d).ok() || d.size() != b.entries) failed = true;
        }
      }
      snapshots++;
    }
  });
  std::thread flusher([&] {
    while (!done) {
      if (!ing->FlushAll().ok()) failed = true;
      flushes++;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  snapshotter.join();
  flusher.join();
  EXPECT_FALSE(failed);
  EXPECT_GT(snapshots.load(), 0);
  EXPECT_GT(flushes.load(), 0);

  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(ing->ActiveStreams(), 0u);
  EXPECT_EQ(ing->MemoryBytes(), 0u);
  std::multiset<std::string> lines;
  for (auto& [ls, entries] : StoredEntries(kTenant)) {
    for (const auto& e : entries) lines.insert(e.line);
  }
  EXPECT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; t++) {
    for (int k = 0; k < kPerThread; k++) {
      std::string line = "t" + std::to_string(t) + "-" + std::to_string(k);
      ASSERT_EQ(lines.count(line), 1u) << line;
    }
  }
}

TEST_F(IngesterTest, AFailingChunkWriteBlocksNoOtherTenantAndLosesNothing) {
  storage::FaultObjectStore faulty(&store_);
  faulty.FailWhen(storage::FaultObjectStore::Op::kPut, "packs/tenant-bad/");
  MemFileSystem mem;
  auto w = wal::Wal::Open({.dir = "/wal", .fsync = true, .fs = &mem});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto ing = std::make_unique<Ingester>(IngesterOptions{}, &faulty, &index_, nullptr);
  ing->AttachWal(w->get(), "/wal", &mem);
  const Labels ls = L(R"({app="x"})");
  Push(*ing, "tenant-bad", ls, {{kBase, "bad-1", {}}});
  Push(*ing, kTenant, ls, {{kBase, "good-1", {}}});

  Status st = ing->FlushAll();
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  // The healthy tenant is flushed, indexed and released from memory.
  EXPECT_EQ(StoredEntries(kTenant)[ls.ToString()], (std::vector<Entry>{{kBase, "good-1", {}}}));
  EXPECT_TRUE(SnapshotEntries(*ing, kTenant).empty());
  // The failed chunk stays in memory, still answering queries...
  EXPECT_TRUE(StoredEntries("tenant-bad").empty());
  EXPECT_EQ(SnapshotEntries(*ing, "tenant-bad")[ls.ToString()],
            (std::vector<Entry>{{kBase, "bad-1", {}}}));
  // ...goes into the WAL checkpoint, so a restart replays it...
  ASSERT_TRUE(ing->Checkpoint().ok());
  Ingester replayed(IngesterOptions{}, &store_, &index_, nullptr);
  ReplayReport report;
  ASSERT_TRUE(replayed.ReplayWal("/wal", &mem, &report).ok());
  EXPECT_EQ(SnapshotEntries(replayed, "tenant-bad")[ls.ToString()],
            (std::vector<Entry>{{kBase, "bad-1", {}}}));
  // ...and the first flush after the store heals writes it.
  faulty.Heal();
  st = ing->FlushAll();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(StoredEntries("tenant-bad")[ls.ToString()], (std::vector<Entry>{{kBase, "bad-1", {}}}));
}

}  // namespace
}  // namespace skald::ingester

namespace skald::ingester {
namespace {

// The WAL round trip through the ingester: pushes are logged, a checkpoint
// snapshots memory and drops older segments, and a fresh ingester replaying the
// directory holds exactly the same entries (checkpoint + later segments).
TEST_F(IngesterTest, WalCheckpointAndReplayRebuildTheHeadsExactly) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  std::map<std::string, std::vector<Entry>> before;
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = true, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    IngesterOptions o;
    o.block_size = 2000;  // several blocks, so the checkpoint holds cut blocks and a head
    auto ing = New(o);
    ing->AttachWal(w->get(), dir, &fs);
    Meta md = {{"trace_id", "abc"}};
    for (int i = 0; i < 60; i++) {
      Push(*ing, kTenant, L(R"({app="wal", n="1"})"),
           {{kBase + i, Line(i, 100), i % 3 ? md : Meta{}}});
    }
    ASSERT_TRUE(ing->Checkpoint().ok());
    auto segments = (*w)->Segments();
    ASSERT_TRUE(segments.ok());
    for (int i = 60; i < 80; i++) {
      Push(*ing, kTenant, L(R"({app="wal", n="2"})"), {{kBase + i, Line(i, 50), {}}});
      Push(*ing, "other-tenant", L(R"({app="wal", n="1"})"), {{kBase + i, "t2", {}}});
    }
    before = SnapshotEntries(*ing, kTenant);
    ASSERT_EQ(before.size(), 2u);
    EXPECT_EQ(SnapshotEntries(*ing, "other-tenant").begin()->second.size(), 20u);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto fresh = New();
  ReplayReport report;
  ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
  EXPECT_GT(report.checkpoint_segment, 0u);
  EXPECT_EQ(report.entries, 100u);
  EXPECT_EQ(report.orphan_entries, 0u);
  EXPECT_EQ(SnapshotEntries(*fresh, kTenant), before);
  EXPECT_EQ(SnapshotEntries(*fresh, "other-tenant").begin()->second.size(), 20u);
}

// A failing WAL write refuses the push (Unavailable) and applies nothing; once
// the disk works again pushes succeed.
TEST_F(IngesterTest, WalWriteFailureRefusesThePushAndRecovers) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  auto w = wal::Wal::Open({.dir = "/wal", .fsync = true, .fs = &fs});
  ASSERT_TRUE(w.ok());
  auto ing = New();
  ing->AttachWal(w->get(), "/wal", &fs);
  const Labels ls = L(R"({app="full"})");
  fs.SetFreeSpace(0);  // disk full
  std::vector<AppendEntry> batch = {{kBase, "lost?", {}}};
  AppendResult r;
  Status st = ing->Push(kTenant, ls, batch, &r);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(r.appended, 0u);
  EXPECT_TRUE(SnapshotEntries(*ing, kTenant).empty());
  fs.SetUnlimitedSpace();  // space returns
  st = ing->Push(kTenant, ls, batch, &r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(SnapshotEntries(*ing, kTenant)[ls.ToString()].size(), 1u);
}

// A record can reach replay twice: a push that lands in segment N (after the
// checkpoint's rotation) but is applied before the checkpoint's snapshot is in
// checkpoint.N and in segment N. Replay must keep each entry once.
TEST_F(IngesterTest, ReplayingARecordAlsoInTheCheckpointDoesNotDuplicateEntries) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  const Labels ls = L(R"({app="twice"})");
  IngesterOptions small_blocks;
  small_blocks.block_size = 400;
  std::vector<Entry> pushed;
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = true, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto ing = New(small_blocks);
    ing->AttachWal(w->get(), dir, &fs);
    // One entries record with several entries (and a series record) in the first
    // segment, more than one block's worth: the copies must not survive in other blocks.
    for (int i = 0; i < 12; i++) pushed.push_back({kBase + i, Line(i, 100), {{"k", "v"}}});
    Push(*ing, kTenant, ls, pushed);
    auto segments = (*w)->Segments();
    ASSERT_TRUE(segments.ok());
    ASSERT_EQ(segments->size(), 1u);
    const std::string first = JoinPath(dir, wal::SegmentName(segments->front()));
    auto first_bytes = ReadFileToString(&fs, first);
    ASSERT_TRUE(first_bytes.ok());
    ASSERT_TRUE(ing->Checkpoint().ok());
    ASSERT_FALSE(ReadFileToString(&fs, first).ok()) << "the checkpoint released it";
    segments = (*w)->Segments();
    ASSERT_TRUE(segments.ok());
    ASSERT_FALSE(segments->empty());
    const uint64_t n = segments->back();
    ASSERT_TRUE((*w)->Close().ok());
    // Segment N now holds the same records again, as after the race above.
    auto f = fs.NewWritableFile(JoinPath(dir, wal::SegmentName(n)));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(*first_bytes).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto fresh = New(small_blocks);
  ReplayReport report;
  ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
  EXPECT_GT(report.checkpoint_segment, 0u);
  EXPECT_EQ(report.segments.records, 2u);  // the series and entries records were read again
  EXPECT_EQ(SnapshotEntries(*fresh, kTenant)[ls.ToString()], pushed);
}

// Pushes racing checkpoints: whatever the interleaving, replaying the WAL
// (newest checkpoint + later segments) restores every acknowledged entry once.
// The pushers only stop after the last checkpoint, so it raced them too.
TEST_F(IngesterTest, PushesRacingCheckpointsLoseAndDoubleNothingOnReplay) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  constexpr int kThreads = 4, kCheckpoints = 20;
  IngesterOptions small_blocks;  // copies in one head would be dropped anyway; not across blocks
  small_blocks.block_size = 512;
  std::vector<int> pushed(kThreads, 0);
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = false, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto ing = New(small_blocks);
    ing->AttachWal(w->get(), dir, &fs);
    std::atomic<bool> stop{false};
    std::atomic<int> pushes{0};
    std::atomic<int> budget{
        0};  // pushes allowed so far: a few per checkpoint, so memory stays small
    std::atomic<bool> failed{false};
    std::vector<std::thread> pushers;
    for (int t = 0; t < kThreads; t++) {
      pushers.emplace_back([&, t] {
        const Labels ls = L("{app=\"race\", t=\"" + std::to_string(t % 2) + "\"}");
        for (int i = 0; !stop; i++) {
          while (!stop && pushes.load() >= budget.load()) std::this_thread::yield();
          if (stop) break;
          std::vector<Entry> batch;
          for (int k = 0; k < 3; k++) {
            const int64_t ts = kBase + (static_cast<int64_t>(i) * 3 + k) * kThreads + t;
            batch.push_back({ts, "t" + std::to_string(t) + "-" + std::to_string(i * 3 + k), {}});
          }
          auto r = Push(*ing, kTenant, ls, batch);
          if (r.appended != batch.size()) failed = true;
          pushed[t] = (i + 1) * 3;
          pushes++;
        }
      });
    }
    for (int c = 0; c < kCheckpoints && !failed; c++) {
      // Each checkpoint starts while pushes keep coming.
      const int before = pushes.load();
      budget = before + 60;
      if (!WaitFor([&] { return pushes.load() >= before + kThreads; })) failed = true;
      if (!ing->Checkpoint().ok()) failed = true;
    }
    stop = true;
    for (auto& th : pushers) th.join();
    EXPECT_FALSE(failed);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto fresh = New(small_blocks);
  ReplayReport report;
  ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
  EXPECT_GT(report.checkpoint_segment, 0u);
  std::multiset<std::string> lines;
  for (auto& [ls, entries] : SnapshotEntries(*fresh, kTenant)) {
    for (const auto& e : entries) lines.insert(e.line);
  }
  size_t total = 0;
  for (int t = 0; t < kThreads; t++) {
    total += static_cast<size_t>(pushed[t]);
    for (int k = 0; k < pushed[t]; k++) {
      std::string line = "t" + std::to_string(t) + "-" + std::to_string(k);
      ASSERT_EQ(lines.count(line), 1u) << line;
    }
  }
  EXPECT_EQ(lines.size(), total);
}

}  // namespace
}  // namespace skald::ingester

// Active stream limits (Loki's max_streams_per_user / max_global_streams_per_user): a new
// stream beyond the tenant's limit is refused before the WAL, existing streams continue,
// and the count goes down as idle streams leave memory.
namespace skald::ingester {
namespace {

IngesterOptions WithStreamLimit(int64_t limit, std::string_view only_tenant = kTenant) {
  IngesterOptions o;
  o.max_streams = [limit, t = std::string(only_tenant)](std::string_view tenant) {
    return tenant == t ? limit : 0;
  };
  return o;
}

Labels AppLabels(int i) { return L(R"({app="s)" + std::to_string(i) + R"("})"); }

TEST_F(IngesterTest, StreamLimitRefusesNewStreamsOnlyAndOtherStreamsOfThePushAreWritten) {
  metrics::Registry reg;
  auto ing = New(WithStreamLimit(2), &reg);
  EXPECT_FALSE(Push(*ing, kTenant, AppLabels(0), {{kBase, "a", {}}}).stream_limited);
  EXPECT_FALSE(Push(*ing, kTenant, AppLabels(1), {{kBase, "b", {}}}).stream_limited);
  AppendResult r = Push(*ing, kTenant, AppLabels(2), {{kBase, "c", {}}, {kBase + 1, "d", {}}});
  EXPECT_TRUE(r.stream_limited);
  EXPECT_EQ(r.appended, 0u);
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(ing->ActiveStreams(kTenant), 2u);

  // One push: an existing stream, a refused new one, another existing one.
  const Labels l0 = AppLabels(0), l3 = AppLabels(3), l1 = AppLabels(1);
  const std::vector<AppendEntry> e0 = {{kBase + 10, "a2", {}}};
  const std::vector<AppendEntry> e3 = {{kBase + 10, "x", {}}};
  const std::vector<AppendEntry> e1 = {{kBase + 10, "b2", {}}};
  std::vector<StreamAppend> batch(3);
  batch[0].labels = &l0;
  batch[0].entries = e0;
  batch[1].labels = &l3;
  batch[1].entries = e3;
  batch[2].labels = &l1;
  batch[2].entries = e1;
  ASSERT_TRUE(ing->PushBatch(kTenant, batch).ok());
  EXPECT_EQ(batch[0].result.appended, 1u);
  EXPECT_FALSE(batch[0].result.stream_limited);
  EXPECT_TRUE(batch[1].result.stream_limited);
  EXPECT_EQ(batch[1].result.appended, 0u);
  EXPECT_EQ(batch[2].result.appended, 1u);

  auto held = SnapshotEntries(*ing, kTenant);
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(held[l0.ToString()].size(), 2u);
  EXPECT_EQ(held[l1.ToString()].size(), 2u);
  EXPECT_EQ(ing->Series(kTenant, {}).size(), 2u);
  EXPECT_EQ(SampleValue(reg.Expose(), R"(loki_ingester_memory_streams{tenant="tenant-a"})"), 2);
  EXPECT_EQ(SampleValue(reg.Expose(), R"(loki_ingester_streams_created_total{tenant="tenant-a"})"),
            2);

  // Other tenants have their own count (and here no limit).
  for (int i = 0; i < 5; i++) {
    EXPECT_FALSE(Push(*ing, "other", AppLabels(i), {{kBase, "o", {}}}).stream_limited);
  }
  EXPECT_EQ(ing->ActiveStreams("other"), 5u);
  EXPECT_EQ(ing->ActiveStreams(), 7u);
}

TEST_F(IngesterTest, StreamLimitZeroOrNoCallbackIsUnlimited) {
  auto ing = New(WithStreamLimit(0));
  for (int i = 0; i < 50; i++) {
    EXPECT_FALSE(Push(*ing, kTenant, AppLabels(i), {{kBase, "a", {}}}).stream_limited);
  }
  auto plain = New();
  for (int i = 0; i < 50; i++) {
    EXPECT_FALSE(Push(*plain, kTenant, AppLabels(i), {{kBase, "a", {}}}).stream_limited);
  }
  EXPECT_EQ(ing->ActiveStreams(kTenant), 50u);
  EXPECT_EQ(plain->ActiveStreams(kTenant), 50u);
}

TEST_F(IngesterTest, StreamLimitCountsDownWhenIdleStreamsAreFlushedAway) {
  metrics::Registry reg;
  auto ing = New(WithStreamLimit(2), &reg);
  Push(*ing, kTenant, AppLabels(0), {{kBase, "a", {}}});
  Push(*ing, kTenant, AppLabels(1), {{kBase, "b", {}}});
  EXPECT_TRUE(Push(*ing, kTenant, AppLabels(2), {{kBase, "c", {}}}).stream_limited);
  ASSERT_TRUE(ing->FlushAll().ok());  // forced: flushes and drops every stream
  EXPECT_EQ(ing->ActiveStreams(kTenant), 0u);
  EXPECT_EQ(SampleValue(reg.Expose(), R"(loki_ingester_memory_streams{tenant="tenant-a"})"), 0);
  EXPECT_FALSE(Push(*ing, kTenant, AppLabels(2), {{kBase, "c", {}}}).stream_limited);
  EXPECT_FALSE(Push(*ing, kTenant, AppLabels(3), {{kBase, "d", {}}}).stream_limited);
  EXPECT_TRUE(Push(*ing, kTenant, AppLabels(4), {{kBase, "e", {}}}).stream_limited);

  // The flush loop's idle removal frees slots the same way.
  IngesterOptions o = WithStreamLimit(1);
  o.flush_check_period = 10 * kNanosPerMilli;
  o.chunk_idle_period = 100 * kNanosPerMilli;
  auto looped = New(o);
  looped->Start();
  EXPECT_FALSE(Push(*looped, kTenant, AppLabels(0), {{kBase, "a", {}}}).stream_limited);
  EXPECT_TRUE(Push(*looped, kTenant, AppLabels(1), {{kBase, "b", {}}}).stream_limited);
  EXPECT_TRUE(WaitFor([&] { return looped->ActiveStreams(kTenant) == 0; }));
  EXPECT_FALSE(Push(*looped, kTenant, AppLabels(1), {{kBase, "b", {}}}).stream_limited);
  looped->Stop();
}

TEST_F(IngesterTest, StreamLimitHoldsUnderConcurrentFirstPushes) {
  constexpr int64_t kLimit = 37;
  constexpr int kThreads = 8, kPerThread = 200;
  for (int round = 0; round < 5; round++) {
    auto ing = New(WithStreamLimit(kLimit));
    std::atomic<int> created{0}, limited{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; i++) {
          // Threads overlap on half the streams, so some creations race for the same one.
          const int id = (i % 2 == 0) ? i : t * kPerThread + i;
          std::vector<AppendEntry> e = {{kBase + i, "x", {}}};
          const Labels ls = AppLabels(id);
          AppendResult r;
          ASSERT_TRUE(ing->Push(kTenant, ls, e, &r).ok());
          (r.stream_limited ? limited : created)++;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ing->ActiveStreams(kTenant), static_cast<size_t>(kLimit));
    EXPECT_EQ(ing->ActiveStreams(), static_cast<size_t>(kLimit));
    EXPECT_EQ(ing->Series(kTenant, {}).size(), static_cast<size_t>(kLimit));
    EXPECT_EQ(SnapshotEntries(*ing, kTenant).size(), static_cast<size_t>(kLimit));
    EXPECT_GT(limited.load(), 0);
    EXPECT_EQ(created.load() + limited.load(), kThreads * kPerThread);
  }
}

TEST_F(IngesterTest, StreamLimitRefusedStreamsNeverReachTheWalAndReplayIgnoresTheLimit) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = false, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto ing = New(WithStreamLimit(2));
    ing->AttachWal(w->get(), dir, &fs);
    Push(*ing, kTenant, AppLabels(0), {{kBase, "a", {}}});
    Push(*ing, kTenant, AppLabels(1), {{kBase, "b", {}}});
    EXPECT_TRUE(Push(*ing, kTenant, AppLabels(2), {{kBase, "c", {}}}).stream_limited);
    Push(*ing, kTenant, AppLabels(0), {{kBase + 1, "a2", {}}});
  }
  // Replay rebuilds exactly the streams that were accepted, the refused one is not in the WAL.
  {
    auto fresh = New(WithStreamLimit(2));
    ReplayReport report;
    ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
    EXPECT_EQ(report.series, 2u);
    EXPECT_EQ(report.entries, 3u);
    EXPECT_EQ(fresh->ActiveStreams(kTenant), 2u);
    auto held = SnapshotEntries(*fresh, kTenant);
    EXPECT_EQ(held.size(), 2u);
    EXPECT_EQ(held.count(AppLabels(2).ToString()), 0u);
    // The replayed streams count against the limit.
    EXPECT_TRUE(Push(*fresh, kTenant, AppLabels(2), {{kBase, "c", {}}}).stream_limited);
    EXPECT_FALSE(Push(*fresh, kTenant, AppLabels(1), {{kBase + 1, "b2", {}}}).stream_limited);
  }
  // A lowered limit never drops what the WAL holds (Loki disables the limits during replay).
  {
    auto fresh = New(WithStreamLimit(1));
    ReplayReport report;
    ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
    EXPECT_EQ(fresh->ActiveStreams(kTenant), 2u);
    EXPECT_EQ(SnapshotEntries(*fresh, kTenant).size(), 2u);
    EXPECT_TRUE(Push(*fresh, kTenant, AppLabels(3), {{kBase, "d", {}}}).stream_limited);
  }
}

// A million streams are a million of these: with make_shared's control block a stream must
// stay in jemalloc's 224-byte size class (x86-64, libstdc++).
TEST(StreamLayoutTest, AStreamFitsTheAllocatorsSizeClass) { EXPECT_LE(sizeof(Stream), 208u); }

// The per-stream rate limit (Loki's, in its ingester): each stream's own bucket, taken by
// the entries the ingester would keep (not by duplicates nor entries too far behind);
// refused entries never reach the WAL.
TEST_F(IngesterTest, PerStreamRateLimitRefusesEntriesBeforeTheWal) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  const limits::Rate rate{1, 100};  // barely refills while the test runs
  auto push = [&](Ingester& ing, const Labels& labels, std::vector<AppendEntry> entries,
                  std::string_view tenant = kTenant) {
    StreamAppend sa;
    sa.labels = &labels;
    sa.entries = entries;
    sa.rate = &rate;
    EXPECT_TRUE(ing.PushBatch(tenant, std::span<StreamAppend>(&sa, 1)).ok());
    return sa.result;
  };
  const std::string l60(60, 'a'), l50(50, 'b'), l40(40, 'c');
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = false, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto ing = New();
    ing->AttachWal(w->get(), dir, &fs);
    AppendResult r = push(*ing, AppLabels(0), {{kBase, l60, {}}, {kBase + 1, l50, {}}});
    EXPECT_EQ(r.appended, 1u);
    EXPECT_EQ(r.rate_limited, (std::vector<std::pair<int64_t, uint64_t>>{{kBase + 1, 50}}));
    // A duplicate of the last entry costs nothing; 40 bytes still fit.
    r = push(*ing, AppLabels(0), {{kBase, l60, {}}, {kBase + 2, l40, {}}});
    EXPECT_EQ(r.duplicates, 1u);
    EXPECT_EQ(r.appended, 1u);
    EXPECT_TRUE(r.rate_limited.empty());
    // Another stream has its own bucket, and so has the same stream of another tenant; a
    // push without a rate is not limited.
    EXPECT_EQ(push(*ing, AppLabels(1), {{kBase, l60, {}}, {kBase + 1, l40, {}}}).appended, 2u);
    EXPECT_EQ(push(*ing, AppLabels(0), {{kBase, l60, {}}, {kBase + 1, l40, {}}}, "other").appended,
              2u);
    AppendResult free;
    ASSERT_TRUE(ing->Push(kTenant, AppLabels(0), {{{kBase + 3, l60, {}}}}, &free).ok());
    EXPECT_EQ(free.appended, 1u);
  }
  auto fresh = New();
  ReplayReport report;
  ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
  EXPECT_EQ(report.entries, 7u);
  auto held = SnapshotEntries(*fresh, kTenant);
  std::vector<std::string> lines;
  for (const Entry& e : held[AppLabels(0).ToString()]) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<std::string>{l60, l40, l60}));
}

// --- The memory guard ------------------------------------------------------------------

IngesterOptions WithHeadCap(int64_t per_tenant, int64_t global = 0,
                            std::string_view only_tenant = kTenant) {
  IngesterOptions o;
  o.max_head_bytes = global;
  o.max_head_bytes_per_tenant = [per_tenant, t = std::string(only_tenant)](std::string_view x) {
    return x == t ? per_tenant : int64_t{0};
  };
  return o;
}

// Pushes one stream, returning the ingester's status and result.
Status TryPush(Ingester& ing, std::string_view tenant, const Labels& labels,
               const std::vector<Entry>& entries, AppendResult* r) {
  std::vector<AppendEntry> batch;
  for (const Entry& e : entries) batch.push_back({e.ts, e.line, {}});
  return ing.Push(tenant, labels, batch, r);
}

size_t HeldEntries(Ingester& ing, std::string_view tenant) {
  size_t n = 0;
  for (const auto& [ls, v] : SnapshotEntries(ing, tenant)) n += v.size();
  return n;
}

TEST_F(IngesterTest, MemoryGuardAccountsEachTenantAndReleasesOnFlush) {
  metrics::Registry reg;
  auto ing = New({}, &reg);
  for (int i = 0; i < 50; i++)
    Push(*ing, kTenant, AppLabels(i % 3), {{kBase + i, Line(i, 100), {}}});
  for (int i = 0; i < 20; i++) Push(*ing, "other", AppLabels(0), {{kBase + i, Line(i, 100), {}}});
  const int64_t a = ing->MemoryBytes(kTenant), b = ing->MemoryBytes("other");
  // Line bytes plus the head's entry index.
  EXPECT_GE(a, 50 * 100);
  EXPECT_GE(b, 20 * 100);
  EXPECT_LT(b, 20 * 200);
  EXPECT_EQ(static_cast<size_t>(a + b), ing->MemoryBytes());
  const std::string text = reg.Expose();
  EXPECT_EQ(SampleValue(text, R"(skald_ingester_tenant_memory_bytes{tenant="tenant-a"})"), a);
  EXPECT_EQ(SampleValue(text, R"(skald_ingester_tenant_memory_bytes{tenant="other"})"), b);
  EXPECT_EQ(SampleValue(text, "skald_ingester_memory_bytes"), a + b);
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_EQ(ing->MemoryBytes(kTenant), 0);
  EXPECT_EQ(ing->MemoryBytes("other"), 0);
  EXPECT_EQ(ing->MemoryBytes(), 0u);
  EXPECT_EQ(SampleValue(reg.Expose(), R"(skald_ingester_tenant_memory_bytes{tenant="tenant-a"})"),
            0);
}

TEST_F(IngesterTest, MemoryGuardRefusesATenantOverItsCapWholeWhileOthersKeepWriting) {
  metrics::Registry reg;
  auto ing = New(WithHeadCap(20000), &reg);
  int accepted = 0;
  Status st;
  AppendResult r;
  for (int i = 0; i < 1000 && st.ok(); i++) {
    r = {};
    st = TryPush(*ing, kTenant, AppLabels(i % 4), {{kBase + i, Line(i, 500), {}}}, &r);
    if (st.ok()) accepted++;
  }
  ASSERT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_TRUE(r.memory_limited);
  EXPECT_EQ(r.appended, 0u);
  EXPECT_NE(st.message().find("ingester memory limit exceeded for user tenant-a (limit: 20000 "
                              "bytes, unflushed: "),
            std::string::npos)
      << st.message();
  EXPECT_LE(ing->MemoryBytes(kTenant), 20000);
  EXPECT_GT(accepted, 20);
  EXPECT_EQ(HeldEntries(*ing, kTenant), static_cast<size_t>(accepted));  // nothing half-written
  // A refused push of a new stream creates no stream.
  EXPECT_EQ(TryPush(*ing, kTenant, AppLabels(99), {{kBase, Line(0, 500), {}}}, &r).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ing->ActiveStreams(kTenant), 4u);
  // Another tenant (no cap) keeps writing.
  for (int i = 0; i < 200; i++) {
    ASSERT_TRUE(TryPush(*ing, "other", AppLabels(0), {{kBase + i, Line(i, 500), {}}}, &r).ok());
  }
  EXPECT_EQ(SampleValue(reg.Expose(), R"(skald_ingester_memory_refusals_total{scope="tenant"})"),
            2);
  // Flushing frees the tenant's memory: it is admitted again.
  ASSERT_TRUE(ing->FlushAll().ok());
  EXPECT_TRUE(TryPush(*ing, kTenant, AppLabels(0), {{kBase + 5000, "again", {}}}, &r).ok());
}

TEST_F(IngesterTest, MemoryGuardProcessCapRefusesWithUnavailable) {
  metrics::Registry reg;
  auto ing = New(WithHeadCap(0, 30000), &reg);
  Status st;
  AppendResult r;
  int i = 0;
  for (; i < 1000 && st.ok(); i++) {
    st =
        TryPush(*ing, i % 2 ? "other" : kTenant, AppLabels(0), {{kBase + i, Line(i, 500), {}}}, &r);
  }
  ASSERT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_TRUE(r.memory_limited);
  EXPECT_NE(st.message().find("ingester memory limit exceeded (limit: 30000 bytes"),
            std::string::npos)
      << st.message();
  EXPECT_LE(ing->MemoryBytes(), 30000u);
  EXPECT_EQ(SampleValue(reg.Expose(), R"(skald_ingester_memory_refusals_total{scope="global"})"),
            1);
  EXPECT_EQ(SampleValue(reg.Expose(), "skald_ingester_memory_limit_bytes"), 30000);
}

TEST_F(IngesterTest, MemoryGuardHoldsUnderConcurrentPushes) {
  auto ing = New(WithHeadCap(50000));
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; i++) {
        AppendResult r;
        if (TryPush(*ing, kTenant, AppLabels(t), {{kBase + i, Line(i, 300), {}}}, &r).ok()) {
          accepted++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(ing->MemoryBytes(kTenant), 50000);
  EXPECT_EQ(HeldEntries(*ing, kTenant), static_cast<size_t>(accepted.load()));
}

TEST_F(IngesterTest, MemoryGuardPressureWakesTheFlushLoopAtOnce) {
  metrics::Registry reg;
  IngesterOptions o = WithHeadCap(100000);
  o.flush_check_period = kNanosPerHour;  // only pressure can start a pass
  auto ing = New(o, &reg);
  ing->Start();
  // Fill to just over 80% of the cap (pushes are admitted up to 100%).
  AppendResult r;
  int i = 0;
  while (ing->MemoryBytes(kTenant) <= 82000) {
    ASSERT_TRUE(
        TryPush(*ing, kTenant, AppLabels(i % 3), {{kBase + i, Line(i, 1000), {}}}, &r).ok());
    i++;
  }
  // The flush loop cuts the largest streams and flushes them, without waiting for age or idle.
  // (The metrics are counted after the memory is released: wait for all three.)
  auto flushed = [&] {
    return SampleValue(reg.Expose(),
                       R"(loki_ingester_chunks_flushed_total{reason="memory_pressure"})")
        .value_or(0);
  };
  auto passes = [&] {
    return SampleValue(reg.Expose(), "skald_ingester_memory_pressure_flushes_total").value_or(0);
  };
  EXPECT_TRUE(WaitFor(
      [&] { return ing->MemoryBytes(kTenant) <= 40000 && flushed() >= 1 && passes() >= 1; }));
  EXPECT_GE(flushed(), 1);
  EXPECT_GE(passes(), 1);
  ing->Stop();
  size_t stored = 0;
  for (auto& [ls, v] : StoredEntries(kTenant)) stored += v.size();
  EXPECT_EQ(stored + HeldEntries(*ing, kTenant), static_cast<size_t>(i));
}

TEST_F(IngesterTest, MemoryGuardNeverRefusesWalReplayAndRefusedPushesAreNotLogged) {
  MemFileSystem fs;
  const std::string dir = "/wal";
  int accepted = 0;
  {
    auto w = wal::Wal::Open({.dir = dir, .fsync = false, .fs = &fs});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto ing = New(WithHeadCap(20000));
    ing->AttachWal(w->get(), dir, &fs);
    AppendResult r;
    for (int i = 0; i < 100; i++) {
      if (TryPush(*ing, kTenant, AppLabels(0), {{kBase + i, Line(i, 500), {}}}, &r).ok()) {
        accepted++;
      }
    }
    ASSERT_LT(accepted, 100);
  }
  // Replay into an ingester whose cap is far lower: everything logged comes back.
  auto fresh = New(WithHeadCap(1000));
  ReplayReport report;
  ASSERT_TRUE(fresh->ReplayWal(dir, &fs, &report).ok());
  EXPECT_EQ(report.entries, static_cast<uint64_t>(accepted));
  EXPECT_EQ(HeldEntries(*fresh, kTenant), static_cast<size_t>(accepted));
  EXPECT_GT(fresh->MemoryBytes(kTenant), 1000);
  AppendResult r;
  EXPECT_EQ(TryPush(*fresh, kTenant, AppLabels(0), {{kBase + 500, "x", {}}}, &r).code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace skald::ingester

namespace skald::ingester {
namespace {

// Replica flushes: the stream's flush owner stores a chunk; another replica holding the same
// entries drops its copy after checking the store holds every one of them, and stores its copy
// when the store lacks any (the owner missed a push), so nothing is lost and nothing is
// stored three times.
class ReplicaFlushTest : public IngesterTest {
 protected:
  std::unique_ptr<Ingester> Replica(bool owner, metrics::Registry* reg) {
    IngesterOptions o;
    o.flush_owner = [owner](uint64_t) { return owner; };
    o.replica_flush_delay = 0;
    // Each replica has its own index reader on the shared store, as separate processes do.
    indexes_.push_back(std::make_unique<index::IndexStore>(&store_));
    return std::make_unique<Ingester>(o, &store_, indexes_.back().get(), reg);
  }
  std::vector<std::unique_ptr<index::IndexStore>> indexes_;
};

TEST_F(ReplicaFlushTest, TheOwnerStoresAndAReplicaWithNothingNewDropsItsCopy) {
  metrics::Registry reg_owner, reg_other;
  auto owner = Replica(true, &reg_owner);
  auto other = Replica(false, &reg_other);
  const Labels l = *ParseLabels(R"({app="r"})");
  std::vector<Entry> entries;
  for (int i = 0; i < 50; i++) entries.push_back({kBase + i, Line(i), {{"k", std::to_string(i)}}});
  Push(*owner, kTenant, l, entries);
  Push(*other, kTenant, l, entries);

  // The other replica flushes first: the store has nothing yet, so it stores its copy.
  ASSERT_TRUE(other->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 1u);
  EXPECT_EQ(SampleValue(reg_other.Expose(), "skald_ingester_replica_chunks_stored_total"), 1);
  // The owner always stores; its pack has the same bytes, so the same content-addressed key
  // (docs/formats/pack.md): still one object.
  ASSERT_TRUE(owner->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 1u);

  // Next round, the owner first: the replica's copy is dropped, not stored.
  std::vector<Entry> more;
  for (int i = 50; i < 80; i++) more.push_back({kBase + i, Line(i), {}});
  Push(*owner, kTenant, l, more);
  Push(*other, kTenant, l, more);
  ASSERT_TRUE(owner->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 2u);
  ASSERT_TRUE(other->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 2u);
  EXPECT_EQ(SampleValue(reg_other.Expose(), "skald_ingester_replica_chunks_deduped_total"), 1);
  EXPECT_TRUE(other->Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).empty());  // memory released

  // The owner missed a push: the replica's copy holds an entry the store lacks and is stored.
  std::vector<Entry> last = {{kBase + 100, "both", {}}};
  Push(*owner, kTenant, l, last);
  Push(*other, kTenant, l, last);
  Push(*other, kTenant, l, {{kBase + 101, "only the replica", {}}});
  ASSERT_TRUE(owner->FlushAll().ok());
  ASSERT_TRUE(other->FlushAll().ok());
  EXPECT_EQ(ChunkObjects(), 4u);
  EXPECT_EQ(SampleValue(reg_other.Expose(), "skald_ingester_replica_chunks_stored_total"), 2);
  std::set<std::string> lines;
  for (const auto& [labels, es] : StoredEntries(kTenant)) {
    for (const Entry& e : es) lines.insert(e.line);
  }
  EXPECT_EQ(lines.size(), 82u);  // 80 + "both" + "only the replica"
  EXPECT_EQ(lines.count("only the replica"), 1u);
}

TEST_F(ReplicaFlushTest, SameLineWithOtherMetadataIsNotTheSameEntry) {
  metrics::Registry reg;
  auto owner = Replica(true, nullptr);
  auto other = Replica(false, &reg);
  const Labels l = *ParseLabels(R"({app="m"})");
  Push(*owner, kTenant, l, {{kBase, "x", {{"trace", "1"}}}});
  Push(*other, kTenant, l, {{kBase, "x", {{"trace", "2"}}}});
  ASSERT_TRUE(owner->FlushAll().ok());
  ASSERT_TRUE(other->FlushAll().ok());
  EXPECT_EQ(SampleValue(reg.Expose(), "skald_ingester_replica_chunks_stored_total"), 1);
  EXPECT_EQ(ChunkObjects(), 2u);  // two packs over one span, both kept (keys hash content)
  std::set<std::string> traces;
  for (const auto& [labels, es] : StoredEntries(kTenant)) {
    for (const Entry& e : es) traces.insert(e.md.empty() ? "" : e.md[0].second);
  }
  EXPECT_EQ(traces, (std::set<std::string>{"1", "2"}));
}

}  // namespace
}  // namespace skald::ingester
