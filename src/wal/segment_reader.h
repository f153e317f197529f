// SegmentReader: streams the records of one WAL segment file (docs/formats/wal.md) through a
// bounded buffer, classifying how the segment ends: cleanly, with a torn tail (the
// remains of an interrupted write, safe to truncate), or with mid-segment corruption (a bad
// record followed by valid data; the rest of the segment is skipped and nothing is cut).
//
// Memory: one buffer of SegmentReaderOptions::buffer_size bytes, grown temporarily to hold a
// single larger record. A whole segment is never loaded. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/file_system.h"
#include "core/status.h"
#include "wal/records.h"

namespace skald::wal {

enum class SegmentEnd {
  kNotYet,      // Next has not returned false yet (or stopped on an I/O error)
  kClean,       // every byte belonged to a valid record
  kTornTail,    // bytes after valid_end() are an incomplete/garbled last write
  kCorruption,  // a bad record at valid_end() with valid data after it (or a bad header)
};

struct SegmentReaderOptions {
  size_t buffer_size = 1 << 20;
  // Upper bound on the bytes checksummed while looking for valid records after a bad one
  // (in units of the segment size); past it the damage is classified as corruption.
  uint64_t scan_budget_factor = 4;
};

class SegmentReader {
 public:
  // Opens the segment at path (fs must outlive the reader). NotFound/IOError from fs.
  static StatusOr<std::unique_ptr<SegmentReader>> Open(FileSystem* fs, std::string path,
                                                       SegmentReaderOptions opts = {});
  ~SegmentReader();

  // Reads the next record: true with *type and *payload set (payload is valid until the next
  // call). False at the end of the segment (see end()) or on a read error (status()).
  bool Next(RecordType* type, std::string_view* payload);

  // OK, or the I/O error that stopped Next.
  const Status& status() const { return status_; }
  SegmentEnd end() const { return end_; }
  // Offset just past the last valid record (or the segment header); for kTornTail and
  // kCorruption the offset where the bad bytes start.
  uint64_t valid_end() const { return valid_end_; }
  // Offset of the record last returned by Next.
  uint64_t record_offset() const { return record_offset_; }
  uint64_t file_size() const { return size_; }
  uint64_t records() const { return records_; }
  // Human-readable description of the torn tail or corruption ("" when clean).
  const std::string& problem() const { return problem_; }
  const std::string& path() const { return path_; }

  // Cuts the file back to valid_end() and syncs it. Only after end() == kTornTail;
  // FailedPrecondition-style InvalidArgument otherwise. IOError from the file system.
  Status TruncateTornTail();

 private:
  SegmentReader(FileSystem* fs, std::string path, std::unique_ptr<RandomAccessFile> file,
                uint64_t size, SegmentReaderOptions opts);

  // Makes [off, off + n) available (n clipped at the end of the file) and points *p at it.
  Status Window(uint64_t off, size_t n, const char** p);
  // Records a bad region starting at off: torn tail or corruption, depending on whether a
  // valid record follows. Returns false (for Next).
  bool Bad(uint64_t off, std::string reason);
  // Looks for a position q > from where a complete valid record starts.
  Status ScanForRecord(uint64_t from, bool* found, uint64_t* at);
  // Checks the record whose header is at q (len already bounds-checked) by streaming its
  // bytes through scratch_.
  Status CheckCandidate(uint64_t q, uint32_t len, uint32_t crc, uint8_t type, bool* ok);

  FileSystem* fs_;
  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t size_;
  SegmentReaderOptions opts_;

  std::string buf_;
  uint64_t buf_off_ = 0;
  size_t buf_len_ = 0;
  std::string scratch_;

  uint64_t pos_ = 0;  // next record (0 = header not checked yet)
  bool header_done_ = false;
  uint64_t valid_end_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t records_ = 0;
  SegmentEnd end_ = SegmentEnd::kNotYet;
  std::string problem_;
  Status status_;
};

}  // namespace skald::wal
