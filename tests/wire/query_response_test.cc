// Unit tests for Loki's query response JSON: string lists, series, buildinfo,
// encoding flags, the default folding of structured metadata into the label set
// (overrides, empty values, grouping order), categorize-labels, the stats
// object's exact shape, metric results (matrix, vector, scalar) with Loki's
// timestamp and value formatting, and the format_query bodies.
#include "wire/query_response.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace skald::wire {
namespace {

Labels L(std::string_view text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Labels();
}

// Body without the trailing stats object.
std::string WithoutStats(const std::string& body) {
  size_t pos = body.find(",\"stats\":");
  return pos == std::string::npos ? body : body.substr(0, pos);
}

TEST(QueryResponseTest, StringListAndSeries) {
  EXPECT_EQ(EncodeStringListResponse({}), R"({"status":"success","data":[]})");
  EXPECT_EQ(EncodeStringListResponse({"a", "b<"}),
            R"({"status":"success","data":["a","b\u003c"]})");
  EXPECT_EQ(EncodeSeriesResponse({L(R"({a="1", b="2"})"), L(R"({c="3"})")}),
            R"({"status":"success","data":[{"a":"1","b":"2"},{"c":"3"}]})");
}

TEST(QueryResponseTest, BuildInfoKeepsLokisFieldOrder) {
  BuildInfo b{"3.5.0", "rev", "main", "skald", "Jan  1 2026", ""};
  EXPECT_EQ(EncodeBuildInfo(b),
            R"({"version":"3.5.0","revision":"rev","branch":"main","buildUser":"skald",)"
            R"("buildDate":"Jan  1 2026","goVersion":""})");
}

TEST(QueryResponseTest, EncodingFlagsAreSplitOnCommasDroppingEmptyItems) {
  EXPECT_EQ(ParseEncodingFlags(""), std::vector<std::string>{});
  EXPECT_EQ(ParseEncodingFlags("categorize-labels"), std::vector<std::string>{"categorize-labels"});
  EXPECT_EQ(ParseEncodingFlags(",a,,b,"), (std::vector<std::string>{"a", "b"}));
}

std::vector<ResultStream> Sample() {
  ResultStream s;
  s.labels = L(R"({app="x", env="prod"})");
  s.entries.push_back({1, "plain", {}});
  s.entries.push_back({2, "with meta", {{"trace", "t1"}}});
  s.entries.push_back({3, "overrides env", {{"env", "dev"}}});
  s.entries.push_back({4, "empty value dropped", {{"trace", ""}}});
  return {s};
}

TEST(QueryResponseTest, DefaultFoldsMetadataIntoTheLabelSet) {
  std::string body = EncodeStreamsResponse(Sample(), QueryStats{}, {});
  EXPECT_EQ(WithoutStats(body),
            R"({"status":"success","data":{"resultType":"streams","result":[)"
            R"({"stream":{"app":"x","env":"dev"},"values":[["3","overrides env"]]},)"
            R"({"stream":{"app":"x","env":"prod","trace":"t1"},"values":[["2","with meta"]]},)"
            R"({"stream":{"app":"x","env":"prod"},"values":[["1","plain"],)"
            R"(["4","empty value dropped"]]}])");
}

TEST(QueryResponseTest, FoldedStreamsKeepEmptyParsedLabelsAndMergeInQueryDirection) {
  // Two stored streams whose entries end up with the same labels (e.g. after `keep`), and
  // an empty parsed label (`logfmt --keep-empty`), which Loki keeps.
  ResultStream a, b;
  a.labels = L(R"({level="info"})");
  b.labels = L(R"({level="info"})");
  a.entries.push_back({5, "a5", {}, {{"user", ""}}});
  a.entries.push_back({1, "a1", {}, {{"user", ""}}});
  b.entries.push_back({7, "b7", {}, {{"user", ""}}});
  b.entries.push_back({3, "b3", {}, {{"user", ""}}});
  EXPECT_EQ(WithoutStats(EncodeStreamsResponse({a, b}, QueryStats{}, {}, /*forward=*/false)),
            R"({"status":"success","data":{"resultType":"streams","result":[)"
            R"({"stream":{"level":"info","user":""},"values":[["7","b7"],["5","a5"],)"
            R"(["3","b3"],["1","a1"]]}])");
  std::reverse(a.entries.begin(), a.entries.end());
  std::reverse(b.entries.begin(), b.entries.end());
  EXPECT_EQ(WithoutStats(EncodeStreamsResponse({a, b}, QueryStats{}, {}, /*forward=*/true)),
            R"({"status":"success","data":{"resultType":"streams","result":[)"
            R"({"stream":{"level":"info","user":""},"values":[["1","a1"],["3","b3"],)"
            R"(["5","a5"],["7","b7"]]}])");
}

TEST(QueryResponseTest, CategorizeLabelsKeepsStreamsAndAddsMetadataElement) {
  std::string body = EncodeStreamsResponse(Sample(), QueryStats{}, {"x", "categorize-labels"});
  EXPECT_EQ(WithoutStats(body),
            R"({"status":"success","data":{"resultType":"streams",)"
            R"("encodingFlags":["x","categorize-labels"],"result":[)"
            R"({"stream":{"app":"x","env":"prod"},"values":[["1","plain",{}],)"
            R"(["2","with meta",{"structuredMetadata":{"trace":"t1"}}],)"
            R"(["3","overrides env",{"structuredMetadata":{"env":"dev"}}],)"
            R"(["4","empty value dropped",{"structuredMetadata":{"trace":""}}]]}])");
}

TEST(QueryResponseTest, StatsObjectHasLokisShape) {
  QueryStats s;
  s.head_chunk_bytes = 10;
  s.head_chunk_lines = 2;
  s.decompressed_bytes = 30;
  s.decompressed_lines = 3;
  s.compressed_bytes = 7;
  s.total_duplicates = 1;
  s.post_filter_lines = 4;
  s.chunks_ref = 5;
  s.chunks_downloaded = 6;
  s.streams = 8;
  s.chunk_download_seconds = 0.5;
  s.exec_seconds = 2;
  s.entries_returned = 9;
  s.query_referenced_structured_metadata = true;
  s.head_chunk_structured_metadata_bytes = 11;
  s.decompressed_structured_metadata_bytes = 12;
  std::string body = EncodeStreamsResponse({}, s, {});
  std::string cache;
  // Loki v3.7.6's eight caches (main adds logResult and taskResult; Go clients ignore
  // unknown keys either way).
  for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                        "labelResult", "instantMetricResult"}) {
    if (!cache.empty()) cache += ",";
    cache += std::string("\"") + c +
             R"(":{"entriesFound":0,"entriesRequested":0,"entriesStored":0,"bytesReceived":0,)"
             R"("bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0})";
  }
  const std::string dataobj =
      R"("dataobj":{"prePredicateDecompressedRows":0,"prePredicateDecompressedBytes":0,)"
      R"("prePredicateDecompressedStructuredMetadataBytes":0,"postPredicateRows":0,)"
      R"("postPredicateDecompressedBytes":0,"postPredicateStructuredMetadataBytes":0,)"
      R"("postFilterRows":0,"pagesScanned":0,"pagesDownloaded":0,"pagesDownloadedBytes":0,)"
      R"("pageBatches":0,"totalRowsAvailable":0,"totalPageDownloadTime":0})";
  // queryReferencedStructuredMetadata is a JSON boolean (it was 0, which logcli 3.7
  // rejects); field order is the Go struct's (stats.proto declaration order).
  EXPECT_EQ(
      body,
      R"({"status":"success","data":{"resultType":"streams","result":[],"stats":{)"
      R"("summary":{"bytesProcessedPerSecond":20,"linesProcessedPerSecond":2,)"
      R"("totalBytesProcessed":40,"totalLinesProcessed":5,"execTime":2,"queueTime":0,)"
      R"("subqueries":0,"totalEntriesReturned":9,"splits":0,"shards":0,)"
      R"("totalPostFilterLines":4,"totalStructuredMetadataBytesProcessed":23},)"
      R"("querier":{"store":{"totalChunksRef":5,"totalChunksDownloaded":6,)"
      R"("chunksDownloadTime":500000000,"queryReferencedStructuredMetadata":true,)"
      R"("queryUsedV2Engine":false,"chunk":{)"
      R"("headChunkBytes":0,"headChunkLines":0,"decompressedBytes":30,"decompressedLines":3,)"
      R"("compressedBytes":7,"totalDuplicates":1,"postFilterLines":4,)"
      R"("headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":12},)"
      R"("chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,)" +
          dataobj +
          R"(},"querierExecTime":2},)"
          R"("ingester":{"totalReached":1,"totalChunksMatched":0,"totalBatches":0,)"
          R"("totalLinesSent":2,)"
          R"("store":{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,)"
          R"("queryReferencedStructuredMetadata":true,"queryUsedV2Engine":false,)"
          R"("chunk":{"headChunkBytes":10,"headChunkLines":2,)"
          R"("decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,)"
          R"("totalDuplicates":0,"postFilterLines":0,"headChunkStructuredMetadataBytes":11,)"
          R"("decompressedStructuredMetadataBytes":0},)"
          R"("chunkRefsFetchTime":0,"congestionControlLatency":0,)"
          R"("pipelineWrapperFilteredLines":0,)" +
          dataobj +
          R"(}},)"
          R"("cache":{)" +
          cache +
          R"(},"index":{"totalChunks":5,"postFilterChunks":5,"shardsDuration":0,)"
          R"("usedBloomFilters":false,"totalStreams":8,"chunkRefsLookupTime":0,)"
          R"("bloomFilterTime":0}}}})");
}

