#include "distributor/level_detection.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace skald::distributor {

namespace {

constexpr std::string_view kTrace = "trace", kDebug = "debug", kInfo = "info", kWarn = "warn",
                           kError = "error", kCritical = "critical", kFatal = "fatal",
                           kUnknown = "unknown";

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// The known level `v` names (case-insensitively), or "" when it names none.
std::string_view KnownLevel(std::string_view v) {
  if (v.size() < 3 || v.size() > 11) return {};
  if (EqualFold(v, "trace") || EqualFold(v, "trc")) return kTrace;
  if (EqualFold(v, "debug") || EqualFold(v, "dbg")) return kDebug;
  if (EqualFold(v, "info") || EqualFold(v, "inf") || EqualFold(v, "information")) return kInfo;
  if (EqualFold(v, "warn") || EqualFold(v, "wrn") || EqualFold(v, "warning")) return kWarn;
  if (EqualFold(v, "error") || EqualFold(v, "err")) return kError;
  if (EqualFold(v, "critical")) return kCritical;
  if (EqualFold(v, "fatal")) return kFatal;
  return {};
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Loki's word boundaries for the keyword scan: colons may follow a level word ("debug: x") but
// not precede it ("misc:error" is no level). The left side is a table in FromWords.
bool RightBoundary(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '[' || c == ']' || c == '(' || c == ')' ||
         c == '{' || c == '}' || c == ':' || c == ',' || c == '!' || c == '"' || c == '=';
}

// The level words of the scan, longest first where one is a prefix of another, so that at one
// position the list order decides (Loki's order: trace, debug, fatal, critical, error, err,
// warning, warn, info).
struct Word {
  std::string_view word;
  std::string_view level;
};
constexpr Word kWords[] = {{"trace", kTrace},       {"debug", kDebug}, {"fatal", kFatal},
                           {"critical", kCritical}, {"error", kError}, {"err", kError},
                           {"warning", kWarn},      {"warn", kWarn},   {"info", kInfo}};

// --- a tolerant JSON walker (only what level detection needs) ---

class JsonWalker {
 public:
  JsonWalker(std::string_view s, const std::vector<std::string>& fields, int max_depth)
      : s_(s), fields_(fields), max_depth_(max_depth) {}

  // Walks the object at the start of s_ (after whitespace). Returns the raw bytes of the first
  // string value whose raw key is one of the fields, depth first, or "".
  std::string_view Find() {
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != '{') return {};
    std::string_view out;
    Object(0, &out);
    return out;
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) pos_++;
  }
  // At '"': returns the raw content and moves past the closing quote; false when unterminated.
  bool String(std::string_view* raw) {
    size_t start = ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\\') {
        pos_ += 2;
        continue;
      }
      if (c == '"') {
        *raw = s_.substr(start, pos_ - start);
        pos_++;
        return true;
      }
      pos_++;
    }
    return false;
  }
  // Skips any value; false on malformed input.
  bool Skip() {
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '"') {
      std::string_view ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        char d = s_[pos_];
        if (d == '"') {
          std::string_view ignored;
          if (!String(&ignored)) return false;
          continue;
        }
        if (d == '{' || d == '[') depth++;
        if (d == '}' || d == ']') {
          if (--depth == 0) {
            pos_++;
            return true;
          }
        }
        pos_++;
      }
      return false;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' &&
           !IsSpace(s_[pos_])) {
      pos_++;
    }
    return pos_ > start;
  }
  bool IsField(std::string_view key) const {
    for (const std::string& f : fields_) {
      if (f == key) return true;
    }
    return false;
  }
  // At '{'. Returns true to stop (found or malformed).
  bool Object(int depth, std::string_view* out) {
    pos_++;  // '{'
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      pos_++;
      return false;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return true;
      std::string_view key;
      if (!String(&key)) return true;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return true;
      pos_++;
      SkipSpace();
      if (pos_ >= s_.size()) return true;
      char c = s_[pos_];
      if (c == '"') {
        std::string_view value;
        if (!String(&value)) return true;
        if (IsField(key)) {
          *out = value;
          return true;
        }
      } else if (c == '{' && (max_depth_ <= 0 || depth + 1 < max_depth_)) {
        if (Object(depth + 1, out)) return true;
      } else if (!Skip()) {
        return true;
      }
      SkipSpace();
      if (pos_ >= s_.size()) return true;
      if (s_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (s_[pos_] == '}') {
        pos_++;
        return false;
      }
      return true;
    }
  }

  std::string_view s_;
  const std::vector<std::string>& fields_;
  const int max_depth_;
  size_t pos_ = 0;
};

bool LooksLikeJson(std::string_view line) {
  size_t b = 0, e = line.size();
  while (b < e && IsSpace(line[b])) b++;
  while (e > b && IsSpace(line[e - 1])) e--;
  return e > b && line[b] == '{' && line[e - 1] == '}';
}

}  // namespace

