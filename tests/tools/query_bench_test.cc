// Tests for skald-bench query: the query set and response-stats parsing.
#include "tools/bench/query_bench.h"

#include <gtest/gtest.h>

namespace skald::bench {
namespace {

TEST(QuerySetTest, DefaultQueriesQuoteLiteralsIntoLogql) {
  QueryOptions o;
  o.rare = "say \"hi\"";
  std::vector<NamedQuery> q = DefaultQueries(o);
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[0].name, "selector");
  EXPECT_EQ(q[0].logql, "{job=\"bench\"}");
  EXPECT_EQ(q[1].logql, "{job=\"bench\"} |= \"say \\\"hi\\\"\"");
  EXPECT_EQ(q[2].logql, "{job=\"bench\"} |= \"INFO\"");
  EXPECT_EQ(q[3].name, "literal_absent");
  EXPECT_EQ(q[3].logql, "{job=\"bench\"} |= \"QQ_never_present_QQ\"");
  EXPECT_EQ(q[4].logql, "{job=\"bench\"} |~ \"(?i)error\"");
  EXPECT_EQ(q[5].logql, "{job=\"bench\"} |~ \"error|fail\"");
}

TEST(QueryResponseTest, ReadsSummaryStatsAndCountsReturnedEntries) {
  const char* body = R"({"status":"success","data":{"resultType":"streams","result":[
    {"stream":{"job":"bench"},"values":[["1","a"],["2","b"]]},
    {"stream":{"job":"bench","host":"h"},"values":[["3","c"]]}],
    "stats":{"summary":{"bytesProcessedPerSecond":123,"linesProcessedPerSecond":5,
    "totalBytesProcessed":1073741824,"totalLinesProcessed":9000000,"execTime":0.25,
    "queueTime":0,"subqueries":0,"totalEntriesReturned":3}}}})";
  StatusOr<QueryResponseStats> s = ParseQueryResponse(body);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->has_stats);
  EXPECT_EQ(s->bytes_processed, 1073741824u);
  EXPECT_EQ(s->lines_processed, 9000000u);
  EXPECT_DOUBLE_EQ(s->exec_time_s, 0.25);
  EXPECT_EQ(s->entries_returned, 3u);
  EXPECT_EQ(s->streams_returned, 2u);
}

TEST(QueryResponseTest, MissingStatsAreZeroAndIntegerExecTimeIsAccepted) {
  StatusOr<QueryResponseStats> s =
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"streams","result":[]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_stats);
  EXPECT_EQ(s->entries_returned, 0u);
  s = ParseQueryResponse(
      R"({"status":"success","data":{"result":[],"stats":{"summary":{"execTime":2}}}})");
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->exec_time_s, 2.0);
}

TEST(QueryResponseTest, NonSuccessAndNonJsonAreErrors) {
  EXPECT_FALSE(ParseQueryResponse(R"({"status":"error","data":{}})").ok());
  EXPECT_FALSE(ParseQueryResponse("parse error at line 1, col 2: syntax error").ok());
}

TEST(RunQueriesTest, RejectsUnknownQueryNames) {
  QueryOptions o;
  o.url = "http://127.0.0.1:1";
  o.only = {"nope"};
  StatusOr<QueryReport> r = RunQueries(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("literal_absent"), std::string::npos);
}

}  // namespace
}  // namespace skald::bench
