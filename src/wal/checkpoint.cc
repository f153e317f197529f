// WAL checkpoints: see checkpoint.h and docs/formats/wal.md ("Checkpoints").
#include "wal/checkpoint.h"

#include <algorithm>
#include <utility>

#include "wal/format.h"

namespace skald::wal {
namespace {

constexpr std::string_view kPrefix = "checkpoint.";
constexpr std::string_view kTmpSuffix = ".tmp";

FileSystem* OrPosix(FileSystem* fs) { return fs != nullptr ? fs : PosixFileSystem(); }

// Parses "checkpoint.<digits>" (tmp = false) or "checkpoint.<digits>.tmp" (tmp = true).
std::optional<uint64_t> ParseCheckpointName(std::string_view name, bool* tmp) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  *tmp =
      name.size() > kTmpSuffix.size() && name.substr(name.size() - kTmpSuffix.size()) == kTmpSuffix;
  if (*tmp) name.remove_suffix(kTmpSuffix.size());
  return ParseSegmentName(name);
}

}  // namespace

std::string CheckpointName(uint64_t segment) { return std::string(kPrefix) + SegmentName(segment); }

CheckpointWriter::CheckpointWriter(FileSystem* fs, std::string wal_dir, uint64_t segment,
                                   CheckpointOptions o)
    : fs_(fs), wal_dir_(std::move(wal_dir)), segment_(segment), opts_(o) {
  final_dir_ = JoinPath(wal_dir_, CheckpointName(segment_));
  tmp_dir_ = final_dir_ + std::string(kTmpSuffix);
  if (opts_.segment_size < kSegmentHeaderSize + kRecordHeaderSize) {
    opts_.segment_size = kSegmentHeaderSize + kRecordHeaderSize;
  }
}

StatusOr<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Begin(const std::string& wal_dir,
                                                                    uint64_t segment,
                                                                    CheckpointOptions opts) {
  FileSystem* fs = OrPosix(opts.fs);
  std::unique_ptr<CheckpointWriter> w(new CheckpointWriter(fs, wal_dir, segment, opts));
  Status exists = fs->Exists(w->final_dir_);
  if (exists.ok()) {
    return Status::AlreadyExists("wal checkpoint " + w->final_dir_ + " already exists");
  }
  if (exists.code() != StatusCode::kNotFound) return exists;
  SKALD_RETURN_IF_ERROR(RemoveAll(fs, w->tmp_dir_));
  SKALD_RETURN_IF_ERROR(fs->CreateDir(w->tmp_dir_));
  Status s = w->OpenNextFile();
  if (!s.ok()) {
    w->Abort();
    return s;
  }
  return w;
}

CheckpointWriter::~CheckpointWriter() { Abort(); }

Status CheckpointWriter::OpenNextFile() {
  SKALD_ASSIGN_OR_RETURN(file_,
                         fs_->NewWritableFile(JoinPath(tmp_dir_, SegmentName(file_index_++))));
  buf_.append(SegmentHeader());
  file_size_ = kSegmentHeaderSize;
  return Status::OK();
}

Status CheckpointWriter::Flush() {
  if (buf_.empty()) return Status::OK();
  Status s = file_->Append(buf_);
  buf_.clear();
  return s;
}

Status CheckpointWriter::CloseFile() {
  SKALD_RETURN_IF_ERROR(Flush());
  SKALD_RETURN_IF_ERROR(file_->Sync());
  Status s = file_->Close();
  file_.reset();
  return s;
}

Status CheckpointWriter::Append(RecordType type, std::string_view payload) {
  if (!error_.ok()) return error_;
  if (done_) return Status::InvalidArgument("wal checkpoint already finished");
  if (payload.size() > kMaxRecordSize || !IsKnownRecordType(static_cast<uint8_t>(type))) {
    return Status::InvalidArgument("wal checkpoint: bad record");
  }
  const size_t framed = kRecordHeaderSize + payload.size();
  if (file_size_ > kSegmentHeaderSize && file_size_ + framed > opts_.segment_size) {
    error_ = CloseFile();
    if (error_.ok()) error_ = OpenNextFile();
    if (!error_.ok()) return error_;
  }
  AppendFramedRecord(&buf_, type, payload);
  file_size_ += framed;
  ++records_;
  bytes_ += framed;
  if (buf_.size() >= opts_.buffer_size) {
    error_ = Flush();
    if (buf_.capacity() > 4 * opts_.buffer_size) std::string().swap(buf_);
  }
  return error_;
}

Status CheckpointWriter::Commit() {
  if (!error_.ok()) return error_;
  if (done_) return Status::InvalidArgument("wal checkpoint already finished");
  Status s = CloseFile();
  if (s.ok()) s = fs_->SyncDir(tmp_dir_);
  if (s.ok()) s = fs_->Rename(tmp_dir_, final_dir_);
  if (s.ok()) s = fs_->SyncDir(wal_dir_);
  if (!s.ok()) {
    error_ = s;
    Abort();
    return s;
  }
  done_ = true;
  (void)RemoveCheckpointsBefore(wal_dir_, segment_, fs_);
  return Status::OK();
}

void CheckpointWriter::Abort() {
  if (done_) return;
  done_ = true;
  if (file_ != nullptr) {
    (void)file_->Close();
    file_.reset();
  }
  // If the rename happened but the dir sync failed, the new checkpoint stays: it is
  // complete (its files and dir were synced), so keeping it is safe.
  (void)RemoveAll(fs_, tmp_dir_);
}

StatusOr<std::vector<uint64_t>> ListCheckpoints(FileSystem* fs, const std::string& wal_dir) {
  SKALD_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, OrPosix(fs)->ListDir(wal_dir));
  std::vector<uint64_t> out;
  for (const DirEntry& e : entries) {
    bool tmp = false;
    auto n = ParseCheckpointName(e.name, &tmp);
    if (n && !tmp && e.is_dir) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

StatusOr<CheckpointInfo> LastCheckpoint(const std::string& wal_dir, FileSystem* fs) {
  fs = OrPosix(fs);
  SKALD_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs->ListDir(wal_dir));
  bool found = false;
  uint64_t best = 0;
  for (const DirEntry& e : entries) {
    bool tmp = false;
    auto n = ParseCheckpointName(e.name, &tmp);
    if (!n || !e.is_dir) continue;
    if (tmp) {
      (void)RemoveAll(fs, JoinPath(wal_dir, e.name));
      continue;
    }
    if (!found || *n > best) best = *n;
    found = true;
  }
  if (!found) return Status::NotFound("no wal checkpoint in " + wal_dir);
  return CheckpointInfo{best, JoinPath(wal_dir, CheckpointName(best))};
}

Status RemoveCheckpointsBefore(const std::string& wal_dir, uint64_t segment, FileSystem* fs) {
  fs = OrPosix(fs);
  SKALD_ASSIGN_OR_RETURN(std::vector<uint64_t> all, ListCheckpoints(fs, wal_dir));
  Status first;
  for (uint64_t n : all) {
    if (n >= segment) break;
    Status s = RemoveAll(fs, JoinPath(wal_dir, CheckpointName(n)));
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace skald::wal
