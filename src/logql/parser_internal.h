// Internals shared by the line parsers (parsers.cc, json_parser.cc, logfmt_parser.cc): the
// per-parser scratch arena and the factory functions behind NewLineParser. Not a public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logql/parsers.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace skald::logql::internal {

// Bump allocator for unescaped values and built names. Views handed out stay valid until
// Reset (the next Parse): blocks are never moved or freed while in use, and once the blocks
// have grown to a line's needs, Reserve allocates nothing.
class ScratchArena {
 public:
  void Reset() {
    block_ = 0;
    used_ = 0;
  }
  // Room for at most `n` bytes; call Commit with what was written before the next Reserve.
  char* Reserve(size_t n) {
    while (block_ < blocks_.size()) {
      if (sizes_[block_] - used_ >= n) return blocks_[block_].get() + used_;
      block_++;
      used_ = 0;
    }
    size_t size = sizes_.empty() ? 4096 : sizes_.back() * 2;
    if (size < n) size = n;
    blocks_.push_back(std::unique_ptr<char[]>(new char[size]));
    sizes_.push_back(size);
    block_ = blocks_.size() - 1;
    used_ = 0;
    return blocks_[block_].get();
  }
  std::string_view Commit(const char* p, size_t written) {
    used_ += written;
    return std::string_view(p, written);
  }
  std::string_view Copy(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
    char* p = Reserve(a.size() + b.size() + c.size());
    char* w = p;
    Put(&w, a);
    Put(&w, b);
    Put(&w, c);
    return Commit(p, static_cast<size_t>(w - p));
  }

 private:
  // Short names are copied inline: a libc call costs more than the bytes.
  static void Put(char** w, std::string_view s) {
    if (s.size() <= 16) {
      for (char c : s) *(*w)++ = c;
    } else {
      __builtin_memcpy(*w, s.data(), s.size());
      *w += s.size();
    }
  }

  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  size_t block_ = 0;
  size_t used_ = 0;
};

// Equality of two (usually short) label names without a libc call: names are compared on
// every extracted key, and memcmp's call overhead dominates at these lengths.
inline bool NameEq(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n > 16) return __builtin_memcmp(p, q, n) == 0;
  if (n >= 8) {
    uint64_t x0, y0, x1, y1;
    __builtin_memcpy(&x0, p, 8);
    __builtin_memcpy(&y0, q, 8);
    __builtin_memcpy(&x1, p + n - 8, 8);
    __builtin_memcpy(&y1, q + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4) {
    uint32_t x0, y0, x1, y1;
    __builtin_memcpy(&x0, p, 4);
    __builtin_memcpy(&y0, q, 4);
    __builtin_memcpy(&x1, p + n - 4, 4);
    __builtin_memcpy(&y1, q + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// Byte scanners of the hot loops, 16 bytes at a time where SSE2 is there. Each returns the
// index of the first matching byte in [i, end), or end; reads nothing outside [i, end).

// First `"` or `\`; *high is set when a byte >= 0x80 comes before it.
inline size_t FindQuoteOrBackslash(const char* d, size_t i, size_t end, bool* high) {
  unsigned hi = 0;
#if defined(__SSE2__)
  const __m128i q = _mm_set1_epi8('"');
  const __m128i b = _mm_set1_epi8('\\');
  while (i + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    unsigned m = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b))));
    unsigned h = static_cast<unsigned>(_mm_movemask_epi8(v));
    if (m != 0) {
      unsigned k = static_cast<unsigned>(__builtin_ctz(m));
      hi |= h & ((1u << k) - 1);
      *high |= hi != 0;
      return i + k;
    }
    hi |= h;
    i += 16;
  }
#endif
  for (; i < end; i++) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '"' || c == '\\') break;
    hi |= c >= 0x80;
  }
  *high |= hi != 0;
  return i;
}

// As FindQuoteOrBackslash for a json key; *clean tells whether every byte before the hit is in
// [A-Za-z0-9_] (the key needs no sanitizing then, but for a leading digit).
inline size_t FindKeyEnd(const char* d, size_t i, size_t end, bool* clean) {
  bool ok = true;
#if defined(__SSE2__)
  const __m128i q = _mm_set1_epi8('"');
  const __m128i b = _mm_set1_epi8('\\');
  while (i + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    unsigned m = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b))));
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), lower));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
    __m128i name = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    unsigned nm = static_cast<unsigned>(_mm_movemask_epi8(name));
    if (m != 0) {
      unsigned k = static_cast<unsigned>(__builtin_ctz(m));
      unsigned want = (1u << k) - 1;
      *clean = ok && (nm & want) == want;
      return i + k;
    }
    ok = ok && nm == 0xFFFF;
    i += 16;
  }
