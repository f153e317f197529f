// Loki JSON response encoders (see query_response.h).
#include "wire/query_response.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "core/parse.h"
#include "core/time.h"
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
      if (!e.parsed.empty()) {
        w->Key("parsed");
        w->BeginObject();
        for (const auto& [k, v] : e.parsed) {
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
void WriteFoldedStreams(JsonWriter* w, const std::vector<ResultStream>& streams, bool forward) {
  struct Out {
    std::vector<Label> labels;
    std::vector<const ResultEntry*> entries;
    const ResultStream* source = nullptr;  // the stored stream of the entries, if only one
    bool mixed = false;                    // entries of several stored streams: merge them
  };
  std::map<std::string, Out> grouped;
  auto add = [](Out& o, const ResultStream& s, const ResultEntry& e) {
    if (o.source == nullptr) o.source = &s;
    o.mixed |= o.source != &s;
    o.entries.push_back(&e);
  };
  for (const auto& s : streams) {
    for (const auto& e : s.entries) {
      if (e.metadata.empty() && e.parsed.empty()) {
        auto& o = grouped[s.labels.ToString()];
        if (o.labels.empty()) o.labels = s.labels.items();
        add(o, s, e);
        continue;
      }
      // The querier renames metadata and parsed names that collide with a stream label
      // (`<name>_extracted`); should one still collide, the entry's value wins, as in Loki.
      std::vector<Label> merged;
      for (const auto& l : s.labels) {
        bool overridden = false;
        for (const auto& [k, v] : e.metadata) overridden |= (k == l.name);
        for (const auto& [k, v] : e.parsed) overridden |= (k == l.name);
        if (!overridden) merged.push_back(l);
      }
      // Structured metadata with an empty value is no label; a parsed label may be empty
      // (`logfmt --keep-empty`, a requested key the line lacks, label_format to ""): Loki
      // keeps it in the stream's labels.
      for (const auto& [k, v] : e.metadata) {
        if (!v.empty()) merged.push_back({k, v});
      }
      for (const auto& [k, v] : e.parsed) merged.push_back({k, v});
      Labels ml(std::move(merged));
      auto& o = grouped[ml.ToString()];
      if (o.labels.empty()) o.labels = ml.items();
      add(o, s, e);
    }
  }
  for (auto& [key, o] : grouped) {
    // Each stored stream's entries are already in query direction.
    if (o.mixed) {
      std::stable_sort(o.entries.begin(), o.entries.end(),
                       [forward](const ResultEntry* a, const ResultEntry* b) {
                         return forward ? a->ts < b->ts : a->ts > b->ts;
                       });
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

// Loki's stats.Result (pkg/logqlmodel/stats/stats.proto at v3.7.6): every field in
// the Go struct's order, integers as JSON integers, the three booleans as booleans
// and the float64 fields via AppendStatsFloat. What Skald does not measure is 0.
class StatsWriter {
 public:
  StatsWriter(JsonWriter* w, StatsFloatFormat format) : w_(w), format_(format) {}

  void Write(const QueryStats& s) {
    const double exec = s.exec_seconds;
    const auto total_bytes = static_cast<int64_t>(s.TotalBytes());
    const auto total_lines = static_cast<int64_t>(s.TotalLines());
    w_->BeginObject();
    w_->Key("summary");
    w_->BeginObject();
    Int("bytesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_bytes / exec) : 0);
    Int("linesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_lines / exec) : 0);
    Int("totalBytesProcessed", total_bytes);
    Int("totalLinesProcessed", total_lines);
    Float("execTime", exec);
    Float("queueTime", s.queue_seconds);
    Int("subqueries", s.subqueries);
    Int("totalEntriesReturned", s.entries_returned);
    Int("splits", s.splits);
    Int("shards", s.shards);
    Int("totalPostFilterLines", s.post_filter_lines);
    Int("totalStructuredMetadataBytesProcessed", s.TotalStructuredMetadataBytes());
    w_->EndObject();

    w_->Key("querier");
    w_->BeginObject();
    Store(s, /*ingester_side=*/false);
    Float("querierExecTime", exec);
    w_->EndObject();

    // recvWaitTime (omitempty) is left out: Skald's ingesters are not waited on.
    w_->Key("ingester");
    w_->BeginObject();
    Int("totalReached", 1);
    Int("totalChunksMatched", 0);
    Int("totalBatches", 0);
    Int("totalLinesSent", s.head_chunk_lines);
    Store(s, /*ingester_side=*/true);
    w_->EndObject();

    w_->Key("cache");
    w_->BeginObject();
    for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                          "labelResult", "instantMetricResult"}) {
      w_->Key(c);
      w_->BeginObject();
      for (const char* f : {"entriesFound", "entriesRequested", "entriesStored", "bytesReceived",
                            "bytesSent", "requests", "downloadTime", "queryLengthServed"}) {
        Int(f, 0);
      }
      w_->EndObject();
    }
    w_->EndObject();

    w_->Key("index");
    w_->BeginObject();
    Int("totalChunks", s.chunks_ref);
    Int("postFilterChunks", s.chunks_ref);
    Int("shardsDuration", 0);
    Bool("usedBloomFilters", s.used_block_filters);
    Int("totalStreams", s.streams);
    Float("chunkRefsLookupTime", 0);
    Float("bloomFilterTime", 0);
    w_->EndObject();
    w_->EndObject();
  }

 private:
  void Int(const char* k, int64_t v) {
    w_->Key(k);
    w_->Int(v);
  }
  void Int(const char* k, uint64_t v) { Int(k, static_cast<int64_t>(v)); }
  void Int(const char* k, int v) { Int(k, static_cast<int64_t>(v)); }
  void Bool(const char* k, bool v) {
    w_->Key(k);
    w_->Bool(v);
  }
  void Float(const char* k, double v) {
    std::string text;
    AppendStatsFloat(&text, v, format_);
    w_->Key(k);
    w_->Raw(text);
  }

  // The querier reads chunks from the store; the ingester serves head chunks.
  void Store(const QueryStats& s, bool ingester_side) {
    auto store_only = [ingester_side](uint64_t v) { return ingester_side ? uint64_t{0} : v; };
    auto head_only = [ingester_side](uint64_t v) { return ingester_side ? v : uint64_t{0}; };
    w_->Key("store");
    w_->BeginObject();
    Int("totalChunksRef", store_only(s.chunks_ref));
    Int("totalChunksDownloaded", store_only(s.chunks_downloaded));
    Int("chunksDownloadTime",
        ingester_side ? int64_t{0} : static_cast<int64_t>(s.chunk_download_seconds * 1e9));
    Bool("queryReferencedStructuredMetadata", s.query_referenced_structured_metadata);
    Bool("queryUsedV2Engine", false);
    w_->Key("chunk");
    w_->BeginObject();
    Int("headChunkBytes", head_only(s.head_chunk_bytes));
    Int("headChunkLines", head_only(s.head_chunk_lines));
    Int("decompressedBytes", store_only(s.decompressed_bytes));
    Int("decompressedLines", store_only(s.decompressed_lines));
    Int("compressedBytes", store_only(s.compressed_bytes));
    Int("totalDuplicates", store_only(s.total_duplicates));
    Int("postFilterLines", store_only(s.post_filter_lines));
    Int("headChunkStructuredMetadataBytes", head_only(s.head_chunk_structured_metadata_bytes));
    Int("decompressedStructuredMetadataBytes",
        store_only(s.decompressed_structured_metadata_bytes));
    w_->EndObject();
    Int("chunkRefsFetchTime", 0);
    Int("congestionControlLatency", 0);
    Int("pipelineWrapperFilteredLines", 0);
    // Loki's dataobj reader counters. Skald has no data objects; its chunk blocks play the
    // part of pages (docs/formats/chunk.md, "Block filters"): pagesScanned counts the
    // blocks in the query's time range that were considered, pagesDownloaded those that were
    // decoded; the difference is what block filters skipped. The querier side reports them.
    w_->Key("dataobj");
    w_->BeginObject();
    for (const char* f : {"prePredicateDecompressedRows", "prePredicateDecompressedBytes",
                          "prePredicateDecompressedStructuredMetadataBytes", "postPredicateRows",
                          "postPredicateDecompressedBytes", "postPredicateStructuredMetadataBytes",
                          "postFilterRows"}) {
      Int(f, 0);
    }
    Int("pagesScanned", store_only(s.blocks_read + s.blocks_filtered));
    Int("pagesDownloaded", store_only(s.blocks_read));
    for (const char* f :
         {"pagesDownloadedBytes", "pageBatches", "totalRowsAvailable", "totalPageDownloadTime"}) {
      Int(f, 0);
    }
    w_->EndObject();
    w_->EndObject();
  }

  JsonWriter* w_;
  StatsFloatFormat format_;
};

void WriteStats(JsonWriter* w, const QueryStats& s, StatsFloatFormat format) {
  StatsWriter(w, format).Write(s);
}

void WriteSamplePair(JsonWriter* w, const logql::Point& p, std::string* scratch) {
  scratch->clear();
  scratch->push_back('[');
  AppendMetricTimestamp(scratch, p.ts_nanos);
  scratch->append(",\"");
  AppendSampleValue(scratch, p.value);
  scratch->append("\"]");
  w->Raw(*scratch);
}

}  // namespace

std::vector<std::string> ParseEncodingFlags(std::string_view header) {
  return SplitCommaList(header);
}

std::string EncodeStreamsResponse(const std::vector<ResultStream>& streams, const QueryStats& stats,
                                  const std::vector<std::string>& encoding_flags, bool forward) {
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
    WriteFoldedStreams(&w, streams, forward);
  }
  w.EndArray();
  w.Key("stats");
  WriteStats(&w, stats, StatsFloatFormat::kSixDigits);
  w.EndObject();
  w.EndObject();
  return body;
}

std::string EncodeIndexStats(uint64_t streams, uint64_t chunks, uint64_t bytes, uint64_t entries) {
  return "{\"streams\":" + std::to_string(streams) + ",\"chunks\":" + std::to_string(chunks) +
         ",\"bytes\":" + std::to_string(bytes) + ",\"entries\":" + std::to_string(entries) + "}";
}

std::string EncodeDetectedLabels(const std::vector<DetectedLabel>& labels) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  if (!labels.empty()) {
    w.Key("detectedLabels");
    w.BeginArray();
    for (const DetectedLabel& l : labels) {
      w.BeginObject();
      w.Key("label");
      w.String(l.label);
      if (l.cardinality != 0) {
        w.Key("cardinality");
        w.Uint(l.cardinality);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return out;
}

std::string EncodeDetectedFields(const DetectedFieldsResult& r, uint32_t limit) {
  std::string out;
  JsonWriter w(&out);
  auto strings = [&](const std::vector<std::string>& v) {
    w.BeginArray();
    for (const std::string& s : v) w.String(s);
    w.EndArray();
  };
  w.BeginObject();
  if (!r.fields.empty()) {
    w.Key("fields");
    w.BeginArray();
    for (const DetectedField& f : r.fields) {
      w.BeginObject();
      w.Key("label");
      w.String(f.label);
      w.Key("type");
      w.String(f.type);
      if (f.cardinality != 0) {
        w.Key("cardinality");
        w.Uint(f.cardinality);
      }
      w.Key("parsers");
      if (f.parsers.empty()) {
        w.Null();
      } else {
        strings(f.parsers);
      }
      if (!f.json_path.empty()) {
        w.Key("jsonPath");
        strings(f.json_path);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  if (!r.fields.empty() || !r.values.empty()) {
    w.Key("limit");
    w.Uint(limit);
  }
  if (!r.values.empty()) {
    w.Key("values");
    strings(r.values);
  }
  w.EndObject();
  return out;
}

void AppendMetricTimestamp(std::string* out, int64_t ts_nanos) {
  // Floor to whole milliseconds (toward -inf, like Go's t.Unix()*1000 + ms).
  int64_t ms = ts_nanos / kNanosPerMilli;
  if (ts_nanos % kNanosPerMilli < 0) --ms;
  // Prometheus prints float64(ms) / 1000 in shortest fixed form.
  AppendGoFloat(out, static_cast<double>(ms) / 1000.0);
}

void AppendSampleValue(std::string* out, double v) { AppendGoFloat(out, v); }

void AppendStatsFloat(std::string* out, double v, StatsFloatFormat format) {
  // NaN and Inf are not JSON; jsoniter fails the encode, Skald writes 0 instead.
  if (std::isnan(v) || std::isinf(v)) v = 0;
  char buf[64];
  if (format == StatsFloatFormat::kSixDigits) {
    if (v < 0) {
      out->push_back('-');
      v = -v;
    }
    if (v <= 83886079.0) {  // jsoniter's 0x4ffffff; above it the standard form is used
      const auto scaled = static_cast<uint64_t>(v * 1e6 + 0.5);
      auto r = std::to_chars(buf, buf + sizeof(buf), scaled / 1000000);
      out->append(buf, static_cast<size_t>(r.ptr - buf));
      uint64_t frac = scaled % 1000000;
      if (frac == 0) return;
      r = std::to_chars(buf, buf + sizeof(buf), frac);
      std::string_view digits(buf, static_cast<size_t>(r.ptr - buf));
      out->push_back('.');
      out->append(6 - digits.size(), '0');
      while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);
      out->append(digits);
      return;
    }
  }
  const double abs = std::fabs(v);
  const bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto r = std::to_chars(buf, buf + sizeof(buf), v,
                         exponent ? std::chars_format::scientific : std::chars_format::fixed);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

std::string EncodeStats(const QueryStats& stats, StatsFloatFormat format) {
  std::string body;
  JsonWriter w(&body);
  WriteStats(&w, stats, format);
  return body;
}

std::string EncodeMetricResponse(const logql::QueryValue& value, const QueryStats& stats) {
  std::string body;
  body.reserve(4096);
  std::string scratch;
  JsonWriter w(&body);
  BeginSuccess(&w);
  w.BeginObject();
  w.Key("resultType");
  switch (value.type) {
    case logql::QueryValue::Type::kMatrix:
      w.String("matrix");
      w.Key("result");
      w.BeginArray();
      for (const auto& series : value.matrix) {
        w.BeginObject();
        w.Key("metric");
        WriteLabelsObject(&w, series.labels.items());
        w.Key("values");
        w.BeginArray();
        for (const auto& p : series.points) WriteSamplePair(&w, p, &scratch);
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      break;
    case logql::QueryValue::Type::kVector:
      w.String("vector");
      w.Key("result");
      w.BeginArray();
      for (const auto& sample : value.vector) {
        w.BeginObject();
        w.Key("metric");
        WriteLabelsObject(&w, sample.labels.items());
        w.Key("value");
        WriteSamplePair(&w, sample.point, &scratch);
        w.EndObject();
      }
      w.EndArray();
      break;
    case logql::QueryValue::Type::kScalar:
      w.String("scalar");
      w.Key("result");
      WriteSamplePair(&w, value.scalar, &scratch);
      break;
  }
  w.Key("stats");
  WriteStats(&w, stats, StatsFloatFormat::kStandard);
  w.EndObject();
  w.EndObject();
  return body;
}

std::string EncodeFormatQueryResponse(std::string_view formatted) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("status");
  w.String("success");
  if (!formatted.empty()) {  // Loki's `data` is omitempty
    w.Key("data");
    w.String(formatted);
  }
  w.EndObject();
  return body;
}

std::string EncodeFormatQueryError(std::string_view error) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("status");
  w.String("invalid-query");
  if (!error.empty()) {  // Loki's `error` is omitempty
    w.Key("error");
    w.String(error);
  }
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
