// Unit tests for the querier's sample feed (Querier::FeedSamples through QueryApi): metric
// queries without a pipeline read no line bytes, and give exactly the answer of the path
// that decodes whole blocks (a querier with QuerierOptions::metric_fast_path off) over data
// with and without structured metadata, blocks straddling the range edges, out-of-order
// blocks and copies of entries in several sources; blocks and chunks outside the range
// (lookback and offset included) are neither fetched nor decoded; a damaged line column is
// still Corruption. Uses a real ingester, in-memory object store and index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/coding.h"
#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "limits/limits.h"
#include "logql/value.h"
#include "querier/querier.h"
#include "querier/query_api.h"
#include "testing/fs/mem_object_store.h"

namespace skald::querier {
namespace {

// A minute boundary (2023-11-14T22:13:00Z), so step grids line up with the data.
constexpr int64_t kBase = int64_t{1'699'999'980} * kNanosPerSecond;
constexpr int64_t kSec = kNanosPerSecond;
constexpr int64_t kMs = kNanosPerMilli;
constexpr std::string_view kTenant = "fake";

using Meta = std::vector<std::pair<std::string, std::string>>;

struct Entry {
  int64_t ts = 0;
  std::string line;
  Meta md;
  bool operator<(const Entry& o) const {
    return std::tie(ts, line, md) < std::tie(o.ts, o.line, o.md);
  }
};

std::string Dump(const logql::QueryValue& v) {
  std::ostringstream os;
  for (const auto& s : v.matrix) {
    os << s.labels.ToString() << ":";
    for (const auto& p : s.points) os << " " << (p.ts_nanos - kBase) / kMs << "ms=" << p.value;
    os << "\n";
  }
  for (const auto& s : v.vector) {
    os << s.labels.ToString() << " @" << (s.point.ts_nanos - kBase) / kMs << "ms=" << s.point.value
       << "\n";
  }
  return os.str();
}

// Where block `b`'s line column sits inside a chunk (docs/formats/chunk.md block layout).
size_t LineColumnOffset(const chunk::ChunkReader& r, size_t b, size_t* stored_len) {
  std::string_view block = r.block_bytes(b);
  ByteReader br(block.substr(0, block.size() - 4));
  uint64_t n = 0, raw = 0, stored[4] = {};
  uint8_t codec = 0;
  EXPECT_TRUE(br.GetUvarint(&n));
  for (auto& s : stored)
    EXPECT_TRUE(br.GetByte(&codec) && br.GetUvarint(&raw) && br.GetUvarint(&s));
  const size_t data = block.size() - 4 - br.remaining();
  *stored_len = static_cast<size_t>(stored[2]);
  return static_cast<size_t>(r.blocks()[b].offset) + data + static_cast<size_t>(stored[0]) +
         static_cast<size_t>(stored[1]);
}

class SampleFeedTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(SmallBlocks()); }

  // Small blocks and chunks so that a few hundred entries make many of both.
  static ingester::IngesterOptions SmallBlocks(chunk::Codec codec = chunk::Codec::kSnappy) {
    ingester::IngesterOptions o;
    o.block_size = 1024;
    o.target_size = 2048;
    o.codec = codec;
    return o;
  }

  void Reset(ingester::IngesterOptions o) {
    fast_api_.reset();
    slow_api_.reset();
    fast_.reset();
    slow_.reset();
    ing_ = std::make_unique<ingester::Ingester>(o, &store_, &index_, nullptr);
    QuerierOptions qo;
    qo.parallelism = 2;
    fast_ = std::make_unique<Querier>(qo, ing_.get(), &index_, &store_);
    qo.metric_fast_path = false;
    slow_ = std::make_unique<Querier>(qo, ing_.get(), &index_, &store_);
    fast_api_ = std::make_unique<QueryApi>(fast_.get(), &limits_);
    slow_api_ = std::make_unique<QueryApi>(slow_.get(), &limits_);
  }

