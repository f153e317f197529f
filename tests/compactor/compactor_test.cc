// The compactor on an in-memory object store: index compaction, retention, delete requests,
// the sweep, and crash consistency (a crash injected after every store mutation of a pass).
#include "compactor/compactor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "compactor/delete_requests.h"
#include "core/logging.h"
#include "core/time.h"
#include "index/index_file.h"
#include "index/index_store.h"
#include "limits/limits.h"
#include "logql/erasure.h"
#include "logql/parser.h"
#include "storage/chunk_store.h"
#include "tests/testing/fs/mem_object_store.h"
#include "tests/testing/labels.h"

namespace skald::compactor {
namespace {

using skald::testing::L;
constexpr int64_t kDay = kNanosPerDay;
constexpr int64_t kHour = kNanosPerHour;
// "now" for every test: day 20000 at noon.
constexpr int64_t kNow = 20000 * kDay + 12 * kHour;

// An object store that counts operations and "crashes" (fails every later call) after a set
// number of mutations (Put/Delete): the process died there.
class CrashingStore : public storage::ObjectStore {
 public:
  explicit CrashingStore(storage::ObjectStore* base) : base_(base) {}
  void CrashAfter(int64_t mutations) { budget_ = mutations; }
  int64_t mutations() const { return mutations_; }
  int64_t gets() const { return gets_; }
  int64_t lists() const { return lists_; }
  Status Put(std::string_view key, std::string_view data) override {
    SKALD_RETURN_IF_ERROR(Mutate());
    return base_->Put(key, data);
  }
  StatusOr<std::string> Get(std::string_view key) override {
    if (crashed_) return Status::IOError("crashed");
    gets_++;
    return base_->Get(key);
  }
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    if (crashed_) return Status::IOError("crashed");
    lists_++;
    return base_->List(prefix);
  }
  Status Delete(std::string_view key) override {
    SKALD_RETURN_IF_ERROR(Mutate());
    return base_->Delete(key);
  }

 private:
  Status Mutate() {
    std::lock_guard<std::mutex> lock(mu_);  // the sweep deletes from several threads
    if (crashed_ || (budget_ >= 0 && mutations_ >= budget_)) {
      crashed_ = true;
      return Status::IOError("crashed");
    }
    mutations_++;
    return Status::OK();
  }
  storage::ObjectStore* base_;
  std::mutex mu_;
  int64_t budget_ = -1;
  std::atomic<int64_t> mutations_{0}, gets_{0}, lists_{0};
  std::atomic<bool> crashed_{false};
};

struct TestEntry {
  int64_t ts;
  std::string line;
};

index::ChunkRef PutChunk(storage::ObjectStore* store, const std::string& tenant,
                         const Labels& labels, const std::vector<TestEntry>& entries) {
  chunk::BlockBuilder b;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const TestEntry& e : entries) {
    b.Add(e.ts, e.line, {});
    lo = std::min(lo, e.ts);
    hi = std::max(hi, e.ts);
  }
  chunk::ChunkWriter w(chunk::Codec::kSnappy, tenant, labels.Fingerprint(), labels.ToString());
  chunk::EncodedBlock eb = b.Finish(chunk::Codec::kSnappy);
  const uint64_t uncompressed = eb.meta.uncompressed_size;
  w.AddBlock(std::move(eb));
  std::string bytes = w.Finish();
  storage::ChunkStore cs(store);
  auto key = cs.Put(tenant, labels.Fingerprint(), lo, hi, bytes);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  index::ChunkRef ref;
  ref.fingerprint = labels.Fingerprint();
  ref.min_ts = lo;
  ref.max_ts = hi;
  ref.entries = static_cast<uint32_t>(entries.size());
  ref.compressed_bytes = bytes.size();
  ref.uncompressed_bytes = uncompressed;
  ref.key = *key;
  return ref;
}

