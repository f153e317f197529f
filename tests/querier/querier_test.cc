// Unit tests for the querier: log selection over ingester memory plus flushed
// chunks (deduplicated), the global limit and direction with the tie rule,
// [start, end) bounds, line filters, result ordering, a randomised comparison
// against a brute-force model (exercising block skipping), label/series
// lookups across head and store, and query statistics. Uses a real ingester,
// object store and index.
#include "querier/querier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "chunk/block.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "logql/ast.h"
#include "logql/parser.h"
#include "testing/fs/mem_object_store.h"

namespace skald::querier {
namespace {

// 2023-11-14T22:13:20Z.
constexpr int64_t kBase = int64_t{1'700'000'000} * kNanosPerSecond;
constexpr int64_t kMs = kNanosPerMilli;
constexpr std::string_view kTenant = "fake";

using Meta = std::vector<std::pair<std::string, std::string>>;

struct Entry {
  int64_t ts = 0;
  std::string line;
  Meta md;
  bool operator==(const Entry& o) const { return ts == o.ts && line == o.line && md == o.md; }
};

// A result in comparable form: (label string, entries).
using Result = std::vector<std::pair<std::string, std::vector<Entry>>>;

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  os << "{+" << (e.ts - kBase) << ", \"" << e.line << "\"";
  for (const auto& [n, v] : e.md) os << ", " << n << "=" << v;
  return os << "}";
}

std::string Dump(const Result& r) {
  std::ostringstream os;
  for (const auto& [ls, entries] : r) {
    os << ls << ":";
    for (const auto& e : entries) os << " " << e;
    os << "\n";
  }
  return os.str();
}

Labels L(std::string_view text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : Labels();
}

Result ToResult(const std::vector<ResultStream>& streams) {
  Result out;
  for (const auto& s : streams) {
    std::vector<Entry> entries;
    for (const auto& e : s.entries) entries.push_back({e.ts, e.line, e.metadata});
    out.emplace_back(s.labels.ToString(), std::move(entries));
  }
  return out;
}

// What was pushed, per tenant and stream, in arrival order.
struct Model {
  struct Stream {
    Labels labels;
    std::vector<Entry> entries;
  };
  std::map<std::string, std::map<std::string, Stream>> tenants;

  // The answer SelectLogs must give: entries of matching streams in
  // [start, end) passing `keep`, exact duplicates collapsed; per stream ordered
  // by time in direction (ties in arrival order forward, reversed backward);
  // the global limit taken by (time in direction, label string, stream order).
  Result Expected(std::string_view tenant, const std::vector<Matcher>& matchers,
                  const std::function<bool(std::string_view)>& keep, int64_t start, int64_t end,
                  uint32_t limit, bool forward) const {
    struct Pick {
      int64_t ts;
      const std::string* ls;
      size_t idx;
      const Entry* e;
    };
    std::vector<Pick> picks;
    std::map<std::string, std::vector<const Entry*>> per_stream;
    auto t = tenants.find(std::string(tenant));
    if (t == tenants.end()) return {};
    for (const auto& [ls, s] : t->second) {
      if (!MatchesAll(matchers, s.labels)) continue;
      std::vector<const Entry*> kept;
      for (const auto& e : s.entries) {
        if (e.ts < start || e.ts >= end || !keep(e.line)) continue;
        bool dup = false;
        for (const Entry* k : kept) dup = dup || *k == e;
        if (!dup) kept.push_back(&e);
      }
      if (!forward) std::reverse(kept.begin(), kept.end());
      std::stable_sort(kept.begin(), kept.end(), [&](const Entry* a, const Entry* b) {
        return forward ? a->ts < b->ts : a->ts > b->ts;
      });
      for (size_t i = 0; i < kept.size(); i++) picks.push_back({kept[i]->ts, &ls, i, kept[i]});
    }
    std::sort(picks.begin(), picks.end(), [&](const Pick& a, const Pick& b) {
      if (a.ts != b.ts) return forward ? a.ts < b.ts : a.ts > b.ts;
      if (*a.ls != *b.ls) return *a.ls < *b.ls;
      return a.idx < b.idx;
    });
    if (picks.size() > limit) picks.resize(limit);
    std::map<std::string, std::vector<Entry>> grouped;
    for (const auto& p : picks) grouped[*p.ls].push_back(*p.e);
    return Result(grouped.begin(), grouped.end());
  }
};

bool KeepAll(std::string_view) { return true; }

// Counts ranged reads (reads of chunks in packs).
class CountingStore : public storage::MemObjectStore {
 public:
  StatusOr<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    ranged_reads++;
    return ObjectStore::GetRange(key, offset, length);
  }
  std::atomic<int> ranged_reads{0};
};

class QuerierTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(ingester::IngesterOptions{}); }

  void Reset(ingester::IngesterOptions o, int parallelism = 3) {
    q_.reset();
    ing_ = std::make_unique<ingester::Ingester>(o, &store_, &index_, nullptr);
    QuerierOptions qo;
    qo.parallelism = parallelism;
    q_ = std::make_unique<Querier>(qo, ing_.get(), &index_, &store_);
  }

  void Push(std::string_view labels, const std::vector<Entry>& entries,
            std::string_view tenant = kTenant) {
    Labels ls = L(labels);
    std::vector<std::vector<MetadataPair>> metas(entries.size());
    std::vector<ingester::AppendEntry> batch;
    for (size_t i = 0; i < entries.size(); i++) {
      for (const auto& [n, v] : entries[i].md) metas[i].push_back({n, v});
      batch.push_back({entries[i].ts, entries[i].line, metas[i]});
    }
    ingester::AppendResult r;
    ASSERT_TRUE(ing_->Push(tenant, ls, batch, &r).ok());
    ASSERT_TRUE(r.rejected.empty());
    auto& s = model_.tenants[std::string(tenant)][ls.ToString()];
    s.labels = ls;
    s.entries.insert(s.entries.end(), entries.begin(), entries.end());
  }

  void Flush() { ASSERT_TRUE(ing_->FlushAll().ok()); }

  StatusOr<std::vector<ResultStream>> Run(std::string_view query, int64_t start, int64_t end,
                                          uint32_t limit, bool forward, QueryStats* stats,
                                          std::string_view tenant = kTenant) {
    auto expr = logql::ParseExpr(query);
    EXPECT_TRUE(expr.ok()) << query << ": " << expr.status().ToString();
    if (!expr.ok()) return expr.status();
    const logql::LogSelector* sel = logql::AsLogSelector(**expr);
    EXPECT_NE(sel, nullptr) << query;
    if (sel == nullptr) return Status::InvalidArgument("not a log selector");
    QueryStats local;
    return q_->SelectLogs(tenant, *sel, start, end, limit, forward, stats ? stats : &local);
  }

  Result Select(std::string_view query, int64_t start, int64_t end, uint32_t limit, bool forward,
                QueryStats* stats = nullptr, std::string_view tenant = kTenant) {
    auto r = Run(query, start, end, limit, forward, stats, tenant);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? ToResult(*r) : Result{};
  }

  std::vector<Matcher> MatchersOf(std::string_view query) {
    auto expr = logql::ParseExpr(query);
    EXPECT_TRUE(expr.ok()) << query << ": " << expr.status().ToString();
    if (!expr.ok() || logql::AsLogSelector(**expr) == nullptr) return {};
    return logql::AsLogSelector(**expr)->matchers;
  }

  CountingStore store_;
  index::IndexStore index_{&store_};
  std::unique_ptr<ingester::Ingester> ing_;
  std::unique_ptr<Querier> q_;
  Model model_;
};