// Loki prints metric timestamps as model.Time: seconds with ms precision, shortest.
TEST(QueryResponseTest, MetricTimestampsAreSecondsWithMillisecondPrecision) {
  struct Case {
    int64_t ns;
    const char* want;
  };
  const Case cases[] = {
      {1'588'889'221'000'000'000, "1588889221"},      // Loki docs' vector example
      {1'568'404'331'324'000'000, "1568404331.324"},  // Loki's marshal test
      {1'568'404'331'339'999'999, "1568404331.339"},  // sub-ms part dropped
      {1'588'889'221'500'000'000, "1588889221.5"},
      {1'588'889'221'050'000'000, "1588889221.05"},
      {4'000'000'000'000'000'000, "4000000000"},  // Grafana's health check time
      {0, "0"},
      {1'000'000, "0.001"},
      {999'999, "0"},
      {-1, "-0.001"},  // floored to the previous millisecond
      {-1'500'000'000, "-1.5"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendMetricTimestamp(&out, c.ns);
    EXPECT_EQ(out, c.want) << c.ns;
  }
}

// Prometheus' SampleValue.String(): strconv.FormatFloat(v, 'f', -1, 64).
TEST(QueryResponseTest, SampleValuesArePrintedLikePrometheus) {
  struct Case {
    double v;
    const char* want;
  };
  const Case cases[] = {
      {2, "2"},
      {0.5, "0.5"},
      {0.016666666666666666, "0.016666666666666666"},
      {37.77166666666667, "37.77166666666667"},
      {1267.1266666666666, "1267.1266666666666"},
      {1e21, "1000000000000000000000"},  // 'f' never switches to an exponent
      {1e-7, "0.0000001"},
      {-3.25, "-3.25"},
      {0, "0"},
      {-0.0, "-0"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendSampleValue(&out, c.v);
    EXPECT_EQ(out, c.want) << c.want;
  }
}

TEST(QueryResponseTest, StatsFloatsFollowLokisTwoEncoders) {
  struct Case {
    double v;
    const char* six_digits;  // jsoniter ConfigFastest (log results)
    const char* standard;    // jsoniter ConfigCompatibleWithStandardLibrary (metric results)
  };
  const Case cases[] = {
      {0, "0", "0"},
      {2, "2", "2"},
      {0.5, "0.5", "0.5"},
      {0.0123456789, "0.012346", "0.0123456789"},
      {0.0000004, "0", "4e-07"},
      {0.0000006, "0.000001", "6e-07"},
      {1.0000001, "1", "1.0000001"},
      {-0.25, "-0.25", "-0.25"},
      {123456789.5, "123456789.5", "123456789.5"},  // above 0x4ffffff: full precision
      {1e21, "1e+21", "1e+21"},
  };
  for (const auto& c : cases) {
    std::string six, standard;
    AppendStatsFloat(&six, c.v, StatsFloatFormat::kSixDigits);
    AppendStatsFloat(&standard, c.v, StatsFloatFormat::kStandard);
    EXPECT_EQ(six, c.six_digits) << c.v;
    EXPECT_EQ(standard, c.standard) << c.v;
  }
}

// Metric results without stats, for exact-byte comparisons.
std::string MetricWithoutStats(const logql::QueryValue& v) {
  return WithoutStats(EncodeMetricResponse(v, QueryStats{}));
}

TEST(QueryResponseTest, MatrixHasLokisShape) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kMatrix;
  // Loki's marshal test series, with a label value Go escapes.
  v.matrix.push_back({L(R"({filename="/var/hostlog/apport.log", job="varlogs"})"),
                      {{1'568'404'331'324'000'000, 0.013333333333333334}}});
  v.matrix.push_back({L(R"({filename="/var/<syslog>", job="varlogs"})"),
                      {{1'568'404'331'324'000'000, 3.45}, {1'568'404'331'339'000'000, 4.45}}});
  EXPECT_EQ(MetricWithoutStats(v),
            R"({"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"filename":"/var/hostlog/apport.log","job":"varlogs"},)"
            R"("values":[[1568404331.324,"0.013333333333333334"]]},)"
            R"({"metric":{"filename":"/var/\u003csyslog\u003e","job":"varlogs"},)"
            R"("values":[[1568404331.324,"3.45"],[1568404331.339,"4.45"]]}])");
  const std::string body = EncodeMetricResponse(v, QueryStats{});
  EXPECT_EQ(body.substr(body.size() - 3), "}}}");
  EXPECT_NE(body.find(R"("4.45"]]}],"stats":{"summary":{)"), std::string::npos) << body;
}

