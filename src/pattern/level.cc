#include "pattern/level.h"

#include <string>

#include "core/ascii.h"
#include "pattern/tokenizer.h"

namespace skald::pattern {

namespace {

// Loki's validation.DefaultAllowedLevelFields, in priority order.
const std::vector<std::string>& LevelFields() {
  static const std::vector<std::string> f = {
      "level",    "LEVEL",         "Level",         "log.level",    "severity",
      "SEVERITY", "Severity",      "SeverityText",  "lvl",          "LVL",
      "Lvl",      "severity_text", "Severity_Text", "SEVERITY_TEXT"};
  return f;
}

bool LeftBoundary(std::string_view s, size_t pos_plus_one) {
  if (pos_plus_one == 0) return true;
  const char c = s[pos_plus_one - 1];
  return c == ' ' || c == '\t' || c == '\n' || c == '[' || c == '(' || c == '{' || c == '"' ||
         c == '=';
}

bool RightBoundary(std::string_view s, size_t pos) {
  if (pos >= s.size()) return true;
  const char c = s[pos];
  return c == ' ' || c == '\t' || c == '\n' || c == '[' || c == ']' || c == '(' || c == ')' ||
         c == '{' || c == '}' || c == ':' || c == ',' || c == '!' || c == '"' || c == '=';
}

// Logfmt scan (Loki's getValueUsingLogfmtParser, simplified): the value of the first key
// matching a level field (case-insensitive), by field priority.
std::string_view LogfmtLevelValue(std::string_view line) {
  const auto& fields = LevelFields();
  size_t best = fields.size();
  std::string_view result;
  size_t i = 0;
  const size_t n = line.size();
  while (i < n) {
    while (i < n && static_cast<unsigned char>(line[i]) <= ' ') i++;
    size_t ks = i;
    while (i < n && line[i] != '=' && static_cast<unsigned char>(line[i]) > ' ') i++;
    std::string_view key = line.substr(ks, i - ks);
    std::string_view value;
    if (i < n && line[i] == '=') {
      i++;
      if (i < n && line[i] == '"') {
        size_t vs = ++i;
        while (i < n && line[i] != '"') {
          if (line[i] == '\\') i++;
          i++;
        }
        value = line.substr(vs, std::min(i, n) - vs);
        if (i < n) i++;
      } else {
        size_t vs = i;
        while (i<n&& static_cast<unsigned char>(line[i])> ' ') i++;
        value = line.substr(vs, i - vs);
      }
    }
    for (size_t x = 0; x < best; x++) {
      if (EqualsIgnoreCase(key, fields[x])) {
        best = x;
        result = value;
        if (x == 0) return result;
        break;
      }
    }
  }
  return result;
}

int KnownLevelOrMinusOne(std::string_view v) {
  std::string_view n = NormalizeLogLevel(v);
  for (int i = 1; i < kLevelCount; i++) {
    if (n == kLevels[i]) return i;
  }
  return -1;
}

}  // namespace

int LevelIndex(std::string_view level) {
  for (int i = 0; i < kLevelCount; i++) {
    if (EqualsIgnoreCase(level, kLevels[i])) return i;
  }
  return 0;
}

std::string_view NormalizeLogLevel(std::string_view v) {
  auto is = [&](std::string_view w) { return EqualsIgnoreCase(v, w); };
  if (is("trace") || is("trc")) return "trace";
  if (is("debug") || is("dbg")) return "debug";
  if (is("info") || is("inf") || is("information")) return "info";
  if (is("warn") || is("wrn") || is("warning")) return "warn";
  if (is("error") || is("err")) return "error";
  if (is("critical")) return "critical";
  if (is("fatal")) return "fatal";
  return v;
}

std::string_view DetectLevelFromLine(std::string_view line) {
  // One pass: the earliest word-bounded level word wins; at one position, the first in
  // Loki's list (trace, debug, fatal, critical, error, err, warning, warn, info).
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"trace", "trace"},       {"debug", "debug"}, {"fatal", "fatal"},
      {"critical", "critical"}, {"error", "error"}, {"err", "error"},
      {"warning", "warn"},      {"warn", "warn"},   {"info", "info"}};
  const size_t n = line.size();
  for (size_t i = 0; i < n; i++) {
    const char c = AsciiToLower(line[i]);
    if (c != 't' && c != 'd' && c != 'f' && c != 'c' && c != 'e' && c != 'w' && c != 'i') continue;
    if (!LeftBoundary(line, i)) continue;
    for (const auto& [word, level] : kWords) {
      if (word[0] != c || n - i < word.size()) continue;
      if (!EqualsIgnoreCase(line.substr(i, word.size()), word)) continue;
      if (RightBoundary(line, i + word.size())) return level;
    }
  }
  return "unknown";
}

bool IsLevelMetadata(std::string_view name) {
  if (name == "detected_level") return true;
  for (const std::string& f : LevelFields()) {
    if (name == f) return true;
  }
  return false;
}

int StreamLevel(const Labels& labels) {
  for (const std::string& f : LevelFields()) {
    if (labels.Has(f)) return LevelIndex(NormalizeLogLevel(labels.Get(f)));
  }
  return -1;
}

int EntryLevel(std::string_view line, std::span<const MetadataPair> metadata, int stream_level) {
  for (const MetadataPair& m : metadata) {
    if (m.name == "detected_level") return LevelIndex(m.value);
  }
  if (stream_level >= 0) return stream_level;
  for (const std::string& f : LevelFields()) {
    for (const MetadataPair& m : metadata) {
      if (m.name == f) return LevelIndex(NormalizeLogLevel(m.value));
    }
  }
  // JSON: first/last non-space bytes are braces.
  size_t a = 0, b = line.size();
  while (a < b && (line[a] == ' ' || line[a] == '\t' || line[a] == '\n' || line[a] == '\r')) a++;
  while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\n' ||
                   line[b - 1] == '\r')) {
    b--;
  }
  std::string_view v;
  bool structured = false;
  if (b - a >= 2 && line[a] == '{' && line[b - 1] == '}') {
    structured = true;
    FindJsonStringField(line.substr(a, b - a), LevelFields(), &v);
  } else if (line.find('=') != std::string_view::npos) {
    structured = true;
    v = LogfmtLevelValue(line);
  }
  if (structured) {
    int known = KnownLevelOrMinusOne(v);
    if (known >= 0) return known;
  }
  return LevelIndex(DetectLevelFromLine(line));
}

}  // namespace skald::pattern
