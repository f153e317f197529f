// Byte coding shared by every format Skald reads and writes (chunks, index files, WAL
// records and segments, protobuf push bodies): little-endian fixed-width integers, unsigned
// LEB128 varints ("uvarints", as in protobuf and Go's encoding/binary), zigzag-coded signed
// varints and uvarint-length-prefixed bytes; plus ByteReader, the one bounds-checked reader.
//
// Encoders append to a caller-owned string (reuse it to avoid allocations) or write into a
// caller buffer. Decoders never read outside the input they are given. Everything here is
// header-only, allocation-free on the read side and thread-compatible (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace skald {

// ---------------------------------------------------------------------------
// Encoding

// The longest uvarint of a 64-bit value.
inline constexpr size_t kMaxVarintBytes = 10;

inline void EncodeFixed32(char* dst, uint32_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
  dst[2] = static_cast<char>(v >> 16);
  dst[3] = static_cast<char>(v >> 24);
}

inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  EncodeFixed32(b, v);
  out->append(b, 4);
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  EncodeFixed64(b, v);
  out->append(b, 8);
}

// Writes v as a uvarint into buf (at least kMaxVarintBytes long); returns the bytes written.
inline size_t EncodeUvarint(char* buf, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

// Number of bytes EncodeUvarint writes for v (1..10).
inline size_t UvarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutUvarint(std::string* out, uint64_t v) {
  char buf[kMaxVarintBytes];
  out->append(buf, EncodeUvarint(buf, v));
}

// Zigzag maps signed to unsigned so that small magnitudes get short varints:
// 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ...
inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// A signed value as the uvarint of its zigzag code.
inline void PutVarint(std::string* out, int64_t v) { PutUvarint(out, ZigZagEncode(v)); }

// A uvarint length followed by the bytes of s.
inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutUvarint(out, s.size());
  out->append(s.data(), s.size());
}

// ---------------------------------------------------------------------------
// Decoding

// Callers must have checked that 4 (8) bytes are readable at p.
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

// Why a read failed: the input ended first, or its bytes are not a valid encoding (a varint
// longer than 10 bytes or overflowing 64 bits, a non-minimal varint where minimal ones are
// required, or a value the caller rejected with ByteReader::Fail).
enum class CodingError : uint8_t { kNone, kTruncated, kMalformed };

// Decodes a uvarint at *p, reading nothing at or past end. On success advances *p; on failure
// leaves *p as it was.
inline CodingError DecodeUvarint(const char** p, const char* end, uint64_t* v) {
  const char* q = *p;
  if (q < end && static_cast<uint8_t>(*q) < 0x80) [[likely]] {  // one byte: the common case
    *v = static_cast<uint8_t>(*q);
    *p = q + 1;
    return CodingError::kNone;
  }
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (q >= end) return CodingError::kTruncated;
    const uint64_t byte = static_cast<uint8_t>(*q++);
    if (shift == 63 && byte > 1) return CodingError::kMalformed;  // overflows 64 bits
    result |= (byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      *p = q;
      return CodingError::kNone;
    }
  }
  return CodingError::kMalformed;  // more than 10 bytes
}

// DecodeUvarint for hot loops that only need to know whether it worked.
inline bool GetUvarint(const char** p, const char* end, uint64_t* v) {
  return DecodeUvarint(p, end, v) == CodingError::kNone;
}

// A cursor over a byte range. Every Get* checks the bounds and returns false when the input is
// too short or malformed; the first failure is sticky (later reads fail too, the position stays
// where the failing read started), so a decoder may check ok() once at the end or each read.
// Views returned by GetBytes/GetLengthPrefixed point into the input. Not thread-safe.
class ByteReader {
 public:
  // kMinimal also rejects varints with redundant trailing zero groups (e.g. 0x80 0x00 for 0),
  // for formats where each value must have exactly one encoding (the index).
  enum class Varints : uint8_t { kAny, kMinimal };

  ByteReader() = default;
  explicit ByteReader(std::string_view data, Varints varints = Varints::kAny)
      : begin_(data.data()),
        p_(data.data()),
        end_(data.data() + data.size()),
        minimal_(varints == Varints::kMinimal) {}

  bool ok() const { return error_ == CodingError::kNone; }
  CodingError error() const { return error_; }
  // Bytes left to read; offset() bytes have been read.
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  bool empty() const { return p_ == end_; }
  const char* pos() const { return p_; }

  bool GetByte(uint8_t* v) {
    if (!ok()) return false;
    if (p_ == end_) return Fail(CodingError::kTruncated);
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool GetFixed32(uint32_t* v) {
    if (!ok()) return false;
    if (remaining() < 4) return Fail(CodingError::kTruncated);
    *v = DecodeFixed32(p_);
    p_ += 4;
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (!ok()) return false;
    if (remaining() < 8) return Fail(CodingError::kTruncated);
    *v = DecodeFixed64(p_);
    p_ += 8;
    return true;
  }
  bool GetUvarint(uint64_t* v) {
    if (!ok()) return false;
    const char* start = p_;
    CodingError e = DecodeUvarint(&p_, end_, v);
    if (e != CodingError::kNone) return Fail(e);
    // A minimal encoding never ends in a zero byte unless it is the single byte 0.
    if (minimal_ && p_ - start > 1 && p_[-1] == 0) {
      p_ = start;
      return Fail(CodingError::kMalformed);
    }
    return true;
  }
  // A zigzag-coded signed varint (PutVarint).
  bool GetVarint(int64_t* v) {
    uint64_t u;
    if (!GetUvarint(&u)) return false;
    *v = ZigZagDecode(u);
    return true;
  }
  bool GetBytes(uint64_t n, std::string_view* v) {
    if (!ok()) return false;
    if (n > remaining()) return Fail(CodingError::kTruncated);
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Skip(uint64_t n) {
    std::string_view ignored;
    return GetBytes(n, &ignored);
  }
  // A uvarint length followed by that many bytes (PutLengthPrefixed).
  bool GetLengthPrefixed(std::string_view* v) {
    uint64_t n;
    return GetUvarint(&n) && GetBytes(n, v);
  }

  // Marks the input malformed (for values that decode but make no sense); returns false.
  bool Fail(CodingError e = CodingError::kMalformed) {
    if (ok()) error_ = e;
    return false;
  }

 private:
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool minimal_ = false;
  CodingError error_ = CodingError::kNone;
};

}  // namespace skald