// Like PutChunk, for several chunks written as one pack object (the ingester's flush).
std::vector<index::ChunkRef> PutPack(
    storage::ObjectStore* store, const std::string& tenant,
    const std::vector<std::pair<Labels, std::vector<TestEntry>>>& chunks) {
  std::vector<std::string> bytes;
  std::vector<index::ChunkRef> refs;
  for (const auto& [labels, entries] : chunks) {
    chunk::BlockBuilder b;
    index::ChunkRef ref;
    ref.fingerprint = labels.Fingerprint();
    ref.min_ts = INT64_MAX;
    ref.max_ts = INT64_MIN;
    for (const TestEntry& e : entries) {
      b.Add(e.ts, e.line, {});
      ref.min_ts = std::min(ref.min_ts, e.ts);
      ref.max_ts = std::max(ref.max_ts, e.ts);
    }
    chunk::ChunkWriter w(chunk::Codec::kSnappy, tenant, labels.Fingerprint(), labels.ToString());
    chunk::EncodedBlock eb = b.Finish(chunk::Codec::kSnappy);
    ref.uncompressed_bytes = eb.meta.uncompressed_size;
    w.AddBlock(std::move(eb));
    bytes.push_back(w.Finish());
    ref.entries = static_cast<uint32_t>(entries.size());
    ref.compressed_bytes = bytes.back().size();
    refs.push_back(ref);
  }
  std::vector<storage::PackItem> items;
  for (size_t i = 0; i < refs.size(); i++) {
    items.push_back(
        {refs[i].fingerprint, refs[i].min_ts, refs[i].max_ts, refs[i].entries, bytes[i]});
  }
  auto locators = storage::ChunkStore(store).PutPack(tenant, items);
  EXPECT_TRUE(locators.ok()) << locators.status().ToString();
  for (size_t i = 0; locators.ok() && i < refs.size(); i++) refs[i].key = (*locators)[i];
  return refs;
}

void WriteIndex(index::IndexStore* idx, const std::string& tenant, int64_t day,
                const std::vector<std::pair<Labels, index::ChunkRef>>& refs) {
  index::IndexFileWriter w;
  for (const auto& [labels, ref] : refs) {
    w.AddSeries(labels.Fingerprint(), labels);
    w.AddChunk(ref);
  }
  auto bytes = w.Finish();
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(idx->Write(tenant, day, *bytes).ok());
}

size_t CountKeys(storage::ObjectStore* store, std::string_view prefix) {
  auto keys = store->List(prefix);
  return keys.ok() ? keys->size() : 0;
}

// What a query over everything sees: (stream, ts, line), with the query-time erasure applied,
// read from the index and the chunks (a missing chunk is a failure).
std::multiset<std::string> Visible(storage::ObjectStore* store, const std::string& tenant,
                                   const logql::Erasure* erasure) {
  index::IndexStore idx(store);
  std::multiset<std::string> out;
  auto series = idx.Query(tenant, 0, INT64_MAX - 1, {});
  EXPECT_TRUE(series.ok()) << series.status().ToString();
  if (!series.ok()) return out;
  storage::ChunkStore cs(store);
  for (const auto& s : *series) {
    std::optional<logql::Erasure::Stream> er;
    if (erasure != nullptr) er = erasure->ForStream(s.labels.Get());
    std::set<std::pair<int64_t, std::string>> seen;  // chunks of one stream may repeat entries
    for (const index::ChunkRef& c : s.chunks) {
      auto chunk = cs.Open(c.key, tenant, c.fingerprint);
      EXPECT_TRUE(chunk.ok()) << c.key << ": " << chunk.status().ToString();
      if (!chunk.ok()) continue;
      chunk::DecodedBlock d;
      for (size_t b = 0; b < (*chunk)->blocks().size(); b++) {
        EXPECT_TRUE((*chunk)->ReadBlock(b, &d).ok());
        for (size_t i = 0; i < d.size(); i++) {
          if (er.has_value() && er->Erased(d.ts(i), d.line(i), {})) continue;
          if (!seen.insert({d.ts(i), std::string(d.line(i))}).second) continue;
          out.insert(s.labels.Get().ToString() + " " + std::to_string(d.ts(i)) + " " +
                     std::string(d.line(i)));
        }
      }
    }
  }
  return out;
}

limits::Limits RetentionLimits(int64_t period) {
  limits::Limits l;
  l.retention_period_ns = period;
  return l;
}

