// The file I/O seam of everything that persists to a local disk (the WAL today; the
// filesystem object store can move onto it): a small FileSystem interface with a POSIX
// implementation (PosixFileSystem()), so that tests can swap in an in-memory file system
// that simulates power cuts or a wrapper that injects ENOSPC/EIO and short writes (both in
// tests/testing/fs/, the test library skald_test_fs).
//
// Paths are plain '/'-separated strings. All errors are Status::IOError (NotFound when a
// path does not exist), with the path and the OS error text in the message.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald {

// A file open for writing at a position the file tracks itself (starting at 0 for a new
// file, at the end for a reopened one). Not thread-safe: one owner at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Writes data at the current position and advances it. On error a prefix of data may
  // have been written (a short write); Size() then tells how much the file holds.
  virtual Status Append(std::string_view data) = 0;
  // Append of each part in turn (the same guarantees). The default appends them one by one;
  // the POSIX file writes up to IOV_MAX parts per system call (a pack of a million small
  // chunks was a million pwrite calls).
  virtual Status AppendParts(std::span<const std::string_view> parts);
  // Makes everything written so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Cuts (or extends with zeros) the file to `size` bytes and moves the position there.
  virtual Status Truncate(uint64_t size) = 0;
  // Closes the file; further calls fail. Does not sync.
  virtual Status Close() = 0;
  // Current write position (= file size as this handle sees it).
  virtual uint64_t Size() const = 0;
};

// Bytes that stay valid while `owner` lives: a heap buffer, or a read-only mapping of a file.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::string_view bytes;
};

// A file open for positional reads. Read is thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  // Reads up to n bytes at `offset` into scratch; *got is the number read, which is less
  // than n only at the end of the file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const = 0;
  // Up to n bytes at `offset` (fewer only at the end of the file), in memory the result owns:
  // a buffer that is not zeroed first, and that large reads take from (and give back to) a
  // small process-wide pool, so a query's ranged reads do not fault in fresh pages each time.
  virtual StatusOr<SharedBytes> ReadShared(uint64_t offset, size_t n) const;
  // Size of the file when it was opened (or at the last call; implementations may refresh).
  virtual StatusOr<uint64_t> Size() const = 0;
};

struct DirEntry {
  std::string name;  // no path, never "." or ".."
  bool is_dir = false;
};

// Implementations are thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates path (or truncates an existing file to empty) and opens it for writing.
  virtual StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens an existing file for writing at its current end. NotFound if absent.
  virtual StatusOr<std::unique_ptr<WritableFile>> ReopenWritableFile(const std::string& path) = 0;
  // Opens an existing file for reading. NotFound if absent.
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Creates a directory; OK when it already exists. The parent must exist.
  virtual Status CreateDir(const std::string& path) = 0;
  // Lists a directory (any order). NotFound if absent.
  virtual StatusOr<std::vector<DirEntry>> ListDir(const std::string& path) = 0;
  // Removes a file. NotFound if absent.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory. NotFound if absent.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Atomically renames a file or directory, replacing a file (or empty directory) at `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries (creations, removals, renames) durable (fsync on the dir).
  virtual Status SyncDir(const std::string& path) = 0;
  // OK if path exists (file or dir), NotFound if not, IOError if that cannot be told.
  virtual Status Exists(const std::string& path) = 0;
};

// The process-wide POSIX implementation (never null, never deleted).
FileSystem* PosixFileSystem();

// Creates path and any missing parents.
Status CreateDirs(FileSystem* fs, const std::string& path);
// Removes path recursively (file or directory tree). OK when it does not exist.
Status RemoveAll(FileSystem* fs, const std::string& path);
// Reads a whole (small) file. Tests and tools only.
StatusOr<std::string> ReadFileToString(FileSystem* fs, const std::string& path);
// dir + "/" + name.
std::string JoinPath(std::string_view dir, std::string_view name);
// Everything before the last '/' ("." when there is none, "/" for "/x").
std::string ParentDir(std::string_view path);

}  // namespace skald
