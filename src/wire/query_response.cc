// Loki JSON response encoders (see query_response.h).
#include "wire/query_response.h"

#include <algorithm>
#include <map>
#include <utility>

#include "wire/json_writer.h"

namespace skald::wire {

namespace {

void BeginSuccess(JsonWriter* w) {
  w->BeginObject();
  w->Key("status");
  w->String("success");
  w->Key("data");
}

void WriteLabelsObject(JsonWriter* w, const std::vector<Label>& labels) {
  w->BeginObject();
  for (const auto& l : labels) {
    w->Key(l.name);
    w->String(l.value);
  }
  w->EndObject();
}

// Each stored stream as one result stream; metadata as the entry's third element.
void WriteCategorizedStreams(JsonWriter* w, const std::vector<ResultStream>& streams) {
  for (const auto& s : streams) {
    w->BeginObject();
    w->Key("stream");
    WriteLabelsObject(w, s.labels.items());
    w->Key("values");
    w->BeginArray();
    for (const auto& e : s.entries) {
      w->BeginArray();
      w->String(std::to_string(e.ts));
      w->String(e.line);
      w->BeginObject();
      if (!e.metadata.empty()) {
        w->Key("structuredMetadata");
        w->BeginObject();
        for (const auto& [k, v] : e.metadata) {
          w->Key(k);
          w->String(v);
        }
        w->EndObject();
      }
      w->EndObject();
      w->EndArray();
    }
    w->EndArray();
    w->EndObject();
  }
}

// Loki's default: structured metadata joins the label set, so entries of one
// stored stream with different metadata land in different result streams.
void WriteFoldedStreams(JsonWriter* w, const std::vector<ResultStream>& streams) {
  struct Out {
    std::vector<Label> labels;
    std::vector<const ResultEntry*> entries;
  };
  std::map<std::string, Out> grouped;
  for (const auto& s : streams) {
    for (const auto& e : s.entries) {
      if (e.metadata.empty()) {
        auto& o = grouped[s.labels.ToString()];
        if (o.labels.empty()) o.labels = s.labels.items();
        o.entries.push_back(&e);
        continue;
      }
      std::vector<Label> merged;
      for (const auto& l : s.labels) {
        bool overridden = false;
        for (const auto& [k, v] : e.metadata) overridden |= (k == l.name);
        if (!overridden) merged.push_back(l);
      }
      for (const auto& [k, v] : e.metadata) {
        if (!v.empty()) merged.push_back({k, v});
      }
      Labels ml(std::move(merged));
      auto& o = grouped[ml.ToString()];
      if (o.labels.empty()) o.labels = ml.items();
      o.entries.push_back(&e);
    }
  }
  for (const auto& [key, o] : grouped) {
    w->BeginObject();
    w->Key("stream");
    WriteLabelsObject(w, o.labels);
    w->Key("values");
    w->BeginArray();
    for (const auto* e : o.entries) {
      w->BeginArray();
      w->String(std::to_string(e->ts));
      w->String(e->line);
      w->EndArray();
    }
    w->EndArray();
    w->EndObject();
  }
}

void WriteStats(JsonWriter* w, const QueryStats& s) {
  auto kv_int = [w](const char* k, int64_t v) {
    w->Key(k);
    w->Int(v);
  };
  auto kv_double = [w](const char* k, double v) {
    w->Key(k);
    w->Double(v);
  };
  const double exec = s.exec_seconds;
  const auto total_bytes = static_cast<int64_t>(s.TotalBytes());
  const auto total_lines = static_cast<int64_t>(s.TotalLines());
  w->BeginObject();
  w->Key("summary");
  w->BeginObject();
  kv_int("bytesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_bytes / exec) : 0);
  kv_int("linesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_lines / exec) : 0);
  kv_int("totalBytesProcessed", total_bytes);
  kv_int("totalLinesProcessed", total_lines);
  kv_double("execTime", exec);
  kv_double("queueTime", 0);
  kv_int("subqueries", 0);
  kv_int("totalEntriesReturned", static_cast<int64_t>(s.entries_returned));
  kv_int("splits", 0);
  kv_int("shards", 0);
  kv_int("totalPostFilterLines", static_cast<int64_t>(s.post_filter_lines));
  kv_int("totalStructuredMetadataBytesProcessed", 0);
  w->EndObject();

  // The querier reads chunks from the store; the ingester serves head chunks.
  auto store = [&](bool ingester_side) {
    w->Key("store");
    w->BeginObject();
    kv_int("totalChunksRef", ingester_side ? 0 : static_cast<int64_t>(s.chunks_ref));
    kv_int("totalChunksDownloaded", ingester_side ? 0 : static_cast<int64_t>(s.chunks_downloaded));
    kv_int("chunksDownloadTime",
           ingester_side ? 0 : static_cast<int64_t>(s.chunk_download_seconds * 1e9));
    kv_int("queryReferencedStructuredMetadata", 0);
    w->Key("chunk");
    w->BeginObject();
    kv_int("headChunkBytes", ingester_side ? static_cast<int64_t>(s.head_chunk_bytes) : 0);
    kv_int("headChunkLines", ingester_side ? static_cast<int64_t>(s.head_chunk_lines) : 0);
    kv_int("decompressedBytes", ingester_side ? 0 : static_cast<int64_t>(s.decompressed_bytes));
    kv_int("decompressedLines", ingester_side ? 0 : static_cast<int64_t>(s.decompressed_lines));
    kv_int("compressedBytes", ingester_side ? 0 : static_cast<int64_t>(s.compressed_bytes));
    kv_int("totalDuplicates", ingester_side ? 0 : static_cast<int64_t>(s.total_duplicates));
    kv_int("postFilterLines", ingester_side ? 0 : static_cast<int64_t>(s.post_filter_lines));
    kv_int("headChunkStructuredMetadataBytes", 0);
    kv_int("decompressedStructuredMetadataBytes", 0);
    w->EndObject();
    w->EndObject();
  };
  w->Key("querier");
  w->BeginObject();
  store(false);
  kv_double("querierExecTime", exec);
  w->EndObject();
  w->Key("ingester");
  w->BeginObject();
  kv_int("totalReached", 1);
  kv_int("totalChunksMatched", 0);
  kv_int("totalBatches", 0);
  kv_int("totalLinesSent", static_cast<int64_t>(s.head_chunk_lines));
  store(true);
  w->EndObject();
  w->Key("cache");
  w->BeginObject();
  for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                        "labelResult", "instantMetricResult", "logResult"}) {
    w->Key(c);
    w->BeginObject();
    for (const char* f : {"entriesFound", "entriesRequested", "entriesStored", "bytesReceived",
                          "bytesSent", "requests", "downloadTime", "queryLengthServed"}) {
      kv_int(f, 0);
    }
    w->EndObject();
  }
  w->EndObject();
  w->Key("index");
  w->BeginObject();
  kv_int("totalChunks", static_cast<int64_t>(s.chunks_ref));
  kv_int("postFilterChunks", static_cast<int64_t>(s.chunks_ref));
  kv_int("shardsDuration", 0);
  kv_int("totalStreams", static_cast<int64_t>(s.streams));
  w->Key("usedBloomFilters");
  w->Bool(false);
  w->EndObject();
  w->EndObject();
}

}  // namespace

std::vector<std::string> ParseEncodingFlags(std::string_view header) {
  std::vector<std::string> flags;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view f = header.substr(0, comma);
    if (!f.empty()) flags.emplace_back(f);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return flags;
}

std::string EncodeStreamsResponse(const std::vector<ResultStream>& streams, const QueryStats& stats,
                                  const std::vector<std::string>& encoding_flags) {
  const bool categorize = std::find(encoding_flags.begin(), encoding_flags.end(),
                                    "categorize-labels") != encoding_flags.end();
  std::string body;
  body.reserve(4096);
  JsonWriter w(&body);
  BeginSuccess(&w);
  w.BeginObject();
  w.Key("resultType");
  w.String("streams");
  if (!encoding_flags.empty()) {
    w.Key("encodingFlags");
    w.BeginArray();
    for (const auto& f : encoding_flags) w.String(f);
    w.EndArray();
  }
  w.Key("result");
  w.BeginArray();
  if (categorize) {
    WriteCategorizedStreams(&w, streams);
  } else {
    WriteFoldedStreams(&w, streams);
  }
  w.EndArray();
  w.Key("stats");
  WriteStats(&w, stats);
  w.EndObject();
  w.EndObject();
  return body;
}

std::string EncodeStringListResponse(const std::vector<std::string>& list) {
  std::string body;
  JsonWriter w(&body);
  BeginSuccess(&w);
  w.BeginArray();
  for (const auto& s : list) w.String(s);
  w.EndArray();
  w.EndObject();
  return body;
}

std::string EncodeSeriesResponse(const std::vector<Labels>& series) {
  std::string body;
  JsonWriter w(&body);
  BeginSuccess(&w);
  w.BeginArray();
  for (const auto& l : series) WriteLabelsObject(&w, l.items());
  w.EndArray();
  w.EndObject();
  return body;
}

std::string EncodeBuildInfo(const BuildInfo& info) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"version", &info.version},      {"revision", &info.revision},
      {"branch", &info.branch},        {"buildUser", &info.build_user},
      {"buildDate", &info.build_date}, {"goVersion", &info.go_version},
  };
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  for (const auto& [key, value] : fields) {
    w.Key(key);
    w.String(*value);
  }
  w.EndObject();
  return body;
}

}  // namespace skald::wire
