// ChunkRef: what the index knows about one stored chunk (where it is, which
// stream and time range it covers, how big it is).
#pragma once

#include <cstdint>
#include <string>

namespace skald::index {

struct ChunkRef {
  uint64_t fingerprint = 0;         // the stream's Labels::Fingerprint()
  int64_t min_ts = 0, max_ts = 0;   // unix ns, inclusive
  uint32_t entries = 0;             // number of log entries
  uint64_t compressed_bytes = 0;    // size of the chunk object
  uint64_t uncompressed_bytes = 0;  // sum of entry line sizes (drives index/stats)
  std::string key;                  // object-store key of the chunk
  // The chunk's detached block filter (chunk/gram_filter.h bytes), held by the index instead
  // of the chunk (docs/formats/index.md, "Detached filters"); empty = none, the chunk holds
  // its blocks' filters itself. IndexStore::Query leaves it empty (it probes it instead).
  std::string filter;

  // True when [min_ts, max_ts] intersects [from, through] (both inclusive).
  bool Overlaps(int64_t from, int64_t through) const { return min_ts <= through && max_ts >= from; }

  bool operator==(const ChunkRef& o) const {
    return fingerprint == o.fingerprint && min_ts == o.min_ts && max_ts == o.max_ts &&
           entries == o.entries && compressed_bytes == o.compressed_bytes &&
           uncompressed_bytes == o.uncompressed_bytes && key == o.key && filter == o.filter;
  }
  bool operator!=(const ChunkRef& o) const { return !(*this == o); }
};

}  // namespace skald::index