TEST(DeleteRequestsTest, EncodeDecodeRoundTrip) {
  std::vector<DeleteRequest> in(2);
  in[0] = {"0a1b2c3d", "{app=\"x\"} |= \"secret \\\"q\\\"\\n\"", 1000, 2000, 3000, false};
  in[1] = {"ffffffff", "{a=~\".+\"}", -5, 7, 9, true};
  auto out = DecodeDeleteRequests(EncodeDeleteRequests(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  for (size_t i = 0; i < 2; i++) {
    EXPECT_EQ((*out)[i].id, in[i].id);
    EXPECT_EQ((*out)[i].query, in[i].query);
    EXPECT_EQ((*out)[i].start_ms, in[i].start_ms);
    EXPECT_EQ((*out)[i].end_ms, in[i].end_ms);
    EXPECT_EQ((*out)[i].created_ms, in[i].created_ms);
    EXPECT_EQ((*out)[i].processed, in[i].processed);
  }
}

TEST(DeleteRequestsTest, DecodeRefusesDamage) {
  const std::string good = EncodeDeleteRequests({{"01020304", "{a=\"b\"}", 1, 2, 3, false}});
  EXPECT_EQ(DecodeDeleteRequests("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeDeleteRequests(good.substr(0, good.size() - 1)).status().code(),
            StatusCode::kCorruption);
  std::string bad = good;
  bad.replace(bad.find("received"), 8, "deleted!");
  EXPECT_EQ(DecodeDeleteRequests(bad).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeDeleteRequests(good + "x y 1 2 3 \"q\"\n").status().code(),
            StatusCode::kCorruption);
}

TEST(DeleteRequestsTest, ParseUsesLokiText) {
  DeleteRequest r;
  r.query = "sum(rate({a=\"b\"}[1m]))";
  EXPECT_EQ(ParseDeleteRequest(r).status().message(), "invalid query expression");
  r.query = "{a=\"b\"} |= \"x\" | json | level=\"error\"";
  auto p = ParseDeleteRequest(r);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->pipeline, nullptr);
  r.query = "{a=\"b\"}";
  p = ParseDeleteRequest(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pipeline, nullptr);
}

TEST(DeleteRequestsTest, StoreAddListRemoveMarkProcessedPersist) {
  storage::MemObjectStore mem;
  {
    DeleteRequestStore s(&mem);
    auto a = s.Add("t1", "{a=\"b\"}", 1000, 2000, 5000);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->id.size(), 8u);
    auto b = s.Add("t1", "{a=\"c\"} |= \"x\"", 1000, 2000, 6000);
    ASSERT_TRUE(b.ok());
    EXPECT_NE(a->id, b->id);
    ASSERT_TRUE(s.MarkProcessed("t1", {a->id}).ok());
    EXPECT_EQ(s.Remove("t1", "nope").code(), StatusCode::kNotFound);
    EXPECT_EQ(s.Remove("t2", a->id).code(), StatusCode::kNotFound);  // tenants stay apart
  }
  DeleteRequestStore again(&mem);  // a restart reads the object
  auto list = again.List("t1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)->size(), 2u);
  EXPECT_TRUE((**list)[0].request.processed);
  EXPECT_FALSE((**list)[1].request.processed);
  ASSERT_TRUE(again.Remove("t1", (**list)[1].request.id).ok());
  EXPECT_EQ((*again.List("t1"))->size(), 1u);
  EXPECT_EQ(*again.Tenants(), std::vector<std::string>{"t1"});
  EXPECT_TRUE((*again.List("t2"))->empty());
}

TEST(ErasureTest, RetentionRulePriorityThenShortestPeriod) {
  auto rule = [](const char* sel, int prio, int64_t period) {
    return logql::RetentionRule{*logql::ParseMatchers(sel), prio, period};
  };
  logql::Erasure e(kNow, 30 * kDay,
                   {rule("{ns=\"dev\"}", 1, 2 * kDay), rule("{ns=\"dev\"}", 1, 5 * kDay),
                    rule("{app=\"nginx\"}", 2, 10 * kDay)},
                   {});
  EXPECT_EQ(e.RetentionPeriodFor(L("{ns=\"dev\"}")), 2 * kDay);
  EXPECT_EQ(e.RetentionPeriodFor(L("{ns=\"dev\", app=\"nginx\"}")), 10 * kDay);
  EXPECT_EQ(e.RetentionPeriodFor(L("{ns=\"prod\"}")), 30 * kDay);
  auto s = e.ForStream(L("{ns=\"dev\"}"));
  EXPECT_EQ(s.keep_from(), kNow - 2 * kDay);
  EXPECT_TRUE(s.ErasedByTime(kNow - 2 * kDay - 1));
  EXPECT_FALSE(s.ErasedByTime(kNow - 2 * kDay));
  EXPECT_TRUE(logql::Erasure(kNow, 0, {}, {}).empty());
}

TEST(ErasureTest, DeleteRangesWithAndWithoutFilters) {
  DeleteRequest r;
  r.query = "{app=\"api\"} |= \"secret\"";
  auto p = ParseDeleteRequest(r);
  ASSERT_TRUE(p.ok());
  logql::Erasure e(kNow, 0, {},
                   {{p->matchers, p->pipeline, 100, 200},
                    {*logql::ParseMatchers("{app=\"web\"}"), nullptr, 100, 200}});
  auto api = e.ForStream(L("{app=\"api\"}"));
  EXPECT_TRUE(api.needs_lines());
  EXPECT_TRUE(api.Erased(150, "a secret b", {}));
  EXPECT_FALSE(api.Erased(150, "public", {}));
  EXPECT_FALSE(api.Erased(201, "a secret b", {}));
  EXPECT_FALSE(api.Covers(100, 200));
  auto web = e.ForStream(L("{app=\"web\"}"));
  EXPECT_FALSE(web.needs_lines());
  EXPECT_TRUE(web.Covers(120, 180));
  EXPECT_FALSE(web.Covers(120, 201));
  EXPECT_TRUE(web.ErasedByTime(200));
  EXPECT_TRUE(e.ForStream(L("{app=\"db\"}")).empty());
}

TEST(CompactorTest, MergesTheIndexFilesOfADay) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Overrides ov{limits::Limits{}};
  DeleteRequestStore deletes(&mem);
  const int64_t day = 19999;
  std::multiset<std::string> before;
  std::map<std::string, std::string> filters;  // chunk key -> detached filter
  for (int f = 0; f < 6; f++) {
    std::vector<std::pair<Labels, index::ChunkRef>> refs;
    for (int s = 0; s < 4; s++) {
      Labels l = L("{app=\"a" + std::to_string(s) + "\"}");
      const int64_t t0 = day * kDay + f * kHour + s;
      index::ChunkRef ref = PutChunk(&mem, "t", l, {{t0, "x"}, {t0 + 10, "y"}});
      if (s % 2 == 0) {  // half of them with a detached filter in the index
        chunk::GramFilterBuilder b;
        b.AddLine("filter " + std::to_string(f) + " " + std::to_string(s));
        b.Finish(&ref.filter);
      }
      filters[ref.key] = ref.filter;
      refs.emplace_back(l, ref);
    }
    WriteIndex(&idx, "t", day, refs);
  }
  before = Visible(&mem, "t", nullptr);
  ASSERT_EQ(before.size(), 48u);
  ASSERT_EQ(CountKeys(&mem, "index/t/19999/"), 6u);
  Compactor c({}, &mem, &idx, &ov, &deletes, nullptr);
  PassStats st;
  ASSERT_TRUE(c.RunOnce(kNow, &st).ok());
  EXPECT_EQ(CountKeys(&mem, "index/t/19999/"), 1u);
  EXPECT_EQ(st.index_files_before, 6u);
  EXPECT_EQ(st.index_files_after, 1u);
  EXPECT_LT(st.index_bytes_after, st.index_bytes_before);
  EXPECT_EQ(Visible(&mem, "t", nullptr), before);
  // The merged file carries every detached filter over.
  auto merged_keys = mem.List("index/t/19999/");
  ASSERT_TRUE(merged_keys.ok() && merged_keys->size() == 1u);
  auto merged = index::IndexFileReader::Open(*mem.Get((*merged_keys)[0]));
  ASSERT_TRUE(merged.ok());
  std::map<std::string, std::string> merged_filters;
  for (uint64_t fp : merged->Select({})) {
    for (const index::ChunkRef& c : merged->Chunks(fp, INT64_MIN, INT64_MAX)) {
      merged_filters[c.key] = c.filter;
    }
  }
  EXPECT_EQ(merged_filters, filters);
  // A second pass has nothing to do.
  PassStats again;
  ASSERT_TRUE(c.RunOnce(kNow, &again).ok());
  EXPECT_EQ(again.days_rewritten, 0u);
  EXPECT_EQ(CountKeys(&mem, "index/t/19999/"), 1u);
}

TEST(CompactorTest, RetentionDropsExpiredChunksThenSweepsAfterTheDelay) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Overrides ov{RetentionLimits(3 * kDay)};
  DeleteRequestStore deletes(&mem);
  Labels l = L("{app=\"a\"}");
  // Day 19995 (expired: its newest entry is older than now - 3d), day 19999 (kept), and a
  // chunk straddling the cutoff (kept whole: its newest entry is within retention).
  const int64_t cutoff = kNow - 3 * kDay;
  auto old = PutChunk(&mem, "t", l, {{19995 * kDay, "old"}});
  auto straddle = PutChunk(&mem, "t", l, {{cutoff - 10, "before"}, {cutoff + 2 * kHour, "after"}});
  auto fresh = PutChunk(&mem, "t", l, {{19999 * kDay, "fresh"}});
  WriteIndex(&idx, "t", 19995, {{l, old}});
  WriteIndex(&idx, "t", index::DayOf(cutoff - 10), {{l, straddle}});
  WriteIndex(&idx, "t", 19999, {{l, fresh}});
  CompactorOptions o;
  o.retention_enabled = true;
  o.retention_delete_delay_ns = kHour;
  Compactor c(o, &mem, &idx, &ov, &deletes, nullptr);
  PassStats st;
  ASSERT_TRUE(c.RunOnce(kNow, &st).ok());
  EXPECT_EQ(st.chunks_expired, 1u);
  EXPECT_EQ(CountKeys(&mem, "index/t/19995/"), 0u);
  EXPECT_EQ(CountKeys(&mem, "markers/t/"), 1u);
  // Within the delay the chunk object stays (a query may still hold the old index).
  EXPECT_TRUE(mem.Get(old.key).ok());
  auto erasure = c.ErasureFor("t", kNow);
  EXPECT_EQ(
      Visible(&mem, "t", erasure.get()),
      (std::multiset<std::string>{"{app=\"a\"} " + std::to_string(cutoff + 2 * kHour) + " after",
                                  "{app=\"a\"} " + std::to_string(19999 * kDay) + " fresh"}));
  PassStats later;
  ASSERT_TRUE(c.RunOnce(kNow + kHour, &later).ok());
  EXPECT_EQ(later.chunk_objects_deleted, 1u);
  EXPECT_EQ(mem.Get(old.key).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(mem.Get(straddle.key).ok());
  EXPECT_TRUE(mem.Get(fresh.key).ok());
  EXPECT_EQ(CountKeys(&mem, "markers/"), 0u);
}

// Packs: retention drops a packed chunk from the index, but the pack object stays while any
// other chunk in it is referenced, and goes once none is.
TEST(CompactorTest, APackIsSweptOnlyWhenNoneOfItsChunksIsReferenced) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Overrides ov{RetentionLimits(3 * kDay)};
  DeleteRequestStore deletes(&mem);
  Labels a = L("{app=\"a\"}"), b = L("{app=\"b\"}");
  auto refs =
      PutPack(&mem, "t", {{a, {{19995 * kDay, "old-a"}}}, {b, {{19999 * kDay, "fresh-b"}}}});
  ASSERT_EQ(refs.size(), 2u);
  const std::string pack(storage::LocatorObject(refs[0].key));
  ASSERT_EQ(pack, storage::LocatorObject(refs[1].key));
  WriteIndex(&idx, "t", 19995, {{a, refs[0]}});
  WriteIndex(&idx, "t", 19999, {{b, refs[1]}});
  CompactorOptions o;
  o.retention_enabled = true;
  o.retention_delete_delay_ns = 0;
  Compactor c(o, &mem, &idx, &ov, &deletes, nullptr);
  PassStats st;
  ASSERT_TRUE(c.RunOnce(kNow, &st).ok());
  EXPECT_EQ(st.chunks_expired, 1u);
  EXPECT_EQ(st.chunk_objects_deleted, 0u);
  EXPECT_TRUE(mem.Get(pack).ok()) << "b's chunk still lives in the pack";
  EXPECT_EQ(
      Visible(&mem, "t", nullptr),
      (std::multiset<std::string>{"{app=\"b\"} " + std::to_string(19999 * kDay) + " fresh-b"}));
  EXPECT_EQ(CountKeys(&mem, "markers/"), 0u);

  // Deleting b's only line drops its chunk from the index; the pack is then unreferenced.
  ASSERT_TRUE(deletes
                  .Add("t", R"({app="b"})", (19999 * kDay - kHour) / kNanosPerMilli,
                       (19999 * kDay + kHour) / kNanosPerMilli, (kNow - 2 * kDay) / kNanosPerMilli)
                  .ok());
  o.delete_request_cancel_period_ns = kHour;
  Compactor c2(o, &mem, &idx, &ov, &deletes, nullptr);
  PassStats st2;
  ASSERT_TRUE(c2.RunOnce(kNow, &st2).ok());
  EXPECT_TRUE(Visible(&mem, "t", nullptr).empty());
  EXPECT_EQ(st2.chunk_objects_deleted, 1u);
  EXPECT_EQ(mem.Get(pack).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountKeys(&mem, "packs/"), 0u);
}

