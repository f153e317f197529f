// Replay: feeds every record of a WAL directory's segments (from a given segment on) to a
// callback, in order, streaming one segment at a time through a SegmentReader.
//
// Damage handling (docs/formats/wal.md, "Reading and damage"):
//  - a torn tail is reported as a warning, counted in torn_tails and (by default) truncated
//    so the next replay is clean;
//  - mid-segment corruption is reported as a warning, counted in corrupt_records, the rest
//    of that segment is skipped and replay continues with the next segment;
//  - a gap in the segment numbers is reported and counted in missing_segments.
// Only I/O errors and errors returned by the callback stop a replay.
//
// Must not run on a directory a Wal is currently appending to (a batch in flight could be
// mistaken for a torn tail and truncated); replay first, then Wal::Open.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "wal/records.h"

namespace skald::wal {

struct ReplayStats {
  uint64_t segments = 0;          // segment files read
  uint64_t records = 0;           // records passed to the callback
  uint64_t bytes = 0;             // payload bytes passed to the callback
  uint64_t corrupt_records = 0;   // mid-segment corruptions (one per damaged segment)
  uint64_t torn_tails = 0;        // torn tails found (truncated unless disabled)
  uint64_t missing_segments = 0;  // numbers missing between the first and last segment read
};

struct ReplayOptions {
  FileSystem* fs = nullptr;  // null: PosixFileSystem()
  bool truncate_torn_tails = true;
  size_t buffer_size = 1 << 20;  // SegmentReader buffer
  // Receives one line per torn tail / corruption / gap. Null: log::Warn (core/logging.h).
  std::function<void(const std::string&)> on_warning;
};

// Called once per record; the payload is valid only during the call. A non-OK return stops
// the replay and is returned by Replay (wrapped with the segment and offset).
using ReplayFn = std::function<Status(RecordType type, std::string_view payload)>;

// Replays the segments of dir numbered >= from_segment in increasing order. Adds to *stats
// (may be null; not reset, so a checkpoint and the segments after it can share one).
// NotFound when dir does not exist; IOError on read errors (or a failed truncation).
Status Replay(const std::string& dir, uint64_t from_segment, const ReplayFn& fn, ReplayStats* stats,
              const ReplayOptions& opts = {});

// Segment numbers present in dir (files named by digits only), ascending.
StatusOr<std::vector<uint64_t>> ListSegments(FileSystem* fs, const std::string& dir);

}  // namespace skald::wal
