// Immutable index files: one per tenant per day per flush, written by the
// ingester when it ships head streams, read by queriers (via IndexStore).
//
// A file holds a symbol table (every label name and value once), a series
// table (fingerprint -> labels, sorted by fingerprint), the chunk refs of each
// series, and postings (name -> series, name=value -> series). Each section is
// followed by its CRC-32C and a fixed-size footer (TOC) locates them, so every
// byte of a file is checked when it is opened. docs/formats/index.md describes
// the layout byte by byte.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "index/chunk_ref.h"

namespace skald::index {

// Index file format version written (docs/formats/index.md); versions 1 and 2 are still read.
inline constexpr uint8_t kIndexFormatVersion = 3;

// Decides from a chunk's detached filter (a well-formed, non-empty chunk::GramFilter) whether
// the chunk may hold a line a query looks for.
using FilterProbe = std::function<bool(std::string_view filter)>;

// How IndexFileReader::AppendChunksAt picks and fills chunk refs.
struct ChunkSelection {
  // Leaves out chunks whose detached filter it refutes (null: none are left out). Chunks
  // without one are always kept.
  const FilterProbe* probe = nullptr;
  // Copy each chunk's detached filter into ChunkRef::filter.
  bool copy_filters = true;
  // Out: chunks in the time range left out by the probe.
  uint64_t refuted = 0;
};

// Builds one index file. Not thread-safe (one writer per flush).
class IndexFileWriter {
 public:
  // Adds series `fp`. Adding the same fp again with the same labels is a
  // no-op; with different labels Finish() fails (fingerprint collision).
  void AddSeries(uint64_t fp, const Labels& labels);
  // The same, sharing `labels` (a flush adds every stream's labels as they are held).
  void AddSeries(uint64_t fp, PackedLabels labels);
  // Adds a chunk of series ref.fingerprint (with its detached filter, if any: it must be a
  // well-formed chunk::GramFilter, else the file fails to open). The series may be added
  // before or after. A chunk whose key was already added for that series is ignored.
  void AddChunk(ChunkRef ref);
  // Encodes the file. InvalidArgument when a chunk's series was never added,
  // a chunk has min_ts > max_ts or an empty key, or fingerprints collide.
  // Series without chunks are allowed. May be called more than once.
  StatusOr<std::string> Finish() const;

  size_t num_series() const { return series_.size(); }

 private:
  // A flush adds a million series and chunks at 1,000,000 streams: both are held flat and
  // put in fingerprint order by Finish.
  absl::flat_hash_map<uint64_t, PackedLabels> series_;
  std::vector<ChunkRef> chunks_;
  std::string error_;  // first AddSeries conflict
};

// Reads an index file held in memory. Open() verifies every checksum and the
// whole structure, so the accessors below never fail; corrupt or truncated
// input is reported as Corruption (and can never cause undefined behaviour).
// Copies are cheap (they share the bytes) and all methods are thread-safe.
class IndexFileReader {
 public:
  // Takes ownership of `bytes`. Corruption when anything is off.
  static StatusOr<IndexFileReader> Open(std::string bytes);

  // Sorted fingerprints of the series matching all matchers (Prometheus
  // semantics, see postings.h). Empty list: all series.
  std::vector<uint64_t> Select(const std::vector<Matcher>& matchers) const;
  // Labels of series fp; nullopt when the file has no such series.
  std::optional<Labels> LabelsOf(uint64_t fp) const;

  // The same by ordinal (position in the file's series table, which ascends with the
  // fingerprint), without a search per series: SelectOrdinals gives sorted ordinals of the
  // matching series; each ordinal must be < the file's series count.
  std::vector<uint64_t> SelectOrdinals(const std::vector<Matcher>& matchers) const;
  uint64_t FingerprintAt(uint64_t ordinal) const;
  Labels LabelsAt(uint64_t ordinal) const;
  // Appends the chunks of series `ordinal` overlapping [from, through] to *out, in the
  // order of Chunks(), as `selection` says (null: all of them, with their filters); returns
  // how many.
  size_t AppendChunksAt(uint64_t ordinal, int64_t from, int64_t through, std::vector<ChunkRef>* out,
                        ChunkSelection* selection = nullptr) const;
  // Chunks of fp overlapping [from, through] (inclusive ns), ordered by
  // (min_ts, max_ts, key), with their detached filters.
  std::vector<ChunkRef> Chunks(uint64_t fp, int64_t from, int64_t through) const;
  // True when fp has at least one chunk overlapping [from, through].
  bool HasChunks(uint64_t fp, int64_t from, int64_t through) const;
  // Names of labels with non-empty values, sorted.
  std::vector<std::string> LabelNames() const;
  // Distinct non-empty values of `name`, sorted.
  std::vector<std::string> LabelValues(std::string_view name) const;

  // Smallest chunk min_ts / largest chunk max_ts. A file without chunks has
  // min_ts() == INT64_MAX and max_ts() == INT64_MIN (overlaps nothing).
  int64_t min_ts() const;
  int64_t max_ts() const;
  // True when the file has chunks and [min_ts(), max_ts()] intersects
  // [from, through] (so some chunk may overlap it).
  bool Overlaps(int64_t from, int64_t through) const;
  size_t num_series() const;
  size_t num_chunks() const;
  // Format version of the file (1 ... kIndexFormatVersion).
  uint8_t version() const;
  // Bytes of detached filters in the file (for measurements).
  size_t filter_bytes() const;
  // Size of the file in bytes.
  size_t size_bytes() const;
  // Memory the reader holds: the file and the tables Open built over it.
  size_t memory_bytes() const;

  struct Impl;  // public for the implementation's helpers only

 private:
  explicit IndexFileReader(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

namespace internal {
// Rewrites every checksum of a structurally framed index file (header, TOC
// and section boundaries plausible) so the content is accepted by the CRC
// checks; leaves other inputs unchanged. Lets fuzzers and tests reach the
// decoders behind the checksums. Never use on real data.
void FixChecksumsForTesting(std::string* bytes);
}  // namespace internal

}  // namespace skald::index
