// Block trigram filters: see gram_filter.h.
#include "chunk/gram_filter.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/coding.h"

namespace skald::chunk {

namespace {

constexpr std::array<unsigned char, 256> MakeLowerTable() {
  std::array<unsigned char, 256> t{};
  for (int i = 0; i < 256; i++) {
    t[i] = static_cast<unsigned char>(i >= 'A' && i <= 'Z' ? i - 'A' + 'a' : i);
  }
  return t;
}
constexpr std::array<unsigned char, 256> kLower = MakeLowerTable();

// Position of hash h in a filter of `bits` bits (a multiple of 64, at most 2^17).
inline uint32_t Slot(uint32_t h, uint32_t bits) {
  return static_cast<uint32_t>((uint64_t{h} * bits) >> kGramHashBits);
}

Status Corrupt(std::string what) { return Status::Corruption("block filter: " + std::move(what)); }

}  // namespace

GramFilterBuilder::GramFilterBuilder(double bits_per_gram)
    : bits_per_gram_(bits_per_gram), hashes_(kGramFilterMaxWords, 0) {
  dirty_.reserve(kGramFilterMaxWords);
}

void GramFilterBuilder::AddLine(std::string_view line) {
  if (line.size() < kGramBytes) return;
  const auto* p = reinterpret_cast<const unsigned char*>(line.data());
  uint64_t* h = hashes_.data();
  // The window's bytes, first byte highest: shifting a byte in drops the oldest.
  uint32_t g = uint32_t{kLower[p[0]]} << 16 | uint32_t{kLower[p[1]]} << 8 | kLower[p[2]];
  for (size_t i = kGramBytes - 1; i < line.size(); i++) {
    g = g << 8 | kLower[p[i]];
    const uint32_t x = GramHash(g);
    uint64_t& word = h[x >> 6];
    if (word == 0) dirty_.push_back(static_cast<uint16_t>(x >> 6));
    word |= uint64_t{1} << (x & 63);
  }
}

size_t GramFilterBuilder::DistinctGrams() const {
  size_t n = 0;
  for (uint16_t w : dirty_) n += static_cast<size_t>(std::popcount(hashes_[w]));
  return n;
}

void GramFilterBuilder::Reset() {
  if (dirty_.size() * 4 > hashes_.size()) {
    std::fill(hashes_.begin(), hashes_.end(), 0);
  } else {
    for (uint16_t w : dirty_) hashes_[w] = 0;
  }
  dirty_.clear();
}

void GramFilterBuilder::Finish(std::string* out) {
  const size_t n = DistinctGrams();
  constexpr uint32_t kSpace = 1u << kGramHashBits;
  if (static_cast<double>(n) > kMaxUsefulFill * kSpace) {
    Reset();
    return;  // no filter: it could refute almost nothing
  }
  // Words for bits_per_gram bits per distinct hash, at least one (a block whose lines are all
  // shorter than 3 bytes gets an all-zero word: every literal of 3+ bytes is refuted).
  const double want = std::ceil(static_cast<double>(n) * bits_per_gram_ / 64.0);
  const auto words =
      static_cast<uint32_t>(std::clamp(want, 1.0, static_cast<double>(kGramFilterMaxWords)));
  const uint32_t bits = words * 64;
  std::vector<uint64_t> filter(words, 0);
  for (uint16_t w : dirty_) {
    uint64_t word = hashes_[w];
    while (word != 0) {
      const uint32_t h = uint32_t{w} * 64 + static_cast<uint32_t>(std::countr_zero(word));
      const uint32_t s = Slot(h, bits);
      filter[s >> 6] |= uint64_t{1} << (s & 63);
      word &= word - 1;
    }
  }
  out->push_back(static_cast<char>(kGramFilterScheme));
  PutUvarint(out, words);
  for (uint64_t w : filter) PutFixed64(out, w);
  Reset();
}

StatusOr<GramFilter> GramFilter::Parse(std::string_view bytes) {
  if (bytes.empty()) return GramFilter();
  ByteReader r(bytes);
  uint8_t scheme = 0;
  if (!r.GetByte(&scheme)) return Corrupt("truncated");
  if (scheme != kGramFilterScheme) return Corrupt("unknown scheme " + std::to_string(scheme));
  uint64_t words = 0;
  if (!r.GetUvarint(&words)) return Corrupt("bad word count");
  if (words == 0 || words > kGramFilterMaxWords) {
    return Corrupt("word count " + std::to_string(words) + " out of range");
  }
  if (r.remaining() != words * 8) return Corrupt("size does not match its word count");
  return Trusted(bytes);
}

GramFilter GramFilter::Trusted(std::string_view bytes) {
  GramFilter f;
  if (bytes.empty()) return f;
  ByteReader r(bytes.substr(1));
  uint64_t words = 0;
  r.GetUvarint(&words);
  f.words_ = static_cast<uint32_t>(words);
  f.bits_ = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - words * 8);
  return f;
}

bool GramFilter::MayContain(std::string_view needle) const {
  if (words_ == 0 || needle.size() < kGramBytes) return true;
  const uint32_t bits = words_ * 64;
  const auto* p = reinterpret_cast<const unsigned char*>(needle.data());
  uint32_t g = uint32_t{kLower[p[0]]} << 16 | uint32_t{kLower[p[1]]} << 8 | kLower[p[2]];
  for (size_t i = kGramBytes - 1; i < needle.size(); i++) {
    g = g << 8 | kLower[p[i]];
    const uint32_t s = Slot(GramHash(g), bits);
    if ((bits_[s >> 3] & (1u << (s & 7))) == 0) return false;
  }
  return true;
}

double GramFilter::Fill() const {
  if (words_ == 0) return 1.0;
  size_t set = 0;
  for (uint32_t i = 0; i < words_ * 8; i++) set += static_cast<size_t>(std::popcount(bits_[i]));
  return static_cast<double>(set) / (words_ * 64.0);
}

}  // namespace skald::chunk
