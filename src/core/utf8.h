// UTF-8 by Go's rules (unicode/utf8): decoding one rune, validation, encoding. Valid means
// no overlong forms, no surrogates (U+D800..U+DFFF) and nothing above U+10FFFF; every text
// codec and parser in Skald (LogQL, label strings, JSON, logfmt) uses these so they agree on
// what is valid. Header-only (these sit on hot paths), thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace skald {

// The replacement character U+FFFD that Go substitutes for invalid bytes.
inline constexpr char32_t kRuneError = 0xFFFD;

// Decodes one rune at s[0]; returns its length (1..4) and stores the code point in *rune, or
// returns 0 (and leaves *rune alone) on an empty input or an invalid or truncated sequence.
inline size_t DecodeUtf8Rune(std::string_view s, char32_t* rune) {
  if (s.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[0];
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  size_t n;
  char32_t r;
  char32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    r = (r << 6) | (p[i] & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  *rune = r;
  return n;
}

// True when s is valid UTF-8.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // ASCII runs need no decoding
      i++;
      continue;
    }
    char32_t r;
    const size_t n = DecodeUtf8Rune(s.substr(i), &r);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Writes the UTF-8 encoding of a code point (<= U+10FFFF) into buf (room for 4 bytes);
// returns its length.
inline size_t EncodeUtf8(char* buf, char32_t r) {
  if (r < 0x80) {
    buf[0] = static_cast<char>(r);
    return 1;
  }
  if (r < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (r >> 6));
    buf[1] = static_cast<char>(0x80 | (r & 0x3F));
    return 2;
  }
  if (r < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (r >> 12));
    buf[1] = static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (r & 0x3F));
    return 3;
  }
  buf[0] = static_cast<char>(0xF0 | (r >> 18));
  buf[1] = static_cast<char>(0x80 | ((r >> 12) & 0x3F));
  buf[2] = static_cast<char>(0x80 | ((r >> 6) & 0x3F));
  buf[3] = static_cast<char>(0x80 | (r & 0x3F));
  return 4;
}

// Appends the UTF-8 encoding of a code point.
inline void AppendUtf8(std::string* out, char32_t rune) {
  char buf[4];
  out->append(buf, EncodeUtf8(buf, rune));
}

// Go's unicode.IsSpace: the ASCII spaces, U+0085, U+00A0 and Unicode's White_Space runes.
inline bool IsUnicodeSpace(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

}  // namespace skald
