// The `json` and `unpack` parser stages: a single-pass scanner over the unpadded line that
// reproduces the leniency and the error texts of the Go JSON reader Loki uses (buger/
// jsonparser): numbers are not validated, trailing bytes after the object are ignored, a
// nested object's extent is found by counting braces before it is read.
#include <cstring>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "logql/parser_internal.h"

namespace skald::logql::internal {
namespace {

constexpr std::string_view kJsonErr = "JSONParserErr";
// Go's jsonparser error texts, which Loki puts in __error_details__.
constexpr std::string_view kMalformedObject =
    "Value looks like object, but can't find closing '}' symbol";
constexpr std::string_view kMalformedJson = "Malformed JSON error";
constexpr std::string_view kMalformedString = "Value is string, but can't find closing '\"' symbol";
constexpr std::string_view kMalformedArray = "Value is array, but can't find closing ']' symbol";
constexpr std::string_view kUnknownType = "Unknown value type";
constexpr std::string_view kBadEscape = "Encountered an invalid escape sequence in a string";

constexpr size_t kNpos = std::string_view::npos;

inline bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Index of the first non-whitespace byte in [i, end), or npos.
inline size_t NextToken(const char* d, size_t i, size_t end) {
  while (i < end && IsWs(d[i])) i++;
  return i < end ? i : kNpos;
}

// `i` is just past an opening quote. Returns the index just past the closing quote (the first
// quote not escaped by an odd run of backslashes), or npos; *escaped tells whether the string
// holds a backslash, *high whether it holds a byte >= 0x80.
inline size_t StringEnd(const char* d, size_t i, size_t end, bool* escaped, bool* high) {
  *escaped = false;
  *high = false;
  for (;;) {
    i = FindQuoteOrBackslash(d, i, end, high);
    if (i >= end) return kNpos;
    if (d[i] == '"') return i + 1;
    // A backslash escapes the next byte: pairing left to right is the same as counting the
    // backslash run before a quote.
    *escaped = true;
    i += 2;
  }
}

// `i` is at `open`. Returns the index just past the matching `close`, or npos. Strings are
// skipped; the other bracket kind is not counted (as jsonparser does).
inline size_t BlockEnd(const char* d, size_t i, size_t end, char open, char close) {
  int level = 0;
  for (;;) {
    i = FindQuoteOr2(d, i, end, open, close);
    if (i >= end) return kNpos;
    char c = d[i];
    if (c == '"') {
      bool esc, high;
      size_t se = StringEnd(d, i + 1, end, &esc, &high);
      if (se == kNpos) return kNpos;
      i = se;
      continue;
    }
    if (c == open) {
      level++;
    } else if (--level == 0) {
      return i + 1;
    }
    i++;
  }
}

// End of a number/bool/null token.
inline size_t TokenEnd(const char* d, size_t i, size_t end) {
  while (i < end) {
    char c = d[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == '}' || c == ']')
      return i;
    i++;
  }
  return end;
}

enum class VType { kString, kNumber, kBool, kNull, kObject, kArray };

struct Value {
  VType type;
  size_t begin;  // strings: first byte inside the quotes
  size_t end;    // strings: the closing quote
  bool escaped;  // strings: holds a backslash
  bool high;     // strings: holds a byte >= 0x80
};

// Reads the value starting at the token at `i` (already at a non-ws byte). On success sets
// *v and returns the index just past it; on failure returns npos and sets *err.
[[gnu::always_inline]] inline size_t ReadValue(const char* d, size_t i, size_t end, Value* v,
                                               std::string_view* err) {
  char c = d[i];
  if (c == '"') {
    bool esc, high;
    size_t se = StringEnd(d, i + 1, end, &esc, &high);
    if (se == kNpos) {
      *err = kMalformedString;
      return kNpos;
    }
    *v = Value{VType::kString, i + 1, se - 1, esc, high};
    return se;
  }
  if (c == '[' || c == '{') {
    size_t be = BlockEnd(d, i, end, c, c == '[' ? ']' : '}');
    if (be == kNpos) {
      *err = c == '[' ? kMalformedArray : kMalformedObject;
      return kNpos;
    }
    *v = Value{c == '[' ? VType::kArray : VType::kObject, i, be, false, false};
    return be;
  }
  size_t te = TokenEnd(d, i, end);
  std::string_view tok(d + i, te - i);
  switch (c) {
    case 't':
    case 'f':
      if (tok != "true" && tok != "false") {
        *err = kUnknownType;
        return kNpos;
      }
      *v = Value{VType::kBool, i, te, false, false};
      return te;
    case 'n':
    case 'u':
      if (tok != "null") {
        *err = kUnknownType;
        return kNpos;
      }
      *v = Value{VType::kNull, i, te, false, false};
      return te;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      *v = Value{VType::kNumber, i, te, false, false};
      return te;
    default:
      *err = kUnknownType;
      return kNpos;
  }
}

inline bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline int HexVal(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
inline long Hex4(const char* p, size_t avail) {
  if (avail < 4) return -1;
  long r = 0;
  for (int k = 0; k < 4; k++) {
    if (!IsHex(p[k])) return -1;
    r = r * 16 + HexVal(p[k]);
  }
  return r;
}

// Drops invalid UTF-8 bytes and U+FFFD from a string value, as Loki does for json values.
std::string_view CleanUtf8(std::string_view s, bool high, ScratchArena* arena) {
  if (!high) return s;
  if (IsValidUtf8(s) && s.find("\xEF\xBF\xBD") == std::string_view::npos) return s;
  char* out = arena->Reserve(s.size());
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t r;
    size_t n = DecodeUtf8Rune(s.substr(i), &r);
    if (n == 0) {
      i++;
      continue;
    }
    if (r != kRuneError) {
      memcpy(out + w, s.data() + i, n);
      w += n;
    }
    i += n;
  }
  return arena->Commit(out, w);
}

// A json string value as Loki stores it: unescaped (an invalid escape gives ""), then
// without invalid UTF-8.
std::string_view StringValue(const char* d, const Value& v, ScratchArena* arena) {
  std::string_view raw(d + v.begin, v.end - v.begin);
  if (v.escaped) {
    char* out = arena->Reserve(raw.size());
    long n = JsonUnescape(raw, out);
    if (n < 0) return arena->Commit(out, 0);
    raw = arena->Commit(out, static_cast<size_t>(n));
    // \u escapes may have produced U+FFFD or other non-ASCII runes.
    return CleanUtf8(raw, true, arena);
  }
  return CleanUtf8(raw, v.high, arena);
}

std::string_view ScalarValue(const char* d, const Value& v, ScratchArena* arena) {
  switch (v.type) {
    case VType::kString:
      return StringValue(d, v, arena);
    case VType::kNull:
      return {};
    default:
      return std::string_view(d + v.begin, v.end - v.begin);
  }
}

// Reads an object key at `i` (at the opening quote). Returns the index past its closing
// quote or npos with *err set; *key is the unescaped key, *clean tells it is already a label
// name (bytes in [A-Za-z0-9_], no escapes).
[[gnu::always_inline]] inline size_t ReadKey(const char* d, size_t i, size_t end,
                                             ScratchArena* arena, std::string_view* key,
                                             std::string_view* err, bool* clean = nullptr) {
  bool ok;
  size_t k = FindKeyEnd(d, i + 1, end, &ok);
  size_t se;
  bool esc = false;
  if (k < end && d[k] == '"') {
    se = k + 1;
  } else {
    bool high;
    se = StringEnd(d, i + 1, end, &esc, &high);
    ok = false;
  }
  if (se == kNpos) {
    *err = kMalformedJson;
    return kNpos;
  }
  if (clean != nullptr) *clean = ok && se - i > 2;
  std::string_view raw(d + i + 1, se - i - 2);
  if (esc) {
    char* out = arena->Reserve(raw.size());
    long n = JsonUnescape(raw, out);
    if (n < 0) {
      arena->Commit(out, 0);
      *err = kBadEscape;
      return kNpos;
    }
    raw = arena->Commit(out, static_cast<size_t>(n));
  }
  *key = raw;
  return se;
}

// `| json` without parameters.
class JsonParser final : public LineParser {
 public:
  explicit JsonParser(std::shared_ptr<const LabelHints> hints) : hints_(std::move(hints)) {}

  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    arena_.Reset();
    Clear();
    std::string_view err = Walk<false>(line, sink);
    if (err.data() == kFallback.data()) {
      Clear();
      err = Walk<true>(line, sink);
    } else {
      for (size_t k = 0; k < pending_n_; k++) {
        const Pending& e = pending_[k];
        sink->Add(std::string_view(e.name, e.name_len), std::string_view(e.value, e.value_len));
      }
    }
    if (err.empty()) return {};
    return ParseError{kJsonErr, err};
  }
  std::unique_ptr<LineParser> Clone() const override {
    return std::make_unique<JsonParser>(hints_);
  }

