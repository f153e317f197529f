// The `logfmt` parser stage: a single-pass scanner with go-logfmt's pair grammar and error
// texts (Loki decodes logfmt with a fork of go-logfmt).
//
// Grammar: pairs separated by bytes <= ' '; a key is a run of bytes > ' ' other than `=` and
// `"`; `key` alone is a flag (empty value), `key=` an empty value, `key=value` an unquoted value
// (no `=` or `"` in it), `key="..."` a quoted value with JSON-style escapes.
#include <cstring>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/utf8.h"
#include "logql/parser_internal.h"

namespace skald::logql::internal {
namespace {

constexpr std::string_view kLogfmtErr = "LogfmtParserErr";

// True when a multi-byte key holds invalid UTF-8 or U+FFFD: go-logfmt's "invalid key".
bool KeyHasRuneError(std::string_view key) {
  return !IsValidUtf8(key) || key.find("\xEF\xBF\xBD") != std::string_view::npos;
}

inline bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline long Hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  long r = 0;
  for (size_t k = i; k < i + 4; k++) {
    char c = s[k];
    if (!IsHex(c)) return -1;
    r = r * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return r;
}

// Unquotes the inside of a quoted value that holds a backslash, as Go's encoding/json-derived
// unquote in go-logfmt does: control bytes and unknown escapes are invalid; invalid UTF-8
// and lone surrogates become U+FFFD. Writes at most 3 * in.size() bytes; -1 when invalid.
long Unquote(std::string_view in, char* out) {
  size_t w = 0;
  for (size_t i = 0; i < in.size();) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '\\') {
      if (i + 1 >= in.size()) return -1;
      char e = in[i + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
        case '\'':
          out[w++] = e;
          break;
        case 'b':
          out[w++] = '\b';
          break;
        case 'f':
          out[w++] = '\f';
          break;
        case 'n':
          out[w++] = '\n';
          break;
        case 'r':
          out[w++] = '\r';
          break;
        case 't':
          out[w++] = '\t';
          break;
        case 'u': {
          long r = Hex4(in, i + 2);
          if (r < 0) return -1;
          i += 6;
          char32_t rune = static_cast<char32_t>(r);
          if (r >= 0xD800 && r < 0xE000) {
            rune = kRuneError;
            if (r < 0xDC00 && i + 6 <= in.size() && in[i] == '\\' && in[i + 1] == 'u') {
              long r2 = Hex4(in, i + 2);
              if (r2 >= 0xDC00 && r2 < 0xE000) {
                rune = static_cast<char32_t>(((r - 0xD800) << 10) + (r2 - 0xDC00) + 0x10000);
                i += 6;
              }
            }
          }
          w += EncodeUtf8(out + w, rune);
          continue;
        }
        default:
          return -1;
      }
      i += 2;
      continue;
    }
    if (c == '"' || c < ' ') return -1;
    if (c < 0x80) {
      out[w++] = static_cast<char>(c);
      i++;
      continue;
    }
    char32_t r;
    size_t n = DecodeUtf8Rune(in.substr(i), &r);
    if (n == 0) {
      w += EncodeUtf8(out + w, kRuneError);
      i++;
      continue;
    }
    memcpy(out + w, in.data() + i, n);
    w += n;
    i += n;
  }
  return static_cast<long>(w);
}