  void Push(std::string_view labels, const std::vector<Entry>& entries) {
    auto ls = ParseLabels(labels);
    ASSERT_TRUE(ls.ok()) << labels;
    std::vector<std::vector<MetadataPair>> metas(entries.size());
    std::vector<ingester::AppendEntry> batch;
    for (size_t i = 0; i < entries.size(); i++) {
      for (const auto& [n, v] : entries[i].md) metas[i].push_back({n, v});
      batch.push_back({entries[i].ts, entries[i].line, metas[i]});
    }
    ingester::AppendResult r;
    ASSERT_TRUE(ing_->Push(kTenant, *ls, batch, &r).ok());
    ASSERT_TRUE(r.rejected.empty()) << r.rejected[0].second;
    auto& held = pushed_[ls->ToString()];
    held.insert(entries.begin(), entries.end());
  }

  void Flush() { ASSERT_TRUE(ing_->FlushAll().ok()); }

  static RangeQuery Range(std::string query, int64_t start, int64_t end, int64_t step) {
    RangeQuery q;
    q.query = std::move(query);
    q.start_ns = start;
    q.end_ns = end;
    q.step_ns = step;
    return q;
  }

  // Runs q on both queriers; they must agree exactly. Returns the fast one's answer.
  QueryResult RunBoth(const RangeQuery& q) {
    auto fast = fast_api_->Range(kTenant, q);
    auto slow = slow_api_->Range(kTenant, q);
    EXPECT_TRUE(fast.ok()) << q.query << ": " << fast.status().ToString();
    EXPECT_TRUE(slow.ok()) << q.query << ": " << slow.status().ToString();
    if (!fast.ok() || !slow.ok()) return {};
    EXPECT_EQ(Dump(fast->value), Dump(slow->value)) << q.query;
    return std::move(fast).value();
  }

  // The chunks in the store with their block indexes.
  struct StoredChunkInfo {
    std::string key;      // locator
    uint64_t offset = 0;  // of the chunk in its pack
    std::string bytes;
    std::vector<chunk::BlockMeta> blocks;
    int64_t min_ts = 0, max_ts = 0;
  };
  std::vector<StoredChunkInfo> StoredChunks() {
    std::vector<StoredChunkInfo> out;
    auto keys = store_.List("packs/");
    EXPECT_TRUE(keys.ok());
    if (!keys.ok()) return out;
    for (const std::string& pack : *keys) {
      auto all = store_.Get(pack);
      EXPECT_TRUE(all.ok());
      if (!all.ok()) continue;
      auto footer = storage::ReadPackFooter(*all);
      EXPECT_TRUE(footer.ok()) << footer.status().ToString();
      if (!footer.ok()) continue;
      for (const storage::PackedChunk& pc : *footer) {
        StoredChunkInfo c;
        c.key = pack + "#" + std::to_string(pc.offset) + "+" + std::to_string(pc.length);
        c.offset = pc.offset;
        c.bytes = all->substr(pc.offset, pc.length);
        auto r = chunk::ChunkReader::Open(c.bytes);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        if (!r.ok()) continue;
        c.blocks = r->blocks();
        c.min_ts = r->header().min_ts;
        c.max_ts = r->header().max_ts;
        out.push_back(std::move(c));
      }
    }
    return out;
  }

  // Counts ranged reads (reads of chunks in packs).
  class CountingStore : public storage::MemObjectStore {
   public:
    StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                   uint64_t length) override {
      ranged_reads++;
      return ObjectStore::GetRange(key, offset, length);
    }
    std::atomic<int> ranged_reads{0};
  };
  CountingStore store_;
  index::IndexStore index_{&store_};
  std::unique_ptr<ingester::Ingester> ing_;
  std::unique_ptr<Querier> fast_, slow_;
  limits::Overrides limits_{limits::Limits{}};
  std::unique_ptr<QueryApi> fast_api_, slow_api_;
  // Distinct entries pushed, per stream label string.
  std::map<std::string, std::set<Entry>> pushed_;
};