 private:
  // Walk<false> gives up with this when it cannot be sure to match Loki; Walk<true> then runs.
  static constexpr std::string_view kFallback = "fallback";

  struct Frame {
    size_t end;         // exact: bound of the enclosing object
    size_t resume;      // exact: just past the nested object in the enclosing one
    size_t start;       // fast: where the nested object starts
    size_t prefix_len;  // prefix_ length to restore
    bool verify;        // fast: brace counting must be checked (arrays or odd tokens inside)
  };

  void Clear() {
    stack_.clear();
    prefix_.clear();
    pending_n_ = 0;
    nested_wanted_ = true;
  }

  // A buffered label of the fast walk (plain fields: cheaper to fill than a pair of views).
  struct Pending {
    const char* name;
    size_t name_len;
    const char* value;
    size_t value_len;
  };

  // Loki reads a nested object in two steps: it finds the object's extent by counting braces
  // (strings skipped), then reads the members inside that extent. The exact walk does the
  // same (two scans of nested bytes). The fast walk reads nested objects in one scan and
  // buffers what it finds; that gives the same answer whenever the line is well formed and
  // brace counting agrees with the nesting, which it checks: any error, or an array or a
  // token with `{` inside a nested object whose extent then disagrees, falls back to the
  // exact walk (nothing was handed to the sink yet). Returns the error text, empty on
  // success.
  template <bool kExact>
  std::string_view Walk(std::string_view line, ParsedSink* sink) {
    auto fail = [](std::string_view e) { return kExact ? e : kFallback; };
    const char* d = line.data();
    size_t end = line.size();
    size_t i = NextToken(d, 0, end);
    if (i == kNpos || d[i] != '{') return kMalformedObject;
    i++;
    std::string_view err;
  enter_object:
    i = NextToken(d, i, end);
    if (i == kNpos) return fail(kMalformedJson);
    for (;;) {
      // At a key or the closing brace.
      if (d[i] == '}') goto close_object;
      if (d[i] != '"') return fail(kMalformedObject);
      {
        std::string_view key;
        bool clean;
        i = ReadKey(d, i, end, &arena_, &key, &err, &clean);
        if (i == kNpos) return fail(err);
        i = NextToken(d, i, end);
        if (i == kNpos || d[i] != ':') return fail(kMalformedJson);
        i = NextToken(d, i + 1, end);
        if (i == kNpos) return fail(kMalformedJson);
        if (!kExact && d[i] == '{') {
          stack_.push_back(Frame{0, 0, i, prefix_.size(), false});
          PushPrefix(key, clean);
          i = i + 1;
          goto enter_object;
        }
        Value v;
        size_t next = ReadValue(d, i, end, &v, &err);
        if (next == kNpos) return fail(err);
        if (kExact && v.type == VType::kObject) {
          stack_.push_back(Frame{end, next, i, prefix_.size(), false});
          PushPrefix(key, clean);
          end = next;
          i = i + 1;
          goto enter_object;
        }
        if (v.type == VType::kArray) {
          if (!kExact && !stack_.empty()) stack_.front().verify = true;
        } else {
          if (!kExact && v.type == VType::kNumber && !stack_.empty() &&
              memchr(d + v.begin, '{', v.end - v.begin) != nullptr)
            stack_.front().verify = true;
          Emit<kExact>(d, key, clean, v, sink);
        }
        i = next;
      }
    after_value:
      i = NextToken(d, i, end);
      if (i == kNpos) return fail(kMalformedArray);
      if (d[i] == '}') goto close_object;
      if (d[i] != ',') return fail(kMalformedObject);
      i = NextToken(d, i + 1, end);
      if (i == kNpos) return fail(kMalformedArray);
      continue;
    close_object:
      if (stack_.empty()) return {};
      {
        const Frame f = stack_.back();
        stack_.pop_back();
        prefix_.resize(f.prefix_len);
        if (hints_) nested_wanted_ = NestedWanted();
        if (kExact) {
          i = f.resume;
          end = f.end;
        } else {
          i = i + 1;
          if (stack_.empty() && f.verify && BlockEnd(d, f.start, end, '{', '}') != i)
            return kFallback;
        }
      }
      goto after_value;
    }
  }