TEST(QueryResponseTest, EmptyMatrixAndVectorAreEmptyArrays) {
  logql::QueryValue m;
  m.type = logql::QueryValue::Type::kMatrix;
  EXPECT_EQ(MetricWithoutStats(m),
            R"({"status":"success","data":{"resultType":"matrix","result":[])");
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kVector;
  EXPECT_EQ(MetricWithoutStats(v),
            R"({"status":"success","data":{"resultType":"vector","result":[])");
}

TEST(QueryResponseTest, VectorHasLokisShape) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kVector;
  // The Loki docs' instant query example (order as given by the engine).
  v.vector.push_back({L("{}"), {1'588'889'221'000'000'000, 1267.1266666666666}});
  v.vector.push_back({L(R"({level="warn"})"), {1'588'889'221'000'000'000, 37.77166666666667}});
  v.vector.push_back({L(R"({level="info"})"), {1'588'889'221'000'000'000, 37.69}});
  EXPECT_EQ(MetricWithoutStats(v),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{},"value":[1588889221,"1267.1266666666666"]},)"
            R"({"metric":{"level":"warn"},"value":[1588889221,"37.77166666666667"]},)"
            R"({"metric":{"level":"info"},"value":[1588889221,"37.69"]}])");
}

TEST(QueryResponseTest, GrafanaHealthCheckVectorIsOneSampleOfTwo) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kVector;
  v.vector.push_back({L("{}"), {4'000'000'000'000'000'000, 2}});
  EXPECT_EQ(MetricWithoutStats(v), R"({"status":"success","data":{"resultType":"vector","result":[)"
                                   R"({"metric":{},"value":[4000000000,"2"]}])");
}