TEST(CompactorTest, SweepKeepsAChunkAnIndexStillReferences) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Overrides ov{RetentionLimits(3 * kDay)};
  DeleteRequestStore deletes(&mem);
  Labels l = L("{app=\"a\"}");
  auto old = PutChunk(&mem, "t", l, {{19995 * kDay, "old"}});
  WriteIndex(&idx, "t", 19995, {{l, old}});
  CompactorOptions o;
  o.retention_enabled = true;
  o.retention_delete_delay_ns = 0;
  // An index file naming the chunk appears after the marker was written (e.g. a re-flush):
  // the sweep must not delete it. The first pass dies before its sweep; the second runs
  // without retention, so only the sweep can touch the chunk.
  CompactorOptions no_retention = o;
  no_retention.retention_enabled = false;
  Compactor c(no_retention, &mem, &idx, &ov, &deletes, nullptr);
  CrashingStore crash(&mem);
  Compactor c2(o, &crash, &idx, &ov, &deletes, nullptr);
  crash.CrashAfter(2);  // index file (none: nothing left) -> marker, old file delete
  (void)c2.RunOnce(kNow);
  ASSERT_EQ(CountKeys(&mem, "markers/t/"), 1u);
  WriteIndex(&idx, "t", 19995, {{l, old}});  // referenced again
  ASSERT_TRUE(c.RunOnce(kNow + 1).ok());
  EXPECT_TRUE(mem.Get(old.key).ok());
}

