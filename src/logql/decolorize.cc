// ANSI escape stripping: see decolorize.h.
#include "logql/decolorize.h"

#include <cstring>

namespace skald::logql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIntro(char c) {
  return c == '[' || c == ']' || c == '(' || c == ')' || c == '#' || c == ';' || c == '?';
}
bool IsFinal(char c) {
  if (IsDigit(c)) return true;
  if (c >= 'A' && c <= 'P') return true;
  if (c >= 'f' && c <= 'n') return true;
  switch (c) {
    case 'R':
    case 'Z':
    case 'c':
    case 'q':
    case 'r':
    case 't':
    case 'y':
    case '=':
    case '>':
    case '<':
    case '~':
      return true;
    default:
      return false;
  }
}

// Length of the escape sequence whose body starts at s[k] (after ESC/CSI), or 0.
size_t BodyLength(std::string_view s, size_t k) {
  const size_t n = s.size();
  size_t p = k;
  while (p < n && IsIntro(s[p])) p++;
  const size_t body = p;
  // First alternative: [A-Za-z0-9;]* then BEL.
  size_t q = body;
  while (q < n && (IsAlnum(s[q]) || s[q] == ';')) q++;
  if (q < n && s[q] == '\x07') return q + 1 - k;
  // Second alternative: (digits{1,4} (; digits{0,4})*)? then a final byte.
  if (body >= n) return 0;
  if (!IsDigit(s[body])) return IsFinal(s[body]) ? body + 1 - k : 0;
  q = body;
  for (int d = 0; d < 4 && q < n && IsDigit(s[q]); d++) q++;
  while (q < n && s[q] == ';') {
    q++;
    for (int d = 0; d < 4 && q < n && IsDigit(s[q]); d++) q++;
  }
  if (q < n && IsFinal(s[q])) return q + 1 - k;
  // Backtracking gives back characters until a digit can serve as the final byte.
  size_t last = q;
  while (last > body && !IsDigit(s[last - 1])) last--;
  return last - k;  // s[last-1] is a digit (s[body] is one)
}

}  // namespace

bool MayHaveAnsi(std::string_view line) {
  return std::memchr(line.data(), 0x1b, line.size()) != nullptr ||
         line.find("\xc2\x9b") != std::string_view::npos;
}

void StripAnsi(std::string_view line, std::string* out) {
  out->clear();
  size_t copied = 0;
  size_t i = 0;
  while (i < line.size()) {
    size_t intro = 0;
    if (line[i] == '\x1b') {
      intro = 1;
    } else if (line[i] == '\xc2' && i + 1 < line.size() && line[i + 1] == '\x9b') {
      intro = 2;
    }
    if (intro == 0) {
      i++;
      continue;
    }
    size_t len = BodyLength(line, i + intro);
    if (len == 0) {
      i += intro;
      continue;
    }
    out->append(line.data() + copied, i - copied);
    i += intro + len;
    copied = i;
  }
  out->append(line.data() + copied, line.size() - copied);
}

}  // namespace skald::logql
