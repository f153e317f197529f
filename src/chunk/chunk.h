// Skald's chunk format: one stream's entries over a time range, immutable, made of
// compressed columnar blocks (block.h). ChunkWriter assembles finished blocks into chunk
// bytes; ChunkReader parses chunk bytes held in caller memory and decodes blocks on demand.
// Byte layout: docs/formats/chunk.md. This header also brings in codec.h and block.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/block.h"
#include "chunk/codec.h"
#include "core/status.h"

namespace skald::chunk {

// Chunk format version written by default. Version 1 (no block filters) is still read, and
// written on request (ChunkWriter::set_version).
inline constexpr uint8_t kChunkFormatVersion = 2;

struct ChunkHeader {
  uint8_t version = kChunkFormatVersion;
  Codec codec = Codec::kNone;  // the codec the chunk was written with
  std::string tenant;
  uint64_t fingerprint = 0;
  std::string labels;              // canonical label string, e.g. {app="x", env="prod"}
  int64_t min_ts = 0, max_ts = 0;  // over all blocks; 0/0 for a chunk without entries
  uint64_t entries = 0;
};

// Builds a whole chunk from finished blocks (in any time order; blocks may overlap in time).
// Blocks keep the order they were added in. Not thread-safe.
class ChunkWriter {
 public:
  ChunkWriter(Codec codec, std::string tenant, uint64_t fingerprint, std::string labels);

  // Format version to write: kChunkFormatVersion (default) or 1 (no block filters; for
  // compatibility tests). Any other value means the default.
  void set_version(uint8_t version);

  // Takes ownership of a block from BlockBuilder::Finish. Blocks with no entries are ignored.
  void AddBlock(EncodedBlock block);

  // Sum of the stored sizes of the blocks added so far (what counts toward chunk_target_size).
  size_t compressed_bytes() const { return compressed_bytes_; }
  size_t block_count() const { return blocks_.size(); }
  // Total entries over the blocks added so far.
  uint64_t entries() const { return entries_; }

  // Returns the full chunk bytes. Afterwards the writer holds no blocks (it can be reused
  // for another chunk of the same stream). When `blocks` is given it receives the chunk's
  // block index (offsets into the returned bytes), as ChunkReader::Open would parse it.
  std::string Finish(std::vector<BlockMeta>* blocks = nullptr);

 private:
  Codec codec_;
  uint8_t version_ = kChunkFormatVersion;
  std::string tenant_;
  uint64_t fingerprint_;
  std::string labels_;
  std::vector<EncodedBlock> blocks_;
  size_t compressed_bytes_ = 0;
  uint64_t entries_ = 0;
};

// Parses a chunk held in caller-owned memory (must outlive the reader and any DecodedBlock
// filled from it). Open verifies magic, version, the header and block-index checksums and
// that the index is consistent with the header and the chunk size; block checksums are
// verified in ReadBlock. Const methods are thread-safe (each thread needs its own
// DecodedBlock).
class ChunkReader {
 public:
  // Errors: Corruption for anything that does not parse or fails a checksum (including
  // truncation and trailing bytes); never reads outside `bytes`.
  static StatusOr<ChunkReader> Open(std::string_view bytes);

  const ChunkHeader& header() const { return header_; }
  const std::vector<BlockMeta>& blocks() const { return blocks_; }
  // The stored bytes of block i (for DecodeBlock or copying).
  std::string_view block_bytes(size_t i) const;
  // Block i's serialized filter (gram_filter.h), validated by Open; empty when the block has
  // none (version 1 chunks never have one).
  std::string_view block_filter(size_t i) const;

  // Decodes block i into *out, reusing its buffers (no allocation per call in steady state).
  // Errors: InvalidArgument if i is out of range; Corruption on checksum failure or if the
  // block disagrees with its index entry (entries, min/max ts, uncompressed size).
  Status ReadBlock(size_t i, DecodedBlock* out) const;
  // Like ReadBlock but decodes only the timestamp column (for time skipping);
  // out->has_lines() is false afterwards.
  Status ReadTimestamps(size_t i, DecodedBlock* out) const;
  // Like ReadBlock but decodes only `cols` (timestamps always): e.g. kLengths | kMetadata for
  // metric queries that need no line bytes. The block CRC and its agreement with the index
  // entry are checked as in ReadBlock; columns not requested are never decompressed.
  Status ReadColumns(size_t i, DecodedBlock* out, BlockColumns cols) const;

 private:
  ChunkReader() = default;

  std::string_view data_;
  ChunkHeader header_;
  std::vector<BlockMeta> blocks_;
};

// One entry with owned data (tests, tools; not for hot paths).
struct OwnedEntry {
  int64_t ts = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> metadata;
  bool operator==(const OwnedEntry&) const = default;
};

// How ReencodeChunk lays out blocks.
struct ReencodeOptions {
  size_t block_size = 256 << 10;  // cut a block once its uncompressed bytes reach this
  Codec codec = Codec::kZstd;
  int level = 0;                // CompressAppend's level (0 = the codec's default)
  size_t min_filter_bytes = 0;  // BlockBuilder::set_min_filter_bytes of the new blocks
};

// Re-encodes every entry of `chunk` into a new chunk (current format version, same tenant,
// fingerprint and labels) with gram filters: consecutive blocks are merged until they hold
// opts.block_size uncompressed bytes, and each merged block is in timestamp order (a stable
// sort: entries with equal timestamps keep their order). The ingester's flush turns the
// small provisional blocks of its heads into the stored chunk with it. *blocks (optional)
// receives the new block index. Errors: as ChunkReader (nothing is re-encoded from a block
// that fails its checks).
StatusOr<std::string> ReencodeChunk(std::string_view chunk, const ReencodeOptions& opts,
                                    std::vector<BlockMeta>* blocks = nullptr);

// Takes a one-block chunk's filter out of it, for a holder (the index) that keeps it instead:
// when `chunk` has exactly one block and that block's filter is non-empty and at most
// max_bytes, sets *rewritten to the chunk without it (the block's filter entry empty; blocks,
// header and codec unchanged), moves the filter into *filter and returns true. Otherwise
// returns false and leaves both alone. Errors: as ChunkReader::Open.
StatusOr<bool> DetachFilter(std::string_view chunk, size_t max_bytes, std::string* rewritten,
                            std::string* filter);

// Decodes every block of a chunk, appending all entries to *out in block order.
// Errors as ChunkReader::Open / ReadBlock.
Status DecodeChunkEntries(std::string_view chunk, std::vector<OwnedEntry>* out);

}  // namespace skald::chunk