// Lines of random length (bytes_* must see each entry's exact length).
std::string RandomLine(std::mt19937_64* rng, int i) {
  std::string line = "line " + std::to_string(i) + " ";
  line.append((*rng)() % 90, static_cast<char>('a' + (*rng)() % 26));
  return line;
}

// Data in every shape the feed handles: three streams (no metadata; metadata on some
// entries, one key named like a stream label; metadata on every entry), flushed chunks,
// then entries again in the ingester (closed chunks, cut blocks, head) that overlap the
// stored ones in time: exact copies of stored entries (count once), entries sharing a
// stored entry's timestamp with another line (count twice) and entries older than the
// stream's newest (out-of-order blocks).
class MixedDataTest : public SampleFeedTest {
 protected:
  void SetUp() override {
    SampleFeedTest::SetUp();
    std::mt19937_64 rng(7);
    const std::string streams[] = {R"({app="a", host="h1"})", R"({app="a", host="h2"})",
                                   R"({app="b", host="h1"})"};
    auto meta_for = [&](int s, int i) -> Meta {
      if (s == 0) return {};
      if (s == 1) {
        if (i % 2 == 0) return {};
        if (i % 7 == 1) return {{"host", "other"}};  // shows as host_extracted
        return {{"trace_id", "t" + std::to_string(i % 3)}};
      }
      return {{"level", i % 4 == 0 ? "warn" : "info"}, {"trace_id", "t" + std::to_string(i % 2)}};
    };
    // Phase 1: [0, 300 s), flushed.
    std::vector<std::vector<Entry>> first(3);
    for (int s = 0; s < 3; s++) {
      int64_t ts = kBase + s * kMs;
      for (int i = 0; i < 400; i++) {
        ts += static_cast<int64_t>(rng() % 1400) * kMs + ((rng() % 5 == 0) ? 0 : 1);
        first[s].push_back({ts, RandomLine(&rng, i), meta_for(s, i)});
      }
      Push(streams[s], first[s]);
    }
    Flush();
    // Phase 2, in the ingester: copies, same-timestamp different lines, then newer entries,
    // then older ones (out of order).
    for (int s = 0; s < 3; s++) {
      std::vector<Entry> again;
      for (int i = 300; i < 400; i += 3) again.push_back(first[s][static_cast<size_t>(i)]);
      for (int i = 301; i < 400; i += 10) {
        Entry e = first[s][static_cast<size_t>(i)];
        e.line += " (another line at the same time)";
        again.push_back(e);
      }
      std::sort(again.begin(), again.end());
      Push(streams[s], again);
      std::vector<Entry> newer, older;
      int64_t ts = first[s].back().ts;
      for (int i = 0; i < 300; i++) {
        ts += static_cast<int64_t>(rng() % 900) * kMs + 1;
        newer.push_back({ts, RandomLine(&rng, 1000 + i), meta_for(s, i)});
      }
      Push(streams[s], newer);
      for (int i = 0; i < 60; i++) {
        older.push_back({first[s].back().ts - (60 - i) * kSec - 333 * kMs,
                         RandomLine(&rng, 2000 + i), meta_for(s, i)});
      }
      Push(streams[s], older);
    }
  }
};

