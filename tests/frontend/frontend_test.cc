// The query frontend's pure parts: how queries are cut, how answers merge, the queue's fairness
// and the results cache.
#include <gtest/gtest.h>

#include "frontend/merge.h"
#include "frontend/plan.h"
#include "frontend/queue.h"
#include "frontend/results_cache.h"
#include "logql/parser.h"

namespace skald::frontend {
namespace {

constexpr int64_t kH = 3600LL * 1'000'000'000;
constexpr int64_t kM = 60LL * 1'000'000'000;

TEST(PlanTest, MetricSplitsKeepEveryStepOnceInTheRightInterval) {
  // Steps every 10m from 00:05 to 02:55: three hour-aligned pieces.
  const auto p = SplitMetric(5 * kM, 2 * kH + 55 * kM, 10 * kM, kH);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].start, 5 * kM);
  EXPECT_EQ(p[0].end, 55 * kM);
  EXPECT_EQ(p[1].start, kH + 5 * kM);
  EXPECT_EQ(p[1].end, kH + 55 * kM);
  EXPECT_EQ(p[2].start, 2 * kH + 5 * kM);
  EXPECT_EQ(p[2].end, 2 * kH + 55 * kM);
  // Exhaustively: the union of the pieces' grids is the query's grid, in order, once each.
  for (int64_t step : {kM, 7 * kM, 25 * kM, kH, 2 * kH}) {
    for (int64_t start : {int64_t{0}, 3 * kM, 59 * kM, kH}) {
      const int64_t end = start + 5 * kH + 13 * kM;
      std::vector<int64_t> want, got;
      for (int64_t t = start; t <= end; t += step) want.push_back(t);
      for (const Interval& i : SplitMetric(start, end, step, kH)) {
        for (int64_t t = i.start; t <= i.end; t += step) got.push_back(t);
        EXPECT_EQ((i.start - start) % step, 0);
      }
      EXPECT_EQ(got, want) << "step " << step << " start " << start;
    }
  }
  EXPECT_EQ(SplitMetric(0, kH, kM, 0).size(), 1u);           // splitting off
  EXPECT_EQ(SplitMetric(0, 5 * kH, 2 * kH, kH).size(), 1u);  // step longer than a split
}

TEST(PlanTest, LogSplitsCoverTheRangeNewestFirst) {
  const auto back = SplitLogs(30 * kM, 2 * kH + 10 * kM, kH, false);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].start, 2 * kH);
  EXPECT_EQ(back[0].end, 2 * kH + 10 * kM);
  EXPECT_EQ(back[2].start, 30 * kM);
  EXPECT_EQ(back[2].end, kH);
  const auto fwd = SplitLogs(30 * kM, 2 * kH + 10 * kM, kH, true);
  EXPECT_EQ(fwd[0].start, 30 * kM);
  EXPECT_TRUE(SplitLogs(kH, kH, kH, true).empty());
}

TEST(PlanTest, OnlyQueriesWhoseShardsAddUpAreSharded) {
  auto shard = [](const char* q) {
    auto e = logql::ParseExpr(q);
    EXPECT_TRUE(e.ok()) << q;
    return Shardability(**e);
  };
  EXPECT_EQ(shard(R"({a="b"} |= "x")"), ShardMerge::kStreams);
  EXPECT_EQ(shard(R"(sum by (l) (count_over_time({a="b"}[5m])))"), ShardMerge::kSum);
  EXPECT_EQ(shard(R"(sum(rate({a="b"} | json [1m])))"), ShardMerge::kSum);
  EXPECT_EQ(shard(R"(sum(bytes_over_time({a="b"}[1m])))"), ShardMerge::kSum);
  EXPECT_EQ(shard(R"(count_over_time({a="b"}[5m]))"), ShardMerge::kNone);
  EXPECT_EQ(shard(R"(max(count_over_time({a="b"}[5m])))"), ShardMerge::kNone);
  EXPECT_EQ(shard(R"(sum(max_over_time({a="b"} | unwrap x [5m])))"), ShardMerge::kNone);
  EXPECT_EQ(shard(R"(topk(3, sum by (l) (rate({a="b"}[5m]))))"), ShardMerge::kNone);
  EXPECT_EQ(shard(R"(sum(avg_over_time({a="b"} | unwrap x [5m]) by (y)))"), ShardMerge::kNone);
}

std::string Matrix(
    const std::string& result,
    const std::string& stats = R"({"summary":{"totalLinesProcessed":2,"execTime":0.5}})") {
  return R"({"status":"success","data":{"resultType":"matrix","result":)" + result +
         R"(,"stats":)" + stats + "}}";
}

TEST(MergeTest, ShardsOfASumAddUpAndSplitsConcatenate) {
  const std::string a = Matrix(
      R"([{"metric":{"l":"x"},"values":[[1700000000,"1"],[1700000060,"2"]]},{"metric":{"l":"y"},"values":[[1700000000,"5"]]}])");
  const std::string b = Matrix(R"([{"metric":{"l":"x"},"values":[[1700000060,"0.5"]]}])");
  auto sum = MergeMatrices({a, b}, true);
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(
      *sum,
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"l":"x"},"values":[[1700000000,"1"],[1700000060,"2.5"]]},{"metric":{"l":"y"},"values":[[1700000000,"5"]]}],"stats":{"summary":{"totalLinesProcessed":4,"execTime":1}}}})");
  const std::string later =
      Matrix(R"([{"metric":{"l":"x"},"values":[[1700003600,"7"],[1700003660.5,"8"]]}])");
  auto cat = MergeMatrices({later, a}, false);
  ASSERT_TRUE(cat.ok());
  EXPECT_NE(
      cat->find(
          R"("values":[[1700000000,"1"],[1700000060,"2"],[1700003600,"7"],[1700003660.5,"8"]])"),
      std::string::npos)
      << *cat;
}

