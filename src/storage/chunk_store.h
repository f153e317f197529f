// ChunkStore: chunks as objects. Owns the chunk key layout
// (chunks/<tenant>/<fingerprint>/<min_ts>-<max_ts>-<crc>, docs/formats/object-keys.md) and the
// packed-object layout (packs/<tenant>/<min_ts>-<max_ts>-<crc>, many chunks in one object,
// docs/formats/pack.md), writes finished chunks and opens stored ones.
//
// A chunk is named by its *locator*, the string the index keeps as the chunk's key: the object
// key for a chunk stored alone, `<pack key>#<offset>+<length>` (decimal) for a chunk inside a
// pack. Open reads only the chunk's byte range of a pack. A chunk opened here is read only through
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

  // Block i's serialized filter (chunk::ChunkReader::block_filter); empty = none.
  std::string_view block_filter(size_t i) const { return reader_->block_filter(i); }
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
  StoredChunk(std::shared_ptr<const void> buffer, std::string_view bytes)
      : buffer_(std::move(buffer)), bytes_(bytes) {}
  // Owns the bytes: the whole object, or one ranged read shared by the neighbouring chunks
  // read with it (OpenMany), so chunks are not copied out of it.
  const std::shared_ptr<const void> buffer_;
  const std::string_view bytes_;              // the chunk, within *buffer_
  std::optional<chunk::ChunkReader> reader_;  // set by ChunkStore::Open; views into bytes_
};

// One chunk to pack (PutPack).
struct PackItem {
  uint64_t fingerprint = 0;
  int64_t min_ts = 0, max_ts = 0;
  uint32_t entries = 0;
  std::string_view bytes;  // a whole chunk (chunk::ChunkWriter::Finish output)
};

// A packed chunk as the pack's footer lists it.
struct PackedChunk {
  uint64_t fingerprint = 0;
  int64_t min_ts = 0, max_ts = 0;
  uint32_t entries = 0;
  uint64_t offset = 0, length = 0;  // within the pack
  bool operator==(const PackedChunk&) const = default;
};

// Parses a whole pack object's footer (docs/formats/pack.md). Errors: Corruption for anything
// that does not parse, fails its checksum or names bytes outside the chunk area.
StatusOr<std::vector<PackedChunk>> ReadPackFooter(std::string_view pack);

// Splits a locator into the object key and, for a chunk in a pack, its byte range
// (*packed = false for a chunk stored alone: the whole object). False when `locator` has a
// '#' that is not followed by `<offset>+<length>` in decimal.
bool ParseLocator(std::string_view locator, std::string_view* object, bool* packed,
                  uint64_t* offset, uint64_t* length);
// The object a locator names (the locator itself for a chunk stored alone).
std::string_view LocatorObject(std::string_view locator);

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

  // The key of a pack of `tenant`'s chunks spanning [min_ts, max_ts] whose bytes have CRC-32C
  // `checksum`: packs/<tenant>/<min_ts>-<max_ts>-<crc> (16, 16 and 8 hex digits).
  static std::string PackKeyFor(std::string_view tenant, int64_t min_ts, int64_t max_ts,
                                uint32_t checksum);

  // Writes `items` (at least one) as one pack object: the chunks back to back, then a footer
  // listing them. Returns each item's locator, in order. Errors as Put.
  StatusOr<std::vector<std::string>> PutPack(std::string_view tenant,
                                             const std::vector<PackItem>& items);

  // Opens many chunks with few reads: chunks of the same pack whose ranges lie within
  // kCoalesceGap bytes of each other are fetched by one ranged read of at most kCoalesceMax
  // bytes (the bytes in between are read and dropped); chunks stored alone are read one by
  // one. Returns one result per want, in order, each as Open would return it.
  struct Want {
    std::string_view locator;
    uint64_t fingerprint = 0;
  };
  static constexpr uint64_t kCoalesceGap = 64u << 10;
  static constexpr uint64_t kCoalesceMax = 16u << 20;
  std::vector<StatusOr<std::shared_ptr<const StoredChunk>>> OpenMany(
      std::string_view tenant, const std::vector<Want>& wants) const;

  // The stored bytes of the chunk at `locator` (not parsed). Errors as Open, except that
  // nothing is checked beyond the locator's syntax and range.
  StatusOr<std::string> ReadBytes(std::string_view locator) const;

  // Fetches and opens the chunk at `key` (a locator: a chunk object's key, or a range of a
  // pack), which must belong to `tenant`'s stream `fingerprint`. Errors: NotFound / IOError
  // from the store; Corruption when the bytes do not parse as a chunk, its header names
  // another tenant or stream, the locator is malformed or its range is past the pack's end.
  StatusOr<std::shared_ptr<const StoredChunk>> Open(std::string_view key, std::string_view tenant,
                                                    uint64_t fingerprint) const;

 private:
  // Parses chunk bytes fetched for `locator` and checks their tenant and stream.
  static StatusOr<std::shared_ptr<const StoredChunk>> OpenBytes(std::string_view locator,
                                                                std::string bytes,
                                                                std::string_view tenant,
                                                                uint64_t fingerprint);
  // The same for `bytes` within `buffer`, which the returned chunk keeps alive.
  static StatusOr<std::shared_ptr<const StoredChunk>> OpenShared(std::string_view locator,
                                                                 std::shared_ptr<const void> buffer,
                                                                 std::string_view bytes,
                                                                 std::string_view tenant,
                                                                 uint64_t fingerprint);

  ObjectStore* store_;
};

}  // namespace skald::storage
