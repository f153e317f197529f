// Replay and ListSegments: see replay.h.
#include "wal/replay.h"

#include <algorithm>

#include "core/logging.h"
#include "wal/format.h"
#include "wal/segment_reader.h"

namespace skald::wal {

StatusOr<std::vector<uint64_t>> ListSegments(FileSystem* fs, const std::string& dir) {
  SKALD_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs->ListDir(dir));
  std::vector<uint64_t> out;
  for (const DirEntry& e : entries) {
    if (e.is_dir) continue;
    if (auto n = ParseSegmentName(e.name)) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Replay(const std::string& dir, uint64_t from_segment, const ReplayFn& fn, ReplayStats* stats,
              const ReplayOptions& opts) {
  FileSystem* fs = opts.fs != nullptr ? opts.fs : PosixFileSystem();
  ReplayStats local;
  ReplayStats& st = stats != nullptr ? *stats : local;
  auto warn = [&](const std::string& msg) {
    if (opts.on_warning) {
      opts.on_warning(msg);
    } else {
      log::Warn(msg);
    }
  };

  SKALD_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, dir));
  SegmentReaderOptions ropts;
  ropts.buffer_size = opts.buffer_size;
  bool have_prev = false;
  uint64_t prev = 0;
  for (uint64_t seg : segments) {
    if (seg < from_segment) continue;
    if (have_prev && seg != prev + 1) {
      st.missing_segments += seg - prev - 1;
      warn("segments " + SegmentName(prev + 1) + ".." + SegmentName(seg - 1) + " missing in " +
           dir);
    }
    have_prev = true;
    prev = seg;

    const std::string path = JoinPath(dir, SegmentName(seg));
    SKALD_ASSIGN_OR_RETURN(std::unique_ptr<SegmentReader> r, SegmentReader::Open(fs, path, ropts));
    ++st.segments;
    RecordType type;
    std::string_view payload;
    while (r->Next(&type, &payload)) {
      ++st.records;
      st.bytes += payload.size();
      Status s = fn(type, payload);
      if (!s.ok()) {
        return Status(s.code(), "wal replay " + path + " offset " +
                                    std::to_string(r->record_offset()) + ": " + s.message());
      }
    }
    SKALD_RETURN_IF_ERROR(r->status());
    switch (r->end()) {
      case SegmentEnd::kTornTail:
        ++st.torn_tails;
        if (opts.truncate_torn_tails) {
          warn("torn tail in " + path + ", truncating: " + r->problem());
          SKALD_RETURN_IF_ERROR(r->TruncateTornTail());
        } else {
          warn("torn tail in " + path + ": " + r->problem());
        }
        break;
      case SegmentEnd::kCorruption:
        ++st.corrupt_records;
        warn("corruption in " + path + ", skipping the rest of the segment: " + r->problem());
        break;
      default:
        break;
    }
  }
  return Status::OK();
}

}  // namespace skald::wal
