// Internal helpers for the chunk format: little-endian fixed-width integers, unsigned
// LEB128 varints and zigzag encoding, with bounds-checked decoding. Not part of the public API.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace skald::chunk::internal {

inline void PutFixed32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out->append(b, 4);
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}

inline uint64_t DecodeFixed64(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

// Writes v as a uvarint into buf (at least 10 bytes); returns the number of bytes written.
inline size_t EncodeUvarint(char* buf, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

inline size_t UvarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutUvarint(std::string* out, uint64_t v) {
  char buf[10];
  out->append(buf, EncodeUvarint(buf, v));
}

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Decodes a uvarint at *p (not reading at or past end). On success advances *p and returns
// true. Fails on truncation and on encodings longer than 10 bytes or overflowing 64 bits.
inline bool GetUvarint(const char** p, const char* end, uint64_t* v) {
  const char* q = *p;
  if (q < end && static_cast<uint8_t>(*q) < 0x80) {  // fast path: one byte
    *v = static_cast<uint8_t>(*q);
    *p = q + 1;
    return true;
  }
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && q < end; shift += 7) {
    uint64_t byte = static_cast<uint8_t>(*q++);
    if (shift == 63 && byte > 1) return false;  // overflows 64 bits
    result |= (byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      *p = q;
      return true;
    }
  }
  return false;
}

// Cursor over a byte range with checked reads; every Get* returns false (and leaves the
// cursor unspecified) when the input is too short or malformed.
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* pos() const { return p_; }
  bool empty() const { return p_ == end_; }

  bool GetUvarint(uint64_t* v) { return internal::GetUvarint(&p_, end_, v); }
  bool GetVarint(int64_t* v) {
    uint64_t u;
    if (!GetUvarint(&u)) return false;
    *v = UnZigZag(u);
    return true;
  }
  bool GetByte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool GetFixed32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = DecodeFixed32(p_);
    p_ += 4;
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = DecodeFixed64(p_);
    p_ += 8;
    return true;
  }
  bool GetBytes(size_t n, std::string_view* v) {
    if (remaining() < n) return false;
    *v = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  // A uvarint length followed by that many bytes.
  bool GetLengthPrefixed(std::string_view* v) {
    uint64_t n;
    return GetUvarint(&n) && n <= remaining() && GetBytes(static_cast<size_t>(n), v);
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace skald::chunk::internal