LevelDetector::LevelDetector(std::vector<std::string> fields, int max_json_depth)
    : fields_(std::move(fields)), max_json_depth_(max_json_depth) {}

std::string_view LevelDetector::Normalize(std::string_view v) {
  std::string_view known = KnownLevel(v);
  return known.empty() ? v : known;
}

std::string_view LevelDetector::FromWords(std::string_view line) {
  // Only word starts can match: test the byte before first (a table lookup), then the first
  // letter, then the words. Letters compare with `| 0x20`, exact for ASCII letters.
  static constexpr auto kLeft = [] {
    std::array<bool, 256> t{};
    for (char c : {' ', '\t', '\n', '[', '(', '{', '"', '='})
      t[static_cast<unsigned char>(c)] = true;
    return t;
  }();
  const size_t n = line.size();
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && !kLeft[static_cast<unsigned char>(line[i - 1])]) continue;
    const char c = static_cast<char>(line[i] | 0x20);
    if (c != 't' && c != 'd' && c != 'f' && c != 'c' && c != 'e' && c != 'w' && c != 'i') continue;
    for (const Word& w : kWords) {
      if (w.word[0] != c || n - i < w.word.size()) continue;
      bool same = true;
      for (size_t k = 1; k < w.word.size() && same; k++) same = (line[i + k] | 0x20) == w.word[k];
      if (!same) continue;
      const size_t end = i + w.word.size();
      if (end < n && !RightBoundary(line[end])) continue;
      return w.level;
    }
  }
  return kUnknown;
}

std::string_view LevelDetector::FromJson(std::string_view line) const {
  JsonWalker walker(line, fields_, max_json_depth_);
  return walker.Find();
}

// Go logfmt's scanning: keys are runs of bytes above ' ' other than '=' and '"'; a value is a
// quoted string or a run up to the next space. Malformed input ends the scan. Keys match the
// fields case-insensitively; the earliest field in the list wins, the first one ends the scan.
std::string_view LevelDetector::FromLogfmt(std::string_view line) const {
  size_t best = fields_.size();
  std::string_view res;
  size_t i = 0;
  const size_t n = line.size();
  while (i < n) {
    while (i < n && static_cast<unsigned char>(line[i]) <= ' ') i++;
    if (i >= n) break;
    size_t ks = i;
    while (i<n&& static_cast<unsigned char>(line[i])> ' ' && line[i] != '=' && line[i] != '"') i++;
    if (i == ks) break;  // '=' or '"' where a key should start
    std::string_view key = line.substr(ks, i - ks);
    std::string_view value;
    if (i < n && line[i] == '=') {
      i++;
      if (i < n && line[i] == '"') {
        size_t vs = ++i;
        while (i < n && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
        if (i >= n) break;  // unterminated
        // An escaped value is never a known level; keep it raw (it then falls to the word scan).
        value = line.substr(vs, i - vs);
        i++;
      } else {
        size_t vs = i;
        while (i<n&& static_cast<unsigned char>(line[i])> ' ') {
          if (line[i] == '=' || line[i] == '"') return res;  // malformed: stop
          i++;
        }
        value = line.substr(vs, i - vs);
      }
    } else if (i<n&& static_cast<unsigned char>(line[i])> ' ') {
      break;  // '"' right after a key
    }
    for (size_t x = 0; x < best; x++) {
      if (EqualFold(key, fields_[x])) {
        res = value;
        best = x;
        if (x == 0) return res;
        break;
      }
    }
  }
  return res;
}

std::string_view LevelDetector::FromLine(std::string_view line) const {
  std::string_view v;
  if (LooksLikeJson(line)) {
    v = FromJson(line);
  } else if (line.find('=') != std::string_view::npos) {
    v = FromLogfmt(line);
  } else {
    return FromWords(line);
  }
  std::string_view known = KnownLevel(v);
  return known.empty() ? FromWords(line) : known;
}

std::string_view LevelDetector::FromEntry(std::span<const MetadataPair> metadata,
                                          std::string_view line) const {
  for (const std::string& f : fields_) {
    for (const MetadataPair& p : metadata) {
      if (p.name == f) return Normalize(p.value);
    }
  }
  for (const MetadataPair& p : metadata) {
    if (p.name != "severity_number") continue;
    if (p.value.empty()) break;  // Loki reads an empty value as absent
    int n = 0;
    auto [ptr, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), n);
    if (ec != std::errc() || ptr != p.value.data() + p.value.size()) return kInfo;
    if (n == 0) return kUnknown;
    if (n <= 4) return kTrace;
    if (n <= 8) return kDebug;
    if (n <= 12) return kInfo;
    if (n <= 16) return kWarn;
    if (n <= 20) return kError;
    if (n <= 24) return kFatal;
    return kUnknown;
  }
  return FromLine(line);
}

}  // namespace skald::distributor