TEST(CompactorTest, DeleteRequestRewritesChunksAndIsMarkedProcessed) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Overrides ov{limits::Limits{}};
  DeleteRequestStore deletes(&mem);
  Labels api = L("{app=\"api\"}"), web = L("{app=\"web\"}");
  const int64_t t = 19999 * kDay;
  constexpr int64_t ms = kNanosPerMilli;
  auto a = PutChunk(&mem, "t", api, {{t, "ok 1"}, {t + ms, "secret 2"}, {t + 2 * ms, "ok 3"}});
  auto w = PutChunk(&mem, "t", web, {{t, "secret web"}});
  WriteIndex(&idx, "t", 19999, {{api, a}, {web, w}});
  // Request 1 (with filter) is past its cancel period; request 2 (web) is not yet.
  ASSERT_TRUE(deletes
                  .Add("t", "{app=\"api\"} |= \"secret\"", t / ms, (t + 5 * ms) / ms,
                       (kNow - 2 * kDay) / 1'000'000)
                  .ok());
  ASSERT_TRUE(
      deletes
          .Add("t", "{app=\"web\"}", t / 1'000'000, (t + 5) / 1'000'000, (kNow - kHour) / 1'000'000)
          .ok());
  CompactorOptions o;
  o.retention_enabled = true;
  o.retention_delete_delay_ns = 0;
  Compactor c(o, &mem, &idx, &ov, &deletes, nullptr);
  // Query-time: both requests hide their lines already.
  auto erasure = c.ErasureFor("t", kNow);
  EXPECT_EQ(Visible(&mem, "t", erasure.get()),
            (std::multiset<std::string>{"{app=\"api\"} " + std::to_string(t) + " ok 1",
                                        "{app=\"api\"} " + std::to_string(t + 2 * ms) + " ok 3"}));
  PassStats st;
  ASSERT_TRUE(c.RunOnce(kNow, &st).ok());
  EXPECT_EQ(st.chunks_rewritten, 1u);
  EXPECT_EQ(st.entries_deleted, 1u);
  EXPECT_EQ(st.delete_requests_processed, 1u);
  EXPECT_EQ(mem.Get(a.key).status().code(), StatusCode::kNotFound);  // swept (delay 0)
  EXPECT_TRUE(mem.Get(w.key).ok());  // its request is still cancellable
  // Without any query-time filter, the store itself no longer has the line.
  auto raw = Visible(&mem, "t", nullptr);
  EXPECT_EQ(raw.count("{app=\"api\"} " + std::to_string(t + ms) + " secret 2"), 0u);
  EXPECT_EQ(raw.count("{app=\"web\"} " + std::to_string(t) + " secret web"), 1u);
  auto list = deletes.List("t");
  EXPECT_TRUE((**list)[0].request.processed);
  EXPECT_FALSE((**list)[1].request.processed);
}