TEST_F(MixedDataTest, ResultsAreTheSameWithAndWithoutLines) {
  const std::vector<std::string> queries = {
      R"(count_over_time({app="a"}[1m]))",
      R"(count_over_time({app=~".+"}[10s]))",
      R"(rate({app=~".+"}[5m]))",
      R"(bytes_over_time({host="h2"}[1m]))",
      R"(bytes_rate({app="b"}[30s]))",
      R"(absent_over_time({app="a", host="h1"}[20s]))",
      R"(sum by (trace_id) (count_over_time({app="a"}[1m])))",
      R"(sum by (host, host_extracted) (count_over_time({app="a"}[2m])))",
      R"(sum(count_over_time({app=~".+"}[1m] offset 2m)))",
      R"(sum by (level) (count_over_time({app="b"}[1m])))",
      R"(sum without (trace_id) (bytes_over_time({app=~".+"}[45s])))",
      R"(sum by (host) (rate({app=~".+"}[5m])))",
      R"(topk(2, sum by (app, level) (count_over_time({app=~".+"}[3m]))))",
      // With a pipeline both queriers read lines: a sanity row for the comparison itself.
      R"(count_over_time({app=~".+"} |= "line 3" [1m]))",
  };
  struct Window {
    int64_t start, end, step;
  };
  const Window windows[] = {
      {kBase, kBase + 12 * kNanosPerMinute, 15 * kSec},                // everything
      {kBase + 123 * kSec + 456 * kMs, kBase + 401 * kSec, 7 * kSec},  // edges inside blocks
      {kBase + 250 * kSec, kBase + 330 * kSec, kSec},                  // where sources overlap
      {kBase + 299 * kSec, kBase + 299 * kSec, kSec},                  // a single step
  };
  size_t nonempty = 0;
  for (const std::string& q : queries) {
    for (const Window& w : windows) {
      SCOPED_TRACE(q + " @" + std::to_string((w.start - kBase) / kMs) + "ms");
      QueryResult r = RunBoth(Range(q, w.start, w.end, w.step));
      if (!r.value.matrix.empty()) nonempty++;
    }
    // Instant queries take the same path.
    InstantQuery iq;
    iq.query = q;
    iq.time_ns = kBase + 317 * kSec;
    auto fast = fast_api_->Instant(kTenant, iq);
    auto slow = slow_api_->Instant(kTenant, iq);
    ASSERT_TRUE(fast.ok() && slow.ok()) << q;
    EXPECT_EQ(Dump(fast->value), Dump(slow->value)) << q;
  }
  EXPECT_GT(nonempty, queries.size() * 2) << "the table must not be vacuous";
}

// The answer is the right one, not just the same one: one sample per distinct entry
// (copies in several sources count once, another line at the same time counts).
TEST_F(MixedDataTest, CountsEveryDistinctEntryOnce) {
  size_t distinct = 0;
  for (const auto& [stream, entries] : pushed_) distinct += entries.size();
  InstantQuery iq;
  iq.query = R"(sum(count_over_time({app=~".+"}[1h])))";
  iq.time_ns = kBase + 30 * kNanosPerMinute;
  for (QueryApi* api : {fast_api_.get(), slow_api_.get()}) {
    auto r = api->Instant(kTenant, iq);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->value.vector.size(), 1u) << Dump(r->value);
    EXPECT_EQ(r->value.vector[0].point.value, static_cast<double>(distinct));
  }
  // Bytes likewise: the sum of the distinct entries' line lengths.
  double bytes = 0;
  for (const auto& [stream, entries] : pushed_) {
    for (const Entry& e : entries) bytes += static_cast<double>(e.line.size());
  }
  iq.query = R"(sum(bytes_over_time({app=~".+"}[1h])))";
  auto r = fast_api_->Instant(kTenant, iq);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->value.vector.size(), 1u);
  EXPECT_EQ(r->value.vector[0].point.value, bytes);
}

// Without a pipeline the line column is not decompressed at all when no two entries share a
// timestamp, and the stats say so: entries are counted, line bytes are not.
TEST_F(SampleFeedTest, MetricQueriesWithoutPipelineDecompressNoLineBytes) {
  std::vector<Entry> entries;
  for (int i = 0; i < 600; i++) {
    entries.push_back({kBase + i * 500 * kMs, "entry number " + std::to_string(i), {}});
  }
  Push(R"({app="a"})", std::vector<Entry>(entries.begin(), entries.begin() + 400));
  Flush();
  Push(R"({app="a"})", std::vector<Entry>(entries.begin() + 400, entries.end()));
  const RangeQuery q = Range(R"(sum(bytes_over_time({app="a"}[1m])))", kBase,
                             kBase + 6 * kNanosPerMinute, kNanosPerMinute);
  auto fast = fast_api_->Range(kTenant, q);
  auto slow = slow_api_->Range(kTenant, q);
  ASSERT_TRUE(fast.ok() && slow.ok());
  EXPECT_EQ(Dump(fast->value), Dump(slow->value));
  EXPECT_EQ(fast->stats.decompressed_bytes, 0u);
  EXPECT_EQ(fast->stats.head_chunk_bytes, 0u);
  EXPECT_GT(slow->stats.decompressed_bytes, 0u);
  EXPECT_GT(slow->stats.head_chunk_bytes, 0u);
  EXPECT_EQ(fast->stats.decompressed_lines, slow->stats.decompressed_lines);
  EXPECT_EQ(fast->stats.head_chunk_lines, slow->stats.head_chunk_lines);
  EXPECT_EQ(fast->stats.TotalLines(), 600u);
}