  std::string_view Part(std::string_view key, bool clean, bool is_prefix) {
    if (clean && !(is_prefix && key[0] >= '0' && key[0] <= '9')) return key;
    return SanitizeKey(key, is_prefix, &arena_);
  }

  void PushPrefix(std::string_view key, bool clean) {
    std::string_view part = Part(key, clean, prefix_.empty());
    if (!prefix_.empty() && !part.empty()) prefix_.push_back('_');
    prefix_.append(part);
    // With hints, names under a prefix no wanted name starts with are not even built.
    if (hints_) nested_wanted_ = NestedWanted();
  }

  // Whether a name under prefix_ can be wanted: one that starts with prefix_ + "_", or
  // prefix_ itself (a nested key that sanitizes to nothing names the prefix).
  bool NestedWanted() const {
    return prefix_.empty() || hints_->WantsNested(prefix_) || hints_->Wants(prefix_);
  }

  template <bool kExact>
  void Emit(const char* d, std::string_view key, bool clean, const Value& v, ParsedSink* sink) {
    if (v.type == VType::kNull) return;  // Loki extracts strings, numbers and booleans only
    std::string_view name;
    if (prefix_.empty()) {
      name = Part(key, clean, true);
    } else {
      if (!nested_wanted_) return;
      std::string_view part = Part(key, clean, false);
      name = part.empty() ? arena_.Copy(prefix_) : arena_.Copy(prefix_, "_", part);
    }
    if (name.empty() || (hints_ && !hints_->Wants(name))) return;
    if (kExact) {
      if (sink->AlreadyParsed(name)) return;
      sink->Add(name, ScalarValue(d, v, &arena_));
    } else {
      // Buffered; the sink drops a name that is already there when they are handed over.
      if (pending_n_ == pending_.size()) pending_.resize(pending_.size() * 2 + 16);
      std::string_view value = ScalarValue(d, v, &arena_);
      Pending& e = pending_[pending_n_++];
      e.name = name.data();
      e.name_len = name.size();
      e.value = value.data();
      e.value_len = value.size();
    }
  }

