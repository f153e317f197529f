// Unit tests for Loki's query response JSON: string lists, series, buildinfo,
// encoding flags, the default folding of structured metadata into the label set
// (overrides, empty values, grouping order), categorize-labels, and the stats
// object's exact shape.
#include "wire/query_response.h"

#include <gtest/gtest.h>

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
  std::string body = EncodeStreamsResponse({}, s, {});
  std::string cache;
  for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                        "labelResult", "instantMetricResult", "logResult"}) {
    if (!cache.empty()) cache += ",";
    cache += std::string("\"") + c +
             R"(":{"entriesFound":0,"entriesRequested":0,"entriesStored":0,"bytesReceived":0,)"
             R"("bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0})";
  }
  EXPECT_EQ(
      body,
      R"({"status":"success","data":{"resultType":"streams","result":[],"stats":{)"
      R"("summary":{"bytesProcessedPerSecond":20,"linesProcessedPerSecond":2,)"
      R"("totalBytesProcessed":40,"totalLinesProcessed":5,"execTime":2,"queueTime":0,)"
      R"("subqueries":0,"totalEntriesReturned":9,"splits":0,"shards":0,)"
      R"("totalPostFilterLines":4,"totalStructuredMetadataBytesProcessed":0},)"
      R"("querier":{"store":{"totalChunksRef":5,"totalChunksDownloaded":6,)"
      R"("chunksDownloadTime":500000000,"queryReferencedStructuredMetadata":0,"chunk":{)"
      R"("headChunkBytes":0,"headChunkLines":0,"decompressedBytes":30,"decompressedLines":3,)"
      R"("compressedBytes":7,"totalDuplicates":1,"postFilterLines":4,)"
      R"("headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0}},)"
      R"("querierExecTime":2},)"
      R"("ingester":{"totalReached":1,"totalChunksMatched":0,"totalBatches":0,"totalLinesSent":2,)"
      R"("store":{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,)"
      R"("queryReferencedStructuredMetadata":0,"chunk":{"headChunkBytes":10,"headChunkLines":2,)"
      R"("decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,)"
      R"("postFilterLines":0,"headChunkStructuredMetadataBytes":0,)"
      R"("decompressedStructuredMetadataBytes":0}}},)"
      R"("cache":{)" +
          cache +
          R"(},"index":{"totalChunks":5,"postFilterChunks":5,"shardsDuration":0,)"
          R"("totalStreams":8,"usedBloomFilters":false}}}})");
}

}  // namespace
}  // namespace skald::wire