// Copies of entries in two sources force their identity check, which needs their lines:
// only the blocks holding a shared timestamp are decoded with lines.
TEST_F(SampleFeedTest, OnlyBlocksWithSharedTimestampsDecompressLines) {
  std::vector<Entry> entries;
  for (int i = 0; i < 400; i++) {
    entries.push_back({kBase + i * 500 * kMs, "entry number " + std::to_string(i), {}});
  }
  Push(R"({app="a"})", entries);
  Flush();
  // A copy of one stored entry goes to the ingester's head.
  const Entry& copied = entries[395];
  Push(R"({app="a"})", {copied});
  // The one stored block holding the copied entry's timestamp.
  uint64_t block_line_bytes = 0, blocks = 0, holders = 0;
  for (const auto& c : StoredChunks()) {
    auto r = chunk::ChunkReader::Open(c.bytes);
    ASSERT_TRUE(r.ok());
    for (size_t b = 0; b < r->blocks().size(); b++) {
      blocks++;
      if (r->blocks()[b].min_ts > copied.ts || copied.ts > r->blocks()[b].max_ts) continue;
      holders++;
      chunk::DecodedBlock d;
      ASSERT_TRUE(r->ReadBlock(b, &d).ok());
      block_line_bytes = d.lines_data().size();
    }
  }
  ASSERT_EQ(holders, 1u);
  ASSERT_GT(blocks, 3u);
  const RangeQuery q =
      Range(R"(count_over_time({app="a"}[1m]))", kBase, kBase + 5 * kNanosPerMinute, kSec * 30);
  QueryResult r = RunBoth(q);
  EXPECT_EQ(r.stats.decompressed_bytes, block_line_bytes);
  EXPECT_EQ(r.stats.head_chunk_bytes, copied.line.size());
  InstantQuery iq;
  iq.query = R"(sum(count_over_time({app="a"}[1h])))";
  iq.time_ns = kBase + 30 * kNanosPerMinute;
  auto total = fast_api_->Instant(kTenant, iq);
  ASSERT_TRUE(total.ok());
  ASSERT_EQ(total->value.vector.size(), 1u);
  EXPECT_EQ(total->value.vector[0].point.value, 400);
}

