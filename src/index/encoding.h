// Internal byte-level helpers of the index file format (little-endian fixed
// integers, LEB128 varints, a bounds-checked decoder). Not a public API.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace skald::index::internal {

inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  dst->append(b, 4);
}

inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  dst->append(b, 8);
}

inline void PutUvarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

inline uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Reads from a byte range; varints must be minimally encoded. Every read is bounds-checked, and
// after the first failure all reads fail (check ok() once at the end, or per read).
class Decoder {
 public:
  Decoder() = default;
  explicit Decoder(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

  bool Uvarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= data_.size()) return Fail();
      uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) return Fail();  // overflows 64 bits
      if (shift > 0 && byte == 0) return Fail();   // non-minimal encoding
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail();
  }

  bool Fixed64(uint64_t* v) {
    if (!ok_ || remaining() < 8) return Fail();
    *v = GetFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }

  bool Bytes(uint64_t n, std::string_view* out) {
    if (!ok_ || n > remaining()) return Fail();
    *out = data_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  // Uvarint that must be < limit.
  bool UvarintBelow(uint64_t limit, uint64_t* v) { return Uvarint(v) && (*v < limit || Fail()); }

  bool Fail() {
    ok_ = false;
    return false;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace skald::index::internal
