#include "core/go_string.h"

#include <cstdint>

namespace skald {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendHexEscape(std::string* out, unsigned char c) {
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// Go's strconv.IsPrint is a Unicode table lookup; we approximate it by treating
// the C1 controls and a few well-known non-printables as non-printable.
bool IsPrintableRune(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD) return false;                   // soft hyphen
  if (r >= 0x2028 && r <= 0x202E) return false;  // line/para separators, bidi
  if (r >= 0x2060 && r <= 0x206F) return false;  // invisible formatting
  if (r == 0xFEFF || r == 0xFFFE || r == 0xFFFF) return false;
  return true;
}

void AppendUnicodeEscape(std::string* out, char32_t r) {
  if (r < 0x10000) {
    out->append("\\u");
    for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(r >> shift) & 0xF]);
  } else {
    out->append("\\U");
    for (int shift = 28; shift >= 0; shift -= 4) out->push_back(kHex[(r >> shift) & 0xF]);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendGoQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      // Copy a run of plain ASCII at once.
      size_t j = i + 1;
      while (j < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7F || d == '"' || d == '\\') break;
        j++;
      }
      out->append(s.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        i++;
        continue;
      case '\\':
        out->append("\\\\");
        i++;
        continue;
      case '\a':
        out->append("\\a");
        i++;
        continue;
      case '\b':
        out->append("\\b");
        i++;
        continue;
      case '\f':
        out->append("\\f");
        i++;
        continue;
      case '\n':
        out->append("\\n");
        i++;
        continue;
      case '\r':
        out->append("\\r");
        i++;
        continue;
      case '\t':
        out->append("\\t");
        i++;
        continue;
      case '\v':
        out->append("\\v");
        i++;
        continue;
      default:
        break;
    }
    if (c < 0x80) {  // remaining control bytes and DEL
      AppendHexEscape(out, c);
      i++;
      continue;
    }
    char32_t r;
    size_t n = DecodeUtf8Rune(s.substr(i), &r);
    if (n == 0) {
      AppendHexEscape(out, c);
      i++;
      continue;
    }
    if (IsPrintableRune(r)) {
      out->append(s.data() + i, n);
    } else {
      AppendUnicodeEscape(out, r);
    }
    i += n;
  }
  out->push_back('"');
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendGoQuoted(&out, s);
  return out;
}

Status ParseGoStringLiteral(std::string_view text, std::string* value, size_t* consumed) {
  value->clear();
  if (text.empty()) return Status::InvalidArgument("expected string literal");
  char quote = text[0];
  if (quote == '`') {
    size_t end = text.find('`', 1);
    if (end == std::string_view::npos) return Status::InvalidArgument("unterminated raw string");
    std::string_view body = text.substr(1, end - 1);
    if (!IsValidUtf8(body)) return Status::InvalidArgument("invalid UTF-8 in string");
    // Go drops carriage returns from raw strings.
    for (char c : body) {
      if (c != '\r') value->push_back(c);
    }
    *consumed = end + 1;
    return Status::OK();
  }
  if (quote != '"' && quote != '\'') return Status::InvalidArgument("expected string literal");
  size_t i = 1;
  while (true) {
    if (i >= text.size()) return Status::InvalidArgument("unterminated string");
    char c = text[i];
    if (c == quote) {
      *consumed = i + 1;
      return Status::OK();
    }
    if (c == '\n') return Status::InvalidArgument("newline in string");
    if (c != '\\') {
      unsigned char uc = static_cast<unsigned char>(c);
      if (uc < 0x80) {
        value->push_back(c);
        i++;
        continue;
      }
      char32_t r;
      size_t n = DecodeUtf8Rune(text.substr(i), &r);
      if (n == 0) return Status::InvalidArgument("invalid UTF-8 in string");
      value->append(text.data() + i, n);
      i += n;
      continue;
    }
    // Escape sequence.
    if (i + 1 >= text.size()) return Status::InvalidArgument("unterminated string");
    char e = text[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        value->push_back('\a');
        break;
      case 'b':
        value->push_back('\b');
        break;
      case 'f':
        value->push_back('\f');
        break;
      case 'n':
        value->push_back('\n');
        break;
      case 'r':
        value->push_back('\r');
        break;
      case 't':
        value->push_back('\t');
        break;
      case 'v':
        value->push_back('\v');
        break;
      case '\\':
        value->push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != quote) return Status::InvalidArgument("invalid escape sequence");
        value->push_back(e);
        break;
      case 'x': {
        if (i + 2 > text.size()) return Status::InvalidArgument("invalid escape sequence");
        int h = HexValue(text[i]), l = HexValue(text[i + 1]);
        if (h < 0 || l < 0) return Status::InvalidArgument("invalid escape sequence");
        value->push_back(static_cast<char>(h * 16 + l));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n > text.size()) return Status::InvalidArgument("invalid escape sequence");
        char32_t r = 0;
        for (size_t k = 0; k < n; k++) {
          int h = HexValue(text[i + k]);
          if (h < 0) return Status::InvalidArgument("invalid escape sequence");
          r = r * 16 + static_cast<char32_t>(h);
        }
        if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
          return Status::InvalidArgument("invalid escape sequence");
        }
        AppendUtf8(value, r);
        i += n;
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (i + 2 > text.size()) return Status::InvalidArgument("invalid escape sequence");
        int v = e - '0';
        for (size_t k = 0; k < 2; k++) {
          char d = text[i + k];
          if (d < '0' || d > '7') return Status::InvalidArgument("invalid escape sequence");
          v = v * 8 + (d - '0');
        }
        if (v > 255) return Status::InvalidArgument("invalid escape sequence");
        value->push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default:
        return Status::InvalidArgument("invalid escape sequence");
    }
  }
}

StatusOr<std::string> GoUnquote(std::string_view quoted) {
  std::string value;
  size_t consumed = 0;
  SKALD_RETURN_IF_ERROR(ParseGoStringLiteral(quoted, &value, &consumed));
  if (consumed != quoted.size()) return Status::InvalidArgument("trailing characters after string");
  return value;
}

}  // namespace skald