  const std::shared_ptr<const LabelHints> hints_;  // null: every name wanted
  bool nested_wanted_ = true;  // some wanted name can be under prefix_ (always without hints)
  ScratchArena arena_;
  std::vector<Frame> stack_;
  std::string prefix_;
  std::vector<Pending> pending_;
  size_t pending_n_ = 0;
};

// ---- `| json a="path", ...` ----

struct PathStep {
  bool is_index = false;
  std::string key;
  size_t index = 0;
};

// Parses Loki's json expression syntax: `a`, `a.b`, `a["key"]`, `a[0]`, `["key"]`, nested
// in any order. Returns false with Loki-like error text.
bool ParseJsonPath(std::string_view expr, std::vector<PathStep>* out, std::string* err) {
  out->clear();
  size_t i = 0;
  auto fail = [&](std::string_view what) {
    *err =
        "cannot parse expression [" + std::string(expr) + "]: syntax error: " + std::string(what);
    return false;
  };
  auto is_ident = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
  };
  bool need_field = true;  // at start or after '.'
  bool first = true;
  while (i < expr.size()) {
    char c = expr[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
      continue;
    }
    if (c == '[') {
      if (need_field && !first) return fail("unexpected [");
      i++;
      while (i < expr.size() && expr[i] == ' ') i++;
      if (i >= expr.size()) return fail("unexpected end of expression");
      PathStep step;
      if (expr[i] == '"') {
        i++;
        std::string key;
        bool closed = false;
        while (i < expr.size()) {
          char k = expr[i];
          if (k == '"') {
            closed = true;
            i++;
            break;
          }
          if (k == '\\' && i + 1 < expr.size()) {
            char e = expr[i + 1];
            switch (e) {
              case 'n':
                key.push_back('\n');
                break;
              case 't':
                key.push_back('\t');
                break;
              case 'r':
                key.push_back('\r');
                break;
              default:
                key.push_back(e);
            }
            i += 2;
            continue;
          }
          key.push_back(k);
          i++;
        }
        if (!closed) return fail("unterminated string");
        step.key = std::move(key);
      } else if (expr[i] >= '0' && expr[i] <= '9') {
        step.is_index = true;
        size_t n = 0;
        while (i < expr.size() && expr[i] >= '0' && expr[i] <= '9') {
          n = n * 10 + static_cast<size_t>(expr[i] - '0');
          if (n > (1u << 30)) return fail("index out of range");
          i++;
        }
        step.index = n;
      } else {
        return fail(std::string("unexpected ") + expr[i]);
      }
      while (i < expr.size() && expr[i] == ' ') i++;
      if (i >= expr.size() || expr[i] != ']') return fail("expecting ]");
      i++;
      out->push_back(std::move(step));
      need_field = false;
      first = false;
      continue;
    }
    if (c == '.') {
      if (need_field) return fail("unexpected .");
      need_field = true;
      i++;
      continue;
    }
    if (is_ident(static_cast<unsigned char>(c))) {
      if (!need_field) return fail("unexpected field");
      size_t s = i;
      while (i < expr.size() && is_ident(static_cast<unsigned char>(expr[i]))) i++;
      PathStep step;
      step.key = std::string(expr.substr(s, i - s));
      out->push_back(std::move(step));
      need_field = false;
      first = false;
      continue;
    }
    return fail(std::string("unexpected ") + c);
  }
  if (out->empty()) return fail("empty expression");
  if (need_field) return fail("unexpected end of expression");
  return true;
}

