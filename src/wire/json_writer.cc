// JSON writer with Go encoding/json escaping (see json_writer.h).
#include "wire/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace skald::wire {
namespace {

// 0: byte is copied verbatim. 1: ASCII byte that needs an escape. 2: first byte
// of a (possibly invalid) multi-byte UTF-8 sequence.
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  t['<'] = 1;
  t['>'] = 1;
  t['&'] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at p (p < end, *p >= 0x80), or 0
// when invalid (Go's utf8.DecodeRune rules: no overlongs, no surrogates, max
// U+10FFFF). Stores the code point in *rune.
inline size_t DecodeMultiByte(const unsigned char* p, const unsigned char* end, char32_t* rune) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    if (avail < 2 || !cont(p[1])) return 0;
    *rune = (char32_t(c & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (p[1] < lo || p[1] > hi || !cont(p[2])) return 0;
    *rune = (char32_t(c & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4) return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (p[1] < lo || p[1] > hi || !cont(p[2]) || !cont(p[3])) return 0;
    *rune = (char32_t(c & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
            (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    return 4;
  }
  return 0;
}

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

inline uint64_t HasZeroByte(uint64_t v) { return (v - kOnes) & ~v & kHighs; }
inline uint64_t HasByte(uint64_t v, unsigned char c) { return HasZeroByte(v ^ (kOnes * c)); }

// Non-zero if any of the 8 bytes in v is not class 0 (exact as a boolean).
inline uint64_t NeedsAttention(uint64_t v) {
  const uint64_t lt_space = (v - kOnes * 0x20) & ~v & kHighs;  // some byte < 0x20
  return lt_space | (v & kHighs) | HasByte(v, '"') | HasByte(v, '\\') | HasByte(v, '<') |
         HasByte(v, '>') | HasByte(v, '&');
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;  // start of the pending verbatim run
  while (p < end) {
    // Skip 8 safe bytes at a time.
    while (end - p >= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (NeedsAttention(v)) break;
      p += 8;
    }
    if (p >= end) break;
    const uint8_t cls = kClass[*p];
    if (cls == 0) {
      ++p;
      continue;
    }
    if (cls == 2) {
      char32_t rune = 0;
      size_t n = DecodeMultiByte(p, end, &rune);
      if (n != 0 && rune != 0x2028 && rune != 0x2029) {
        p += n;  // valid and safe: part of the run
        continue;
      }
      out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
      if (n == 0) {
        out->append("\\ufffd");
        p += 1;
      } else {
        out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
        p += n;
      }
      run = p;
      continue;
    }
    out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    const unsigned char c = *p;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {  // other control bytes and < > &
        char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(buf, 6);
        break;
      }
    }
    ++p;
    run = p;
  }
  out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
  out->push_back('"');
}

void AppendGoFloat(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Fixed notation of the shortest round-trip representation: at most ~330
  // characters (DBL_MIN has 307 leading zeros after the point).
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
  after_key_ = false;
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
  after_key_ = false;
}

void JsonWriter::Key(std::string_view k) {
  if (need_comma_) out_->push_back(',');
  AppendJsonString(out_, k);
  out_->push_back(':');
  after_key_ = true;
  need_comma_ = true;
}

void JsonWriter::String(std::string_view v) {
  BeforeValue();
  AppendJsonString(out_, v);
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_->append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Double(double v) {
  BeforeValue();
  if (!std::isfinite(v)) {
    out_->push_back('0');
    return;
  }
  AppendGoFloat(out_, v);
}

void JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
}

}  // namespace skald::wire
