// Loki's JSON response bodies for the query and metadata endpoints: log streams
// (with the stats object), label and label-value lists, series, and buildinfo.
// Output is byte-for-byte what Loki's Go encoders write (field order included),
// since clients and tests compare it. All functions are pure and thread-safe;
// each returns the body without the trailing newline the HTTP layer appends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
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
// stored stream may become several result streams, ordered by label string.
std::string EncodeStreamsResponse(const std::vector<ResultStream>& streams, const QueryStats& stats,
                                  const std::vector<std::string>& encoding_flags);

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
