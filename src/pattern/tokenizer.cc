#include "pattern/tokenizer.h"

#include <array>
#include <deque>

#include "core/utf8.h"

namespace skald::pattern {

namespace {

bool IsWordChar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsRegexSpace(unsigned char c) {  // RE2's \s: [\t\n\f\r ]
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// Loki's logfmt regex, ^(\w+?=([^"]\S*?|".+?") )*?(\w+?=([^"]\S*?|".+?"))+$, as a search over
// (pair start, whether pairs are already concatenated without a space).
bool MatchesLogfmtRegex(std::string_view s) {
  const size_t n = s.size();
  std::vector<uint8_t> seen(2 * (n + 1), 0);
  std::vector<std::pair<size_t, int>> todo = {{0, 0}};
  seen[0] = 1;
  auto push = [&](size_t p, int mode) {
    if (p > n || seen[2 * p + mode]) return;
    seen[2 * p + mode] = 1;
    todo.emplace_back(p, mode);
  };
  while (!todo.empty()) {
    const size_t p = todo.back().first;
    const int mode = todo.back().second;
    todo.pop_back();
    size_t q = p;
    while (q < n && IsWordChar(static_cast<unsigned char>(s[q]))) q++;
    if (q == p || q >= n || s[q] != '=') continue;
    const size_t v = q + 1;
    if (v >= n) continue;
    auto at_end = [&](size_t e) {
      if (e == n) return true;
      if (mode == 0 && s[e] == ' ') push(e + 1, 0);
      push(e, 1);
      return false;
    };
    if (s[v] != '"') {
      size_t e = v + 1;
      if (at_end(e)) return true;
      while (e < n && !IsRegexSpace(static_cast<unsigned char>(s[e]))) {
        e++;
        if (at_end(e)) return true;
      }
    } else {
      for (size_t j = v + 1; j < n && s[j] != '\n'; j++) {
        if (s[j] == '"' && j > v + 1 && at_end(j + 1)) return true;
      }
    }
  }
  return false;
}

// Delimiters of the plain-text tokenizer: space, '=' and Go's unicode.IsPunct ASCII set
// minus _ - . : / (which stay inside tokens).
constexpr std::array<uint8_t, 256> kDelimiter = [] {
  std::array<uint8_t, 256> t{};
  for (char c : std::string_view(" =()[]{}!\"#%&'*,;?@\\")) t[static_cast<unsigned char>(c)] = 1;
  return t;
}();

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsVariableField(std::string_view key) {
  return EqualFold(key, "ts") || key == "t" || EqualFold(key, "traceID") ||
         EqualFold(key, "time") || EqualFold(key, "timestamp");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's utf8.AppendRune: surrogates and out-of-range values become U+FFFD.
void AppendRuneOrError(std::string* out, uint32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  AppendUtf8(out, r);
}

// Unquotes the inside of a logfmt quoted value holding a backslash (encoding/json rules);
// false for a bad escape or a control byte.
bool UnquoteInto(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < ' ') return false;
    if (c != '\\') {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (++i >= in.size()) return false;
    switch (in[i]) {
      case '"':
      case '\\':
      case '/':
      case '\'':
        out->push_back(in[i]);
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        auto hex4 = [&](size_t at, uint32_t* r) {
          if (at + 4 > in.size()) return false;
          uint32_t v = 0;
          for (size_t k = 0; k < 4; k++) {
            int h = HexValue(in[at + k]);
            if (h < 0) return false;
            v = v * 16 + static_cast<uint32_t>(h);
          }
          *r = v;
          return true;
        };
        uint32_t r = 0;
        if (!hex4(i + 1, &r)) return false;
        i += 4;
        if (r >= 0xD800 && r < 0xDC00 && i + 2 < in.size() && in[i + 1] == '\\' &&
            in[i + 2] == 'u') {
          uint32_t lo = 0;
          if (hex4(i + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
            r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendRuneOrError(out, r);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// Loki's logfmt decoder (pkg/logql/log/logfmt): one key/value per ScanKeyval.
class LogfmtDecoder {
 public:
  explicit LogfmtDecoder(std::string_view line) : line_(line) {}
  bool Eol() const { return pos_ >= line_.size(); }
  bool Err() const { return err_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

  // False at the end or on a syntax error (then Err()).
  bool ScanKeyval(std::deque<std::string>* unquoted) {
    key_ = {};
    value_ = {};
    const size_t n = line_.size();
    auto at = [&](size_t i) { return static_cast<unsigned char>(line_[i]); };
    while (pos_ < n && at(pos_) <= ' ') pos_++;
    if (pos_ >= n) return false;
    // key
    size_t start = pos_;
    bool multibyte = false;
    for (; pos_ < n; pos_++) {
      const unsigned char c = at(pos_);
      if (c == '=') {
        if (pos_ > start) key_ = line_.substr(start, pos_ - start);
        if (key_.empty() || (multibyte && HasInvalidUtf8(key_))) return SkipValue();
        break;
      }
      if (c == '"') return SkipValue();
      if (c <= ' ') {
        if (pos_ > start) key_ = line_.substr(start, pos_ - start);
        if (multibyte && HasInvalidUtf8(key_)) return Fail();
        return true;
      }
      if (c >= 0x80) multibyte = true;
    }
    if (pos_ >= n) {
      if (pos_ > start) key_ = line_.substr(start, pos_ - start);
      if (multibyte && HasInvalidUtf8(key_)) return Fail();
      return true;
    }
    // '=' then the value
    pos_++;
    if (pos_ >= n) return true;
    if (at(pos_) <= ' ') return true;
    if (at(pos_) == '"') {
      bool has_esc = false, esc = false;
      start = pos_;
      for (size_t i = pos_ + 1; i < n; i++) {
        const unsigned char c = at(i);
        if (esc) {
          esc = false;
        } else if (c == '\\') {
          has_esc = esc = true;
        } else if (c == '"') {
          pos_ = i + 1;
          std::string_view inner = line_.substr(start + 1, i - start - 1);
          if (has_esc) {
            unquoted->emplace_back();
            if (!UnquoteInto(inner, &unquoted->back())) return Fail();
            value_ = unquoted->back();
          } else {
            value_ = inner;
          }
          return true;
        }
      }
      pos_ = n;
      return Fail();
    }
    start = pos_;
    for (; pos_ < n; pos_++) {
      const unsigned char c = at(pos_);
      if (c == '=' || c == '"') return SkipValue();
      if (c <= ' ') break;
    }
    value_ = line_.substr(start, pos_ - start);
    return true;
  }

 private:
  static bool HasInvalidUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        i++;
        continue;
      }
      int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      if (len == 0 || c > 0xF4 || i + len > s.size()) return true;
      uint32_t r = c & (0x7F >> len);
      for (int k = 1; k < len; k++) {
        const unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return true;
        r = (r << 6) | (d & 0x3F);
      }
      if ((len == 3 && r < 0x800) || (len == 4 && (r < 0x10000 || r > 0x10FFFF)) ||
          (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFD) {
        return true;
      }
      i += len;
    }
    return false;
  }
  bool SkipValue() {
    err_ = true;
    while (pos_ < line_.size() && static_cast<unsigned char>(line_[pos_]) > ' ') pos_++;
    return false;
  }
  bool Fail() {
    err_ = true;
    return false;
  }

  std::string_view line_;
  size_t pos_ = 0;
  std::string_view key_, value_;
  bool err_ = false;
};

// Decodes one UTF-8 rune at s[i]; *size = bytes used; 0xFFFD (size 1) for an invalid byte.
uint32_t DecodeRune(std::string_view s, size_t i, size_t* size) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  *size = 1;
  if (c < 0x80) return c;
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size()) return 0xFFFD;
  uint32_t r = c & (0x7F >> len);
  for (int k = 1; k < len; k++) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0xFFFD;
    r = (r << 6) | (d & 0x3F);
  }
  if ((len == 3 && r < 0x800) || (len == 4 && (r < 0x10000 || r > 0x10FFFF)) ||
      (r >= 0xD800 && r <= 0xDFFF)) {
    return 0xFFFD;
  }
  *size = static_cast<size_t>(len);
  return r;
}

// go-logfmt's key: runes <= ' ', '=', '"', DEL and U+FFFD (or invalid bytes) dropped.
void AppendLogfmtKey(std::string* out, std::string_view key) {
  for (size_t i = 0; i < key.size();) {
    size_t size;
    uint32_t r = DecodeRune(key, i, &size);
    if (!(r <= ' ' || r == '=' || r == '"' || r == 0x7f || r == 0xFFFD)) {
      out->append(key.substr(i, size));
    }
    i += size;
  }
}

// go-logfmt's []byte value: quoted (JSON-style escapes) when it holds a rune <= ' ', '=',
// '"', DEL or U+FFFD.
void AppendLogfmtValue(std::string* out, std::string_view v) {
  bool quote = false;
  for (size_t i = 0; i < v.size() && !quote;) {
    size_t size;
    uint32_t r = DecodeRune(v, i, &size);
    quote = r <= ' ' || r == '=' || r == '"' || r == 0x7f || r == 0xFFFD;
    i += size;
  }
  if (!quote) {
    out->append(v);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < v.size();) {
    const unsigned char b = static_cast<unsigned char>(v[i]);
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != 0x7f) {
        out->push_back(static_cast<char>(b));
      } else if (b == '\\' || b == '"') {
        out->push_back('\\');
        out->push_back(static_cast<char>(b));
      } else if (b == '\n') {
        out->append("\\n");
      } else if (b == '\r') {
        out->append("\\r");
      } else if (b == '\t') {
        out->append("\\t");
      } else {
        out->append("\\u00");
        out->push_back(kHex[b >> 4]);
        out->push_back(kHex[b & 0xF]);
      }
      i++;
      continue;
    }
    size_t size;
    uint32_t r = DecodeRune(v, i, &size);
    if (r == 0xFFFD && size == 1) {
      out->append("\\ufffd");
    } else {
      out->append(v.substr(i, size));
    }
    i += size;
  }
  out->push_back('"');
}

// JSON scanning for FindJsonStringField (tolerant, like jsonparser).
size_t SkipWs(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}
// s[i] == '"': index after the closing quote, or npos.
size_t SkipString(std::string_view s, size_t i) {
  for (size_t j = i + 1; j < s.size(); j++) {
    if (s[j] == '\\') {
      j++;
    } else if (s[j] == '"') {
      return j + 1;
    }
  }
  return std::string_view::npos;
}
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (size_t j = i; j < s.size(); j++) {
      if (s[j] == '"') {
        j = SkipString(s, j);
        if (j == std::string_view::npos) return j;
        j--;
      } else if (s[j] == '{' || s[j] == '[') {
        depth++;
      } else if (s[j] == '}' || s[j] == ']') {
        if (--depth == 0) return j + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t j = i;
  while (j < s.size() && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' &&
         s[j] != '\n' && s[j] != '\r') {
    j++;
  }
  return j == i ? std::string_view::npos : j;
}

bool KeyEquals(std::string_view raw, std::string_view want) {
  if (raw.find('\\') == std::string_view::npos) return raw == want;
  std::string un;
  return UnquoteInto(raw, &un) && un == want;
}

}  // namespace

std::string_view LineFormatName(LineFormat f) {
  switch (f) {
    case LineFormat::kLogfmt:
      return "logfmt";
    case LineFormat::kJson:
      return "json";
    default:
      return "unknown";
  }
}

LineFormat DetectLogFormat(std::string_view line) {
  if (line.size() < 2) return LineFormat::kUnknown;
  if (line.front() == '{' && line.back() == '}') return LineFormat::kJson;
  if (MatchesLogfmtRegex(line)) return LineFormat::kLogfmt;
  return LineFormat::kUnknown;
}

void TokenizePunctuation(std::string_view line, std::vector<std::string_view>* tokens,
                         std::vector<int>* spaces) {
  tokens->clear();
  spaces->clear();
  size_t start = 0;
  for (size_t i = 0; i < line.size(); i++) {
    if (tokens->size() >= 127) break;
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (!kDelimiter[c]) continue;  // letters, digits, _-.:/, other bytes, non-ASCII
    if (i > start) tokens->push_back(line.substr(start, i - start));
    if (c == ' ') {
      spaces->push_back(static_cast<int>(tokens->size()) - 1);
    } else {
      tokens->push_back(line.substr(i, 1));
    }
    start = i + 1;
  }
  if (start < line.size()) tokens->push_back(line.substr(start));
}

std::string DeduplicatePlaceholders(std::string line) {
  const size_t first = line.find("<_><_>");
  if (first == std::string::npos) return line;
  std::string out;
  out.reserve(line.size());
  const std::string_view s = line;
  size_t low = 0;
  for (size_t i = first; i + 5 < s.size(); i++) {
    if (s.substr(i, 3) == kPlaceholder) {
      size_t high = i + 3;
      for (; high + 2 < s.size(); high += 3) {
        if (s.substr(high, 3) != kPlaceholder) break;
      }
      out.append(s.substr(low, i + 3 - low));
      low = high;
      i = high;
    }
  }
  out.append(s.substr(low));
  return out;
}

bool FindJsonStringField(std::string_view line, const std::vector<std::string>& fields,
                         std::string_view* value) {
  for (const std::string& want : fields) {
    size_t i = SkipWs(line, 0);
    if (i >= line.size() || line[i] != '{') return false;
    i = SkipWs(line, i + 1);
    while (i < line.size() && line[i] == '"') {
      const size_t key_end = SkipString(line, i);
      if (key_end == std::string_view::npos) break;
      std::string_view key = line.substr(i + 1, key_end - i - 2);
      i = SkipWs(line, key_end);
      if (i >= line.size() || line[i] != ':') break;
      i = SkipWs(line, i + 1);
      const size_t v_end = SkipValue(line, i);
      if (v_end == std::string_view::npos) break;
      if (KeyEquals(key, want)) {
        if (line[i] == '"') {
          *value = line.substr(i + 1, v_end - i - 2);
          return true;
        }
        break;  // the first occurrence decides; not a string
      }
      i = SkipWs(line, v_end);
      if (i < line.size() && line[i] == ',') i = SkipWs(line, i + 1);
    }
  }
  return false;
}

Tokenizer::Tokenizer(LineFormat format, int max_line_length, std::vector<std::string> json_fields)
    : format_(format), max_line_length_(max_line_length), json_fields_(std::move(json_fields)) {}

bool Tokenizer::Tokenize(std::string_view line, std::vector<std::string_view>* tokens,
                         std::vector<int>* spaces, SkipReason* why) const {
  *why = SkipReason::kNone;
  tokens->clear();
  spaces->clear();
  switch (format_) {
    case LineFormat::kUnknown:
      if (line.size() > static_cast<size_t>(max_line_length_)) {
        *why = SkipReason::kLineTooLong;
        return false;
      }
      TokenizePunctuation(line, tokens, spaces);
      return true;
    case LineFormat::kJson: {
      std::string_view msg;
      if (!FindJsonStringField(line, json_fields_, &msg) ||
          msg.size() > static_cast<size_t>(max_line_length_)) {
        *why = SkipReason::kParseError;
        return false;
      }
      TokenizePunctuation(msg, tokens, spaces);
      return true;
    }
    case LineFormat::kLogfmt: {
      if (line.size() > static_cast<size_t>(max_line_length_)) {
        *why = SkipReason::kLineTooLong;
        return false;
      }
      unquoted_.clear();
      LogfmtDecoder dec(line);
      while (!dec.Eol() && dec.ScanKeyval(&unquoted_)) {
        tokens->push_back(dec.key());
        tokens->push_back(IsVariableField(dec.key()) ? kPlaceholder : dec.value());
      }
      if (dec.Err()) {
        tokens->clear();
        *why = SkipReason::kParseError;
        return false;
      }
      return true;
    }
  }
  return false;
}

std::string Tokenizer::Join(const std::vector<std::string>& tokens,
                            const std::vector<int>& spaces) const {
  std::string out;
  if (format_ == LineFormat::kLogfmt) {
    for (size_t i = 0; i < tokens.size(); i += 2) {
      if (i > 0) out.push_back(' ');
      const size_t key_start = out.size();
      AppendLogfmtKey(&out, tokens[i]);
      if (out.size() == key_start) return "";  // go-logfmt: invalid key
      out.push_back('=');
      if (i + 1 < tokens.size()) AppendLogfmtValue(&out, tokens[i + 1]);
    }
    return DeduplicatePlaceholders(std::move(out));
  }
  if (format_ == LineFormat::kJson) out.append(kPlaceholder);
  size_t s = 0;
  for (size_t i = 0; i < tokens.size(); i++) {
    out.append(tokens[i]);
    while (s < spaces.size() && static_cast<int>(i) == spaces[s]) {
      out.push_back(' ');
      s++;
    }
  }
  if (format_ == LineFormat::kJson) out.append(kPlaceholder);
  return DeduplicatePlaceholders(std::move(out));
}

}  // namespace skald::pattern