TEST(CompactorTest, DeletionModeFilterOnlyNeverRewrites) {
  storage::MemObjectStore mem;
  index::IndexStore idx(&mem);
  limits::Limits l;
  l.deletion_mode = "filter-only";
  limits::Overrides ov{l};
  DeleteRequestStore deletes(&mem);
  Labels api = L("{app=\"api\"}");
  const int64_t t = 19999 * kDay;
  auto a = PutChunk(&mem, "t", api, {{t, "secret"}});
  WriteIndex(&idx, "t", 19999, {{api, a}});
  ASSERT_TRUE(deletes.Add("t", "{app=\"api\"}", t / 1'000'000, (t + 5) / 1'000'000, 0).ok());
  CompactorOptions o;
  o.retention_enabled = true;
  Compactor c(o, &mem, &idx, &ov, &deletes, nullptr);
  PassStats st;
  ASSERT_TRUE(c.RunOnce(kNow, &st).ok());
  EXPECT_EQ(st.chunks_deleted, 0u);
  EXPECT_TRUE(mem.Get(a.key).ok());
  EXPECT_TRUE(Visible(&mem, "t", c.ErasureFor("t", kNow).get()).empty());
}

// The whole store as a map (to snapshot and compare).
std::map<std::string, std::string> Snapshot(storage::ObjectStore* store) {
  std::map<std::string, std::string> out;
  for (const char* prefix : {"chunks/", "index/", "deletes/", "markers/"}) {
    auto keys = store->List(prefix);
    EXPECT_TRUE(keys.ok());
    if (!keys.ok()) continue;
    for (const std::string& k : *keys) out[k] = *store->Get(k);
  }
  return out;
}