// Stored chunks and blocks outside the samples' range — the query range widened by the
// aggregation's range and moved by its offset — are never fetched / decoded, and neither
// are ingester blocks outside it.
TEST_F(SampleFeedTest, BlocksOutsideTheRangeAreNeitherFetchedNorDecoded) {
  std::vector<Entry> stored, held;
  for (int i = 0; i < 3000; i++) {
    stored.push_back({kBase + i * 100 * kMs, "stored entry " + std::to_string(i), {}});
  }
  for (int i = 0; i < 600; i++) {
    held.push_back({kBase + 300 * kSec + i * 100 * kMs, "held entry " + std::to_string(i), {}});
  }
  Push(R"({app="a"})", stored);
  Flush();
  Push(R"({app="a"})", held);

  // Samples in (start - 30 s - 60 s, end - 60 s] = (60 s, 140 s].
  const int64_t after = kBase + 60 * kSec, through = kBase + 140 * kSec;
  const RangeQuery q = Range(R"(count_over_time({app="a"}[30s] offset 1m))", kBase + 150 * kSec,
                             kBase + 200 * kSec, 10 * kSec);
  uint64_t want_chunks = 0, want_lines = 0, want_skipped = 0, want_bytes = 0;
  uint64_t all_blocks = 0;
  for (const auto& c : StoredChunks()) {
    if (c.max_ts <= after || c.min_ts > through) continue;
    want_chunks++;
    auto r = chunk::ChunkReader::Open(c.bytes);
    ASSERT_TRUE(r.ok());
    for (size_t b = 0; b < c.blocks.size(); b++) {
      all_blocks++;
      const chunk::BlockMeta& m = c.blocks[b];
      if (m.max_ts <= after || m.min_ts > through) {
        want_skipped++;
        continue;
      }
      want_lines += m.entries;
      chunk::DecodedBlock d;
      ASSERT_TRUE(r->ReadBlock(b, &d).ok());
      want_bytes += d.lines_data().size();
    }
  }
  ASSERT_GT(StoredChunks().size(), want_chunks) << "some chunks must lie outside the range";
  ASSERT_GT(want_skipped, 0u) << "some blocks of a fetched chunk must lie outside the range";
  ASSERT_LT(want_lines, 1000u);

  auto fast = fast_api_->Range(kTenant, q);
  auto slow = slow_api_->Range(kTenant, q);
  ASSERT_TRUE(fast.ok() && slow.ok());
  EXPECT_EQ(Dump(fast->value), Dump(slow->value));
  ASSERT_FALSE(fast->value.matrix.empty());
  for (const QueryResult* r : {&*fast, &*slow}) {
    EXPECT_EQ(r->stats.chunks_downloaded, want_chunks);
    EXPECT_EQ(r->stats.blocks_skipped, want_skipped);
    EXPECT_EQ(r->stats.decompressed_lines, want_lines);
    EXPECT_EQ(r->stats.head_chunk_lines, 0u) << "the ingester's data is outside the range";
  }
  EXPECT_EQ(fast->stats.decompressed_bytes, 0u);
  EXPECT_EQ(slow->stats.decompressed_bytes, want_bytes);

  // The same over the ingester's data: only its blocks overlapping the samples' range are
  // decoded (samples in (340 s, 350 s]).
  const RangeQuery q2 =
      Range(R"(count_over_time({app="a"}[10s]))", kBase + 350 * kSec, kBase + 350 * kSec, kSec);
  uint64_t want_head = 0;
  auto app_a = Matcher::Create(MatchType::kEqual, "app", "a");
  ASSERT_TRUE(app_a.ok());
  std::vector<Matcher> matchers = {*app_a};
  for (const auto& snap :
       ing_->Snapshot(kTenant, matchers, kBase + 340 * kSec + 1, kBase + 350 * kSec + 1)) {
    for (const auto& b : snap.blocks) want_head += b.entries;
  }
  ASSERT_GT(want_head, 0u);
  ASSERT_LT(want_head, held.size());
  auto r2 = fast_api_->Range(kTenant, q2);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->value.matrix.size(), 1u);
  EXPECT_EQ(r2->value.matrix[0].points[0].value, 100);
  EXPECT_EQ(r2->stats.head_chunk_lines, want_head);
  EXPECT_EQ(r2->stats.chunks_downloaded, 0u);
  EXPECT_EQ(r2->stats.head_chunk_bytes, 0u);
}

