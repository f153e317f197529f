// WAL record payloads (docs/formats/wal.md, "Record payloads"): encoders and allocation-free
// decoders for the two record types.
//
//  - kSeries: a stream the WAL has not described yet: tenant, fingerprint, canonical labels.
//  - kEntries: entries appended to one stream: tenant, fingerprint, then per entry its
//    timestamp (zigzag delta varint), line and structured metadata pairs.
//
// Encoders append to a caller-owned string (reuse it to avoid allocations). Decoders return
// views into the payload and never read out of bounds: malformed input yields
// Status::Corruption. All functions are thread-compatible (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/coding.h"
#include "core/entry.h"
#include "core/status.h"

namespace skald::wal {

enum class RecordType : uint8_t {
  kSeries = 1,
  kEntries = 2,
};
inline constexpr uint8_t kMaxRecordType = 2;

// "series", "entries", or "unknown".
std::string_view RecordTypeName(RecordType t);

struct SeriesRecord {
  std::string_view tenant;
  uint64_t fingerprint = 0;
  std::string_view labels;  // canonical form, e.g. {app="x", env="prod"}
};

// Appends the kSeries payload for r to *out.
void EncodeSeries(std::string* out, const SeriesRecord& r);
// Decodes a kSeries payload; views point into payload. Corruption on malformed input
// (including trailing bytes).
Status DecodeSeries(std::string_view payload, SeriesRecord* r);

// Builds one kEntries payload incrementally:
//   enc.Begin(&buf, tenant, fp);
//   enc.Add(ts, line, metadata);        // metadata: a span of MetadataPair
//   enc.AddEntry(ts, line, 2); enc.AddMetadata(n1, v1); enc.AddMetadata(n2, v2);
// After AddEntry(.., k) exactly k AddMetadata calls must follow. Timestamps may come in any
// order. No allocation beyond the growth of *out. Not thread-safe.
class EntriesEncoder {
 public:
  // Starts a payload at the end of *out (which is not cleared).
  void Begin(std::string* out, std::string_view tenant, uint64_t fingerprint);
  void AddEntry(int64_t ts, std::string_view line, size_t metadata_count);
  void AddMetadata(std::string_view name, std::string_view value);
  // One entry with all its metadata.
  void Add(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata) {
    AddEntry(ts, line, metadata.size());
    for (const MetadataPair& m : metadata) AddMetadata(m.name, m.value);
  }
  void Add(int64_t ts, std::string_view line) { AddEntry(ts, line, 0); }
  size_t entries() const { return entries_; }

 private:
  std::string* out_ = nullptr;
  int64_t prev_ts_ = 0;
  size_t entries_ = 0;
};

// Iterates a kEntries payload without allocating:
//   EntriesDecoder d;
//   SKALD_RETURN_IF_ERROR(d.Init(payload));
//   int64_t ts; std::string_view line; std::vector<MetadataPair> md;  // reuse md across calls
//   while (d.Next(&ts, &line, &md)) { ... }
//   SKALD_RETURN_IF_ERROR(d.status());
// Views stay valid as long as the payload. Not thread-safe.
class EntriesDecoder {
 public:
  // Parses tenant and fingerprint. Corruption if they are malformed.
  Status Init(std::string_view payload);
  std::string_view tenant() const { return tenant_; }
  uint64_t fingerprint() const { return fingerprint_; }

  // Decodes the next entry's timestamp, line and metadata count (skipping metadata of the
  // previous entry not read with NextMetadata). False at the end of the payload or on
  // malformed input (then status() is Corruption).
  bool NextEntry(int64_t* ts, std::string_view* line, uint32_t* metadata_count);
  // Decodes the next metadata pair of the current entry. False when there is none left or on
  // malformed input (see status()).
  bool NextMetadata(std::string_view* name, std::string_view* value);

  // Next entry with all its metadata; *metadata is cleared and filled with views into the
  // payload, ready to hand to the chunk and head code as they are. Its capacity is reused
  // across calls.
  bool Next(int64_t* ts, std::string_view* line, std::vector<MetadataPair>* metadata);

  // OK, or the Corruption that ended the iteration.
  const Status& status() const { return status_; }
  // Number of entries returned so far.
  size_t entries() const { return entries_; }

 private:
  bool Fail(const char* what);

  ByteReader in_;
  std::string_view tenant_;
  uint64_t fingerprint_ = 0;
  int64_t prev_ts_ = 0;
  uint32_t pending_metadata_ = 0;
  size_t entries_ = 0;
  Status status_;
};

}  // namespace skald::wal
