// JSON string escaping (see json_escape.h).
#include "core/json_escape.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "core/utf8.h"

namespace skald {
namespace {

// 0: byte is copied verbatim. 1: ASCII byte that needs an escape. 2: first byte of a
// (possibly invalid) multi-byte UTF-8 sequence.
constexpr std::array<uint8_t, 256> MakeClassTable(bool html) {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  if (html) {
    t['<'] = 1;
    t['>'] = 1;
    t['&'] = 1;
  }
  for (int c = 0x80; c < 0x100; ++c) t[c] = 2;
  return t;
}
constexpr std::array<uint8_t, 256> kGoClass = MakeClassTable(true);
constexpr std::array<uint8_t, 256> kPlainClass = MakeClassTable(false);

constexpr char kHex[] = "0123456789abcdef";

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

inline uint64_t HasZeroByte(uint64_t v) { return (v - kOnes) & ~v & kHighs; }
inline uint64_t HasByte(uint64_t v, unsigned char c) { return HasZeroByte(v ^ (kOnes * c)); }

// Non-zero if any of the 8 bytes in v is not class 0 (exact as a boolean).
template <bool kHtml>
inline uint64_t NeedsAttention(uint64_t v) {
  const uint64_t lt_space = (v - kOnes * 0x20) & ~v & kHighs;  // some byte < 0x20
  uint64_t r = lt_space | (v & kHighs) | HasByte(v, '"') | HasByte(v, '\\');
  if constexpr (kHtml) r |= HasByte(v, '<') | HasByte(v, '>') | HasByte(v, '&');
  return r;
}

// kHtml: '<' '>' '&' escaped; kLineSeps: U+2028/U+2029 escaped; kShortBF: \b and \f in their
// short forms (Go >= 1.22) rather than \u0008 / \u000c.
template <bool kHtml, bool kLineSeps, bool kShortBF>
void Escape(std::string* out, std::string_view s) {
  const std::array<uint8_t, 256>& cls_of = kHtml ? kGoClass : kPlainClass;
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
      if (NeedsAttention<kHtml>(v)) break;
      p += 8;
    }
    if (p >= end) break;
    const uint8_t cls = cls_of[*p];
    if (cls == 0) {
      ++p;
      continue;
    }
    if (cls == 2) {
      char32_t rune = 0;
      const size_t n = DecodeUtf8Rune(
          std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(end - p)), &rune);
      if (n != 0 && !(kLineSeps && (rune == 0x2028 || rune == 0x2029))) {
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
      case '\b':
      case '\f':
        if constexpr (kShortBF) {
          out->append(c == '\b' ? "\\b" : "\\f");
          break;
        }
        [[fallthrough]];
      default: {  // other control bytes and < > &
        const char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
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

}  // namespace

void AppendJsonString(std::string* out, std::string_view s, JsonEscaping escaping) {
  switch (escaping) {
    case JsonEscaping::kGo:
      return Escape<true, true, false>(out, s);
    case JsonEscaping::kGoNoHtml:
      return Escape<false, true, true>(out, s);
    case JsonEscaping::kLogfmt:
      return Escape<false, false, false>(out, s);
  }
}

}  // namespace skald
