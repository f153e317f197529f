// ChunkStore: chunks as objects. Owns the chunk key layout
// (chunks/<tenant>/<fingerprint>/<min_ts>-<max_ts>-<crc>, docs/formats/object-keys.md),
// writes finished chunks and opens stored ones. A chunk opened here is read only through
// chunk::ChunkReader, so every block read checks its CRC and its agreement with the
// chunk's block index, and the chunk's header must name the tenant and stream the caller
// asked for.
//
// Stateless over an ObjectStore: cheap to construct, thread-safe as the store is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/chunk.h"
#include "core/status.h"
#include "storage/object_store.h"

namespace skald::storage {

// A chunk fetched from the store and parsed (header and block index verified). Owns its
// bytes. Const methods are thread-safe (each thread needs its own DecodedBlock).
class StoredChunk {
 public:
  StoredChunk(const StoredChunk&) = delete;
  StoredChunk& operator=(const StoredChunk&) = delete;

  const chunk::ChunkHeader& header() const { return reader_->header(); }
  const std::vector<chunk::BlockMeta>& blocks() const { return reader_->blocks(); }
  // Stored (compressed) size of the whole chunk object.
  size_t size() const { return bytes_.size(); }

  // Decodes block i (see chunk::ChunkReader::ReadBlock): Corruption on a checksum failure
  // or when the block disagrees with its index entry.
  Status ReadBlock(size_t i, chunk::DecodedBlock* out) const { return reader_->ReadBlock(i, out); }
  // Decodes only block i's timestamps (chunk::ChunkReader::ReadTimestamps).
  Status ReadTimestamps(size_t i, chunk::DecodedBlock* out) const {
    return reader_->ReadTimestamps(i, out);
  }
  // Decodes only the columns `cols` of block i (chunk::ChunkReader::ReadColumns).
  Status ReadColumns(size_t i, chunk::DecodedBlock* out, chunk::BlockColumns cols) const {
    return reader_->ReadColumns(i, out, cols);
  }

 private:
  friend class ChunkStore;
  explicit StoredChunk(std::string bytes) : bytes_(std::move(bytes)) {}
  const std::string bytes_;  // reader_ holds views into it: never moved after construction
  std::optional<chunk::ChunkReader> reader_;  // set by ChunkStore::Open
};

class ChunkStore {
 public:
  // store must outlive the chunk store.
  explicit ChunkStore(ObjectStore* store) : store_(store) {}

  // The object key of a chunk of `tenant`'s stream `fingerprint` spanning [min_ts, max_ts]
  // whose bytes have CRC-32C `checksum`. Deterministic: the same chunk always gets the same
  // key (a retried flush overwrites its earlier attempt).
  static std::string KeyFor(std::string_view tenant, uint64_t fingerprint, int64_t min_ts,
                            int64_t max_ts, uint32_t checksum);

  // Writes a finished chunk (chunk::ChunkWriter::Finish output) and returns its key.
  // Errors: those of ObjectStore::Put (InvalidArgument for a tenant that is not a valid
  // key segment, IOError when the store fails).
  StatusOr<std::string> Put(std::string_view tenant, uint64_t fingerprint, int64_t min_ts,
                            int64_t max_ts, std::string_view chunk_bytes);

  // Fetches and opens the chunk at `key`, which must belong to `tenant`'s stream
  // `fingerprint`. Errors: NotFound / IOError from the store; Corruption when the object
  // does not parse as a chunk or its header names another tenant or stream.
  StatusOr<std::shared_ptr<const StoredChunk>> Open(std::string_view key, std::string_view tenant,
                                                    uint64_t fingerprint) const;

 private:
  ObjectStore* store_;
};

}  // namespace skald::storage
