// Unit tests for the query policy in front of the querier: per-tenant limits
// (max entries, max query length) with Loki's texts, ranges whose length
// overflows int64, the log-vs-metric decision, instant queries, `interval`
// thinning (including timestamps and intervals at the int64 edges), and
// label lookups narrowed by a selector.
#include "querier/query_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "limits/limits.h"
#include "querier/querier.h"
#include "testing/fs/mem_object_store.h"

namespace skald::querier {
namespace {

constexpr int64_t kBase = int64_t{1'700'000'000} * kNanosPerSecond;
constexpr std::string_view kTenant = "fake";
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

class QueryApiTest : public ::testing::Test {
 protected:
  void Push(std::string_view labels, int64_t ts, std::string_view line) {
    auto ls = ParseLabels(labels);
    ASSERT_TRUE(ls.ok());
    std::vector<ingester::AppendEntry> batch = {{ts, line, {}}};
    ingester::AppendResult r;
    ASSERT_TRUE(ing_.Push(kTenant, *ls, batch, &r).ok());
  }

  RangeQuery Range(std::string query, int64_t start = kBase, int64_t end = kBase + kNanosPerHour,
                   uint32_t limit = 100) {
    RangeQuery q;
    q.query = std::move(query);
    q.start_ns = start;
    q.end_ns = end;
    q.step_ns = kNanosPerSecond;
    q.limit = limit;
    q.forward = true;
    return q;
  }

  storage::MemObjectStore store_;
  index::IndexStore index_{&store_};
  ingester::Ingester ing_{ingester::IngesterOptions{}, &store_, &index_, nullptr};
  Querier querier_{QuerierOptions{}, &ing_, &index_, &store_};
  limits::Overrides limits_{limits::Limits{}};
  QueryApi api_{&querier_, &limits_};
};

TEST_F(QueryApiTest, AnswersLogQueriesWithinLimits) {
  Push(R"({app="a"})", kBase + 1, "hello");
  Push(R"({app="a"})", kBase + 2, "world");
  auto r = api_.Range(kTenant, Range(R"({app="a"} |= "wor")"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->streams.size(), 1u);
  ASSERT_EQ(r->streams[0].entries.size(), 1u);
  EXPECT_EQ(r->streams[0].entries[0].line, "world");
  EXPECT_EQ(r->stats.entries_returned, 1u);
}

TEST_F(QueryApiTest, MaxEntriesLimitAppliesToLogQueriesOnly) {
  auto r = api_.Range(kTenant, Range(R"({app="a"})", kBase, kBase + kNanosPerHour, 5001));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "max entries limit per query exceeded, limit > max_entries_limit_per_query "
            "(5001 > 5000)");
  EXPECT_TRUE(api_.Range(kTenant, Range(R"({app="a"})", kBase, kBase + 1, 5000)).ok());
  // A metric query is not limited by entries.
  Push(R"({app="a"})", kBase + 1, "one");
  auto m = api_.Range(
      kTenant, Range(R"(count_over_time({app="a"}[1m]))", kBase, kBase + kNanosPerHour, 5001));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->is_metric);
  EXPECT_EQ(m->value.type, logql::QueryValue::Type::kMatrix);
}

TEST_F(QueryApiTest, QueryLengthLimitUsesLokisText) {
  auto r = api_.Range(kTenant, Range(R"({app="a"})", kBase, kBase + 721 * kNanosPerHour + 1));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the query time range exceeds the limit (query length: 721h0m0.000000001s, limit: "
            "30d1h)");
  EXPECT_TRUE(api_.Range(kTenant, Range(R"({app="a"})", kBase, kBase + 721 * kNanosPerHour)).ok());
}

// Regression: end - start wrapped to a negative length and slipped past the limit.
TEST_F(QueryApiTest, RangeLongerThanInt64IsRejectedNotWrapped) {
  const int64_t two62 = int64_t{1} << 62;
  auto r = api_.Range(kTenant, Range(R"({app="a"})", -two62, two62));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the query time range exceeds the limit (query length: 2562047h47m16.854775807s, "
            "limit: 30d1h)");
  auto full = api_.Range(kTenant, Range(R"({app="a"})", kMin, kMax));
  EXPECT_EQ(full.status().code(), StatusCode::kInvalidArgument);

  // With the limit off, the whole int64 range is a valid (empty) query.
  limits::Limits off;
  off.max_query_length_ns = 0;
  limits::Overrides no_limit(off);
  QueryApi api(&querier_, &no_limit);
  Push(R"({app="a"})", kBase, "x");
  auto all = api.Range(kTenant, Range(R"({app="a"})", -two62, two62));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->streams.size(), 1u);
}

TEST_F(QueryApiTest, LogPipelinesParseAndSplitResultStreamsByTheirLabels) {
  Push(R"({app="a"})", kBase + 1, R"({"level":"error","msg":"disk"})");
  Push(R"({app="a"})", kBase + 2, R"({"level":"info","msg":"ok"})");
  Push(R"({app="a"})", kBase + 3, "not json");
  auto r = api_.Range(kTenant, Range(R"({app="a"} | json | level="error")"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->streams.size(), 1u);
  ASSERT_EQ(r->streams[0].entries.size(), 1u);
  EXPECT_EQ(r->streams[0].labels.ToString(), R"({app="a"})");
  EXPECT_EQ(r->streams[0].entries[0].parsed, (std::vector<std::pair<std::string, std::string>>{
                                                 {"level", "error"}, {"msg", "disk"}}));
  // Lines that fail to parse keep flowing with __error__ (a label filter on it selects them).
  auto errs = api_.Range(kTenant, Range(R"({app="a"} | json | __error__!="")"));
  ASSERT_TRUE(errs.ok()) << errs.status().ToString();
  ASSERT_EQ(errs->streams.size(), 1u);
  ASSERT_EQ(errs->streams[0].entries.size(), 1u);
  EXPECT_EQ(errs->streams[0].entries[0].line, "not json");
  // line_format rewrites the line.
  auto fmt = api_.Range(kTenant, Range(R"({app="a"} | json | line_format "{{.level}}: {{.msg}}")"));
  ASSERT_TRUE(fmt.ok()) << fmt.status().ToString();
  std::vector<std::string> lines;
  for (const auto& s : fmt->streams) {
    for (const auto& e : s.entries) lines.push_back(e.line);
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{": ", "error: disk", "info: ok"}));
  auto bad = api_.Range(kTenant, Range(R"({app="a")"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(QueryApiTest, StructuredMetadataNamedLikeAStreamLabelIsRenamed) {
  auto ls = ParseLabels(R"({app="a"})");
  ASSERT_TRUE(ls.ok());
  MetadataPair md[] = {{"app", "from-metadata"}};
  std::vector<ingester::AppendEntry> batch = {{kBase + 1, "line", md}};
  ingester::AppendResult res;
  ASSERT_TRUE(ing_.Push(kTenant, *ls, batch, &res).ok());
  for (const char* q : {R"({app="a"})", R"({app="a"} | drop nothing)"}) {
    auto r = api_.Range(kTenant, Range(q));
    ASSERT_TRUE(r.ok()) << q << ": " << r.status().ToString();
    ASSERT_EQ(r->streams.size(), 1u) << q;
    EXPECT_EQ(r->streams[0].labels.ToString(), R"({app="a"})") << q;
    ASSERT_EQ(r->streams[0].entries.size(), 1u);
    EXPECT_EQ(
        r->streams[0].entries[0].metadata,
        (std::vector<std::pair<std::string, std::string>>{{"app_extracted", "from-metadata"}}))
        << q;
  }
}

TEST_F(QueryApiTest, MetricQueriesCountOverTheStepGrid) {
  // Three lines in the first minute, one in the second (windows are (t-1m, t]). The
  // range is step-aligned, as Loki's frontend aligns it.
  const int64_t t0 = kBase / kNanosPerMinute * kNanosPerMinute;
  for (int i = 1; i <= 3; i++) Push(R"({app="a", host="h1"})", t0 + i * kNanosPerSecond, "x");
  Push(R"({app="a", host="h2"})", t0 + 61 * kNanosPerSecond, "y");
  RangeQuery q = Range(R"(sum by (app) (count_over_time({app="a"}[1m])))", t0 + kNanosPerSecond,
                       t0 + 2 * kNanosPerMinute - kNanosPerSecond);
  q.step_ns = kNanosPerMinute;
  auto r = api_.Range(kTenant, q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->value.type, logql::QueryValue::Type::kMatrix);
  ASSERT_EQ(r->value.matrix.size(), 1u);
  EXPECT_EQ(r->value.matrix[0].labels.ToString(), R"({app="a"})");
  // Aligned to [t0, t0+2m]: nothing in (t0-1m, t0], so no point at t0.
  std::vector<logql::Point> want = {{t0 + kNanosPerMinute, 3}, {t0 + 2 * kNanosPerMinute, 1}};
  EXPECT_EQ(r->value.matrix[0].points, want);
  EXPECT_GT(r->stats.head_chunk_lines, 0u);
}

// query_timeout stops the work (504), for log and metric queries alike. A 1 ns timeout
// has passed long before the first block is read.
TEST_F(QueryApiTest, QueryTimeoutStopsTheQuery) {
  Push(R"({app="a"})", kBase + 1, "x");
  limits::Limits tight;
  tight.query_timeout_ns = 1;
  limits::Overrides overrides{tight};
  QueryApi api{&querier_, &overrides};
  auto logs = api.Range(kTenant, Range(R"({app="a"})"));
  EXPECT_EQ(logs.status().code(), StatusCode::kDeadlineExceeded) << logs.status().ToString();
  RangeQuery q = Range(R"(count_over_time({app="a"}[1m]))");
  q.step_ns = kNanosPerMinute;
  auto metric = api.Range(kTenant, q);
  EXPECT_EQ(metric.status().code(), StatusCode::kDeadlineExceeded) << metric.status().ToString();
  // The default timeout (1m) lets both through.
  EXPECT_TRUE(api_.Range(kTenant, Range(R"({app="a"})")).ok());
  EXPECT_TRUE(api_.Range(kTenant, q).ok());
}

TEST_F(QueryApiTest, AClientThatWentAwayStopsTheQueryWith499) {
  Push(R"({app="a"})", kBase + 1, "x");
  int probes = 0;
  RangeQuery logs = Range(R"({app="a"})");
  logs.client_gone = [&] { return ++probes > 0; };
  auto l = api_.Range(kTenant, logs);
  EXPECT_EQ(l.status().code(), StatusCode::kCancelled) << l.status().ToString();
  EXPECT_EQ(l.status().message(), "context canceled");
  EXPECT_GE(probes, 1);
  RangeQuery metric = Range(R"(count_over_time({app="a"}[1m]))");
  metric.step_ns = kNanosPerMinute;
  metric.client_gone = [] { return true; };
  auto m = api_.Range(kTenant, metric);
  EXPECT_EQ(m.status().code(), StatusCode::kCancelled) << m.status().ToString();
  InstantQuery inst;
  inst.query = R"(count_over_time({app="a"}[1m]))";
  inst.time_ns = kBase + kNanosPerSecond;
  inst.client_gone = [] { return true; };
  EXPECT_EQ(api_.Instant(kTenant, inst).status().code(), StatusCode::kCancelled);
  // A client still waiting does not stop anything.
  metric.client_gone = [] { return false; };
  EXPECT_TRUE(api_.Range(kTenant, metric).ok());
}

TEST_F(QueryApiTest, InstantQueriesRejectLogQueriesAndEvaluateMetricOnes) {
  InstantQuery q;
  q.query = R"({app="a"})";
  auto st = api_.Instant(kTenant, q);
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.status().message(),
            "log queries are not supported as an instant query type, please change your query "
            "to a range query type");
  // Grafana's "Save & test".
  q.query = "vector(1)+vector(1)";
  q.time_ns = kBase;
  auto v = api_.Instant(kTenant, q);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->value.type, logql::QueryValue::Type::kVector);
  ASSERT_EQ(v->value.vector.size(), 1u);
  EXPECT_EQ(v->value.vector[0].point.value, 2);
  // A rate over lines pushed within the window: 2 lines / 300 s.
  Push(R"({app="a"})", kBase - 10 * kNanosPerSecond, "x");
  Push(R"({app="a"})", kBase - 5 * kNanosPerSecond, "y");
  q.query = R"(rate({app="a"}[5m]))";
  auto rate = api_.Instant(kTenant, q);
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  ASSERT_EQ(rate->value.vector.size(), 1u);
  EXPECT_DOUBLE_EQ(rate->value.vector[0].point.value, 2.0 / 300);
  q.query = "1+1";
  auto scalar = api_.Instant(kTenant, q);
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->value.type, logql::QueryValue::Type::kScalar);
  EXPECT_EQ(scalar->value.scalar.value, 2);
}

TEST_F(QueryApiTest, LabelNamesWithSelectorComeFromMatchingSeries) {
  Push(R"({app="a", env="prod"})", kBase, "x");
  Push(R"({app="b", region="eu"})", kBase, "y");
  auto all = api_.LabelNames(kTenant, kBase, kBase + 1, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{"app", "env", "region"}));
  auto some = api_.LabelNames(kTenant, kBase, kBase + 1, R"({app="b"})");
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, (std::vector<std::string>{"app", "region"}));
  auto values = api_.LabelValues(kTenant, "app", kBase, kBase + 1, R"({env="prod"})");
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"a"}));
  auto series = api_.Series(kTenant, {R"({app="a"})", R"({region="eu"})"}, kBase, kBase + 1);
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(series->size(), 2u);
  EXPECT_FALSE(api_.Series(kTenant, {"{"}, kBase, kBase + 1).ok());
  // An end at the smallest time is an empty range, not a wrapped one.
  EXPECT_TRUE(api_.LabelNames(kTenant, kMin, kMin, "").ok());
  EXPECT_TRUE(api_.Series(kTenant, {}, kMin, kMin).ok());
}

