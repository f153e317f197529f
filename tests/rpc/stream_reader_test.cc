// skald.ingesterpb.StreamReader over real gRPC on loopback, in front of real in-process
// ingesters: what a querier of a scaled-out cluster reads, with replicas merged and deduped.
#include "rpc/stream_reader.h"

#include <gtest/gtest.h>

#include <set>

#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "logql/parser.h"
#include "querier/querier.h"
#include "rpc/server.h"
#include "testing/fs/mem_object_store.h"

namespace skald::rpc {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

struct Node {
  storage::MemObjectStore store;
  index::IndexStore index{&store};
  std::unique_ptr<ingester::Ingester> ing;
  std::unique_ptr<GrpcServer> server;
};

class StreamReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; i++) {
      auto n = std::make_unique<Node>();
      n->ing = std::make_unique<ingester::Ingester>(ingester::IngesterOptions{}, &n->store,
                                                    &n->index, nullptr);
      GrpcServices sv;
      sv.pusher = n->ing.get();
      sv.reader = n->ing.get();
      auto server = GrpcServer::Start("127.0.0.1:0", sv);
      ASSERT_TRUE(server.ok()) << server.status().ToString();
      n->server = std::move(*server);
      nodes_.push_back(std::move(n));
    }
    SetRing(NowNanos());
  }

  // Every node ACTIVE, heartbeating at `hb` (a stale one counts as unhealthy).
  void SetRing(int64_t hb, int stale = -1) {
    std::vector<ring::InstanceDesc> ds;
    for (size_t i = 0; i < nodes_.size(); i++) {
      ring::InstanceDesc d;
      d.id = "ing-" + std::to_string(i);
      d.addr = "127.0.0.1:" + std::to_string(nodes_[i]->server->port());
      d.state = ring::State::kActive;
      d.heartbeat_ns = static_cast<int>(i) == stale ? hb - 3600 * kNanosPerSecond : hb;
      d.tokens = {static_cast<uint32_t>(i) * 1000u + 1u};
      ds.push_back(std::move(d));
    }
    ring_ = std::make_shared<const ring::Ring>(std::move(ds), 60 * kNanosPerSecond);
  }

  std::unique_ptr<RingStreamReader> Reader(int64_t within_ns = 0) {
    RingReaderOptions o;
    o.replication_factor = 3;
    o.timeout_ns = 5 * kNanosPerSecond;
    o.query_ingesters_within_ns = within_ns;
    return std::make_unique<RingStreamReader>([this] { return ring_; }, o);
  }

  // Pushes the entries (ts offsets from kT0, lines) of `labels` to the given nodes.
  void Push(const std::vector<int>& to, const std::string& labels,
            const std::vector<std::pair<int64_t, std::string>>& entries) {
    const Labels l = *ParseLabels(labels);
    std::vector<ingester::AppendEntry> es;
    for (const auto& [ts, line] : entries) es.push_back({kT0 + ts, line, {}});
    for (int i : to) {
      std::vector<ingester::StreamAppend> s(1);
      s[0].labels = &l;
      s[0].entries = es;
      ASSERT_TRUE(nodes_[i]->ing->PushBatch("t", s).ok());
    }
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  std::shared_ptr<const ring::Ring> ring_;
};

TEST_F(StreamReaderTest, ReplicasMergeIntoOneStreamAndTheQuerierReturnsEachLineOnce) {
  // Two streams, each on all three replicas; one replica missed a push (a quorum took it).
  Push({0, 1, 2}, R"({app="a"})", {{1, "a1"}, {2, "a2"}});
  Push({0, 1}, R"({app="a"})", {{3, "a3"}});
  Push({0, 1, 2}, R"({app="b", env="x"})", {{5, "b1"}});
  auto reader = Reader();
  auto snaps = reader->QuerySnapshot("t", {}, kT0, kT0 + 100, {});
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  ASSERT_EQ(snaps->size(), 2u);  // one per stream, not per replica
  EXPECT_LT((*snaps)[0].fingerprint, (*snaps)[1].fingerprint);
  size_t blocks = 0;
  for (const auto& s : *snaps) blocks += s.blocks.size();
  EXPECT_GE(blocks, 6u);  // every replica's blocks

  // Through the querier: each line once, newest first.
  storage::MemObjectStore store;
  index::IndexStore index(&store);
  querier::Querier q(querier::QuerierOptions{}, reader.get(), &index, &store);
  auto expr = logql::ParseExpr(R"({app=~"a|b"})");
  ASSERT_TRUE(expr.ok());
  querier::QueryStats stats;
  auto res = q.SelectLogs("t", *logql::AsLogSelector(**expr), kT0, kT0 + 100, 100, false, &stats);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  std::vector<std::string> lines;
  for (const auto& s : *res) {
    for (const auto& e : s.entries) lines.push_back(s.labels.ToString() + " " + e.line);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{R"({app="a"} a3)", R"({app="a"} a2)",
                                             R"({app="a"} a1)", R"({app="b", env="x"} b1)"}));

  // Labels and series are unions without duplicates; volumes count a stream once.
  auto names = reader->QueryLabelNames("t");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"app", "env"}));
  auto values = reader->QueryLabelValues("t", "app");
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"a", "b"}));
  auto m = Matcher::Create(MatchType::kEqual, "app", "a");
  ASSERT_TRUE(m.ok());
  auto series = reader->QuerySeries("t", {*m});
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].ToString(), R"({app="a"})");
  auto vols = reader->QueryVolumes("t", {*m}, kT0, kT0 + 100);
  ASSERT_TRUE(vols.ok());
  ASSERT_EQ(vols->size(), 1u);
  uint64_t entries = 0;
  for (const auto& p : (*vols)[0].pieces) entries += p.entries;
  EXPECT_EQ(entries, 3u);  // the fullest replica, not the sum of three
}