// Builds a store with compaction, retention and delete work for two tenants.
void BuildScenario(storage::MemObjectStore* mem) {
  index::IndexStore idx(mem);
  DeleteRequestStore deletes(mem);
  for (const std::string tenant : {"t1", "t2"}) {
    for (int64_t day : {19990, 19998, 19999}) {
      for (int f = 0; f < 3; f++) {
        std::vector<std::pair<Labels, index::ChunkRef>> refs;
        for (int s = 0; s < 3; s++) {
          Labels l = L("{app=\"a" + std::to_string(s) + "\"}");
          const int64_t t0 = day * kDay + f * kHour + s * 10;
          refs.emplace_back(l, PutChunk(mem, tenant, l,
                                        {{t0, "keep " + std::to_string(f)},
                                         {t0 + 1, "secret " + tenant},
                                         {t0 + 2, "keep too"}}));
        }
        WriteIndex(&idx, tenant, day, refs);
      }
    }
    ASSERT_TRUE(deletes
                    .Add(tenant, "{app=\"a1\"} |= \"secret\"", 19998 * kDay / 1'000'000,
                         20000 * kDay / 1'000'000, 0)
                    .ok());
    ASSERT_TRUE(deletes
                    .Add(tenant, "{app=\"a2\"}", 19999 * kDay / 1'000'000,
                         (19999 * kDay + kHour + 100) / 1'000'000, 0)
                    .ok());
  }
}