TEST(QueryResponseTest, ScalarIsABarePair) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kScalar;
  v.scalar = {1'588'889'221'000'000'000, 2};
  EXPECT_EQ(MetricWithoutStats(v),
            R"({"status":"success","data":{"resultType":"scalar","result":[1588889221,"2"])");
  v.scalar = {1'588'889'221'123'000'000, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(MetricWithoutStats(v),
            R"({"status":"success","data":{"resultType":"scalar","result":[1588889221.123,"NaN"])");
}

TEST(QueryResponseTest, MetricStatsUseTheStandardFloatForm) {
  QueryStats s;
  s.exec_seconds = 0.0123456789;
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kScalar;
  const std::string metric = EncodeMetricResponse(v, s);
  EXPECT_NE(metric.find(R"("execTime":0.0123456789,)"), std::string::npos) << metric;
  const std::string logs = EncodeStreamsResponse({}, s, {});
  EXPECT_NE(logs.find(R"("execTime":0.012346,)"), std::string::npos) << logs;
}

TEST(QueryResponseTest, FormatQueryBodies) {
  // Loki's docs example: `{foo=   "bar"}` formats to `{foo="bar"}`.
  EXPECT_EQ(EncodeFormatQueryResponse(R"({foo="bar"})"),
            R"({"status":"success","data":"{foo=\"bar\"}"})");
  EXPECT_EQ(EncodeFormatQueryResponse(R"({a="<b>"} |= "&")"),
            R"({"status":"success","data":"{a=\"\u003cb\u003e\"} |= \"\u0026\""})");
  EXPECT_EQ(EncodeFormatQueryError("parse error at line 1, col 1: syntax error: unexpected $end"),
            R"({"status":"invalid-query","error":"parse error at line 1, col 1: syntax error: )"
            R"(unexpected $end"})");
}

}  // namespace
}  // namespace skald::wire
