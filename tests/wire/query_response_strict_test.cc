// Strict typed decoding of query responses, as a Go client (logcli, Grafana) decodes
// them: every stats field must exist with the JSON type of Loki's stats.Result
// (pkg/logqlmodel/stats/stats.proto at v3.7.6: int64/int32 -> JSON integer, double
// -> JSON number, bool -> JSON boolean), with no field missing and none extra; and
// the result of each resultType must have exactly Loki's element shape. logcli 3.7
// failed every query while queryReferencedStructuredMetadata was sent as 0.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "wire/query_response.h"

namespace skald::wire {
namespace {

enum class J { kInt, kFloat, kBool, kObject };

const char* Name(J t) {
  switch (t) {
    case J::kInt:
      return "integer";
    case J::kFloat:
      return "number";
    case J::kBool:
      return "boolean";
    case J::kObject:
      return "object";
  }
  return "?";
}

// Loki v3.7.6 stats.Result, written out by hand from stats.proto (field -> type).
std::map<std::string, J> LokiStatsSchema() {
  std::map<std::string, J> s;
  for (const char* f :
       {"bytesProcessedPerSecond", "linesProcessedPerSecond", "totalBytesProcessed",
        "totalLinesProcessed", "subqueries", "totalEntriesReturned", "splits", "shards",
        "totalPostFilterLines", "totalStructuredMetadataBytesProcessed"}) {
    s[std::string("summary.") + f] = J::kInt;
  }
  s["summary"] = J::kObject;
  s["summary.execTime"] = J::kFloat;
  s["summary.queueTime"] = J::kFloat;
  auto store = [&s](const std::string& p) {
    s[p] = J::kObject;
    for (const char* f :
         {"totalChunksRef", "totalChunksDownloaded", "chunksDownloadTime", "chunkRefsFetchTime",
          "congestionControlLatency", "pipelineWrapperFilteredLines"}) {
      s[p + "." + f] = J::kInt;
    }
    s[p + ".queryReferencedStructuredMetadata"] = J::kBool;
    s[p + ".queryUsedV2Engine"] = J::kBool;
    s[p + ".chunk"] = J::kObject;
    for (const char* f :
         {"headChunkBytes", "headChunkLines", "decompressedBytes", "decompressedLines",
          "compressedBytes", "totalDuplicates", "postFilterLines",
          "headChunkStructuredMetadataBytes", "decompressedStructuredMetadataBytes"}) {
      s[p + ".chunk." + f] = J::kInt;
    }
    s[p + ".dataobj"] = J::kObject;
    for (const char* f :
         {"prePredicateDecompressedRows", "prePredicateDecompressedBytes",
          "prePredicateDecompressedStructuredMetadataBytes", "postPredicateRows",
          "postPredicateDecompressedBytes", "postPredicateStructuredMetadataBytes",
          "postFilterRows", "pagesScanned", "pagesDownloaded", "pagesDownloadedBytes",
          "pageBatches", "totalRowsAvailable", "totalPageDownloadTime"}) {
      s[p + ".dataobj." + f] = J::kInt;
    }
  };
  s["querier"] = J::kObject;
  store("querier.store");
  s["querier.querierExecTime"] = J::kFloat;
  s["ingester"] = J::kObject;
  for (const char* f : {"totalReached", "totalChunksMatched", "totalBatches", "totalLinesSent"}) {
    s[std::string("ingester.") + f] = J::kInt;
  }
  store("ingester.store");
  s["cache"] = J::kObject;
  for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                        "labelResult", "instantMetricResult"}) {
    const std::string p = std::string("cache.") + c;
    s[p] = J::kObject;
    for (const char* f : {"entriesFound", "entriesRequested", "entriesStored", "bytesReceived",
                          "bytesSent", "requests", "downloadTime", "queryLengthServed"}) {
      s[p + "." + f] = J::kInt;
    }
  }
  s["index"] = J::kObject;
  for (const char* f : {"totalChunks", "postFilterChunks", "shardsDuration", "totalStreams"}) {
    s[std::string("index.") + f] = J::kInt;
  }
  s["index.usedBloomFilters"] = J::kBool;
  s["index.chunkRefsLookupTime"] = J::kFloat;
  s["index.bloomFilterTime"] = J::kFloat;
  return s;
}

// Flattens an object into path -> element, objects included (scalars are leaves).
// Named results, not temporaries: a range-for over a temporary simdjson_result's
// value dangles in C++20.
simdjson::dom::object ObjectOf(simdjson::dom::element e) {
  simdjson::dom::object o;
  EXPECT_FALSE(e.get_object().get(o)) << simdjson::to_string(e);
  return o;
}
simdjson::dom::array ArrayOf(simdjson::dom::element e) {
  simdjson::dom::array a;
  EXPECT_FALSE(e.get_array().get(a)) << simdjson::to_string(e);
  return a;
}