class LogfmtParser final : public LineParser {
 public:
  struct Field {
    std::string label;
    std::string key;
  };
  LogfmtParser(bool strict, bool keep_empty, std::vector<Field> fields,
               std::shared_ptr<const LabelHints> hints)
      : strict_(strict),
        keep_empty_(keep_empty),
        fields_(std::move(fields)),
        hints_(fields_.empty() ? std::move(hints) : nullptr) {
    // A non-strict parser reports no error, so once every wanted name was seen the rest of
    // the line cannot change the result (the first value wins). Not with parameters: there
    // the last value of a key wins, as in Loki.
    const size_t n = fields_.empty() ? (hints_ ? hints_->size() : 65) : 65;
    if (!strict_ && n <= 64) {
      stop_early_ = true;
      all_found_ = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
    }
  }

  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    arena_.Reset();
    line_ = line;
    pos_ = 0;
    found_ = 0;
    // Loki: every requested label exists, empty until the line has its key (unless a stream
    // or metadata label has that name).
    for (const Field& f : fields_) {
      if (!sink->IsStreamOrMetadata(f.label)) sink->Put(f.label, std::string_view(""));
    }
    for (;;) {
      if (stop_early_ && found_ == all_found_) break;
      std::string_view key, value;
      Scan r = ScanPair(&key, &value);
      if (r == Scan::kEnd) break;
      if (r == Scan::kError) {
        if (strict_) return ParseError{kLogfmtErr, details_};
        // Decision (go-logfmt leaves recovery to the caller): skip the rest of the malformed
        // token and go on with the next pair.
        while (pos_ < line_.size() && static_cast<unsigned char>(line_[pos_]) > ' ') pos_++;
        continue;
      }
      Emit(key, value, sink);
    }
    return {};
  }
  std::unique_ptr<LineParser> Clone() const override {
    return std::make_unique<LogfmtParser>(strict_, keep_empty_, fields_, hints_);
  }

 private:
  enum class Scan { kPair, kEnd, kError };

  void Emit(std::string_view key, std::string_view value, ParsedSink* sink) {
    if (!fields_.empty()) {
      // Loki's matching: the line's key, sanitized, is compared with each requested key as
      // written in the query (so `p="a-b"` never matches), else with the label names
      // themselves; the first field that matches takes the value, kept even when empty, and
      // a later pair of the same key replaces it.
      std::string_view name = SanitizeKey(key, true, &arena_);
      if (name.empty()) return;
      const Field* hit = nullptr;
      for (const Field& f : fields_) {
        if (f.key == name) {
          hit = &f;
          break;
        }
      }
      if (hit == nullptr) {
        for (const Field& f : fields_) {
          if (f.label == name) {
            hit = &f;
            break;
          }
        }
      }
      if (hit != nullptr) sink->Put(hit->label, value);
      return;
    }
    if (value.empty() && !keep_empty_) return;
    // A clean key (the scan checked its bytes) is its own name unless it starts with a digit.
    std::string_view name =
        key_clean_ && !(key[0] >= '0' && key[0] <= '9') ? key : SanitizeKey(key, true, &arena_);
    if (name.empty()) return;
    if (hints_) {
      if (!hints_->MayWant(name)) return;
      int k = hints_->IndexOf(name);
      if (k < 0) return;
      if (k < 64) found_ |= uint64_t{1} << k;
    }
    sink->Add(name, value);  // the sink keeps a first value (this line's or a former stage's)
  }

  Scan Fail(size_t at, std::string_view msg) {
    // Loki's own logfmt decoder: "logfmt syntax error at pos %d : %s", pos 1-based.
    details_.assign("logfmt syntax error at pos ");
    details_.append(std::to_string(at + 1));
    details_.append(" : ");
    details_.append(msg);
    pos_ = at;
    return Scan::kError;
  }

  Scan ScanPair(std::string_view* key, std::string_view* value) {
    const std::string_view l = line_;
    const size_t n = l.size();
    size_t p = pos_;
    while (p < n && static_cast<unsigned char>(l[p]) <= ' ') p++;
    if (p >= n) {
      pos_ = n;
      return Scan::kEnd;
    }
    const size_t start = p;
    bool multibyte = false;
    // Only a key that becomes a label name needs its bytes classified.
    p = fields_.empty() ? FindLogfmtKeyEnd(l.data(), p, n, &multibyte, &key_clean_)
                        : FindLogfmtDelim(l.data(), p, n, &multibyte);
    if (p == n || static_cast<unsigned char>(l[p]) <= ' ') {
      *key = l.substr(start, p - start);
      if (multibyte && KeyHasRuneError(*key)) return Fail(p, "invalid key");
      *value = {};
      pos_ = p;
      return Scan::kPair;
    }
    if (l[p] == '"') return Fail(p, "unexpected '\"'");
    // At '='.
    if (p == start) return Fail(p, "unexpected '='");
    *key = l.substr(start, p - start);
    if (multibyte && KeyHasRuneError(*key)) return Fail(p, "invalid key");
    p++;
    *value = {};
    if (p >= n || static_cast<unsigned char>(l[p]) <= ' ') {
      pos_ = p;
      return Scan::kPair;
    }
    if (l[p] != '"') {
      const size_t vs = p;
      bool high = false;
      p = FindLogfmtDelim(l.data(), p, n, &high);
      if (p < n && (l[p] == '=' || l[p] == '"'))
        return Fail(p, l[p] == '=' ? "unexpected '='" : "unexpected '\"'");
      *value = l.substr(vs, p - vs);
      pos_ = p;
      return Scan::kPair;
    }
    // Quoted value: a backslash escapes the next byte; the first other quote closes it.
    const size_t qs = p + 1;
    bool has_esc = false;
    bool high = false;
    size_t q = qs;
    for (;;) {
      q = FindQuoteOrBackslash(l.data(), q, n, &high);
      if (q >= n) return Fail(n, "unterminated quoted value");
      if (l[q] == '"') break;
      has_esc = true;
      q += 2;
    }
    pos_ = q + 1;
    std::string_view inner = l.substr(qs, q - qs);
    if (!has_esc) {
      *value = inner;
      return Scan::kPair;
    }
    char* out = arena_.Reserve(inner.size() * 3);
    long w = Unquote(inner, out);
    if (w < 0) {
      arena_.Commit(out, 0);
      return Fail(q + 1, "invalid quoted value");
    }
    *value = arena_.Commit(out, static_cast<size_t>(w));
    return Scan::kPair;
  }

  const bool strict_;
  const bool keep_empty_;
  const std::vector<Field> fields_;
  const std::shared_ptr<const LabelHints> hints_;  // null: every name wanted
  bool stop_early_ = false;
  uint64_t all_found_ = 0;  // with stop_early_: the found_ mask that ends a parse
  uint64_t found_ = 0;      // wanted names seen in this line (bit = LabelHints index)
  ScratchArena arena_;
  std::string details_;
  bool key_clean_ = false;  // the last scanned key is all [A-Za-z0-9_]
  std::string_view line_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<LineParser>> NewLogfmtParser(const PipelineStage& stage,
                                                      std::shared_ptr<const LabelHints> hints) {
  std::vector<LogfmtParser::Field> fields;
  for (const LabelExtraction& e : stage.extractions) {
    // As for `json a="..."` (Loki checks the name too; Skald keeps the classic label
    // charset): every requested label is set, so it must be a valid name.
    if (!IsValidLabelName(e.label)) {
      return Status::InvalidArgument("invalid extracted label name '" + e.label + "'");
    }
    fields.push_back(LogfmtParser::Field{e.label, e.expression});
  }
  return std::unique_ptr<LineParser>(
      new LogfmtParser(stage.strict, stage.keep_empty, std::move(fields), std::move(hints)));
}

}  // namespace skald::logql::internal
