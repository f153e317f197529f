// Chunk blocks: BlockBuilder encodes a run of entries into one compressed, checksummed
// block; DecodedBlock is the columnar view produced by decoding one (see
// docs/formats/chunk.md for the byte layout).
//
// Inside a block entries keep insertion order (the ingester adds them sorted by timestamp)
// and are stored column by column: timestamps, line lengths, line bytes (one contiguous
// buffer) and structured metadata (per-block symbol table). Each column is compressed
// separately, so timestamps can be decoded without touching the line bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chunk/codec.h"
#include "chunk/gram_filter.h"
#include "core/entry.h"
#include "core/status.h"

namespace skald::chunk {

// Summary of one block, as kept in a chunk's block index.
struct BlockMeta {
  int64_t min_ts = 0, max_ts = 0;
  uint32_t entries = 0;
  uint64_t offset = 0;             // within the chunk (set by ChunkWriter)
  uint32_t length = 0;             // stored bytes of the block, including its CRC32C trailer
  uint32_t uncompressed_size = 0;  // sum of the decoded sizes of the block's columns
  // The block's serialized filter (gram_filter.h) within the chunk (set by ChunkWriter and
  // ChunkReader for version 2 chunks); length 0 = no filter.
  uint64_t filter_offset = 0;
  uint32_t filter_length = 0;
};

// A finished block: its summary and its stored bytes (self-contained; see DecodeBlock).
struct EncodedBlock {
  BlockMeta meta;
  std::string bytes;
  std::string filter;  // serialized trigram filter of the block's lines (gram_filter.h)
};

// Accumulates entries for one block. Entries must be added in non-decreasing ts order (the
// ingester sorts its unordered head before cutting); the format itself tolerates any order
// and min_ts/max_ts are tracked exactly either way. Add does not allocate once the builder's
// buffers have grown to a block's size (buffers are reused across Finish calls).
// The caller must cut blocks well below 4 GiB (uncompressed_bytes() < 2^32 - 2^20).
// Not thread-safe.
class BlockBuilder {
 public:
  BlockBuilder();

  // Appends one entry. `metadata` is copied (names/values are interned per block), so its
  // views need only be valid during the call.
  void Add(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata);

  size_t entries() const { return n_; }
  // Encoded, uncompressed size of the block so far: timestamp and length columns, line bytes
  // and the metadata column. This is what counts toward chunk_block_size.
  size_t uncompressed_bytes() const;

  // Encodes and compresses the entries added so far with `codec` (per column; a column that
  // would not shrink is stored uncompressed), then resets the builder. Never fails: if the
  // compressor errors, the column is stored uncompressed. An empty builder yields a block with
  // entries == 0, which ChunkWriter ignores. `level`: see CompressAppend (0 = the codec's
  // default).
  EncodedBlock Finish(Codec codec, int level = 0);

  // Whether blocks get a gram filter (default on). Off: Add skips the filter work and
  // Finish yields an empty filter ("no filter": every query reads the block). The ingester
  // turns it off for provisional head blocks, which are re-encoded with filters at flush.
  // Takes effect for the block being built when called before its first Add.
  void set_build_filter(bool on) { build_filter_ = on; }
  // Blocks whose lines total fewer bytes get no filter even when filters are on (default 0:
  // every block gets one). A tiny block's filter is a large share of its stored bytes and
  // saves only the decompression of a few hundred bytes.
  void set_min_filter_bytes(size_t n) { min_filter_bytes_ = n; }

  // Drops all entries without encoding them.
  void Reset();

 private:
  uint32_t Intern(std::string_view s);
  void GrowSymbolTable();

