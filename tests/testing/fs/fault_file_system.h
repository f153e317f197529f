// FaultInjectingFileSystem: wraps another FileSystem and makes chosen operations fail, for
// testing how the WAL behaves on a full disk and on I/O errors (and that it recovers once
// the fault is gone).
//
// Two kinds of faults, combinable:
//  - a space budget (SetFreeSpace): a write that would grow files beyond it writes the part
//    that fits (a short write) and then fails with "No space left on device"; truncating or
//    removing files gives space back; SetUnlimitedSpace() is "space returns";
//  - scheduled failures per operation kind (FailAfter): skip `ok_calls` calls, then fail the
//    next `count` ones with the given error; a failing write may first write a prefix
//    (SetShortWriteBytes).
// CrashAfter(n) simulates the process dying after n more mutating operations: from then on
// every operation fails and nothing reaches the base file system (take the base's
// MemFileSystem::CrashCopy() to see what survived).
// An optional delay on Sync (SetSyncDelay) makes group commit observable in tests.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/file_system.h"

namespace skald {

class FaultInjectingFileSystem final : public FileSystem {
 public:
  enum class Op : int {
    kWrite = 0,  // WritableFile::Append
    kSync,       // WritableFile::Sync
    kTruncate,   // WritableFile::Truncate
    kCreate,     // NewWritableFile / ReopenWritableFile
    kRead,       // RandomAccessFile::Read, opening for read, ListDir, Exists
    kSyncDir,
    kRename,
    kRemove,  // RemoveFile / RemoveDir
    kCreateDir,
    kCount
  };
  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();

  // base must outlive this object.
  explicit FaultInjectingFileSystem(FileSystem* base);
  ~FaultInjectingFileSystem() override;

  // Errors used by the fault helpers.
  static Status NoSpaceError();  // IOError "... No space left on device"
  static Status EioError();      // IOError "... Input/output error"

  void SetFreeSpace(uint64_t bytes);
  void SetUnlimitedSpace();
  // After `ok_calls` more successful calls of op, fail the next `count` calls with error.
  void FailAfter(Op op, uint64_t ok_calls, uint64_t count = 1, Status error = EioError());
  // A write that fails by schedule first writes this many bytes (capped at its size).
  void SetShortWriteBytes(size_t n);
  // After n more mutating operations (writes, syncs, truncates, creates, renames, removes,
  // dir syncs), fail every operation with "injected crash".
  void CrashAfter(uint64_t n);
  bool crashed() const;
  void SetSyncDelay(std::chrono::microseconds d);
  // Removes every scheduled failure and the space budget.
  void Heal();
  // Number of calls of op seen so far (failed ones included).
  uint64_t Calls(Op op) const;
  // Number of injected failures so far.
  uint64_t Failures() const;

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  StatusOr<std::unique_ptr<WritableFile>> ReopenWritableFile(const std::string& path) override;
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  StatusOr<std::vector<DirEntry>> ListDir(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& path) override;
  Status Exists(const std::string& path) override;

  // Internal (used by the file wrappers).
  // Counts a call of op; returns the injected error, or OK.
  Status Check(Op op);
  // For a write of n bytes that grows the file by `growth`: how many bytes may be written
  // (n when everything fits) and the error to report after them (OK when none).
  Status AdmitWrite(size_t n, uint64_t growth, size_t* allowed);
  void ReturnSpace(uint64_t bytes);
  std::chrono::microseconds sync_delay() const;

 private:
  struct Rule {
    uint64_t calls = 0;
    uint64_t fail_from = kForever;  // first failing call index (0-based)
    uint64_t fail_until = 0;        // one past the last failing call index
    Status error;
  };
  Status CheckLocked(Op op);

  FileSystem* base_;
  mutable std::mutex mu_;
  Rule rules_[static_cast<int>(Op::kCount)];
  bool limited_ = false;
  uint64_t free_ = 0;
  size_t short_write_bytes_ = 0;
  uint64_t mutating_ops_ = 0;
  uint64_t crash_at_ = kForever;
  uint64_t failures_ = 0;
  std::chrono::microseconds sync_delay_{0};
};

}  // namespace skald
