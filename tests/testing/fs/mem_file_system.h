// MemFileSystem: an in-memory FileSystem for tests and fuzzing that models what survives
// a crash. Every file keeps its live bytes and the bytes made durable by its last Sync;
// every directory keeps its live entries and the entries made durable by its last SyncDir.
// CrashCopy() returns what a power cut would leave behind (only synced data under synced
// directory entries), ProcessCrashCopy() what a kill -9 would (everything written).
//
// Paths: '/'-separated; empty and "." components are ignored, so "a/b", "/a/b", "./a//b/"
// name the same file. The root always exists. Thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/file_system.h"

namespace skald {

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem();
  ~MemFileSystem() override;

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

  // The state a power cut would leave now: synced file bytes under synced dir entries.
  std::unique_ptr<MemFileSystem> CrashCopy() const;
  // The state a process crash would leave now: all bytes written so far.
  std::unique_ptr<MemFileSystem> ProcessCrashCopy() const;

  // Direct access for tests: replaces a file's bytes (creating it and missing parent
  // directories) and makes them and the file's directory entry durable.
  Status WriteFileForTest(const std::string& path, std::string_view data);

  struct Node;

 private:
  std::shared_ptr<Node> Lookup(const std::string& path) const;  // mu_ held
  // Resolves the parent directory of path and the last component.
  Status ParentOf(const std::string& path, std::shared_ptr<Node>* dir, std::string* name) const;

  mutable std::mutex mu_;
  std::shared_ptr<Node> root_;
};

}  // namespace skald