TEST_F(QuerierTest, MergesIngesterAndStoreWithoutDuplicates) {
  std::vector<Entry> first, second;
  for (int i = 0; i < 10; i++) first.push_back({kBase + i * kMs, "l" + std::to_string(i), {}});
  Push(R"({app="a"})", first);
  Flush();
  // Entries 5..9 again (identical), then 10..14.
  for (int i = 5; i < 15; i++) second.push_back({kBase + i * kMs, "l" + std::to_string(i), {}});
  Push(R"({app="a"})", second);

  QueryStats stats;
  Result got = Select(R"({app="a"})", kBase, kBase + kNanosPerSecond, 100, true, &stats);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].second.size(), 15u) << Dump(got);
  for (int i = 0; i < 15; i++) {
    EXPECT_EQ(got[0].second[i], (Entry{kBase + i * kMs, "l" + std::to_string(i), {}}));
  }
  EXPECT_EQ(stats.total_duplicates, 5u);
  EXPECT_EQ(stats.entries_returned, 15u);
  EXPECT_EQ(stats.streams, 1u);
  EXPECT_EQ(stats.chunks_ref, 1u);
  EXPECT_EQ(stats.chunks_downloaded, 1u);
  EXPECT_GT(stats.compressed_bytes, 0u);
  EXPECT_EQ(stats.decompressed_lines, 10u);
  EXPECT_EQ(stats.head_chunk_lines, 10u);
  EXPECT_EQ(stats.TotalLines(), 20u);
  EXPECT_GE(stats.post_filter_lines, 15u);

  // Backward gives the same entries newest first.
  Result back = Select(R"({app="a"})", kBase, kBase + kNanosPerSecond, 100, false);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_EQ(back[0].second.size(), 15u);
  EXPECT_EQ(back[0].second.front().ts, kBase + 14 * kMs);
  EXPECT_EQ(back[0].second.back().ts, kBase);
}

TEST_F(QuerierTest, LimitAndDirectionApplyGloballyAcrossStreams) {
  Push(R"({app="a"})", {{kBase + 1, "a1", {}}, {kBase + 3, "a3", {}}, {kBase + 5, "a5", {}}});
  Push(R"({app="b"})", {{kBase + 2, "b2", {}}, {kBase + 4, "b4", {}}, {kBase + 6, "b6", {}}});
  const std::string a = R"({app="a"})", b = R"({app="b"})";

  Result back = Select(R"({app=~"a|b"})", kBase, kBase + 100, 3, false);
  EXPECT_EQ(back, (Result{{a, {{kBase + 5, "a5", {}}}},
                          {b, {{kBase + 6, "b6", {}}, {kBase + 4, "b4", {}}}}}))
      << Dump(back);
  Result fwd = Select(R"({app=~"a|b"})", kBase, kBase + 100, 3, true);
  EXPECT_EQ(fwd, (Result{{a, {{kBase + 1, "a1", {}}, {kBase + 3, "a3", {}}}},
                         {b, {{kBase + 2, "b2", {}}}}}))
      << Dump(fwd);
  Result one = Select(R"({app=~"a|b"})", kBase, kBase + 100, 1, false);
  EXPECT_EQ(one, (Result{{b, {{kBase + 6, "b6", {}}}}})) << Dump(one);
  // A large limit returns everything.
  Result all = Select(R"({app=~"a|b"})", kBase, kBase + 100, 5000, true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second.size() + all[1].second.size(), 6u);
}

