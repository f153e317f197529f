// ObjectStore on a local directory (monolithic mode's chunk and index storage).
//
// Object "a/b/c" is the file <root>/a/b/c. Put writes a temporary file named
// kReservedSegmentPrefix + unique suffix in the destination directory, fsyncs
// it, renames it over the destination and fsyncs the directory (and any
// directory it had to create), so readers see all of an object or none of it
// and acknowledged writes survive a crash. Temporary files never show up in
// List, and the ones a crash left behind are removed by Open. Delete removes
// directories it leaves empty.
//
// Limitation of the filesystem mapping: a key cannot also be a "directory" of
// another key ("a/b" and "a/b/c" cannot both exist); Put of the second one
// fails with IOError. Skald's own key layouts never do this.
//
// One process per root directory: Open's temp-file cleanup would race with
// another process writing into the same root.
//
// All I/O goes through the core/file_system seam (the WAL's), so tests can run the store on
// an in-memory or fault-injecting file system.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "storage/object_store.h"

namespace skald::storage {

class FsObjectStore : public ObjectStore {
 public:
  // Opens (creating it and its parents if needed) the store rooted at
  // `root_dir`, and deletes stale temporary files below it. InvalidArgument
  // for an empty path, IOError when the directory cannot be created or read.
  // `fs` must outlive the store.
  static StatusOr<std::unique_ptr<FsObjectStore>> Open(std::string root_dir,
                                                       FileSystem* fs = PosixFileSystem());

  Status Put(std::string_view key, std::string_view data) override;
  // Writes the parts one after another into the temporary file (no concatenated copy).
  Status PutParts(std::string_view key, std::span<const std::string_view> parts) override;
  StatusOr<std::string> Get(std::string_view key) override;
  // Reads only the range (pread).
  StatusOr<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  StatusOr<SharedBytes> GetRangeShared(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;

  const std::string& root() const { return root_; }

 private:
  FsObjectStore(std::string root, FileSystem* fs);

  std::string PathOf(std::string_view key) const;
  std::string NextTempName();
  // The object's file, checked to hold [offset, offset + length). Errors as GetRange's.
  StatusOr<std::unique_ptr<RandomAccessFile>> OpenRange(std::string_view key, uint64_t offset,
                                                        uint64_t length);

  const std::string root_;  // no trailing '/'
  FileSystem* const fs_;
  const uint64_t temp_seed_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace skald::storage
