// FaultInjectingFileSystem: see fault_file_system.h.
#include "testing/fs/fault_file_system.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace skald {
namespace {

using Op = FaultInjectingFileSystem::Op;

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectingFileSystem* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    size_t allowed = data.size();
    uint64_t end = base_->Size() + data.size();
    uint64_t growth = end > max_size_ ? end - std::max(max_size_, base_->Size()) : 0;
    Status err = fs_->AdmitWrite(data.size(), growth, &allowed);
    if (allowed > 0) {
      SKALD_RETURN_IF_ERROR(base_->Append(data.substr(0, allowed)));
      max_size_ = std::max(max_size_, base_->Size());
    }
    return err;
  }

  Status Sync() override {
    auto delay = fs_->sync_delay();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    SKALD_RETURN_IF_ERROR(fs_->Check(Op::kSync));
    return base_->Sync();
  }

  Status Truncate(uint64_t size) override {
    SKALD_RETURN_IF_ERROR(fs_->Check(Op::kTruncate));
    SKALD_RETURN_IF_ERROR(base_->Truncate(size));
    if (size < max_size_) {
      fs_->ReturnSpace(max_size_ - size);
      max_size_ = size;
    }
    return Status::OK();
  }

  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

  void set_max_size(uint64_t s) { max_size_ = s; }

 private:
  FaultInjectingFileSystem* fs_;
  std::unique_ptr<WritableFile> base_;
  uint64_t max_size_ = 0;  // largest size this handle has seen (for space accounting)
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultInjectingFileSystem* fs, std::unique_ptr<RandomAccessFile> base)
      : fs_(fs), base_(std::move(base)) {}
  Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const override {
    Status s = fs_->Check(Op::kRead);
    if (!s.ok()) {
      *got = 0;
      return s;
    }
    return base_->Read(offset, n, scratch, got);
  }
  StatusOr<uint64_t> Size() const override { return base_->Size(); }

 private:
  FaultInjectingFileSystem* fs_;
  std::unique_ptr<RandomAccessFile> base_;
};

}  // namespace

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem* base) : base_(base) {}
FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

Status FaultInjectingFileSystem::NoSpaceError() {
  return Status::IOError("injected fault: No space left on device");
}
Status FaultInjectingFileSystem::EioError() {
  return Status::IOError("injected fault: Input/output error");
}

void FaultInjectingFileSystem::SetFreeSpace(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  limited_ = true;
  free_ = bytes;
}

void FaultInjectingFileSystem::SetUnlimitedSpace() {
  std::lock_guard<std::mutex> l(mu_);
  limited_ = false;
}

void FaultInjectingFileSystem::FailAfter(Op op, uint64_t ok_calls, uint64_t count, Status error) {
  std::lock_guard<std::mutex> l(mu_);
  Rule& r = rules_[static_cast<int>(op)];
  r.fail_from = r.calls + ok_calls;
  r.fail_until = count == kForever ? kForever : r.fail_from + count;
  r.error = error.ok() ? EioError() : std::move(error);
}

void FaultInjectingFileSystem::SetShortWriteBytes(size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  short_write_bytes_ = n;
}

void FaultInjectingFileSystem::SetSyncDelay(std::chrono::microseconds d) {
  std::lock_guard<std::mutex> l(mu_);
  sync_delay_ = d;
}

std::chrono::microseconds FaultInjectingFileSystem::sync_delay() const {
  std::lock_guard<std::mutex> l(mu_);
  return sync_delay_;
}

void FaultInjectingFileSystem::Heal() {
  std::lock_guard<std::mutex> l(mu_);
  for (Rule& r : rules_) {
    r.fail_from = kForever;
    r.fail_until = 0;
  }
  limited_ = false;
  short_write_bytes_ = 0;
  crash_at_ = kForever;
}

uint64_t FaultInjectingFileSystem::Calls(Op op) const {
  std::lock_guard<std::mutex> l(mu_);
  return rules_[static_cast<int>(op)].calls;
}

uint64_t FaultInjectingFileSystem::Failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return failures_;
}