TEST_F(QuerierTest, EqualTimestampsAcrossStreamsAreOrderedByLabelString) {
  for (std::string app : {"c", "a", "b"}) {
    Push("{app=\"" + app + "\"}", {{kBase + 1, app + "1", {}}, {kBase + 2, app + "2", {}}});
  }
  const std::string a = R"({app="a"})", b = R"({app="b"})", c = R"({app="c"})";
  // Backward: ts 2 first; among equal timestamps the smaller label string wins the cut.
  EXPECT_EQ(Select(R"({app=~".+"})", kBase, kBase + 10, 2, false),
            (Result{{a, {{kBase + 2, "a2", {}}}}, {b, {{kBase + 2, "b2", {}}}}}));
  EXPECT_EQ(Select(R"({app=~".+"})", kBase, kBase + 10, 4, false),
            (Result{{a, {{kBase + 2, "a2", {}}, {kBase + 1, "a1", {}}}},
                    {b, {{kBase + 2, "b2", {}}}},
                    {c, {{kBase + 2, "c2", {}}}}}));
  EXPECT_EQ(Select(R"({app=~".+"})", kBase, kBase + 10, 2, true),
            (Result{{a, {{kBase + 1, "a1", {}}}}, {b, {{kBase + 1, "b1", {}}}}}));
  EXPECT_EQ(Select(R"({app=~".+"})", kBase, kBase + 10, 1, true),
            (Result{{a, {{kBase + 1, "a1", {}}}}}));
}

TEST_F(QuerierTest, EqualTimestampsWithinAStreamKeepArrivalOrder) {
  ingester::IngesterOptions o;
  o.block_size = 64;  // a few entries per block
  Reset(o);
  Push(R"({app="s"})", {{kBase, "b", {}}, {kBase, "a", {}}, {kBase + 1, "z", {}}});
  Flush();
  Push(R"({app="s"})", {{kBase, "c", {}}, {kBase - 1, "y", {}}, {kBase, "a", {{"k", "v"}}}});
  Push(R"({app="s"})", {{kBase, "d", {}}});
  const std::string s = R"({app="s"})";
  Result fwd = Select(R"({app="s"})", kBase - 10, kBase + 10, 100, true);
  EXPECT_EQ(fwd, (Result{{s,
                          {{kBase - 1, "y", {}},
                           {kBase, "b", {}},
                           {kBase, "a", {}},
                           {kBase, "c", {}},
                           {kBase, "a", {{"k", "v"}}},
                           {kBase, "d", {}},
                           {kBase + 1, "z", {}}}}}))
      << Dump(fwd);
  Result back = Select(R"({app="s"})", kBase - 10, kBase + 10, 100, false);
  EXPECT_EQ(back, (Result{{s,
                           {{kBase + 1, "z", {}},
                            {kBase, "d", {}},
                            {kBase, "a", {{"k", "v"}}},
                            {kBase, "c", {}},
                            {kBase, "a", {}},
                            {kBase, "b", {}},
                            {kBase - 1, "y", {}}}}}))
      << Dump(back);
  // The limit cuts inside the run of equal timestamps in arrival order.
  EXPECT_EQ(Select(R"({app="s"})", kBase, kBase + 10, 2, true),
            (Result{{s, {{kBase, "b", {}}, {kBase, "a", {}}}}}));
  EXPECT_EQ(Select(R"({app="s"})", kBase - 10, kBase + 1, 2, false),
            (Result{{s, {{kBase, "d", {}}, {kBase, "a", {{"k", "v"}}}}}}));
}

// Once a stream's collector is full, sources are skipped by time range; a
// source that only touches the boundary timestamp may still hold an entry that
// wins the tie there (arrival order), so it must be read.
TEST_F(QuerierTest, TiesAtTheLimitBoundaryAreNotSkipped) {
  const int64_t T = kBase + kNanosPerSecond;
  const std::string s = R"({app="s"})";
  // Forward: the store chunk (earlier arrival) holds only T; the ingester
  // block is visited first, fills the collector and puts the bound at T.
  Push(s, {{T, "early", {}}});
  Flush();
  std::vector<Entry> mem;
  for (int i = 9; i >= 1; i--) mem.push_back({T - i, "m" + std::to_string(-i), {}});
  mem.push_back({T, "late", {}});
  for (int i = 1; i <= 40; i++) mem.push_back({T + i, "m" + std::to_string(i), {}});
  Push(s, mem);
  Result fwd = Select(s, kBase, T + kNanosPerSecond, 10, true);
  ASSERT_EQ(fwd.size(), 1u);
  ASSERT_EQ(fwd[0].second.size(), 10u);
  EXPECT_EQ(fwd[0].second.back(), (Entry{T, "early", {}})) << Dump(fwd);
  EXPECT_EQ(Select(s, kBase, T + kNanosPerSecond, 11, true)[0].second.back(),
            (Entry{T, "late", {}}));
}

