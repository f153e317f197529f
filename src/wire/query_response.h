// Loki's JSON response bodies for the query and metadata endpoints: log streams
// and metric results (matrix, vector, scalar) with the stats object, label and
// label-value lists, series, format_query, and buildinfo.
// Output is byte-for-byte what Loki's Go encoders write (field order included),
// since clients and tests compare it. All functions are pure and thread-safe;
// each returns the body without the trailing newline the HTTP layer appends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "logql/value.h"
#include "wire/query_result.h"

namespace skald::wire {

// The comma-separated X-Loki-Response-Encoding-Flags header, empty items dropped,
// in order ("categorize-labels" is the one Skald acts on).
std::vector<std::string> ParseEncodingFlags(std::string_view header);

// {"status":"success","data":{"resultType":"streams",["encodingFlags":[...],]
// "result":[...],"stats":{...}}}. With the `categorize-labels` flag each stored
// stream is one result stream and entries carry {"structuredMetadata":{...}} as a
// third element; otherwise (Loki's default) structured metadata joins the label
// set (overriding stream labels of the same name, empty values dropped), so one
// stored stream may become several result streams, ordered by label string. Entries
// of several stored streams that land in one result stream are merged in query
// direction (`forward`: oldest first), as Loki merges them.
std::string EncodeStreamsResponse(const std::vector<ResultStream>& streams, const QueryStats& stats,
                                  const std::vector<std::string>& encoding_flags,
                                  bool forward = false);

// {"status":"success","data":{"resultType":"matrix"|"vector"|"scalar","result":...,
// "stats":{...}}}, as Loki's query frontend writes metric results:
//   matrix: [{"metric":{<labels>},"values":[[<sec>,"<value>"],...]},...]
//   vector: [{"metric":{<labels>},"value":[<sec>,"<value>"]},...]
//   scalar: [<sec>,"<value>"]
// <sec> is a JSON number (AppendMetricTimestamp), <value> a JSON string
// (AppendSampleValue). Series and samples are written in the order given (the
// engine sorts them); labels in their (sorted) order. An empty matrix or vector
// is `[]`. Stats floats use Go's standard JSON form here (StatsFloatFormat::kStandard).
std::string EncodeMetricResponse(const logql::QueryValue& value, const QueryStats& stats);

// index/stats, without envelope (Loki's stats.Stats): {"streams":N,"chunks":N,"bytes":N,
// "entries":N}, integers.
std::string EncodeIndexStats(uint64_t streams, uint64_t chunks, uint64_t bytes, uint64_t entries);

// detected_labels, no envelope: `{"detectedLabels":[{"label":"app","cardinality":3}]}`; `{}`
// when there are none (Loki's omitempty).
std::string EncodeDetectedLabels(const std::vector<DetectedLabel>& labels);
// detected_fields: `{"fields":[{"label":..,"type":..,"cardinality":..,"parsers":[..]|null,
// "jsonPath":[..]}],"limit":N}`; values: `{"limit":N,"values":[..]}`; `{}` when empty.
std::string EncodeDetectedFields(const DetectedFieldsResult& r, uint32_t limit);

// A metric timestamp as Loki prints it (Prometheus model.Time): Unix seconds with
// millisecond precision in shortest form -- 1588889221, 1588889221.5,
// 1568404331.324. Nanoseconds are floored to milliseconds first (the engine's
// sample time is in ms, like Prometheus' timestamp.FromTime).
void AppendMetricTimestamp(std::string* out, int64_t ts_nanos);

// A sample value as Loki prints it (Prometheus model.SampleValue, Go's
// strconv.FormatFloat(v, 'f', -1, 64)): "1", "0.5", "0.016666666666666666",
// "1000000000000000000000", "-0", "NaN", "+Inf", "-Inf". Unquoted; callers quote.
void AppendSampleValue(std::string* out, double v);

// How the stats object's float fields (execTime, queueTime, ...) are printed:
// Loki writes log results with jsoniter's "fastest" config (6 decimal digits,
// rounded half up, trailing zeros trimmed: 0.0012345678 -> 0.001235) and metric
// results with the standard-library-compatible one (shortest round-trip, exponent
// form below 1e-6 and from 1e21: 1e-07).
enum class StatsFloatFormat { kSixDigits, kStandard };
void AppendStatsFloat(std::string* out, double v, StatsFloatFormat format);

// The stats object alone, every field of Loki v3.7's stats.Result in its order and
// JSON type (integers, floats, and the booleans queryReferencedStructuredMetadata,
// queryUsedV2Engine and usedBloomFilters). Exposed for tests.
std::string EncodeStats(const QueryStats& stats, StatsFloatFormat format);

// /loki/api/v1/format_query bodies (Go's json.Encoder, HTML-escaped):
// success `{"status":"success","data":"<query>"}` (HTTP 200) and invalid
// `{"status":"invalid-query","error":"<parse error>"}` (HTTP 400).
std::string EncodeFormatQueryResponse(std::string_view formatted);
std::string EncodeFormatQueryError(std::string_view error);

// {"status":"success","data":["a","b"]}: label names or label values.
std::string EncodeStringListResponse(const std::vector<std::string>& list);

// {"status":"success","data":[{"name":"value",...},...]}: /series.
std::string EncodeSeriesResponse(const std::vector<Labels>& series);

// /loki/api/v1/status/buildinfo, in Loki's field order.
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;
};
std::string EncodeBuildInfo(const BuildInfo& info);

}  // namespace skald::wire
