// What a log query returns, as plain values: the streams with their entries and
// Loki's query statistics. The querier produces them; wire/query_response.h
// encodes them as Loki's JSON. Kept here (not in the querier) so the codec never
// sees a role.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/labels.h"

namespace skald::wire {

struct ResultEntry {
  int64_t ts = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> metadata;  // structured metadata
  std::vector<std::pair<std::string, std::string>> parsed;    // labels the pipeline added
};

// One stream of a log query result. `labels` holds the stream's labels as the
// pipeline left them (the stored stream's labels when it has no label stages);
// entries carry their structured metadata and parsed labels separately so the
// encoder can either fold them into the label set (Loki's default) or
// categorize them. Names never collide across the three (the pipeline renames).
struct ResultStream {
  Labels labels;
  std::vector<ResultEntry> entries;
};

// Loki-style query statistics (subset that we can measure precisely). The encoder
// (wire/query_response.h) writes every field of Loki's stats.Result with its JSON
// type; what Skald does not measure is written as 0 / false.
struct QueryStats {
  uint64_t head_chunk_bytes = 0;
  uint64_t head_chunk_lines = 0;
  uint64_t decompressed_bytes = 0;
  uint64_t decompressed_lines = 0;
  uint64_t compressed_bytes = 0;
  uint64_t total_duplicates = 0;
  uint64_t post_filter_lines = 0;
  uint64_t chunks_ref = 0;
  uint64_t chunks_downloaded = 0;
  uint64_t streams = 0;
  uint64_t blocks_skipped = 0;      // not read: outside the time range or past the limit
  uint64_t blocks_filtered = 0;     // not read: their block filter proved no line could match
  uint64_t blocks_read = 0;         // decoded (line column or not)
  bool used_block_filters = false;  // some block's filter was consulted
  double chunk_download_seconds = 0;
  double exec_seconds = 0;
  uint64_t entries_returned = 0;
  // Structured metadata bytes read from head chunks and from decompressed blocks.
  uint64_t head_chunk_structured_metadata_bytes = 0;
  uint64_t decompressed_structured_metadata_bytes = 0;
  // The query's pipeline read structured metadata (Loki's queryReferencedStructuredMetadata).
  bool query_referenced_structured_metadata = false;
  // Time splits and shards the query was cut into, and subqueries run (0 = not split).
  uint64_t splits = 0;
  uint64_t shards = 0;
  uint64_t subqueries = 0;
  double queue_seconds = 0;

  uint64_t TotalBytes() const { return head_chunk_bytes + decompressed_bytes; }
  uint64_t TotalLines() const { return head_chunk_lines + decompressed_lines; }
  uint64_t TotalStructuredMetadataBytes() const {
    return head_chunk_structured_metadata_bytes + decompressed_structured_metadata_bytes;
  }
};

// detected_labels: a stream label and its number of distinct values.
struct DetectedLabel {
  std::string label;
  uint64_t cardinality = 0;
};

// detected_fields: one field of the sampled entries.
struct DetectedField {
  std::string label;
  std::string type;  // string, int, float, boolean, duration, bytes
  uint64_t cardinality = 0;
  std::vector<std::string> parsers;    // json, logfmt; empty for structured metadata
  std::vector<std::string> json_path;  // json fields only
};
struct DetectedFieldsResult {
  std::vector<DetectedField> fields;  // detected_fields, or
  std::vector<std::string> values;    // detected_field/<name>/values
};

}  // namespace skald::wire