  size_t n_ = 0;
  int64_t prev_ts_ = 0, min_ts_ = 0, max_ts_ = 0;
  std::string ts_col_;    // zigzag varint: first ts, then deltas from the previous entry
  std::string len_col_;   // uvarint line length per entry
  std::string lines_;     // line bytes back to back
  std::string meta_col_;  // per entry: uvarint #pairs, then (name id, value id) uvarints
  bool any_meta_ = false;
  // Symbol table: symbol k is sym_data_[sym_off_[k], sym_off_[k+1]).
  std::string sym_data_;
  std::vector<uint32_t> sym_off_;
  size_t sym_encoded_ = 0;           // sum of uvarint(len)+len over symbols
  std::vector<uint32_t> sym_slots_;  // open addressing; holds id+1, 0 = empty
  GramFilterBuilder filter_;         // 4-grams of the lines added so far
  bool build_filter_ = true;
  size_t min_filter_bytes_ = 0;
  // Reused scratch for Finish.
  std::string meta_scratch_;
  std::string comp_[4];
};

// Which columns DecodeBlock / ChunkReader materialise: a set of flags, combined with `|`.
// Timestamps are always decoded, and the block's CRC32C is always verified over all of its
// stored bytes (it covers the stored, compressed columns), so a damaged column is reported
// as Corruption even when it is not decompressed. A column that is not requested is never
// decompressed: metric queries without a pipeline decode timestamps, lengths and metadata
// and never touch the line bytes, which are most of a block.
enum class BlockColumns : uint8_t {
  kTimestampsOnly = 0,  // only timestamps(); line/length/metadata accessors must not be used
  kLengths = 1,         // line lengths: line_size(i), line_offsets() (LINES stays compressed)
  kMetadata = 2,        // structured metadata (decompressed only when the block has any)
  kLines = 4 | 1,       // line bytes: line(i), lines_data() (implies kLengths)
  kAll = 4 | 2 | 1,     // timestamps, lines and metadata
};
constexpr BlockColumns operator|(BlockColumns a, BlockColumns b) {
  return static_cast<BlockColumns>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
// True when `set` includes every column of `want`.
constexpr bool HasColumns(BlockColumns set, BlockColumns want) {
  return (static_cast<uint8_t>(set) & static_cast<uint8_t>(want)) == static_cast<uint8_t>(want);
}

// A decoded block: columnar view. Entry i: ts(i), line(i), metadata(i). Buffers are reused
// by the next decode into the same object (no allocation per decode in steady state).
// Columns that were stored uncompressed are not copied: views then point into the encoded
// block bytes, which must stay alive while the views are used.
// Copyable and movable; not thread-safe for concurrent decode, const methods are safe.
class DecodedBlock {
 public:
  size_t size() const { return n_; }
  // Sum of the decoded sizes of all columns of the block (BlockMeta::uncompressed_size).
  uint64_t uncompressed_size() const { return uncompressed_size_; }
  // Which columns were decoded (see BlockColumns); accessors of the others must not be used.
  bool has_lines() const { return has_lines_; }
  bool has_lengths() const { return has_lengths_; }
  // Raw (decompressed) size of the block's line bytes, from the block header: known whatever
  // was decoded (lines_data().size() when has_lines()).
  uint64_t lines_raw_size() const { return lines_raw_; }
  // Raw size of the block's structured-metadata column (0 when no entry has metadata), known
  // whatever was decoded.
  uint64_t metadata_raw_size() const { return meta_raw_; }
  // True when metadata was decoded and the block has some; metadata_count() is then valid.
  // When kMetadata was not requested it is false and metadata_count() is 0 for every entry,
  // even if the block holds metadata.
  bool has_metadata() const { return has_meta_; }

  std::span<const int64_t> timestamps() const { return {ts_.data(), n_}; }
  int64_t ts(size_t i) const { return ts_[i]; }

  // Byte length of line i (needs has_lengths()).
  uint32_t line_size(size_t i) const { return offsets_[i + 1] - offsets_[i]; }
  std::string_view line(size_t i) const {
    return std::string_view(lines_base() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // All lines back to back; line i is [line_offsets()[i], line_offsets()[i+1]).
  std::string_view lines_data() const { return std::string_view(lines_base(), lines_len_); }
  // size()+1 offsets into lines_data() (empty when !has_lengths()).
  std::span<const uint32_t> line_offsets() const { return {offsets_.data(), offsets_.size()}; }

  size_t metadata_count(size_t i) const { return has_meta_ ? meta_off_[i + 1] - meta_off_[i] : 0; }
  // Pair j of entry i; its views are valid as long as this block.
  MetadataPair metadata(size_t i, size_t j) const {
    const uint32_t* p = &meta_ids_[2 * (meta_off_[i] + j)];
    return MetadataPair{Symbol(p[0]), Symbol(p[1])};
  }

  // Empties the block (keeps buffer capacity).
  void Clear();

 private:
  friend Status DecodeBlock(std::string_view, DecodedBlock*, BlockColumns);
  friend struct BlockDecoder;

  const char* lines_base() const { return lines_ext_ ? lines_ext_ : lines_buf_.data(); }
  const char* meta_base() const { return meta_ext_ ? meta_ext_ : meta_buf_.data(); }
  std::string_view Symbol(uint32_t id) const {
    return std::string_view(meta_base() + syms_[id].first, syms_[id].second);
  }

  size_t n_ = 0;
  uint64_t uncompressed_size_ = 0;
  uint64_t lines_raw_ = 0;
  uint64_t meta_raw_ = 0;
  bool has_lines_ = false;
  bool has_lengths_ = false;
  bool has_meta_ = false;
  std::vector<int64_t> ts_;
  std::vector<uint32_t> offsets_;
  const char* lines_ext_ = nullptr;  // set when the lines column was stored uncompressed
  std::string lines_buf_;
  size_t lines_len_ = 0;
  const char* meta_ext_ = nullptr;
  std::string meta_buf_;
  std::vector<std::pair<uint32_t, uint32_t>> syms_;  // (offset, length) in the meta column
  std::vector<uint32_t> meta_off_;                   // size()+1 offsets into pairs
  std::vector<uint32_t> meta_ids_;                   // 2 symbol ids per pair
  std::string scratch_;                              // decompressed ts/length columns
};

// Decodes one stored block (EncodedBlock::bytes, or a block's byte range inside a chunk):
// verifies its CRC32C over all stored bytes, then decompresses and decodes only the
// requested columns into *out (and checks their structure: lengths adding up to the line
// bytes, metadata symbol references, ...). Views in *out may point into `bytes`. Errors: Corruption
// for any checksum, framing, length or value inconsistency (never reads out of bounds).
Status DecodeBlock(std::string_view bytes, DecodedBlock* out,
                   BlockColumns columns = BlockColumns::kAll);

}  // namespace skald::chunk