void FaultInjectingFileSystem::CrashAfter(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  crash_at_ = mutating_ops_ + n;
}

bool FaultInjectingFileSystem::crashed() const {
  std::lock_guard<std::mutex> l(mu_);
  return crash_at_ != kForever && mutating_ops_ >= crash_at_;
}

Status FaultInjectingFileSystem::CheckLocked(Op op) {
  if (crash_at_ != kForever && mutating_ops_ >= crash_at_) {
    ++failures_;
    return Status::IOError("injected crash");
  }
  if (op != Op::kRead) ++mutating_ops_;
  Rule& r = rules_[static_cast<int>(op)];
  uint64_t i = r.calls++;
  if (i >= r.fail_from && i < r.fail_until) {
    ++failures_;
    return r.error;
  }
  return Status::OK();
}

Status FaultInjectingFileSystem::Check(Op op) {
  std::lock_guard<std::mutex> l(mu_);
  return CheckLocked(op);
}

Status FaultInjectingFileSystem::AdmitWrite(size_t n, uint64_t growth, size_t* allowed) {
  std::lock_guard<std::mutex> l(mu_);
  if (crash_at_ != kForever && mutating_ops_ >= crash_at_) {
    *allowed = 0;
    ++failures_;
    return Status::IOError("injected crash");
  }
  Status s = CheckLocked(Op::kWrite);
  if (!s.ok()) {
    *allowed = std::min(n, short_write_bytes_);
    growth = std::min<uint64_t>(growth, *allowed);
  } else {
    *allowed = n;
  }
  if (limited_) {
    if (growth > free_) {
      // Only the bytes that fit are written: n - growth overwrite existing bytes.
      size_t fit = static_cast<size_t>(n - growth + free_);
      *allowed = std::min(*allowed, fit);
      ++failures_;
      free_ = 0;
      if (s.ok()) s = NoSpaceError();
    } else {
      free_ -= growth;
    }
  }
  return s;
}

void FaultInjectingFileSystem::ReturnSpace(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  free_ += bytes;
}

StatusOr<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::NewWritableFile(
    const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kCreate));
  // Truncating an existing file gives its space back.
  if (auto old = base_->NewRandomAccessFile(path); old.ok()) {
    if (auto size = (*old)->Size(); size.ok()) ReturnSpace(*size);
  }
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(f)));
}

StatusOr<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::ReopenWritableFile(
    const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kCreate));
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->ReopenWritableFile(path));
  uint64_t size = f->Size();
  auto w = std::make_unique<FaultWritableFile>(this, std::move(f));
  w->set_max_size(size);
  return std::unique_ptr<WritableFile>(std::move(w));
}

StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectingFileSystem::NewRandomAccessFile(
    const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRead));
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, base_->NewRandomAccessFile(path));
  return std::unique_ptr<RandomAccessFile>(new FaultRandomAccessFile(this, std::move(f)));
}

Status FaultInjectingFileSystem::CreateDir(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kCreateDir));
  return base_->CreateDir(path);
}

StatusOr<std::vector<DirEntry>> FaultInjectingFileSystem::ListDir(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRead));
  return base_->ListDir(path);
}

Status FaultInjectingFileSystem::RemoveFile(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRemove));
  uint64_t size = 0;
  if (auto f = base_->NewRandomAccessFile(path); f.ok()) {
    if (auto s = (*f)->Size(); s.ok()) size = *s;
  }
  SKALD_RETURN_IF_ERROR(base_->RemoveFile(path));
  ReturnSpace(size);
  return Status::OK();
}

Status FaultInjectingFileSystem::RemoveDir(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRemove));
  return base_->RemoveDir(path);
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRename));
  return base_->Rename(from, to);
}

Status FaultInjectingFileSystem::SyncDir(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kSyncDir));
  return base_->SyncDir(path);
}

Status FaultInjectingFileSystem::Exists(const std::string& path) {
  SKALD_RETURN_IF_ERROR(Check(Op::kRead));
  return base_->Exists(path);
}

}  // namespace skald
