// SegmentReader: see segment_reader.h and docs/formats/wal.md ("Reading and damage").
#include "wal/segment_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/crc32c.h"
#include "wal/format.h"

namespace skald::wal {
namespace {
constexpr size_t kScratchSize = 64 << 10;
constexpr size_t kMinBufferSize = 4 << 10;
}  // namespace

StatusOr<std::unique_ptr<SegmentReader>> SegmentReader::Open(FileSystem* fs, std::string path,
                                                             SegmentReaderOptions opts) {
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->NewRandomAccessFile(path));
  SKALD_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  opts.buffer_size = std::max(opts.buffer_size, kMinBufferSize);
  return std::unique_ptr<SegmentReader>(
      new SegmentReader(fs, std::move(path), std::move(f), size, opts));
}

SegmentReader::SegmentReader(FileSystem* fs, std::string path,
                             std::unique_ptr<RandomAccessFile> file, uint64_t size,
                             SegmentReaderOptions opts)
    : fs_(fs), path_(std::move(path)), file_(std::move(file)), size_(size), opts_(opts) {}

SegmentReader::~SegmentReader() = default;

Status SegmentReader::Window(uint64_t off, size_t n, const char** p) {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(n, size_ - std::min(off, size_)));
  if (off >= buf_off_ && off - buf_off_ <= buf_len_ && want <= buf_len_ - (off - buf_off_)) {
    *p = buf_.data() + (off - buf_off_);
    return Status::OK();
  }
  size_t keep = 0;
  const size_t cap = std::max(opts_.buffer_size, want);
  if (buf_.size() > 4 * opts_.buffer_size && cap <= opts_.buffer_size) {
    // A big record is behind us: give its memory back.
    std::string().swap(buf_);
    buf_.resize(cap);
  } else {
    if (off >= buf_off_ && off - buf_off_ < buf_len_) {
      keep = buf_len_ - static_cast<size_t>(off - buf_off_);
      std::memmove(buf_.data(), buf_.data() + (off - buf_off_), keep);
    }
    if (buf_.size() < cap) buf_.resize(cap);
  }
  buf_off_ = off;
  buf_len_ = keep;
  const size_t to_read =
      static_cast<size_t>(std::min<uint64_t>(buf_.size() - keep, size_ - (off + keep)));
  size_t got = 0;
  Status s = file_->Read(off + keep, to_read, buf_.data() + keep, &got);
  buf_len_ += got;
  if (!s.ok()) return s;
  if (buf_len_ < want) {
    return Status::IOError("read " + path_ + ": file shrank while reading (offset " +
                           std::to_string(off) + ")");
  }
  *p = buf_.data();
  return Status::OK();
}

bool SegmentReader::Next(RecordType* type, std::string_view* payload) {
  if (end_ != SegmentEnd::kNotYet || !status_.ok()) return false;
  const char* p;
  if (!header_done_) {
    if (size_ == 0) {
      end_ = SegmentEnd::kClean;
      return false;
    }
    status_ = Window(0, kSegmentHeaderSize, &p);
    if (!status_.ok()) return false;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(size_, kSegmentHeaderSize));
    if (n == kSegmentHeaderSize && std::memcmp(p, SegmentHeader().data(), n) == 0) {
      header_done_ = true;
      pos_ = valid_end_ = kSegmentHeaderSize;
    } else if (n > 4 && std::memcmp(p, kSegmentMagic, 4) == 0 &&
               static_cast<uint8_t>(p[4]) != kSegmentVersion) {
      end_ = SegmentEnd::kCorruption;
      valid_end_ = 0;
      problem_ = "unsupported segment version " + std::to_string(static_cast<uint8_t>(p[4]));
      return false;
    } else {
      return Bad(0, "bad segment header");
    }
  }
  if (pos_ == size_) {
    end_ = SegmentEnd::kClean;
    return false;
  }
  if (size_ - pos_ < kRecordHeaderSize) return Bad(pos_, "truncated record header");
  status_ = Window(pos_, kRecordHeaderSize, &p);
  if (!status_.ok()) return false;
  const uint32_t len = DecodeFixed32(p);
  const uint32_t crc = DecodeFixed32(p + 4);
  const uint8_t t = static_cast<uint8_t>(p[8]);
  if (len > kMaxRecordSize) {
    return Bad(pos_, "record length " + std::to_string(len) + " exceeds the limit");
  }
  if (len > size_ - pos_ - kRecordHeaderSize) {
    return Bad(pos_, "record of " + std::to_string(len) + " bytes extends past the end");
  }
  status_ = Window(pos_, kRecordHeaderSize + len, &p);
  if (!status_.ok()) return false;
  std::string_view data(p + kRecordHeaderSize, len);
  if (RecordCrc(len, t, data) != crc) return Bad(pos_, "checksum mismatch");
  if (!IsKnownRecordType(t)) {
    // Intact but not ours to interpret (a newer format?): never truncate it.
    end_ = SegmentEnd::kCorruption;
    valid_end_ = pos_;
    problem_ = "offset " + std::to_string(pos_) + ": unknown record type " + std::to_string(t);
    return false;
  }
  record_offset_ = pos_;
  pos_ += kRecordHeaderSize + len;
  valid_end_ = pos_;
  ++records_;
  *type = static_cast<RecordType>(t);
  *payload = data;
  return true;
}

