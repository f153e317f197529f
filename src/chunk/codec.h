// Compression codecs used for chunk blocks: none, snappy, lz4 (block format), zstd and gzip
// (RFC 1952 via libdeflate). The codec a chunk was written with is recorded in its header,
// and each column of each block records the codec actually applied to it.
//
// All functions are thread-safe (compression contexts are cached per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace skald::chunk {

enum class Codec : uint8_t { kNone = 0, kSnappy = 1, kLz4 = 2, kZstd = 3, kGzip = 4 };

// Highest valid Codec value (for validating bytes read from storage).
inline constexpr uint8_t kMaxCodec = 4;

// Parses "none", "snappy", "lz4", "zstd" or "gzip" (exact, lower case). Loki's variants
// "lz4-64k", "lz4-256k", "lz4-1M" map to kLz4 and "flate" maps to kGzip so Loki
// `chunk_encoding` values carry over. Anything else: InvalidArgument.
StatusOr<Codec> ParseCodec(std::string_view name);

// "none", "snappy", "lz4", "zstd", "gzip"; "unknown" for values outside the enum.
std::string_view CodecName(Codec c);

// Compresses `in` with codec `c`, replacing *out. Errors: InvalidArgument for an unknown
// codec or an input too large for the codec (lz4: ~2 GiB), Internal if the library fails.
// `level` applies to zstd only (1..19, clamped; 0 = kDefaultZstdLevel); the other codecs
// have one setting each. The level is not recorded: any level decodes the same way.
Status Compress(Codec c, std::string_view in, std::string* out, int level = 0);

// Like Compress, but appends to *out instead of replacing it.
Status CompressAppend(Codec c, std::string_view in, std::string* out, int level = 0);

// zstd's level when none is asked for: on 256 KiB log blocks level 1 beats 3 in both ratio
// and speed (docs/formats/chunk.md, "Compression levels").
inline constexpr int kDefaultZstdLevel = 1;

// Decompresses `in`, which must decode to exactly `uncompressed_size` bytes, replacing *out
// (its capacity is reused). Corrupt or mismatching input, or an uncompressed_size that the
// codec cannot possibly produce from `in`, returns Corruption; never reads out of bounds.
Status Decompress(Codec c, std::string_view in, size_t uncompressed_size, std::string* out);

// Like Decompress, but writes into caller memory of exactly uncompressed_size bytes.
Status DecompressTo(Codec c, std::string_view in, char* out, size_t uncompressed_size);

}  // namespace skald::chunk