std::vector<ResultStream> Streams(const std::vector<std::vector<int64_t>>& ts) {
  std::vector<ResultStream> out;
  for (size_t s = 0; s < ts.size(); s++) {
    ResultStream rs;
    rs.labels = Labels(std::vector<Label>{{"s", std::to_string(s)}});
    for (int64_t t : ts[s]) rs.entries.push_back({t, "l", {}});
    out.push_back(std::move(rs));
  }
  return out;
}

std::vector<std::vector<int64_t>> Times(const std::vector<ResultStream>& streams) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& s : streams) {
    out.emplace_back();
    for (const auto& e : s.entries) out.back().push_back(e.ts);
  }
  return out;
}

TEST(ApplyIntervalTest, KeepsOneEntryPerIntervalAcrossStreams) {
  auto fw = Streams({{0, 4, 10, 12}, {5, 11, 20}});
  ApplyInterval(5, true, &fw);
  EXPECT_EQ(Times(fw), (std::vector<std::vector<int64_t>>{{0, 10}, {5, 20}}));
  auto bw = Streams({{20, 12, 10, 4, 0}, {11, 5}});
  ApplyInterval(5, false, &bw);
  EXPECT_EQ(Times(bw), (std::vector<std::vector<int64_t>>{{20, 12, 0}, {5}}));
  // Streams left without entries are removed.
  auto gone = Streams({{0}, {1}});
  ApplyInterval(10, true, &gone);
  EXPECT_EQ(Times(gone), (std::vector<std::vector<int64_t>>{{0}}));
}