bool SegmentReader::Bad(uint64_t off, std::string reason) {
  bool found = false;
  uint64_t at = 0;
  status_ = ScanForRecord(off, &found, &at);
  if (!status_.ok()) return false;
  valid_end_ = off;
  problem_ = "offset " + std::to_string(off) + ": " + reason;
  if (!found) {
    end_ = SegmentEnd::kTornTail;
    problem_ += " (torn tail of " + std::to_string(size_ - off) + " bytes)";
  } else {
    end_ = SegmentEnd::kCorruption;
    if (at == UINT64_MAX) {
      problem_ += " (damage too large to tell from a torn write)";
    } else {
      problem_ += "; a valid record follows at offset " + std::to_string(at);
    }
  }
  return false;
}

Status SegmentReader::ScanForRecord(uint64_t from, bool* found, uint64_t* at) {
  *found = false;
  uint64_t budget = opts_.scan_budget_factor * size_ + 2 * opts_.buffer_size;
  const char* p;
  for (uint64_t q = std::max<uint64_t>(from + 1, kSegmentHeaderSize);
       q + kRecordHeaderSize <= size_; ++q) {
    SKALD_RETURN_IF_ERROR(Window(q, kRecordHeaderSize, &p));
    const uint8_t t = static_cast<uint8_t>(p[8]);
    if (!IsKnownRecordType(t)) continue;
    const uint32_t len = DecodeFixed32(p);
    if (len > kMaxRecordSize || len > size_ - q - kRecordHeaderSize) continue;
    const uint32_t crc = DecodeFixed32(p + 4);
    if (budget < uint64_t{len} + 5) {
      *found = true;
      *at = UINT64_MAX;
      return Status::OK();
    }
    budget -= uint64_t{len} + 5;
    bool ok = false;
    SKALD_RETURN_IF_ERROR(CheckCandidate(q, len, crc, t, &ok));
    if (ok) {
      *found = true;
      *at = q;
      return Status::OK();
    }
  }
  return Status::OK();
}

Status SegmentReader::CheckCandidate(uint64_t q, uint32_t len, uint32_t crc, uint8_t type,
                                     bool* ok) {
  if (kRecordHeaderSize + len <= opts_.buffer_size) {
    const char* p;
    SKALD_RETURN_IF_ERROR(Window(q, kRecordHeaderSize + len, &p));
    *ok = RecordCrc(len, type, std::string_view(p + kRecordHeaderSize, len)) == crc;
    return Status::OK();
  }
  // Too big for the buffer: stream the payload through scratch_.
  char lt[5];
  EncodeFixed32(lt, len);
  lt[4] = static_cast<char>(type);
  uint32_t c = Crc32c(std::string_view(lt, 5));
  scratch_.resize(kScratchSize);
  uint64_t off = q + kRecordHeaderSize;
  uint64_t left = len;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, kScratchSize));
    size_t got = 0;
    SKALD_RETURN_IF_ERROR(file_->Read(off, n, scratch_.data(), &got));
    if (got != n) return Status::IOError("read " + path_ + ": file shrank while reading");
    c = Crc32c(std::string_view(scratch_.data(), n), c);
    off += n;
    left -= n;
  }
  *ok = c == crc;
  return Status::OK();
}

Status SegmentReader::TruncateTornTail() {
  if (end_ != SegmentEnd::kTornTail) {
    return Status::InvalidArgument("wal segment " + path_ + " has no torn tail to truncate");
  }
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, fs_->ReopenWritableFile(path_));
  SKALD_RETURN_IF_ERROR(f->Truncate(valid_end_));
  SKALD_RETURN_IF_ERROR(f->Sync());
  SKALD_RETURN_IF_ERROR(f->Close());
  size_ = valid_end_;
  return Status::OK();
}

}  // namespace skald::wal