bool IsValidLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); i++) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

class JsonExpressionParser final : public LineParser {
 public:
  struct Field {
    std::string label;
    std::vector<PathStep> path;
  };
  explicit JsonExpressionParser(std::vector<Field> fields) : fields_(std::move(fields)) {}

  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    arena_.Reset();
    // Loki checks only the first non-space byte; the rest is found malformed while walking.
    size_t s = 0;
    while (s < line.size() && (IsWs(line[s]) || line[s] == '\v' || line[s] == '\f')) s++;
    if (s == line.size() || (line[s] != '{' && line[s] != '[' && line[s] != '"'))
      return ParseError{kJsonErr, {}};
    // Loki's semantics: a value found replaces one of that name (LabelsBuilder.Set); a
    // requested label still absent afterwards (not a stream, metadata or parsed label)
    // is set empty.
    bool failed = false;
    for (const Field& f : fields_) {
      std::string_view value;
      int r = Find(line, f.path, &value);
      if (r > 0) {
        sink->Put(f.label, value);
        continue;
      }
      if (r < 0) failed = true;
      if (!sink->IsStreamOrMetadata(f.label) && !sink->AlreadyParsed(f.label))
        sink->Put(f.label, std::string_view(""));
    }
    if (failed) return ParseError{kJsonErr, {}};
    return {};
  }
  std::unique_ptr<LineParser> Clone() const override {
    return std::make_unique<JsonExpressionParser>(fields_);
  }

 private:
  // 1 found (*value set), 0 missing (*value empty), -1 the value found is malformed.
  // Like Loki's key scanner, malformed input on the way to the key (a truncated line, a
  // missing comma) only means the key is not found: no error.
  int Find(std::string_view line, const std::vector<PathStep>& path, std::string_view* value) {
    const char* d = line.data();
    const size_t end = line.size();
    size_t i = NextToken(d, 0, end);
    if (i == kNpos) return 0;
    std::string_view err;
    for (const PathStep& step : path) {
      if (step.is_index) {
        if (d[i] != '[') return 0;
        i = NextToken(d, i + 1, end);
        if (i == kNpos) return 0;
        if (d[i] == ']') return 0;
        for (size_t k = 0;; k++) {
          if (k == step.index) break;
          Value v;
          size_t next = ReadValue(d, i, end, &v, &err);
          if (next == kNpos) return 0;
          i = NextToken(d, next, end);
          if (i == kNpos) return 0;
          if (d[i] == ']') return 0;
          if (d[i] != ',') return 0;
          i = NextToken(d, i + 1, end);
          if (i == kNpos) return 0;
        }
      } else {
        if (d[i] != '{') return 0;
        i = NextToken(d, i + 1, end);
        if (i == kNpos) return 0;
        for (;;) {
          if (d[i] == '}') return 0;
          if (d[i] != '"') return 0;
          std::string_view key;
          i = ReadKey(d, i, end, &arena_, &key, &err);
          if (i == kNpos) return 0;
          i = NextToken(d, i, end);
          if (i == kNpos || d[i] != ':') return 0;
          i = NextToken(d, i + 1, end);
          if (i == kNpos) return 0;
          if (key == step.key) break;
          Value v;
          size_t next = ReadValue(d, i, end, &v, &err);
          if (next == kNpos) return 0;
          i = NextToken(d, next, end);
          if (i == kNpos) return 0;
          if (d[i] == '}') return 0;
          if (d[i] != ',') return 0;
          i = NextToken(d, i + 1, end);
          if (i == kNpos) return 0;
        }
      }
    }
    Value v;
    size_t next = ReadValue(d, i, end, &v, &err);
    if (next == kNpos) return -1;
    if (v.type == VType::kObject || v.type == VType::kArray) {
      *value = std::string_view(d + v.begin, v.end - v.begin);
    } else {
      *value = ScalarValue(d, v, &arena_);
    }
    return 1;
  }

  std::vector<Field> fields_;
  ScratchArena arena_;
};