// A crash after every single store mutation of a full pass, then a restart (a fresh
// compactor on what the store holds): at the crash point and after recovery, every chunk an
// index file names exists and queries see exactly what they saw before the pass; after the
// recovery pass nothing is left to do and no doomed chunk object remains.
TEST(CompactorTest, CrashAtAnyStepLeavesTheStoreConsistent) {
  log::SetLevel(log::Level::kError);  // every crash logs the days it stopped
  limits::Overrides ov{RetentionLimits(5 * kDay)};
  CompactorOptions o;
  o.retention_enabled = true;
  o.retention_delete_delay_ns = 0;
  storage::MemObjectStore pristine;
  BuildScenario(&pristine);
  const auto base = Snapshot(&pristine);
  std::map<std::string, std::multiset<std::string>> expected;
  {
    index::IndexStore idx(&pristine);
    DeleteRequestStore deletes(&pristine);
    Compactor c(o, &pristine, &idx, &ov, &deletes, nullptr);
    for (const char* t : {"t1", "t2"}) {
      expected[t] = Visible(&pristine, t, c.ErasureFor(t, kNow).get());
      EXPECT_FALSE(expected[t].empty());
    }
  }
  // How many mutations a clean pass makes.
  int64_t total = 0;
  {
    storage::MemObjectStore mem;
    for (const auto& [k, v] : base) ASSERT_TRUE(mem.Put(k, v).ok());
    CrashingStore counting(&mem);
    index::IndexStore idx(&counting);
    DeleteRequestStore deletes(&counting);
    Compactor c(o, &counting, &idx, &ov, &deletes, nullptr);
    ASSERT_TRUE(c.RunOnce(kNow).ok());
    total = counting.mutations();
    for (const char* t : {"t1", "t2"}) {
      EXPECT_EQ(Visible(&mem, t, nullptr), expected[t]) << "physically applied, " << t;
    }
  }
  ASSERT_GT(total, 20);
  for (int64_t crash_at = 0; crash_at < total; crash_at++) {
    SCOPED_TRACE("crash after " + std::to_string(crash_at) + " of " + std::to_string(total));
    storage::MemObjectStore mem;
    for (const auto& [k, v] : base) ASSERT_TRUE(mem.Put(k, v).ok());
    {
      CrashingStore crashing(&mem);
      crashing.CrashAfter(crash_at);
      index::IndexStore idx(&crashing);
      DeleteRequestStore deletes(&crashing);
      Compactor c(o, &crashing, &idx, &ov, &deletes, nullptr);
      EXPECT_FALSE(c.RunOnce(kNow).ok());
    }
    index::IndexStore idx(&mem);
    DeleteRequestStore deletes(&mem);
    Compactor c(o, &mem, &idx, &ov, &deletes, nullptr);
    for (const char* t : {"t1", "t2"}) {
      EXPECT_EQ(Visible(&mem, t, c.ErasureFor(t, kNow).get()), expected[t]) << "after crash";
    }
    ASSERT_TRUE(c.RunOnce(kNow).ok());
    PassStats idle;
    ASSERT_TRUE(c.RunOnce(kNow, &idle).ok());
    EXPECT_EQ(idle.days_rewritten, 0u);
    for (const char* t : {"t1", "t2"}) {
      EXPECT_EQ(Visible(&mem, t, nullptr), expected[t]) << "recovered, " << t;
    }
    EXPECT_EQ(CountKeys(&mem, "markers/"), 0u);
  }
}

}  // namespace
}  // namespace skald::compactor