// A damaged line column of a stored block is Corruption for a query that never decompresses
// lines: the block checksum covers the stored bytes. For compressed and uncompressed lines.
// Block filters: a metric query whose line filter needs a literal that is in few blocks
// decodes only those, in the store and in the ingester, and counts the same as a scan of all.
TEST_F(SampleFeedTest, BlockFiltersSkipBlocksWithoutTheLiteral) {
  std::vector<Entry> entries;
  for (int i = 0; i < 600; i++) {
    std::string line = "request id=" + std::to_string(i) + " served";
    if (i == 77 || i == 78 || i == 512) line += " NeedleWord";
    entries.push_back({kBase + i * kSec / 10, line, {}});
  }
  Push(R"({app="a"})", std::vector<Entry>(entries.begin(), entries.begin() + 400));
  Flush();
  Push(R"({app="a"})", std::vector<Entry>(entries.begin() + 400, entries.end()));
  for (const char* query : {R"(count_over_time({app="a"} |= "needleword" [5m]))",
                            R"(count_over_time({app="a"} |~ "(?i)NEEDLEWORD" [5m]))",
                            R"(sum(count_over_time({app="a"} |= "Needle" != "x" [5m])))"}) {
    SCOPED_TRACE(query);
    QueryResult r = RunBoth(Range(query, kBase + 300 * kSec, kBase + 300 * kSec, kSec));
    if (std::string_view(query).find("needleword\"") != std::string_view::npos) {
      EXPECT_TRUE(r.value.matrix.empty()) << "the literal is case-sensitive: no line has it";
    } else {
      ASSERT_EQ(r.value.matrix.size(), 1u);
      ASSERT_EQ(r.value.matrix[0].points.size(), 1u);
      EXPECT_EQ(r.value.matrix[0].points[0].value, 3.0);
    }
    EXPECT_TRUE(r.stats.used_block_filters);
    EXPECT_GT(r.stats.blocks_filtered, 10u);
    EXPECT_LE(r.stats.blocks_read, 4u) << "only blocks holding the literal are decoded";
    EXPECT_LT(r.stats.decompressed_lines + r.stats.head_chunk_lines, 100u);
  }
  // A filter that cannot refute anything (3 bytes) reads every block.
  QueryResult all = RunBoth(Range(R"(count_over_time({app="a"} |= "eed" [5m]))", kBase + 300 * kSec,
                                  kBase + 300 * kSec, kSec));
  EXPECT_EQ(all.stats.blocks_filtered, 0u);
  EXPECT_EQ(all.stats.decompressed_lines + all.stats.head_chunk_lines, 600u);
}

// Many small streams of one small stored block each, whose filters are in the index: a metric
// query for a literal in one of them fetches (nearly) only that one, and counts as a scan does.
// A metric query over many streams whose chunks (larger than the coalescing gap) lie side by
// side in one pack reads them in a few ranged reads: each task takes a contiguous run of
// streams in storage order, not every other one (one request per chunk on object storage).
TEST_F(SampleFeedTest, MetricQueriesReadPackNeighboursTogether) {
  Reset(ingester::IngesterOptions{});
  std::mt19937_64 rng(5);
  int64_t lines = 0;
  for (int s = 0; s < 120; s++) {
    std::vector<Entry> entries;
    for (int i = 0; i < 600; i++) {
      std::string line(150, ' ');
      for (char& c : line) c = static_cast<char>('!' + rng() % 90);  // barely compressible
      entries.push_back({kBase + i * kSec / 10, std::move(line), {}});
    }
    lines += static_cast<int64_t>(entries.size());
    Push("{app=\"n" + std::to_string(s) + "\"}", entries);
  }
  Flush();
  const auto chunks = StoredChunks();
  ASSERT_EQ(chunks.size(), 120u);
  store_.ranged_reads = 0;
  QueryResult r = RunBoth(Range(R"(sum(count_over_time({app=~"n.+"} [5m])))", kBase + 100 * kSec,
                                kBase + 100 * kSec, kSec));
  ASSERT_EQ(r.value.matrix.size(), 1u);
  EXPECT_EQ(r.value.matrix[0].points[0].value, static_cast<double>(lines));
  EXPECT_EQ(r.stats.chunks_downloaded, 120u);
  // Two queriers (fast and slow) ran it: a handful of reads each, not 120.
  EXPECT_LE(store_.ranged_reads.load(), 16) << "one read per batch of pack neighbours";
}