// `| unpack`: a flat object of strings; `_entry` replaces the line.
class UnpackParser final : public LineParser {
 public:
  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    arena_.Reset();
    if (line.empty()) return {};
    // Loki requires the very first byte to be `{`.
    if (line[0] != '{') return ParseError{kJsonErr, "expecting json object(6), but it is not"};
    std::string_view entry;
    bool has_entry = false;
    pending_.clear();
    std::string_view err = Walk(line, &entry, &has_entry);
    if (!err.empty()) return ParseError{kJsonErr, err};
    // Loki's unpack labels the entry only when the line is packed (has `_entry`), and
    // only once the whole object was read; a later key of the same name wins.
    if (has_entry) {
      for (const auto& [name, value] : pending_) sink->Put(name, value);
      sink->SetLine(entry);
    }
    return {};
  }
  std::unique_ptr<LineParser> Clone() const override { return std::make_unique<UnpackParser>(); }

 private:
  std::string_view Walk(std::string_view line, std::string_view* entry, bool* has_entry) {
    const char* d = line.data();
    const size_t end = line.size();
    std::string_view err;
    size_t i = NextToken(d, 1, end);
    if (i == kNpos) return kMalformedJson;
    for (;;) {
      if (d[i] == '}') return {};
      if (d[i] != '"') return kMalformedObject;
      std::string_view key;
      i = ReadKey(d, i, end, &arena_, &key, &err);
      if (i == kNpos) return err;
      i = NextToken(d, i, end);
      if (i == kNpos || d[i] != ':') return kMalformedJson;
      i = NextToken(d, i + 1, end);
      if (i == kNpos) return kMalformedJson;
      Value v;
      size_t next = ReadValue(d, i, end, &v, &err);
      if (next == kNpos) return err;
      if (v.type == VType::kString) {
        if (key == "_entry") {
          std::string_view raw(d + v.begin, v.end - v.begin);
          if (v.escaped) {
            char* out = arena_.Reserve(raw.size());
            long n = JsonUnescape(raw, out);
            if (n < 0) return kBadEscape;
            raw = arena_.Commit(out, static_cast<size_t>(n));
          }
          *entry = raw;
          *has_entry = true;
        } else {
          std::string_view name = SanitizeKey(key, true, &arena_);
          if (!name.empty()) pending_.emplace_back(name, StringValue(d, v, &arena_));
        }
      }
      i = NextToken(d, next, end);
      if (i == kNpos) return kMalformedArray;
      if (d[i] == '}') return {};
      if (d[i] != ',') return kMalformedObject;
      i = NextToken(d, i + 1, end);
      if (i == kNpos) return kMalformedArray;
    }
  }

  ScratchArena arena_;
  std::vector<std::pair<std::string_view, std::string_view>> pending_;  // views into arena_/line
};

}  // namespace