TEST(MergeTest, StreamsKeepTheBestLimitEntriesInQueryDirection) {
  const std::string s1 =
      R"({"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"a"},"values":[["30","a30"],["10","a10"]]}],"stats":{}}})";
  const std::string s2 =
      R"({"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"b"},"values":[["20","b20",{"structuredMetadata":{"k":"v"}}],["5","b5"]]}],"stats":{}}})";
  auto back = MergeStreams({s1, s2}, 3, false);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(
      *back,
      R"({"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"a"},"values":[["30","a30"],["10","a10"]]},{"stream":{"app":"b"},"values":[["20","b20",{"structuredMetadata":{"k":"v"}}]]}],"stats":{}}})");
  auto fwd = MergeStreams({s1, s2}, 2, true);
  ASSERT_TRUE(fwd.ok());
  EXPECT_NE(fwd->find(R"({"stream":{"app":"b"},"values":[["5","b5"]]})"), std::string::npos)
      << *fwd;
  EXPECT_NE(fwd->find(R"({"stream":{"app":"a"},"values":[["10","a10"]]})"), std::string::npos);
}

TEST(MergeTest, WhatIsNotASuccessfulAnswerIsRefused) {
  for (
      const char* bad :
      {"", "{", "[]", R"({"status":"error"})", R"({"status":"success","data":{}})",
       R"({"status":"success","data":{"resultType":"vector","result":[]}})",
       R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}})",
       R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","1"]]}]}})"}) {
    EXPECT_FALSE(MergeMatrices({bad}, true).ok()) << bad;
  }
  EXPECT_FALSE(
      MergeStreams(
          {R"({"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[[1]]}]}})"},
          10, true)
          .ok());
}

TEST(QueueTest, TenantsAreServedInTurn) {
  RequestQueue q(QueueOptions{});
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(
        q.Enqueue(std::make_shared<Task>("a", Request{"GET", "a" + std::to_string(i)})).ok());
  }
  ASSERT_TRUE(q.Enqueue(std::make_shared<Task>("b", Request{"GET", "b0"})).ok());
  std::vector<std::string> order;
  for (int i = 0; i < 4; i++) order.push_back(q.Next(0)->request().url);
  EXPECT_EQ(order, (std::vector<std::string>{"a0", "b0", "a1", "a2"}));
  EXPECT_EQ(q.Next(1'000'000), nullptr);
}

TEST(QueueTest, RetriedTasksGoFirstAndGiveUpAfterMaxRetries) {
  QueueOptions o;
  o.max_retries = 1;
  RequestQueue q(o);
  auto t = std::make_shared<Task>("a", Request{"GET", "x"});
  ASSERT_TRUE(q.Enqueue(t).ok());
  ASSERT_TRUE(q.Enqueue(std::make_shared<Task>("a", Request{"GET", "y"})).ok());
  auto got = q.Next(0);
  ASSERT_EQ(got, t);
  q.Retry(got, "gone");
  EXPECT_EQ(q.Next(0), t);  // ahead of y
  q.Retry(t, "gone again");
  Response r;
  ASSERT_TRUE(t->Wait(INT64_MAX, &r));
  EXPECT_EQ(r.code, 502);
  // Abandoned tasks are skipped; Stop answers the rest 503.
  auto gave_up = std::make_shared<Task>("a", Request{"GET", "z"});
  ASSERT_TRUE(q.Enqueue(gave_up).ok());
  gave_up->Abandon();
  EXPECT_EQ(q.Next(0)->request().url, "y");
  EXPECT_EQ(q.Next(0), nullptr);
  auto waiting = std::make_shared<Task>("a", Request{"GET", "w"});
  ASSERT_TRUE(q.Enqueue(waiting).ok());
  q.Stop();
  ASSERT_TRUE(waiting->Wait(INT64_MAX, &r));
  EXPECT_EQ(r.code, 503);
  EXPECT_EQ(q.Enqueue(waiting).code(), StatusCode::kUnavailable);
}

TEST(ResultsCacheTest, EvictsLeastRecentlyUsedPastItsBudget) {
  ResultsCache c(100, nullptr);
  c.Put("a", std::string(40, 'a'));
  c.Put("b", std::string(40, 'b'));
  EXPECT_TRUE(c.Get("a").has_value());  // a is now the most recent
  c.Put("c", std::string(40, 'c'));     // over budget: b goes
  EXPECT_FALSE(c.Get("b").has_value());
  EXPECT_EQ(*c.Get("a"), std::string(40, 'a'));
  EXPECT_TRUE(c.Get("c").has_value());
  EXPECT_LE(c.bytes(), 100u);
  c.Put("huge", std::string(200, 'h'));  // larger than the whole cache: not kept
  EXPECT_FALSE(c.Get("huge").has_value());
}

}  // namespace
}  // namespace skald::frontend
