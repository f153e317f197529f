// WAL checkpoints: a snapshot of the ingester's in-memory streams, written as ordinary
// segment files (kSeries + kEntries records) into <wal dir>/checkpoint.<N>/, so that replay
// time stays bounded and older segments can be deleted.
//
// checkpoint.N covers every record of the segments numbered below N; replay loads the
// newest checkpoint, then the segments >= N (see docs/formats/wal.md, "Checkpoints").
// A checkpoint is written to checkpoint.N.tmp/, synced, and renamed into place, so a crash
// at any point leaves either the previous checkpoint or the new one, never a partial one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "wal/records.h"

namespace skald::wal {

struct CheckpointOptions {
  FileSystem* fs = nullptr;              // null: PosixFileSystem()
  uint64_t segment_size = 128ull << 20;  // files inside the checkpoint rotate at this size
  size_t buffer_size = 1 << 20;          // bytes buffered before a write
};

// Writes one checkpoint. Not thread-safe; one CheckpointWriter per WAL dir at a time, and
// LastCheckpoint must not run concurrently (it deletes temp dirs).
class CheckpointWriter {
 public:
  // Starts checkpoint.<segment> in wal_dir (removing a stale checkpoint.<segment>.tmp).
  // AlreadyExists if checkpoint.<segment> is already committed; IOError from the fs.
  static StatusOr<std::unique_ptr<CheckpointWriter>> Begin(const std::string& wal_dir,
                                                           uint64_t segment,
                                                           CheckpointOptions opts = {});
  // Removes the temp dir unless Commit succeeded.
  ~CheckpointWriter();

  // Buffers one record (written in order). InvalidArgument for a payload over 256 MiB;
  // IOError when a buffered write fails (the checkpoint must then be abandoned).
  Status Append(RecordType type, std::string_view payload);

  // Writes and syncs everything, renames the temp dir to checkpoint.<segment>, syncs the WAL
  // dir, then deletes older checkpoints (best effort: their removal errors are ignored and
  // retried by the next commit). On error LastCheckpoint still finds the previous
  // checkpoint, or (only when the final sync of the WAL dir failed) this one, which is
  // complete by then.
  Status Commit();
  // Drops the checkpoint (removes the temp dir). Idempotent.
  void Abort();

  uint64_t segment() const { return segment_; }
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }  // framed bytes appended so far

 private:
  CheckpointWriter(FileSystem* fs, std::string wal_dir, uint64_t segment, CheckpointOptions o);
  Status Flush();
  Status OpenNextFile();
  Status CloseFile();

  FileSystem* fs_;
  std::string wal_dir_;
  uint64_t segment_;
  CheckpointOptions opts_;
  std::string tmp_dir_;
  std::string final_dir_;
  std::unique_ptr<WritableFile> file_;
  uint64_t file_index_ = 0;  // number of the next file to open inside the checkpoint
  uint64_t file_size_ = 0;   // bytes of the current file (written + buffered)
  std::string buf_;
  Status error_;  // first write error; sticky
  bool done_ = false;
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
};

struct CheckpointInfo {
  uint64_t segment = 0;  // N of checkpoint.N: replay segments >= N after it
  std::string path;      // directory to pass to Replay(path, 0, ...)
};

// The newest committed checkpoint in wal_dir; NotFound if there is none. Deletes leftover
// checkpoint.*.tmp directories of interrupted checkpoints (errors doing so are ignored).
StatusOr<CheckpointInfo> LastCheckpoint(const std::string& wal_dir, FileSystem* fs = nullptr);

// Numbers of the committed checkpoints in wal_dir, ascending.
StatusOr<std::vector<uint64_t>> ListCheckpoints(FileSystem* fs, const std::string& wal_dir);

// Deletes committed checkpoints numbered below `segment`. Returns the first error.
Status RemoveCheckpointsBefore(const std::string& wal_dir, uint64_t segment,
                               FileSystem* fs = nullptr);

// "checkpoint.00000042".
std::string CheckpointName(uint64_t segment);

}  // namespace skald::wal