long JsonUnescape(std::string_view src, char* dst) {
  size_t w = 0;
  for (size_t i = 0; i < src.size();) {
    char c = src[i];
    if (c != '\\') {
      dst[w++] = c;
      i++;
      continue;
    }
    if (i + 1 >= src.size()) return -1;
    char e = src[i + 1];
    char out = 0;
    switch (e) {
      case '"':
        out = '"';
        break;
      case '\\':
        out = '\\';
        break;
      case '/':
        out = '/';
        break;
      case 'b':
        out = '\b';
        break;
      case 'f':
        out = '\f';
        break;
      case 'n':
        out = '\n';
        break;
      case 'r':
        out = '\r';
        break;
      case 't':
        out = '\t';
        break;
      case 'u': {
        long r = Hex4(src.data() + i + 2, src.size() - i - 2);
        if (r < 0) return -1;
        size_t used = 6;
        char32_t rune = static_cast<char32_t>(r);
        if (r >= 0xD800 && r <= 0xDFFF) {
          // A surrogate must be followed by a `\u` low surrogate (as jsonparser requires).
          if (i + 8 > src.size() || src[i + 6] != '\\' || src[i + 7] != 'u') return -1;
          long r2 = Hex4(src.data() + i + 8, src.size() - i - 8);
          if (r2 < 0xDC00) return -1;
          rune = static_cast<char32_t>(((r - 0xD800) << 10) + (r2 - 0xDC00) + 0x10000);
          used = 12;
        }
        if (rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) rune = kRuneError;
        w += EncodeUtf8(dst + w, rune);
        i += used;
        continue;
      }
      default:
        return -1;
    }
    dst[w++] = out;
    i += 2;
  }
  return static_cast<long>(w);
}

StatusOr<std::unique_ptr<LineParser>> NewJsonParser(const PipelineStage& stage,
                                                    std::shared_ptr<const LabelHints> hints) {
  if (stage.extractions.empty())
    return std::unique_ptr<LineParser>(new JsonParser(std::move(hints)));
  std::vector<JsonExpressionParser::Field> fields;
  for (const LabelExtraction& e : stage.extractions) {
    JsonExpressionParser::Field f;
    std::string err;
    if (!ParseJsonPath(e.expression, &f.path, &err)) return Status::InvalidArgument(err);
    if (!IsValidLabelName(e.label))
      return Status::InvalidArgument("invalid extracted label name '" + e.label + "'");
    f.label = e.label;
    fields.push_back(std::move(f));
  }
  return std::unique_ptr<LineParser>(new JsonExpressionParser(std::move(fields)));
}

StatusOr<std::unique_ptr<LineParser>> NewUnpackParser() {
  return std::unique_ptr<LineParser>(new UnpackParser());
}

}  // namespace skald::logql::internal