TEST_F(StreamReaderTest, ToleratesOneFailedReplicaOfThreeButNotTwo) {
  Push({0, 1, 2}, R"({app="a"})", {{1, "a1"}});
  auto reader = Reader();
  nodes_[2]->server->Stop();
  auto one_down = reader->QuerySnapshot("t", {}, kT0, kT0 + 100, {});
  ASSERT_TRUE(one_down.ok()) << one_down.status().ToString();
  ASSERT_EQ(one_down->size(), 1u);
  nodes_[1]->server->Stop();
  auto two_down = reader->QuerySnapshot("t", {}, kT0, kT0 + 100, {});
  EXPECT_EQ(two_down.status().code(), StatusCode::kUnavailable) << two_down.status().ToString();
  // Unhealthy in the ring counts against the same budget: one stale + one failing is too many.
  SetRing(NowNanos(), /*stale=*/1);
  auto stale = reader->QueryLabelNames("t");
  EXPECT_EQ(stale.status().code(), StatusCode::kUnavailable) << stale.status().ToString();
}

TEST_F(StreamReaderTest, OldQueriesSkipTheIngesters) {
  Push({0, 1, 2}, R"({app="a"})", {{1, "a1"}});
  auto reader = Reader(/*within_ns=*/3 * kNanosPerHour);
  // kT0 is in 2023: far older than now - 3h, so the ingesters are not asked.
  auto snaps = reader->QuerySnapshot("t", {}, kT0, kT0 + 100, {});
  ASSERT_TRUE(snaps.ok());
  EXPECT_TRUE(snaps->empty());
  auto recent = Reader(0)->QuerySnapshot("t", {}, kT0, kT0 + 100, {});
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->size(), 1u);
}

TEST_F(StreamReaderTest, BadMatcherIsInvalidArgument) {
  auto reader = Reader();
  RemoteStreamReader one("127.0.0.1:" + std::to_string(nodes_[0]->server->port()),
                         5 * kNanosPerSecond);
  // A matcher built here is valid; the server recompiles it. An unknown tenant is empty.
  auto m = Matcher::Create(MatchType::kRegexMatch, "app", "a.*");
  ASSERT_TRUE(m.ok());
  auto snaps = one.QuerySnapshot("nobody", {*m}, kT0, kT0 + 100, {});
  ASSERT_TRUE(snaps.ok());
  EXPECT_TRUE(snaps->empty());
}

}  // namespace
}  // namespace skald::rpc

namespace skald::rpc {
namespace {

TEST_F(StreamReaderTest, ShardsSplitTheStreamsAtTheIngesters) {
  for (int s = 0; s < 20; s++)
    Push({0, 1, 2}, "{app=\"s\", n=\"" + std::to_string(s) + "\"}", {{1, "x"}});
  auto reader = Reader();
  std::set<uint64_t> seen;
  size_t total = 0;
  for (uint32_t i = 0; i < 3; i++) {
    ingester::StreamShard shard;
    shard.index = i;
    shard.count = 3;
    auto part = reader->QuerySnapshot("t", {}, kT0, kT0 + 100, shard);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    for (const auto& s : *part) {
      EXPECT_EQ(ingester::StreamShard::Of(s.fingerprint, 3), i);
      seen.insert(s.fingerprint);
    }
    total += part->size();
  }
  EXPECT_EQ(total, 20u);        // disjoint
  EXPECT_EQ(seen.size(), 20u);  // and complete
}

}  // namespace
}  // namespace skald::rpc