#endif
  for (; i < end; i++) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '"' || c == '\\') break;
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  *clean = ok;
  return i;
}

// First of `"`, `a` or `b`.
inline size_t FindQuoteOr2(const char* d, size_t i, size_t end, char a, char b) {
#if defined(__SSE2__)
  const __m128i q = _mm_set1_epi8('"');
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (i + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    __m128i e = _mm_or_si128(_mm_cmpeq_epi8(v, q),
                             _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(e));
    if (m != 0) return i + static_cast<unsigned>(__builtin_ctz(m));
    i += 16;
  }
#endif
  for (; i < end; i++) {
    char c = d[i];
    if (c == '"' || c == a || c == b) break;
  }
  return i;
}

// First `=`, `"` or byte <= ' ' (logfmt delimiters); *high as above.
inline size_t FindLogfmtDelim(const char* d, size_t i, size_t end, bool* high) {
  unsigned hi = 0;
#if defined(__SSE2__)
  const __m128i eq = _mm_set1_epi8('=');
  const __m128i q = _mm_set1_epi8('"');
  const __m128i sp = _mm_set1_epi8(' ');
  while (i + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    __m128i e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_cmpeq_epi8(v, q)),
                             _mm_cmpeq_epi8(_mm_min_epu8(v, sp), v));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(e));
    unsigned h = static_cast<unsigned>(_mm_movemask_epi8(v));
    if (m != 0) {
      unsigned k = static_cast<unsigned>(__builtin_ctz(m));
      hi |= h & ((1u << k) - 1);
      *high |= hi != 0;
      return i + k;
    }
    hi |= h;
    i += 16;
  }
#endif
  for (; i < end; i++) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '=' || c == '"' || c <= ' ') break;
    hi |= c >= 0x80;
  }
  *high |= hi != 0;
  return i;
}

// As FindLogfmtDelim for a logfmt key; *clean tells whether every byte before the hit is in
// [A-Za-z0-9_] (then the key needs no sanitizing, but for a leading digit).
inline size_t FindLogfmtKeyEnd(const char* d, size_t i, size_t end, bool* high, bool* clean) {
  unsigned hi = 0;
  bool ok = true;
#if defined(__SSE2__)
  const __m128i eq = _mm_set1_epi8('=');
  const __m128i q = _mm_set1_epi8('"');
  const __m128i sp = _mm_set1_epi8(' ');
  while (i + 16 <= end) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    __m128i e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_cmpeq_epi8(v, q)),
                             _mm_cmpeq_epi8(_mm_min_epu8(v, sp), v));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(e));
    unsigned h = static_cast<unsigned>(_mm_movemask_epi8(v));
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), lower));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
    __m128i name = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    unsigned nm = static_cast<unsigned>(_mm_movemask_epi8(name));
    if (m != 0) {
      unsigned k = static_cast<unsigned>(__builtin_ctz(m));
      unsigned want = (1u << k) - 1;
      hi |= h & want;
      *high |= hi != 0;
      *clean = ok && (nm & want) == want;
      return i + k;
    }
    hi |= h;
    ok = ok && nm == 0xFFFF;
    i += 16;
  }
#endif
  for (; i < end; i++) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '=' || c == '"' || c <= ' ') break;
    hi |= c >= 0x80;
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  *high |= hi != 0;
  *clean = ok;
  return i;
}

// Sanitizes `key` as SanitizeLabelName does; returns a view of `key` itself when it is
// already a clean name (the common case), else a view into *arena. `is_prefix` = false skips
// the `_` before a leading digit (nested json keys, which follow a `_`).
std::string_view SanitizeKey(std::string_view key, bool is_prefix, ScratchArena* arena);

// JSON string unescaping as Go's jsonparser.Unescape does (\" \\ \/ \b \f \n \r \t \uXXXX with
// surrogate pairs). Writes at most src.size() bytes to dst; returns the length, or -1 on an
// invalid escape.
long JsonUnescape(std::string_view src, char* dst);

// `hints` may be null (every name wanted); only the parameterless forms use them.
StatusOr<std::unique_ptr<LineParser>> NewJsonParser(const PipelineStage& stage,
                                                    std::shared_ptr<const LabelHints> hints);
StatusOr<std::unique_ptr<LineParser>> NewUnpackParser();
StatusOr<std::unique_ptr<LineParser>> NewLogfmtParser(const PipelineStage& stage,
                                                      std::shared_ptr<const LabelHints> hints);

}  // namespace skald::logql::internal