TEST_F(QuerierTest, TiesAtTheLimitBoundaryAreNotSkippedBackward) {
  const int64_t T = kBase + kNanosPerSecond;
  const std::string s = R"({app="s"})";
  // Backward: the store chunk (earlier arrival) is visited first and fills the
  // collector; the ingester's later entry at T wins the tie (newest arrival first).
  std::vector<Entry> old;
  for (int i = 9; i >= 1; i--) old.push_back({T + i, "o" + std::to_string(i), {}});
  old.push_back({T, "early", {}});
  for (int i = 1; i <= 40; i++) old.push_back({T - i, "o" + std::to_string(-i), {}});
  Push(s, old);
  Flush();
  Push(s, {{T, "late", {}}});
  Result back = Select(s, kBase, T + kNanosPerSecond, 10, false);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_EQ(back[0].second.size(), 10u);
  EXPECT_EQ(back[0].second.back(), (Entry{T, "late", {}})) << Dump(back);
  EXPECT_EQ(Select(s, kBase, T + kNanosPerSecond, 11, false)[0].second.back(),
            (Entry{T, "early", {}}));
}

TEST_F(QuerierTest, StartIsInclusiveEndIsExclusive) {
  Push(R"({app="a"})", {{kBase + 10, "t10", {}}, {kBase + 20, "t20", {}}, {kBase + 30, "t30", {}}});
  Flush();
  Push(R"({app="a"})", {{kBase + 40, "t40", {}}});
  auto lines = [&](int64_t s, int64_t e, bool fwd) {
    std::vector<std::string> out;
    for (auto& [ls, entries] : Select(R"({app="a"})", s, e, 100, fwd))
      for (auto& en : entries) out.push_back(en.line);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(lines(kBase + 10, kBase + 30, true), (V{"t10", "t20"}));
  EXPECT_EQ(lines(kBase + 10, kBase + 30, false), (V{"t20", "t10"}));
  EXPECT_EQ(lines(kBase + 11, kBase + 31, true), (V{"t20", "t30"}));
  EXPECT_EQ(lines(kBase + 30, kBase + 41, true), (V{"t30", "t40"}));
  EXPECT_EQ(lines(kBase + 40, kBase + 41, false), (V{"t40"}));
  EXPECT_EQ(lines(kBase + 40, kBase + 40, false), V{});
  EXPECT_EQ(lines(kBase + 41, kBase + 40, false), V{});
  EXPECT_EQ(lines(kBase + 21, kBase + 30, true), V{});
}

TEST_F(QuerierTest, LineFiltersAreApplied) {
  std::vector<Entry> entries = {{kBase + 1, "level=error msg=disk", {}},
                                {kBase + 2, "level=info msg=ok", {}},
                                {kBase + 3, "level=error msg=debug-dump", {}},
                                {kBase + 4, "level=warn msg=errand", {}},
                                {kBase + 5, "ERROR upper", {}}};
  Push(R"({app="a"})", {entries[0], entries[1]});
  Flush();
  Push(R"({app="a"})", {entries[2], entries[3], entries[4]});
  auto lines = [&](std::string_view q, bool fwd = true, uint32_t limit = 100) {
    std::vector<std::string> out;
    for (auto& [ls, es] : Select(q, kBase, kBase + 10, limit, fwd))
      for (auto& e : es) out.push_back(e.line);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(lines(R"({app="a"} |= "error")"),
            (V{"level=error msg=disk", "level=error msg=debug-dump"}));
  EXPECT_EQ(lines(R"({app="a"} |= "error" != "debug")"), (V{"level=error msg=disk"}));
  EXPECT_EQ(lines(R"q({app="a"} |~ "err(or|and)")q"),
            (V{"level=error msg=disk", "level=error msg=debug-dump", "level=warn msg=errand"}));
  EXPECT_EQ(lines(R"({app="a"} |~ "(?i)^error")"), (V{"ERROR upper"}));
  EXPECT_EQ(lines(R"q({app="a"} !~ "level=(error|warn)")q"),
            (V{"level=info msg=ok", "ERROR upper"}));
  EXPECT_EQ(lines(R"({app="a"} |= "nothing")"), V{});
  // The limit counts filtered lines only.
  EXPECT_EQ(lines(R"({app="a"} |= "error")", false, 1), (V{"level=error msg=debug-dump"}));
  EXPECT_EQ(lines(R"({app="a"} |~ "err")", true, 2),
            (V{"level=error msg=disk", "level=error msg=debug-dump"}));
}

TEST_F(QuerierTest, StreamsAreSortedByLabelStringAndCarryMetadata) {
  Push(R"({app="b"})", {{kBase + 1, "b", {}}});
  Push(R"({app="a", z="1"})", {{kBase + 2, "az", {{"trace_id", "t1"}, {"user", "u"}}}});
  Push(R"({app="a"})", {{kBase + 3, "a", {}}});
  Push(R"({app="A"})", {{kBase + 4, "A", {}}});
  Flush();
  Push(R"({app="b"})", {{kBase + 5, "b5", {{"trace_id", "t2"}}}});
  for (bool fwd : {true, false}) {
    Result r = Select(R"({app=~".+"})", kBase, kBase + 10, 100, fwd);
    std::vector<std::string> order;
    for (auto& [ls, es] : r) order.push_back(ls);
    EXPECT_EQ(order, (std::vector<std::string>{R"({app="A"})", R"({app="a", z="1"})",
                                               R"({app="a"})", R"({app="b"})"}));
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[1].second[0].md, (Meta{{"trace_id", "t1"}, {"user", "u"}}));
    ASSERT_EQ(r[3].second.size(), 2u);
    EXPECT_EQ(r[3].second[fwd ? 1 : 0].md, (Meta{{"trace_id", "t2"}}));
  }
}

TEST_F(QuerierTest, DegenerateQueriesReturnNothing) {
  Push(R"({app="a"})", {{kBase, "x", {}}});
  EXPECT_TRUE(Select(R"({app="a"})", kBase, kBase + 1, 0, true).empty());
  EXPECT_TRUE(Select(R"({app="a"})", kBase + 1, kBase + 1, 10, true).empty());
  EXPECT_TRUE(Select(R"({app="a"})", kBase + 2, kBase + 1, 10, true).empty());
  EXPECT_TRUE(Select(R"({app="nope"})", kBase, kBase + 1, 10, true).empty());
  EXPECT_TRUE(Select(R"({app="a"})", kBase, kBase + 1, 10, true, nullptr, "other").empty());
  EXPECT_EQ(Select(R"({app="a"})", kBase, kBase + 1, 10, true).size(), 1u);
}

TEST_F(QuerierTest, TenantsAreIsolated) {
  Push(R"({app="a"})", {{kBase, "t1-line", {}}}, "t1");
  Push(R"({app="a"})", {{kBase, "t2-line", {}}}, "t2");
  Flush();
  Push(R"({app="a"})", {{kBase + 1, "t2-head", {}}}, "t2");
  Result r1 = Select(R"({app="a"})", kBase, kBase + 10, 100, true, nullptr, "t1");
  EXPECT_EQ(r1, (Result{{R"({app="a"})", {{kBase, "t1-line", {}}}}}));
  Result r2 = Select(R"({app="a"})", kBase, kBase + 10, 100, true, nullptr, "t2");
  EXPECT_EQ(r2, (Result{{R"({app="a"})", {{kBase, "t2-line", {}}, {kBase + 1, "t2-head", {}}}}}));
  auto names = q_->LabelNames("t3", kBase, kBase + 10);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(QuerierTest, MissingChunkIsAnError) {
  Push(R"({app="a"})", {{kBase, "x", {}}});
  Flush();
  auto keys = store_.List("packs/");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  ASSERT_TRUE(store_.Delete((*keys)[0]).ok());
  QueryStats stats;
  auto r = Run(R"({app="a"})", kBase, kBase + 10, 10, true, &stats);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

TEST_F(QuerierTest, LabelsAndSeriesCombineHeadAndStore) {
  Push(R"({app="stored", env="prod"})", {{kBase, "x", {}}});
  Push(R"({app="both", env="dev"})", {{kBase, "x", {}}});
  Flush();
  Push(R"({app="both", env="dev"})", {{kBase + kNanosPerSecond, "y", {}}});
  Push(R"({app="head", team="core"})", {{kBase + kNanosPerSecond, "y", {}}});
  const int64_t s = kBase - kNanosPerHour, e = kBase + kNanosPerHour;
  using V = std::vector<std::string>;

  auto names = q_->LabelNames(kTenant, s, e);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (V{"app", "env", "team"}));

  auto apps = q_->LabelValues(kTenant, "app", s, e, {});
  ASSERT_TRUE(apps.ok());
  EXPECT_EQ(*apps, (V{"both", "head", "stored"}));
  auto envs = q_->LabelValues(kTenant, "env", s, e, {});
  ASSERT_TRUE(envs.ok());
  EXPECT_EQ(*envs, (V{"dev", "prod"}));

  auto dev_apps = q_->LabelValues(kTenant, "app", s, e, MatchersOf(R"({env="dev"})"));
  ASSERT_TRUE(dev_apps.ok());
  EXPECT_EQ(*dev_apps, (V{"both"}));
  auto with_env = q_->LabelValues(kTenant, "app", s, e, MatchersOf(R"({env=~".+"})"));
  ASSERT_TRUE(with_env.ok());
  EXPECT_EQ(*with_env, (V{"both", "stored"}));
  auto none = q_->LabelValues(kTenant, "team", s, e, MatchersOf(R"({env="prod"})"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto series_strings = [&](const std::vector<std::vector<Matcher>>& sets, int64_t from,
                            int64_t to) {
    auto r = q_->Series(kTenant, sets, from, to);
    EXPECT_TRUE(r.ok());
    V out;
    if (r.ok())
      for (const auto& l : *r) out.push_back(l.ToString());
    return out;
  };
  const V all = {R"({app="both", env="dev"})", R"({app="head", team="core"})",
                 R"({app="stored", env="prod"})"};
  EXPECT_EQ(series_strings({}, s, e), all);
  EXPECT_EQ(series_strings({MatchersOf(R"({app="stored"})"), MatchersOf(R"({team="core"})")}, s, e),
            (V{R"({app="head", team="core"})", R"({app="stored", env="prod"})"}));
  EXPECT_EQ(
      series_strings({MatchersOf(R"({app=~"both|head"})"), MatchersOf(R"({app="both"})")}, s, e),
      (V{R"({app="both", env="dev"})", R"({app="head", team="core"})"}));
  // Store series outside the time range are not returned; in-memory ones are.
  EXPECT_EQ(series_strings({}, kBase + 10 * kNanosPerDay, kBase + 11 * kNanosPerDay),
            (V{R"({app="both", env="dev"})", R"({app="head", team="core"})"}));
}

TEST_F(QuerierTest, StatsAreConsistent) {
  ingester::IngesterOptions o;
  o.block_size = 512;
  o.target_size = 1024;
  Reset(o);
  std::vector<Entry> entries;
  for (int i = 0; i < 500; i++) {
    entries.push_back(
        {kBase + i * kMs, (i % 10 == 0 ? "error " : "info ") + std::to_string(i), {}});
  }
  Push(R"({app="a"})", std::vector<Entry>(entries.begin(), entries.begin() + 300));
  Flush();
  Push(R"({app="a"})", std::vector<Entry>(entries.begin() + 300, entries.end()));

  // A 3-byte literal: too short for the block filters (4-byte n-grams), so every block is read.
  QueryStats all;
  Result r = Select(R"({app="a"} |= "err")", kBase, kBase + kNanosPerSecond, 1000, true, &all);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.size(), 50u);
  EXPECT_EQ(all.entries_returned, 50u);
  EXPECT_EQ(all.post_filter_lines, 50u);
  EXPECT_EQ(all.TotalLines(), 500u);
  EXPECT_EQ(all.decompressed_lines, 300u);
  EXPECT_EQ(all.head_chunk_lines, 200u);
  EXPECT_GT(all.TotalBytes(), 500u * 5);
  EXPECT_GT(all.chunks_ref, 1u);
  EXPECT_EQ(all.chunks_downloaded, all.chunks_ref);
  EXPECT_EQ(all.blocks_skipped, 0u);
  EXPECT_EQ(all.blocks_filtered, 0u);
  EXPECT_EQ(all.streams, 1u);
  EXPECT_GE(all.exec_seconds, 0);

  // A small limit lets the querier skip blocks that cannot contribute, and it
  // reads less, but the answer is the same as the first entries of the full one.
  QueryStats few;
  Result r2 = Select(R"({app="a"})", kBase, kBase + kNanosPerSecond, 5, false, &few);
  ASSERT_EQ(r2.size(), 1u);
  ASSERT_EQ(r2[0].second.size(), 5u);
  EXPECT_EQ(r2[0].second[0].ts, kBase + 499 * kMs);
  EXPECT_GT(few.blocks_skipped, 0u);
  EXPECT_LT(few.TotalLines(), 500u);
  EXPECT_GE(few.TotalLines(), 5u);
  EXPECT_LT(few.chunks_downloaded, few.chunks_ref);
  EXPECT_EQ(few.entries_returned, 5u);
}

// Random data for several streams, split over two flushes and the ingester
// (closed chunks, cut blocks and the head), with duplicates across sources;
// every query must equal the brute-force model.
// Block filters: blocks whose filter refutes the leading line filters' literals are not
// decoded, wherever they are (stored chunk, ingester block, head), and the answer is the same.
TEST_F(QuerierTest, BlockFiltersSkipBlocksThatCannotMatch) {
  ingester::IngesterOptions o;
  o.block_size = 512;
  o.target_size = 2048;
  Reset(o);
  std::vector<Entry> entries;
  for (int i = 0; i < 600; i++) {
    std::string line = "GET /api/items/" + std::to_string(i) + " 200";
    if (i == 5 || i == 450) line = "POST /api/orders 500 trace=3f2a9c1e7b";
    entries.push_back({kBase + i * kMs, line, {}});
  }
  Push(R"({app="a"})", std::vector<Entry>(entries.begin(), entries.begin() + 300));
  Flush();
  Push(R"({app="a"})", std::vector<Entry>(entries.begin() + 300, entries.end()));
  for (const char* q :
       {R"({app="a"} |= "3f2a9c1e7b")", R"({app="a"} |~ "(?i)TRACE=3F2A")",
        R"({app="a"} |~ "orders [0-9]+ trace")", R"({app="a"} |> "POST <_> 500 <_>")",
        R"({app="a"} |= "qwertyuiop" or "3f2a9c")"}) {
    SCOPED_TRACE(q);
    QueryStats st;
    Result r = Select(q, kBase, kBase + kNanosPerSecond, 1000, true, &st);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].second.size(), 2u);
    EXPECT_EQ(r[0].second[0].ts, kBase + 5 * kMs);
    EXPECT_EQ(r[0].second[1].ts, kBase + 450 * kMs);
    EXPECT_TRUE(st.used_block_filters);
    EXPECT_GT(st.blocks_filtered, 10u);
    // The two blocks holding the lines, and now and then a false positive.
    EXPECT_LE(st.blocks_read, 4u);
    EXPECT_LT(st.TotalLines(), 150u);
  }
  // Negative filters and short literals cannot skip anything.
  for (const char* q : {R"({app="a"} != "3f2a9c1e7b")", R"({app="a"} |= "500")"}) {
    QueryStats st;
    Select(q, kBase, kBase + kNanosPerSecond, 1000, true, &st);
    EXPECT_EQ(st.blocks_filtered, 0u) << q;
    EXPECT_EQ(st.TotalLines(), 600u) << q;
  }
}

// Many small streams, one small chunk each, packed together: a query reads their chunks in a
// few coalesced reads, and answers as if it had read them one by one.
TEST_F(QuerierTest, ManySmallStreamsAreReadWithFewRangedReads) {
  for (int s = 0; s < 400; s++) {
    Push("{app=\"s" + std::to_string(s) + "\"}",
         {{kBase + s * kMs, "line a of " + std::to_string(s), {}},
          {kBase + s * kMs + 1, "line b of " + std::to_string(s), {}}});
  }
  Flush();
  const int64_t end = kBase + kNanosPerSecond;
  for (uint32_t limit : {5000u, 7u}) {
    for (bool forward : {true, false}) {
      store_.ranged_reads = 0;
      QueryStats st;
      Result got = Select(R"({app=~"s.*"})", kBase, end, limit, forward, &st);
      EXPECT_EQ(got, model_.Expected(kTenant, MatchersOf(R"({app=~"s.*"})"), KeepAll, kBase, end,
                                     limit, forward))
          << limit << " " << forward;
      EXPECT_EQ(st.chunks_downloaded, 400u);
      EXPECT_LE(store_.ranged_reads.load(), 10) << "one read per pack and batch, not per chunk";
    }
  }
  store_.ranged_reads = 0;
  QueryStats st;
  Result got = Select(R"({app=~"s.*"} |= "b of 39")", kBase, end, 5000, true, &st);
  EXPECT_EQ(got.size(), 11u);  // s39 and s390..s399
  EXPECT_LE(store_.ranged_reads.load(), 10);
  // The chunks refuted by their filter in the index were never fetched.
  EXPECT_EQ(st.chunks_downloaded + st.blocks_filtered, 400u);
  EXPECT_GT(st.blocks_filtered, 300u);

  // Each chunk is one small block whose filter is in the index: a literal that no line holds
  // refutes (nearly) all of them there, before anything is fetched.
  for (const char* q : {R"({app=~"s.*"} |= "zqxjkvw")", R"({app=~"s.*"} |~ "(?i)ZQXJKVW")"}) {
    SCOPED_TRACE(q);
    store_.ranged_reads = 0;
    QueryStats none;
    EXPECT_TRUE(Select(q, kBase, end, 5000, true, &none).empty());
    EXPECT_TRUE(none.used_block_filters);
    EXPECT_EQ(none.chunks_ref, 400u);
    EXPECT_EQ(none.chunks_downloaded + none.blocks_filtered, 400u);
    EXPECT_LE(none.chunks_downloaded, 20u) << "false positives only";
    EXPECT_LE(store_.ranged_reads.load(), 2);
  }
}

TEST_F(QuerierTest, TimeWindowsMatchBruteForceAndStopEarly) {
  // Log queries read their range in windows from the query's end (forward: its start),
  // doubling in length, and stop once `limit` entries were found. Data over six hours makes
  // several windows; the older half is flushed to the store (a chunk per stream and hour),
  // the newer stays in memory.
  ingester::IngesterOptions o;
  o.block_size = 2000;
  o.target_size = 8000;
  Reset(o, 3);
  constexpr int64_t kStep = 10 * kNanosPerSecond;
  constexpr int kPerStream = 6 * 360;  // one entry every 10 s for 6 h
  const std::vector<std::string> streams = {R"({app="a"})", R"({app="b"})", R"({app="c"})"};
  for (int hour = 0; hour < 6; hour++) {
    for (size_t s = 0; s < streams.size(); s++) {
      std::vector<Entry> batch;
      for (int k = hour * kPerStream / 6; k < (hour + 1) * kPerStream / 6; k++) {
        // Streams a and c share timestamps (ties across streams); b is offset.
        const int64_t ts = kBase + k * kStep + (s == 1 ? 7 : 0);
        batch.push_back({ts, (k % 7 == 0 ? "error " : "info ") + std::to_string(k), {}});
        if (batch.size() == 100) {
          Push(streams[s], batch);
          batch.clear();
        }
      }
      if (!batch.empty()) Push(streams[s], batch);
    }
    if (hour < 3) Flush();  // one stored chunk per stream and hour for the older half
  }
  const int64_t end = kBase + kPerStream * kStep;
  auto contains_error = [](std::string_view l) { return l.find("error") != l.npos; };
  for (const auto& [query, keep] :
       std::vector<std::pair<std::string, std::function<bool(std::string_view)>>>{
           {R"({app=~".+"})", KeepAll}, {R"({app=~".+"} |= "error")", contains_error}}) {
    for (uint32_t limit : {1u, 10u, 250u, 1000u, 5000u, 20000u}) {
      for (bool forward : {false, true}) {
        for (const auto& [from, to] : std::vector<std::pair<int64_t, int64_t>>{
                 {kBase, end}, {kBase + 3600 * kNanosPerSecond, end - 1800 * kNanosPerSecond}}) {
          SCOPED_TRACE(query + " limit " + std::to_string(limit) + (forward ? " fwd" : " bwd"));
          Result got = Select(query, from, to, limit, forward);
          Result want = model_.Expected(kTenant, MatchersOf(query), keep, from, to, limit, forward);
          EXPECT_EQ(got, want) << Dump(got) << "---\n" << Dump(want);
        }
      }
    }
  }
  // A small backward limit is answered from memory: no stored chunk is read.
  QueryStats recent;
  Select(R"({app=~".+"})", kBase, end, 10, false, &recent);
  EXPECT_GT(recent.chunks_ref, 0u);
  EXPECT_EQ(recent.chunks_downloaded, 0u);
  // Forward, the oldest window is in the store: only some of its chunks are read.
  QueryStats oldest;
  Select(R"({app=~".+"})", kBase, end, 10, true, &oldest);
  EXPECT_GT(oldest.chunks_downloaded, 0u);
  EXPECT_LT(oldest.chunks_downloaded, oldest.chunks_ref);
}

TEST_F(QuerierTest, RandomisedQueriesMatchBruteForce) {
  ingester::IngesterOptions o;
  o.block_size = 700;
  o.target_size = 1500;
  Reset(o, 4);
  std::mt19937 rng(20240601);
  const std::vector<std::string> streams = {
      R"({app="a", env="prod"})",           R"({app="a", env="dev"})",  R"({app="b", env="prod"})",
      R"({app="b", env="dev", zone="z1"})", R"({app="c", env="prod"})", R"({app="d"})"};
  const std::vector<std::string> words = {"error", "info", "debug", "warn"};
  constexpr int kSpan = 4000;  // ms; timestamps are kBase + k ms (+ stream-specific ns)

  // Per stream: distinct timestamps (unique within the stream, shared across
  // streams to create ties), split randomly into three phases.
  std::vector<std::vector<std::vector<Entry>>> phases(
      3, std::vector<std::vector<Entry>>(streams.size()));
  for (size_t s = 0; s < streams.size(); s++) {
    std::vector<int> ks(kSpan);
    for (int k = 0; k < kSpan; k++) ks[k] = k;
    std::shuffle(ks.begin(), ks.end(), rng);
    ks.resize(300 + rng() % 300);
    for (int k : ks) {
      // Every other stream shares the exact ns with others (ties), the rest are offset.
      int64_t ts = kBase + k * kMs + (s % 2 == 0 ? 0 : static_cast<int64_t>(s));
      Entry e{ts,
              words[rng() % words.size()] + " k=" + std::to_string(k) + " s=" + std::to_string(s),
              {}};
      if (rng() % 4 == 0) e.md = {{"trace_id", "tr" + std::to_string(rng() % 5)}};
      phases[rng() % 3][s].push_back(std::move(e));
    }
  }
  std::vector<Entry> flushed_copy;
  for (int p = 0; p < 3; p++) {
    for (size_t s = 0; s < streams.size(); s++) {
      auto& list = phases[p][s];
      std::shuffle(list.begin(), list.end(), rng);  // out of order within the window
      for (size_t i = 0; i < list.size(); i += 1 + rng() % 9) {
        std::vector<Entry> batch(list.begin() + i,
                                 list.begin() + std::min(list.size(), i + 1 + rng() % 9));
        // Sometimes repeat the last entry (consecutive duplicate).
        if (rng() % 5 == 0) batch.push_back(batch.back());
        Push(streams[s], batch);
      }
      // Re-push some entries of earlier phases: duplicates across store and memory.
      if (p > 0) {
        for (int d = 0; d < 15; d++) {
          const auto& prev = phases[rng() % p][s];
          if (!prev.empty()) Push(streams[s], {prev[rng() % prev.size()]});
        }
      }
    }
    if (p < 2) Flush();
  }
  ASSERT_GT(ing_->ActiveStreams(), 0u);

  struct Q {
    std::string text;
    std::function<bool(std::string_view)> keep;
  };
  auto contains = [](std::string s) {
    return [s](std::string_view line) { return line.find(s) != std::string_view::npos; };
  };
  const std::vector<Q> queries = {
      {R"({env="prod"})", KeepAll},
      {R"({app=~"a|b"})", KeepAll},
      {R"({app="a", env="dev"})", KeepAll},
      {R"({app=~".+"} |= "error")", contains("error")},
      {R"({app=~".+", app!="c"} != "info")",
       [](std::string_view l) { return l.find("info") == l.npos; }},
      {R"({zone="z1"} |~ "warn|debug")",
       [](std::string_view l) { return l.find("warn") != l.npos || l.find("debug") != l.npos; }},
      // Rare literals: most blocks are skipped by their filters, in memory and in the store.
      {R"({app=~".+"} |= "k=123 s=")", contains("k=123 s=")},
      {R"({app=~".+"} |~ "(?i)K=7 S=|K=3999 ")",
       [](std::string_view l) {
         return l.find("k=7 s=") != l.npos || l.find("k=3999 ") != l.npos;
       }},
      {R"({app=~".+"} |> "<_> k=42<_>")", contains(" k=42")},
  };
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {kBase, kBase + kSpan * kMs},
      {kBase + 500 * kMs, kBase + 1500 * kMs},
      {kBase + 1000 * kMs, kBase + 1000 * kMs + 1},
      {kBase + 3999 * kMs, kBase + 5000 * kMs},
      {kBase - kNanosPerSecond, kBase},
  };
  const std::vector<uint32_t> limits = {1, 3, 17, 100, 1000, 5000};
  uint64_t skipped = 0;
  int checked = 0;
  for (const auto& q : queries) {
    auto matchers = MatchersOf(q.text);
    for (auto [start, end] : ranges) {
      for (uint32_t limit : limits) {
        for (bool fwd : {false, true}) {
          SCOPED_TRACE(q.text + " [" + std::to_string(start - kBase) + ", " +
                       std::to_string(end - kBase) + ") limit " + std::to_string(limit) +
                       (fwd ? " forward" : " backward"));
          QueryStats stats;
          Result got = Select(q.text, start, end, limit, fwd, &stats);
          Result want = model_.Expected(kTenant, matchers, q.keep, start, end, limit, fwd);
          ASSERT_EQ(got, want) << "got:\n" << Dump(got) << "want:\n" << Dump(want);
          size_t n = 0;
          for (auto& [ls, es] : got) n += es.size();
          EXPECT_EQ(stats.entries_returned, n);
          EXPECT_GE(stats.TotalLines(), n);
          EXPECT_GE(stats.post_filter_lines, n);
          EXPECT_LE(stats.chunks_downloaded, stats.chunks_ref);
          skipped += stats.blocks_skipped;
          checked++;
        }
      }
    }
  }
  EXPECT_EQ(checked, 9 * 5 * 6 * 2);
  EXPECT_GT(skipped, 0u);  // block skipping was exercised
}

}  // namespace
}  // namespace skald::querier