void Flatten(simdjson::dom::element e, const std::string& prefix,
             std::map<std::string, simdjson::dom::element>* out) {
  if (!e.is_object()) return;
  for (auto field : ObjectOf(e)) {
    std::string path =
        prefix.empty() ? std::string(field.key) : prefix + "." + std::string(field.key);
    (*out)[path] = field.value;
    Flatten(field.value, path, out);
  }
}

bool HasType(simdjson::dom::element e, J want) {
  using T = simdjson::dom::element_type;
  switch (want) {
    case J::kInt:  // Go's int64 decoder rejects 1.5 and 1e3
      return e.type() == T::INT64 || e.type() == T::UINT64;
    case J::kFloat:
      return e.type() == T::INT64 || e.type() == T::UINT64 || e.type() == T::DOUBLE;
    case J::kBool:
      return e.type() == T::BOOL;
    case J::kObject:
      return e.type() == T::OBJECT;
  }
  return false;
}

// Decodes `stats` strictly against Loki's schema; returns the problems found.
std::vector<std::string> CheckStats(simdjson::dom::element stats) {
  std::vector<std::string> problems;
  std::map<std::string, simdjson::dom::element> got;
  Flatten(stats, "", &got);
  const auto schema = LokiStatsSchema();
  for (const auto& [path, type] : schema) {
    auto it = got.find(path);
    if (it == got.end()) {
      problems.push_back("missing " + path);
    } else if (!HasType(it->second, type)) {
      problems.push_back(path + " is not a JSON " + Name(type) + ": " +
                         simdjson::to_string(it->second));
    }
  }
  for (const auto& [path, e] : got) {
    if (!schema.count(path)) problems.push_back("unexpected " + path);
  }
  return problems;
}

// The keys of an object, in order.
std::vector<std::string> Keys(simdjson::dom::element e) {
  std::vector<std::string> keys;
  if (!e.is_object()) return keys;
  for (auto field : ObjectOf(e)) keys.emplace_back(field.key);
  return keys;
}

// A [<sec>, "<value>"] pair: a JSON number and a string holding a float.
void ExpectSamplePair(simdjson::dom::element e) {
  ASSERT_TRUE(e.is_array()) << simdjson::to_string(e);
  simdjson::dom::array arr = ArrayOf(e);
  ASSERT_EQ(arr.size(), 2u) << simdjson::to_string(e);
  EXPECT_TRUE(arr.at(0).value_unsafe().is_number()) << simdjson::to_string(e);
  ASSERT_TRUE(arr.at(1).value_unsafe().is_string()) << simdjson::to_string(e);
  std::string v(arr.at(1).value_unsafe().get_string().value_unsafe());
  if (v != "NaN" && v != "+Inf" && v != "-Inf") {
    size_t used = 0;
    (void)std::stod(v, &used);
    EXPECT_EQ(used, v.size()) << v;
  }
}

void ExpectStringMap(simdjson::dom::element e) {
  ASSERT_TRUE(e.is_object());
  for (auto field : ObjectOf(e)) {
    EXPECT_TRUE(field.value.is_string()) << field.key;
  }
}

// The envelope: {"status":"success","data":{"resultType":T,"result":...,"stats":{...}}}.
simdjson::dom::element Decode(simdjson::dom::parser* parser, const std::string& body,
                              const std::string& want_type) {
  auto doc = parser->parse(body);
  EXPECT_FALSE(doc.error()) << body;
  simdjson::dom::element root = doc.value_unsafe();
  EXPECT_EQ(Keys(root), (std::vector<std::string>{"status", "data"}));
  EXPECT_EQ(std::string(root["status"].get_string().value_unsafe()), "success");
  simdjson::dom::element data = root["data"].value_unsafe();
  EXPECT_EQ(Keys(data), (std::vector<std::string>{"resultType", "result", "stats"}));
  EXPECT_EQ(std::string(data["resultType"].get_string().value_unsafe()), want_type);
  for (const auto& p : CheckStats(data["stats"].value_unsafe())) ADD_FAILURE() << p;
  return data;
}

QueryStats SomeStats() {
  QueryStats s;
  s.head_chunk_bytes = 10;
  s.head_chunk_lines = 2;
  s.decompressed_bytes = 30;
  s.decompressed_lines = 3;
  s.exec_seconds = 0.0123456789;
  s.chunk_download_seconds = 0.25;
  s.query_referenced_structured_metadata = true;
  return s;
}

Labels L(std::string_view text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Labels();
}

TEST(QueryResponseStrictTest, StreamsResponseDecodesWithLokisStatsTypes) {
  ResultStream s;
  s.labels = L(R"({app="x"})");
  s.entries.push_back({1, "line", {{"trace", "t"}}});
  for (const auto& flags :
       {std::vector<std::string>{}, std::vector<std::string>{"categorize-labels"}}) {
    simdjson::dom::parser parser;
    std::string body = EncodeStreamsResponse({s}, SomeStats(), flags);
    auto doc = parser.parse(body);
    ASSERT_FALSE(doc.error()) << body;
    simdjson::dom::element data = doc.value_unsafe()["data"].value_unsafe();
    EXPECT_EQ(std::string(data["resultType"].get_string().value_unsafe()), "streams");
    for (const auto& p : CheckStats(data["stats"].value_unsafe())) ADD_FAILURE() << p;
  }
}