// Regression: last + interval (last - interval) wrapped and let every entry through.
TEST(ApplyIntervalTest, HugeIntervalsAtTheEdgesOfTimeDoNotWrap) {
  auto fw = Streams({{kMax - 10, kMax - 5, kMax - 1}});
  ApplyInterval(kMax, true, &fw);
  EXPECT_EQ(Times(fw), (std::vector<std::vector<int64_t>>{{kMax - 10}}));
  auto bw = Streams({{kMin + 10, kMin + 5, kMin + 1}});
  ApplyInterval(kMax, false, &bw);
  EXPECT_EQ(Times(bw), (std::vector<std::vector<int64_t>>{{kMin + 10}}));
}

// max_query_lookback: ranges are clamped to now - lookback (before the length check, as
// Loki's frontend), and a range wholly before it answers an empty result, not an error.
TEST_F(QueryApiTest, MaxQueryLookbackClampsRangesAndEmptiesOlderOnes) {
  const int64_t now = NowNanos();
  Push(R"({app="old"})", now - 2 * kNanosPerHour, "old line");
  Push(R"({app="new"})", now - 10 * kNanosPerMinute, "new line");
  limits::Limits lim;
  lim.max_query_lookback_ns = kNanosPerHour;
  lim.max_query_length_ns = 2 * kNanosPerHour;
  limits::Overrides overrides{lim};
  QueryApi api{&querier_, &overrides};

  // 30 days asked, over max_query_length, but clamped to the last hour first: allowed.
  auto logs = api.Range(kTenant, Range(R"({app=~"old|new"})", now - 30 * 24 * kNanosPerHour, now));
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  ASSERT_EQ(logs->streams.size(), 1u);
  EXPECT_EQ(logs->streams[0].labels.ToString(), R"({app="new"})");

  // Wholly before the lookback: empty, for log and metric queries.
  auto before = api.Range(
      kTenant, Range(R"({app="old"})", now - 3 * kNanosPerHour, now - 90 * kNanosPerMinute));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->streams.empty());
  RangeQuery mq = Range(R"(count_over_time({app="old"}[5m]))", now - 3 * kNanosPerHour,
                        now - 90 * kNanosPerMinute);
  mq.step_ns = kNanosPerMinute;
  auto metric_before = api.Range(kTenant, mq);
  ASSERT_TRUE(metric_before.ok()) << metric_before.status().ToString();
  EXPECT_TRUE(metric_before->is_metric);
  EXPECT_EQ(metric_before->value.type, logql::QueryValue::Type::kMatrix);
  EXPECT_TRUE(metric_before->value.matrix.empty());

  // A metric query's range windows read nothing older than the lookback either.
  InstantQuery iq;
  iq.query = R"(sum(count_over_time({app=~"old|new"}[3h])))";
  iq.time_ns = now;
  auto inst = api.Instant(kTenant, iq);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  ASSERT_EQ(inst->value.vector.size(), 1u);
  EXPECT_EQ(inst->value.vector[0].point.value, 1);
  iq.time_ns = now - 90 * kNanosPerMinute;
  auto inst_before = api.Instant(kTenant, iq);
  ASSERT_TRUE(inst_before.ok());
  EXPECT_TRUE(inst_before->value.vector.empty());

  // Label and series lookups wholly before the lookback answer nothing (in range, the
  // ingester answers for every stream it holds, as Loki's does).
  auto old_values =
      api.LabelValues(kTenant, "app", now - 3 * kNanosPerHour, now - 90 * kNanosPerMinute, "");
  ASSERT_TRUE(old_values.ok());
  EXPECT_TRUE(old_values->empty());
  auto series =
      api.Series(kTenant, {R"({app=~".+"})"}, now - 3 * kNanosPerHour, now - 90 * kNanosPerMinute);
  ASSERT_TRUE(series.ok());
  EXPECT_TRUE(series->empty());
  auto stats = api.Stats(kTenant, R"({app=~".+"})", now - 3 * kNanosPerHour, now);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries, 1u);
}

// max_query_parallelism bounds how many of one query's scans run at once; results are the
// same whatever it is.
TEST_F(QueryApiTest, MaxQueryParallelismKeepsResults) {
  for (int s = 0; s < 40; s++) {
    for (int i = 0; i < 5; i++) {
      Push(R"({app="p", s=")" + std::to_string(s) + R"("})", kBase + s * 1000 + i,
           "line " + std::to_string(i));
    }
  }
  auto run = [&](int parallelism) {
    limits::Limits lim;
    lim.max_query_parallelism = parallelism;
    limits::Overrides overrides{lim};
    QueryApi api{&querier_, &overrides};
    auto r = api.Range(kTenant, Range(R"({app="p"})", kBase, kBase + kNanosPerHour, 37));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& st : r->streams) {
      for (const auto& e : st.entries) out.emplace_back(st.labels.ToString(), e.ts);
    }
    return out;
  };
  const auto one = run(1);
  EXPECT_EQ(one.size(), 37u);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(32), one);
}

}  // namespace
}  // namespace skald::querier
