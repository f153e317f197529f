// The log entry vocabulary shared from decode to chunk: a structured-metadata pair and a view
// of one entry. Both hold views only; the bytes belong to whoever decoded them (a push request,
// a WAL record, a chunk block), so a push's pairs reach the WAL and the head block without a
// copy or a conversion per entry.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace skald {

// One structured-metadata name/value pair of an entry (Loki's "structured metadata").
struct MetadataPair {
  std::string_view name;
  std::string_view value;

  friend bool operator==(const MetadataPair&, const MetadataPair&) = default;
};

// One entry: Unix-nanosecond timestamp, line and its structured metadata, all views.
struct EntryView {
  int64_t ts = 0;
  std::string_view line;
  std::span<const MetadataPair> metadata;
};

}  // namespace skald