TEST_F(SampleFeedTest, SmallChunksAreRefutedFromTheIndex) {
  for (int s = 0; s < 300; s++) {
    std::string line = "request served by worker " + std::to_string(s);
    if (s == 123) line += " NeedleWord";
    Push("{app=\"s" + std::to_string(s) + "\"}",
         {{kBase + s * kSec / 10, line, {}}, {kBase + s * kSec / 10 + 1, "done", {}}});
  }
  Flush();
  QueryResult r = RunBoth(Range(R"(sum(count_over_time({app=~"s.+"} |= "NeedleWord" [5m])))",
                                kBase + 100 * kSec, kBase + 100 * kSec, kSec));
  ASSERT_EQ(r.value.matrix.size(), 1u);
  ASSERT_EQ(r.value.matrix[0].points.size(), 1u);
  EXPECT_EQ(r.value.matrix[0].points[0].value, 1.0);
  EXPECT_TRUE(r.stats.used_block_filters);
  EXPECT_EQ(r.stats.chunks_ref, 300u);
  EXPECT_EQ(r.stats.chunks_downloaded + r.stats.blocks_filtered, 300u);
  EXPECT_LE(r.stats.chunks_downloaded, 15u) << "the one holding it, and false positives";
  EXPECT_GE(r.stats.chunks_downloaded, 1u);
  // Without a literal every chunk is read.
  QueryResult all = RunBoth(Range(R"(sum(count_over_time({app=~"s.+"} [5m])))", kBase + 100 * kSec,
                                  kBase + 100 * kSec, kSec));
  ASSERT_EQ(all.value.matrix.size(), 1u);
  EXPECT_EQ(all.value.matrix[0].points[0].value, 600.0);
  EXPECT_EQ(all.stats.blocks_filtered, 0u);
  EXPECT_EQ(all.stats.chunks_downloaded, 300u);
}

class DamagedLinesTest : public SampleFeedTest, public ::testing::WithParamInterface<chunk::Codec> {
 protected:
  void SetUp() override { Reset(SmallBlocks(GetParam())); }
};

TEST_P(DamagedLinesTest, DamagedLineColumnIsCorruptionWithoutLines) {
  std::vector<Entry> entries;
  for (int i = 0; i < 200; i++) {
    entries.push_back({kBase + i * 100 * kMs, "entry number " + std::to_string(i), {}});
  }
  Push(R"({app="a"})", entries);
  Flush();
  auto chunks = StoredChunks();
  ASSERT_FALSE(chunks.empty());
  StoredChunkInfo& c = chunks[0];
  auto r = chunk::ChunkReader::Open(c.bytes);
  ASSERT_TRUE(r.ok());
  size_t len = 0;
  const size_t at = LineColumnOffset(*r, 0, &len);
  ASSERT_GT(len, 0u);
  // Damage the byte inside the pack that holds the chunk.
  const std::string pack(storage::LocatorObject(c.key));
  auto whole = store_.Get(pack);
  ASSERT_TRUE(whole.ok());
  std::string bad = *whole;
  bad[c.offset + at + len / 2] ^= 0x04;
  ASSERT_TRUE(store_.Put(pack, bad).ok());
  for (const char* query :
       {R"(count_over_time({app="a"}[1m]))", R"(sum(bytes_rate({app="a"}[1m])))"}) {
    const RangeQuery q = Range(query, kBase, kBase + kNanosPerMinute, kSec);
    auto fast = fast_api_->Range(kTenant, q);
    auto slow = slow_api_->Range(kTenant, q);
    EXPECT_EQ(fast.status().code(), StatusCode::kCorruption) << fast.status().ToString();
    EXPECT_EQ(slow.status().code(), StatusCode::kCorruption) << slow.status().ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, DamagedLinesTest,
                         ::testing::Values(chunk::Codec::kNone, chunk::Codec::kSnappy,
                                           chunk::Codec::kZstd),
                         [](const auto& info) {
                           return std::string(chunk::CodecName(info.param));
                         });

}  // namespace
}  // namespace skald::querier