TEST(QueryResponseStrictTest, ReferencedStructuredMetadataIsABooleanBothWays) {
  for (bool referenced : {false, true}) {
    QueryStats st;
    st.query_referenced_structured_metadata = referenced;
    simdjson::dom::parser parser;
    auto doc = parser.parse(EncodeStats(st, StatsFloatFormat::kSixDigits));
    ASSERT_FALSE(doc.error());
    for (const char* side : {"querier", "ingester"}) {
      auto v = doc.value_unsafe()[side]["store"]["queryReferencedStructuredMetadata"];
      ASSERT_FALSE(v.error()) << side;
      EXPECT_TRUE(v.value_unsafe().is_bool()) << side;
      EXPECT_EQ(v.value_unsafe().get_bool().value_unsafe(), referenced) << side;
    }
  }
}

TEST(QueryResponseStrictTest, MatrixResponseDecodes) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kMatrix;
  v.matrix.push_back({L(R"({a="1"})"), {{1'000'000'000, 1.5}, {2'000'000'000, 2}}});
  v.matrix.push_back({L("{}"), {{3'500'000'000, 0.1}}});
  simdjson::dom::parser parser;
  auto data = Decode(&parser, EncodeMetricResponse(v, SomeStats()), "matrix");
  simdjson::dom::array result = ArrayOf(data["result"].value_unsafe());
  ASSERT_EQ(result.size(), 2u);
  for (auto series : result) {
    EXPECT_EQ(Keys(series), (std::vector<std::string>{"metric", "values"}));
    ExpectStringMap(series["metric"].value_unsafe());
    for (auto pair : ArrayOf(series["values"].value_unsafe())) ExpectSamplePair(pair);
  }
}

TEST(QueryResponseStrictTest, VectorResponseDecodes) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kVector;
  v.vector.push_back({L(R"({level="warn"})"), {1'588'889'221'000'000'000, 37.77166666666667}});
  v.vector.push_back(
      {L("{}"), {1'588'889'221'000'000'000, std::numeric_limits<double>::infinity()}});
  simdjson::dom::parser parser;
  auto data = Decode(&parser, EncodeMetricResponse(v, SomeStats()), "vector");
  simdjson::dom::array result = ArrayOf(data["result"].value_unsafe());
  ASSERT_EQ(result.size(), 2u);
  for (auto sample : result) {
    EXPECT_EQ(Keys(sample), (std::vector<std::string>{"metric", "value"}));
    ExpectStringMap(sample["metric"].value_unsafe());
    ExpectSamplePair(sample["value"].value_unsafe());
  }
}

TEST(QueryResponseStrictTest, ScalarResponseDecodes) {
  logql::QueryValue v;
  v.type = logql::QueryValue::Type::kScalar;
  v.scalar = {4'000'000'000'000'000'000, 2};
  simdjson::dom::parser parser;
  auto data = Decode(&parser, EncodeMetricResponse(v, SomeStats()), "scalar");
  ExpectSamplePair(data["result"].value_unsafe());
}

// The decoder itself must be able to fail: a stats object with the old integer
// queryReferencedStructuredMetadata, a missing and an extra field are all reported.
TEST(QueryResponseStrictTest, DecoderRejectsWrongTypesMissingAndExtraFields) {
  std::string stats = EncodeStats(QueryStats{}, StatsFloatFormat::kStandard);
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    size_t pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return pos == std::string::npos ? s : s.replace(pos, from.size(), to);
  };
  simdjson::dom::parser parser;
  auto problems = [&parser](const std::string& json) {
    auto doc = parser.parse(json);
    EXPECT_FALSE(doc.error()) << json;
    return CheckStats(doc.value_unsafe());
  };
  EXPECT_TRUE(problems(stats).empty());
  EXPECT_EQ(problems(replace(stats, R"("queryReferencedStructuredMetadata":false)",
                             R"("queryReferencedStructuredMetadata":0)")),
            std::vector<std::string>{
                "querier.store.queryReferencedStructuredMetadata is not a JSON boolean: 0"});
  EXPECT_EQ(problems(replace(stats, R"("splits":0,)", "")),
            std::vector<std::string>{"missing summary.splits"});
  EXPECT_EQ(problems(replace(stats, R"("splits":0,)", R"("splits":0,"bogus":1,)")),
            std::vector<std::string>{"unexpected summary.bogus"});
  EXPECT_EQ(problems(replace(stats, R"("totalReached":1)", R"("totalReached":1.5)")),
            std::vector<std::string>{"ingester.totalReached is not a JSON integer: 1.5"});
}

}  // namespace
}  // namespace skald::wire
