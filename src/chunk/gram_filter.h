// Block filters: a compact, lossy set of the 4-byte n-grams of a block's lines, so a query can
// tell that a literal occurs in no line of a block without decompressing it.
//
// Every line contributes each of its 4-byte windows, ASCII-lowercased (A-Z -> a-z, every other
// byte as is), never a window spanning two lines. A window is hashed to a 17-bit value, and the
// filter is a bit array of m bits (a multiple of 64, at most 2^17) with bit (h * m) >> 17 set
// for every window hash h of the block: one probe per n-gram, sized to the number of distinct
// hashes. A literal may occur in the block only if every one of its n-grams has its bit set,
// so a literal of 4 or more bytes that is absent from every line is usually refuted after a few
// probes; shorter literals are never refuted. Because both sides lowercase, the same filter
// serves case-sensitive and ASCII case-insensitive searches. Why 4 bytes and 2 bits per
// n-gram: docs/formats/chunk.md ("Block filters") has the measurement.
//
// Serialized form (docs/formats/chunk.md, "Block filters"): empty = no filter (the block may
// contain anything); otherwise u8 scheme (1), uvarint word count W (1..2048), then W u64
// little-endian words; bit p is bit (p % 64) of word p / 64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::chunk {

inline constexpr uint8_t kGramFilterScheme = 1;
inline constexpr size_t kGramBytes = 4;
inline constexpr int kGramHashBits = 17;
inline constexpr uint32_t kGramFilterMaxWords = (1u << kGramHashBits) / 64;

// Builds one block's filter from its lines. Reusable (Finish resets it); Add does not allocate.
// Not thread-safe.
class GramFilterBuilder {
 public:
  // bits_per_gram: filter bits per distinct n-gram hash (higher = fewer false positives,
  // larger filters); see docs/formats/chunk.md for the measurement behind the default.
  explicit GramFilterBuilder(double bits_per_gram = kDefaultBitsPerGram);

  static constexpr double kDefaultBitsPerGram = 2.0;
  // Above this fraction of the 2^17 hash space set, a filter refutes too little to be worth
  // its size (16 KiB at that point): Finish writes no filter.
  static constexpr double kMaxUsefulFill = 0.5;

  void AddLine(std::string_view line);

  // Appends the serialized filter of the lines added since the last Finish/Reset to *out
  // (possibly nothing: no filter), then resets.
  void Finish(std::string* out);
  void Reset();

  // Distinct n-gram hashes added so far.
  size_t DistinctGrams() const;

 private:
  double bits_per_gram_;
  std::vector<uint64_t> hashes_;  // 2^17 bits: which window hashes occurred
  // Indexes of the non-zero words of hashes_, in the order they were first set: Finish and
  // Reset visit only these, so a block of a few short lines costs little (1,000,000 tiny
  // streams cut 1,000,000 tiny blocks).
  std::vector<uint16_t> dirty_;
};

// A parsed filter: a view into serialized bytes that must outlive it. Cheap to copy.
class GramFilter {
 public:
  // No filter: MayContain is always true.
  GramFilter() = default;

  // Errors: Corruption when `bytes` is neither empty nor a well-formed filter.
  static StatusOr<GramFilter> Parse(std::string_view bytes);
  // For bytes already validated by Parse (e.g. by ChunkReader::Open).
  static GramFilter Trusted(std::string_view bytes);

  // False only when no line of the block contains `needle` (ASCII case-insensitively).
  bool MayContain(std::string_view needle) const;
  // True when the block was written without a filter.
  bool empty() const { return words_ == 0; }
  // Bits set / bits (for measurements).
  double Fill() const;

 private:
  const unsigned char* bits_ = nullptr;
  uint32_t words_ = 0;
};

// The 17-bit hash of a 4-byte window g = b0 << 24 | b1 << 16 | b2 << 8 | b3 (bytes
// ASCII-lowercased): the top bits of a multiplicative (Fibonacci) hash.
inline uint32_t GramHash(uint32_t g) { return (g * 0x9E3779B1u) >> (32 - kGramHashBits); }

}  // namespace skald::chunk
