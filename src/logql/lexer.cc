// LogQL lexer: see lexer.h.
#include "logql/lexer.h"

#include <re2/re2.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/ascii.h"
#include "core/go_string.h"
#include "core/parse.h"
#include "core/time.h"
#include "core/utf8.h"

namespace skald::logql::internal {
namespace {

constexpr int32_t kRuneError = 0xFFFD;

// Decodes one UTF-8 sequence at s[pos] (Go's utf8.DecodeRune rules). Returns the width,
// or 0 for an invalid / truncated sequence.
size_t DecodeRune(std::string_view s, size_t pos, int32_t* out) {
  char32_t r;
  const size_t n = DecodeUtf8Rune(s.substr(pos), &r);
  if (n != 0) *out = static_cast<int32_t>(r);
  return n;
}

void AppendRune(std::string* out, int32_t r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  skald::AppendUtf8(out, static_cast<char32_t>(r));
}

bool IsDecimal(int32_t ch) { return ch >= '0' && ch <= '9'; }
int32_t Lower(int32_t ch) { return ('a' - 'A') | ch; }
bool IsHex(int32_t ch) { return IsDecimal(ch) || (Lower(ch) >= 'a' && Lower(ch) <= 'f'); }
int DigitVal(int32_t ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (Lower(ch) >= 'a' && Lower(ch) <= 'f') return Lower(ch) - 'a' + 10;
  return 16;
}

bool IsIdentRune(int32_t ch, int i) {
  return ch == '_' || IsUnicodeLetter(ch) || (IsUnicodeDigit(ch) && i > 0);
}

bool IsDurationRune(int32_t r) {
  switch (r) {
    case 'n':
    case 'u':
    case 0xB5:  // µ
    case 'm':
    case 's':
    case 'h':
    case 'd':
    case 'w':
    case 'y':
      return true;
    default:
      return false;
  }
}

bool IsBytesSizeRune(int32_t r) {
  switch (r) {
    case 'B':
    case 'i':
    case 'k':
    case 'K':
    case 'M':
    case 'G':
    case 'T':
    case 'P':
      return true;
    default:
      return false;
  }
}

std::string_view LitName(int32_t prefix) {
  switch (prefix) {
    case 'x':
      return "hexadecimal literal";
    case 'o':
    case '0':
      return "octal literal";
    case 'b':
      return "binary literal";
    default:
      return "decimal literal";
  }
}

// Index of the first misplaced '_' in a number literal, or -1.
long InvalidSep(std::string_view x) {
  int32_t x1 = ' ';
  int32_t d = '.';
  size_t i = 0;
  if (x.size() >= 2 && x[0] == '0') {
    x1 = Lower(static_cast<unsigned char>(x[1]));
    if (x1 == 'x' || x1 == 'o' || x1 == 'b') {
      d = '0';
      i = 2;
    }
  }
  for (; i < x.size(); i++) {
    int32_t p = d;
    d = static_cast<unsigned char>(x[i]);
    if (d == '_') {
      if (p != '0') return static_cast<long>(i);
    } else if (IsDecimal(d) || (x1 == 'x' && IsHex(d))) {
      d = '0';
    } else {
      if (p == '_') return static_cast<long>(i) - 1;
      d = '.';
    }
  }
  if (d == '_') return static_cast<long>(x.size()) - 1;
  return -1;
}

struct Keyword {
  std::string_view text;
  Tok tok;
};

// Loki's `tokens` map: always keywords (case-insensitive).
constexpr Keyword kTokens[] = {
    {",", Tok::kComma},
    {".", Tok::kDot},
    {"{", Tok::kOpenBrace},
    {"}", Tok::kCloseBrace},
    {"=", Tok::kEq},
    {"!=", Tok::kNeq},
    {"=~", Tok::kRe},
    {"!~", Tok::kNre},
    {"!>", Tok::kNpa},
    {"|=", Tok::kPipeExact},
    {"|~", Tok::kPipeMatch},
    {"|>", Tok::kPipePattern},
    {"|", Tok::kPipe},
    {"unwrap", Tok::kUnwrap},
    {"(", Tok::kOpenParen},
    {")", Tok::kCloseParen},
    {"by", Tok::kBy},
    {"without", Tok::kWithout},
    {"bool", Tok::kBool},
    {"[", Tok::kOpenBracket},
    {"]", Tok::kCloseBracket},
    {"label_replace", Tok::kLabelReplace},
    {"offset", Tok::kOffset},
    {"on", Tok::kOn},
    {"ignoring", Tok::kIgnoring},
    {"group_left", Tok::kGroupLeft},
    {"group_right", Tok::kGroupRight},
    {"or", Tok::kOr},
    {"and", Tok::kAnd},
    {"unless", Tok::kUnless},
    {"+", Tok::kAdd},
    {"-", Tok::kSub},
    {"*", Tok::kMul},
    {"/", Tok::kDiv},
    {"%", Tok::kMod},
    {"^", Tok::kPow},
    {"==", Tok::kCmpEq},
    {">", Tok::kGt},
    {">=", Tok::kGte},
    {"<", Tok::kLt},
    {"<=", Tok::kLte},
    {"json", Tok::kJson},
    {"regexp", Tok::kRegexp},
    {"logfmt", Tok::kLogfmt},
    {"unpack", Tok::kUnpack},
    {"pattern", Tok::kPattern},
    {"label_format", Tok::kLabelFmt},
    {"line_format", Tok::kLineFmt},
    {"ip", Tok::kIp},
    {"decolorize", Tok::kDecolorize},
    {"drop", Tok::kDrop},
    {"keep", Tok::kKeep},
};

// Loki's `functionTokens`: keywords only when followed by `(`.
constexpr Keyword kFunctionTokens[] = {
    {"rate", Tok::kRate},
    {"rate_counter", Tok::kRateCounter},
    {"count_over_time", Tok::kCountOverTime},
    {"bytes_rate", Tok::kBytesRate},
    {"bytes_over_time", Tok::kBytesOverTime},
    {"avg_over_time", Tok::kAvgOverTime},
    {"sum_over_time", Tok::kSumOverTime},
    {"min_over_time", Tok::kMinOverTime},
    {"max_over_time", Tok::kMaxOverTime},
    {"stdvar_over_time", Tok::kStdvarOverTime},
    {"stddev_over_time", Tok::kStddevOverTime},
    {"quantile_over_time", Tok::kQuantileOverTime},
    {"first_over_time", Tok::kFirstOverTime},
    {"last_over_time", Tok::kLastOverTime},
    {"absent_over_time", Tok::kAbsentOverTime},
    {"vector", Tok::kVector},
    {"sum", Tok::kSum},
    {"avg", Tok::kAvg},
    {"max", Tok::kMax},
    {"min", Tok::kMin},
    {"count", Tok::kCount},
    {"stddev", Tok::kStddev},
    {"stdvar", Tok::kStdvar},
    {"bottomk", Tok::kBottomk},
    {"topk", Tok::kTopk},
    {"sort", Tok::kSort},
    {"sort_desc", Tok::kSortDesc},
    {"label_replace", Tok::kLabelReplace},
    {"approx_topk", Tok::kApproxTopk},
    {"bytes", Tok::kBytesConv},
    {"duration", Tok::kDurationConv},
    {"duration_seconds", Tok::kDurationSecondsConv},
    {"ip", Tok::kIp},
};

template <size_t N>
bool Lookup(const Keyword (&table)[N], std::string_view text, Tok* out) {
  for (const Keyword& k : table) {
    if (k.text == text) {
      *out = k.tok;
      return true;
    }
  }
  return false;
}

bool IsSpaceForWhitespaceSkip(int32_t ch) {
  return ch == '\t' || ch == '\n' || ch == '\r' || ch == ' ';
}

// Offset of the first byte >= from that Go's scanner would report (invalid
// UTF-8 or NUL), with the message; npos when none.
size_t FirstBadChar(std::string_view s, size_t from, const char** msg) {
  size_t i = from;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0) {
      *msg = "invalid character NUL";
      return i;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    int32_t r;
    size_t w = DecodeRune(s, i, &r);
    if (w == 0) {
      *msg = "invalid UTF-8 encoding";
      return i;
    }
    i += w;
  }
  return std::string_view::npos;
}

}  // namespace

// ---------------------------------------------------------------------------
// Unicode classification (Go's unicode package) for one code point.

bool IsUnicodeLetter(int32_t r) {
  if (r < 0) return false;
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  static const RE2* re = new RE2("\\pL");
  std::string s;
  AppendRune(&s, r);
  return RE2::FullMatch(s, *re);
}

bool IsUnicodeDigit(int32_t r) {
  if (r < 0) return false;
  if (r < 0x80) return r >= '0' && r <= '9';
  static const RE2* re = new RE2("\\p{Nd}");
  std::string s;
  AppendRune(&s, r);
  return RE2::FullMatch(s, *re);
}

bool IsUnicodeNumber(int32_t r) {
  if (r < 0) return false;
  if (r < 0x80) return r >= '0' && r <= '9';
  static const RE2* re = new RE2("\\pN");
  std::string s;
  AppendRune(&s, r);
  return RE2::FullMatch(s, *re);
}

// ---------------------------------------------------------------------------
// Scanner

void Scanner::Error(std::string msg) {
  if (err_->set) return;
  err_->set = true;
  err_->msg = std::move(msg);
  if (is_copy_) {
    err_->line = report_line_;
    err_->col = report_col_;
  } else {
    err_->line = tok_line_;
    err_->col = tok_col_;
  }
}

Scanner Scanner::LookaheadCopy() const {
  Scanner s = *this;
  if (!is_copy_) {
    s.is_copy_ = true;
    s.report_line_ = tok_line_;
    s.report_col_ = tok_col_;
  }
  return s;
}

int32_t Scanner::NextChar() {
  if (pos_ >= src_.size()) {
    if (last_char_len_ > 0) column_++;
    last_char_len_ = 0;
    return kEOF;
  }
  int32_t ch = static_cast<unsigned char>(src_[pos_]);
  size_t width = 1;
  if (ch >= 0x80) {
    width = DecodeRune(src_, pos_, &ch);
    if (width == 0) {
      pos_ += 1;
      last_char_len_ = 1;
      column_++;
      Error("invalid UTF-8 encoding");
      return kRuneError;
    }
  }
  pos_ += width;
  last_char_len_ = static_cast<int>(width);
  column_++;
  if (ch == 0) {
    Error("invalid character NUL");
  } else if (ch == '\n') {
    line_++;
    last_line_len_ = column_;
    column_ = 0;
  }
  return ch;
}

int32_t Scanner::Peek() {
  if (ch_ == -2) {
    ch_ = NextChar();
    if (ch_ == 0xFEFF) ch_ = NextChar();
  }
  return ch_;
}

int32_t Scanner::Next() {
  tok_pos_ = -1;
  tok_line_ = 0;
  int32_t ch = Peek();
  if (ch != kEOF) ch_ = NextChar();
  return ch;
}

std::string_view Scanner::TokenText() const {
  if (tok_pos_ < 0) return {};
  long end = tok_end_ < tok_pos_ ? tok_pos_ : tok_end_;
  return src_.substr(static_cast<size_t>(tok_pos_), static_cast<size_t>(end - tok_pos_));
}

int32_t Scanner::ScanIdentifier() {
  int32_t ch = NextChar();
  for (int i = 1; IsIdentRune(ch, i); i++) ch = NextChar();
  return ch;
}

int32_t Scanner::Digits(int32_t ch, int base, int32_t* invalid, int* digsep) {
  *digsep = 0;
  if (base <= 10) {
    int32_t max = '0' + base;
    while (IsDecimal(ch) || ch == '_') {
      int ds = 1;
      if (ch == '_') {
        ds = 2;
      } else if (ch >= max && invalid != nullptr && *invalid == 0) {
        *invalid = ch;
      }
      *digsep |= ds;
      ch = NextChar();
    }
  } else {
    while (IsHex(ch) || ch == '_') {
      *digsep |= ch == '_' ? 2 : 1;
      ch = NextChar();
    }
  }
  return ch;
}

int32_t Scanner::ScanNumber(int32_t ch, bool seen_dot, int32_t* tok) {
  int base = 10;
  int32_t prefix = 0;
  int digsep = 0;
  int32_t invalid = 0;
  int ds = 0;
  if (!seen_dot) {
    *tok = kInt;
    if (ch == '0') {
      ch = NextChar();
      switch (Lower(ch)) {
        case 'x':
          ch = NextChar();
          base = 16;
          prefix = 'x';
          break;
        case 'o':
          ch = NextChar();
          base = 8;
          prefix = 'o';
          break;
        case 'b': {
          // Loki's copy peeks at the scanner's stale lookahead here.
          int32_t pk = Peek();
          if (pk == '0' || pk == '1') {
            ch = NextChar();
            base = 2;
            prefix = 'b';
          }
          break;
        }
        default:
          base = 8;
          prefix = '0';
          digsep = 1;  // leading 0
      }
    }
    ch = Digits(ch, base, &invalid, &ds);
    digsep |= ds;
    if (ch == '.') {
      ch = NextChar();
      seen_dot = true;
    }
  }
  if (seen_dot) {
    *tok = kFloat;
    if (prefix == 'o' || prefix == 'b')
      Error("invalid radix point in " + std::string(LitName(prefix)));
    ch = Digits(ch, base, &invalid, &ds);
    digsep |= ds;
  }
  if ((digsep & 1) == 0) Error(std::string(LitName(prefix)) + " has no digits");

  int32_t e = Lower(ch);
  if (e == 'e' || (e == 'p' && prefix == 'x')) {
    if (e == 'e' && prefix != 0 && prefix != '0') {
      std::string m = "'";
      m.push_back(static_cast<char>(ch));
      Error(m + "' exponent requires decimal mantissa");
    }
    ch = NextChar();
    *tok = kFloat;
    if (ch == '+' || ch == '-') ch = NextChar();
    ch = Digits(ch, 10, nullptr, &ds);
    digsep |= ds;
    if ((ds & 1) == 0) Error("exponent has no digits");
  } else if (prefix == 'x' && *tok == kFloat) {
    Error("hexadecimal mantissa requires a 'p' exponent");
  }
  if (*tok == kInt && invalid != 0) {
    std::string m = "invalid digit '";
    m.push_back(static_cast<char>(invalid));
    Error(m + "' in " + std::string(LitName(prefix)));
  }
  if (digsep & 2) {
    tok_end_ = static_cast<long>(pos_) - last_char_len_;
    if (InvalidSep(TokenText()) >= 0) Error("'_' must separate successive digits");
  }
  return ch;
}

int32_t Scanner::ScanDigits(int32_t ch, int base, int n) {
  while (n > 0 && DigitVal(ch) < base) {
    ch = NextChar();
    n--;
  }
  if (n > 0) Error("invalid char escape");
  return ch;
}

int32_t Scanner::ScanEscape(char quote) {
  int32_t ch = NextChar();
  switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
      ch = NextChar();
      break;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
      ch = ScanDigits(ch, 8, 3);
      break;
    case 'x':
      ch = ScanDigits(NextChar(), 16, 2);
      break;
    case 'u':
      ch = ScanDigits(NextChar(), 16, 4);
      break;
    case 'U':
      ch = ScanDigits(NextChar(), 16, 8);
      break;
    default:
      if (ch == quote) {
        ch = NextChar();
      } else {
        Error("invalid char escape");
      }
  }
  return ch;
}

int Scanner::ScanString(char quote) {
  int n = 0;
  int32_t ch = NextChar();
  while (ch != quote) {
    if (ch == '\n' || ch < 0) {
      Error("literal not terminated");
      return n;
    }
    if (ch == '\\') {
      ch = ScanEscape(quote);
    } else {
      ch = NextChar();
    }
    n++;
  }
  return n;
}

void Scanner::ScanRawString() {
  int32_t ch = NextChar();
  while (ch != '`') {
    if (ch < 0) {
      Error("literal not terminated");
      return;
    }
    ch = NextChar();
  }
}

int32_t Scanner::ScanComment(int32_t ch) {
  if (ch == '/') {
    ch = NextChar();
    while (ch != '\n' && ch >= 0) ch = NextChar();
    return ch;
  }
  ch = NextChar();
  for (;;) {
    if (ch < 0) {
      Error("comment not terminated");
      break;
    }
    int32_t ch0 = ch;
    ch = NextChar();
    if (ch0 == '*' && ch == '/') {
      ch = NextChar();
      break;
    }
  }
  return ch;
}

int32_t Scanner::Scan() {
  int32_t ch = Peek();
  tok_pos_ = -1;
  tok_line_ = 0;
  int32_t tok;
  for (;;) {
    while (IsSpaceForWhitespaceSkip(ch)) ch = NextChar();
    tok_pos_ = static_cast<long>(pos_) - last_char_len_;
    if (column_ > 0) {
      tok_line_ = line_;
      tok_col_ = column_;
    } else {
      tok_line_ = line_ - 1;
      tok_col_ = last_line_len_;
    }
    tok = ch;
    if (IsIdentRune(ch, 0)) {
      tok = kIdent;
      ch = ScanIdentifier();
    } else if (IsDecimal(ch)) {
      ch = ScanNumber(ch, false, &tok);
    } else {
      switch (ch) {
        case kEOF:
          break;
        case '"':
          ScanString('"');
          tok = kString;
          ch = NextChar();
          break;
        case '\'':
          if (ScanString('\'') != 1) Error("invalid char literal");
          tok = kChar;
          ch = NextChar();
          break;
        case '.':
          ch = NextChar();
          if (IsDecimal(ch)) ch = ScanNumber(ch, true, &tok);
          break;
        case '/':
          ch = NextChar();
          if (ch == '/' || ch == '*') {
            tok_pos_ = -1;
            ch = ScanComment(ch);
            continue;  // skip the comment, scan again
          }
          break;
        case '`':
          ScanRawString();
          tok = kRawString;
          ch = NextChar();
          break;
        default:
          ch = NextChar();
      }
    }
    break;
  }
  tok_end_ = static_cast<long>(pos_) - last_char_len_;
  ch_ = ch;
  return tok;
}

// ---------------------------------------------------------------------------
// Token names

std::string_view TokName(Tok t) {
  switch (t) {
    case Tok::kEof:
      return "$end";
    case Tok::kBytes:
      return "BYTES";
    case Tok::kIdentifier:
      return "IDENTIFIER";
    case Tok::kString:
      return "STRING";
    case Tok::kNumber:
      return "NUMBER";
    case Tok::kFunctionFlag:
      return "FUNCTION_FLAG";
    case Tok::kDuration:
      return "DURATION";
    case Tok::kRange:
      return "RANGE";
    case Tok::kMatchers:
      return "MATCHERS";
    case Tok::kLabels:
      return "LABELS";
    case Tok::kCountOverTime:
      return "COUNT_OVER_TIME";
    case Tok::kRate:
      return "RATE";
    case Tok::kRateCounter:
      return "RATE_COUNTER";
    case Tok::kSum:
      return "SUM";
    case Tok::kSort:
      return "SORT";
    case Tok::kSortDesc:
      return "SORT_DESC";
    case Tok::kAvg:
      return "AVG";
    case Tok::kMax:
      return "MAX";
    case Tok::kMin:
      return "MIN";
    case Tok::kCount:
      return "COUNT";
    case Tok::kStddev:
      return "STDDEV";
    case Tok::kStdvar:
      return "STDVAR";
    case Tok::kBottomk:
      return "BOTTOMK";
    case Tok::kTopk:
      return "TOPK";
    case Tok::kApproxTopk:
      return "APPROX_TOPK";
    case Tok::kBytesOverTime:
      return "BYTES_OVER_TIME";
    case Tok::kBytesRate:
      return "BYTES_RATE";
    case Tok::kAvgOverTime:
      return "AVG_OVER_TIME";
    case Tok::kSumOverTime:
      return "SUM_OVER_TIME";
    case Tok::kMinOverTime:
      return "MIN_OVER_TIME";
    case Tok::kMaxOverTime:
      return "MAX_OVER_TIME";
    case Tok::kStdvarOverTime:
      return "STDVAR_OVER_TIME";
    case Tok::kStddevOverTime:
      return "STDDEV_OVER_TIME";
    case Tok::kQuantileOverTime:
      return "QUANTILE_OVER_TIME";
    case Tok::kBytesConv:
      return "BYTES_CONV";
    case Tok::kDurationConv:
      return "DURATION_CONV";
    case Tok::kDurationSecondsConv:
      return "DURATION_SECONDS_CONV";
    case Tok::kFirstOverTime:
      return "FIRST_OVER_TIME";
    case Tok::kLastOverTime:
      return "LAST_OVER_TIME";
    case Tok::kAbsentOverTime:
      return "ABSENT_OVER_TIME";
    case Tok::kVector:
      return "VECTOR";
    default:
      break;
  }
  for (const Keyword& k : kTokens) {
    if (k.tok == t) return k.text;
  }
  return "$unk";
}

// ---------------------------------------------------------------------------
// Lexer

Lexer::Lexer(std::string_view src, LexError* err) : src_(src), err_(err), sc_(src, err) {}

void Lexer::Fill(Token* tok, Tok kind) {
  tok->kind = kind;
  tok->line = sc_.line();
  tok->col = sc_.column();
}

bool Lexer::IsFunctionAhead(Scanner sc) {
  auto trim_space = [](Scanner* s) {
    for (int32_t n = s->Peek(); n != Scanner::kEOF && IsUnicodeSpace(n); n = s->Peek()) s->Next();
  };
  trim_space(&sc);
  std::string sb;
  for (int32_t r = sc.Next(); r != Scanner::kEOF; r = sc.Next()) {
    AppendRune(&sb, r);
    std::string lower = AsciiLower(sb);
    if (lower == "(") return true;
    if (lower == "by" || lower == "without") {
      trim_space(&sc);
      return sc.Next() == '(';
    }
    if (!std::string_view("by").starts_with(lower) &&
        !std::string_view("without").starts_with(lower)) {
      // Loki keeps reading to the end of the input here; the only effect of
      // that is reporting a bad character found on the way.
      const char* msg = nullptr;
      if (FirstBadChar(src_, sc.offset(), &msg) != std::string_view::npos) sc.Error(msg);
      return false;
    }
  }
  return false;
}

bool Lexer::TryScanDuration(std::string_view prefix, Token* tok) {
  Scanner s = sc_.LookaheadCopy();
  std::string sb(prefix);
  int consumed = 0;
  for (int32_t r = s.Peek(); r != Scanner::kEOF && !IsUnicodeSpace(r); r = s.Peek()) {
    if (!IsUnicodeNumber(r) && !IsDurationRune(r) && r != '.') break;
    AppendRune(&sb, r);
    s.Next();
    consumed++;
  }
  if (consumed == 0) return false;
  StatusOr<int64_t> nanos = ParsePromDuration(sb);
  if (!nanos.ok()) nanos = ParseGoDuration(sb);
  if (!nanos.ok()) return false;
  for (int i = 0; i < consumed; i++) sc_.Next();
  Fill(tok, Tok::kDuration);
  tok->nanos = *nanos;
  tok->text = std::move(sb);
  return true;
}

bool Lexer::TryScanBytes(std::string_view prefix, Token* tok) {
  Scanner s = sc_.LookaheadCopy();
  std::string sb(prefix);
  int consumed = 0;
  for (int32_t r = s.Peek(); r != Scanner::kEOF && !IsUnicodeSpace(r); r = s.Peek()) {
    if (!IsUnicodeNumber(r) && !IsBytesSizeRune(r) && r != '.') break;
    AppendRune(&sb, r);
    s.Next();
    consumed++;
  }
  if (consumed == 0) return false;
  uint64_t bytes = 0;
  if (!ParseHumanBytes(sb, &bytes)) return false;
  for (int i = 0; i < consumed; i++) sc_.Next();
  Fill(tok, Tok::kBytes);
  tok->bytes = bytes;
  tok->text = std::move(sb);
  return true;
}

bool Lexer::TryScanFlag(Token* tok) {
  std::string sb(sc_.TokenText());
  Scanner s = sc_.LookaheadCopy();
  int consumed = 0;
  for (int32_t r = s.Peek(); IsUnicodeLetter(r) || r == '-'; r = s.Peek()) {
    AppendRune(&sb, r);
    s.Next();
    consumed++;
  }
  if (sb != "--strict" && sb != "--keep-empty") return false;
  for (int i = 0; i < consumed; i++) sc_.Next();
  Fill(tok, Tok::kFunctionFlag);
  tok->text = std::move(sb);
  return true;
}

Token Lexer::Lex() {
  Token tok;
  for (;;) {
    int32_t r = sc_.Scan();
    if (r == '#') {
      for (int32_t next = sc_.Peek(); next != '\n' && next != Scanner::kEOF; next = sc_.Next()) {
      }
      continue;
    }
    if (r == Scanner::kEOF) {
      Fill(&tok, Tok::kEof);
      return tok;
    }
    if (r == Scanner::kInt || r == Scanner::kFloat) {
      std::string number(sc_.TokenText());
      if (TryScanDuration(number, &tok)) return tok;
      if (TryScanBytes(number, &tok)) return tok;
      Fill(&tok, Tok::kNumber);
      tok.text = std::move(number);
      return tok;
    }
    if (r == '-') {
      if (sc_.Peek() == '-' && TryScanFlag(&tok)) return tok;
      std::string text(sc_.TokenText());
      if (TryScanDuration(text, &tok)) return tok;
    }
    if (r == Scanner::kString || r == Scanner::kRawString) {
      std::string_view text = sc_.TokenText();
      if (!skald::IsValidUtf8(text)) {
        sc_.Error("invalid UTF-8 rune");
        Fill(&tok, Tok::kEof);
        return tok;
      }
      bool ok = text.size() >= 2 && text.front() == text.back();
      std::string value;
      if (ok && r == Scanner::kRawString) {
        value = std::string(text.substr(1, text.size() - 2));
        ok = value.find('`') == std::string::npos;
      } else if (ok) {
        size_t consumed = 0;
        ok = skald::ParseGoStringLiteral(text, &value, &consumed).ok() && consumed == text.size();
      }
      if (!ok) {
        sc_.Error("invalid syntax");
        Fill(&tok, Tok::kEof);
        return tok;
      }
      Fill(&tok, Tok::kString);
      tok.text = std::move(value);
      return tok;
    }
    if (r == '[') {
      std::string b;
      for (int32_t c = sc_.Next(); c != Scanner::kEOF; c = sc_.Next()) {
        if (c == ']') {
          StatusOr<int64_t> nanos = ParsePromDuration(b);
          if (!nanos.ok()) {
            sc_.Error(nanos.status().message());
            Fill(&tok, Tok::kEof);
            return tok;
          }
          Fill(&tok, Tok::kRange);
          tok.nanos = *nanos;
          tok.text = std::move(b);
          return tok;
        }
        AppendRune(&b, c);
      }
      sc_.Error("missing closing ']' in duration");
      Fill(&tok, Tok::kEof);
      return tok;
    }

    std::string text(sc_.TokenText());
    std::string lower = AsciiLower(text);
    Tok kind;
    if (Lookup(kFunctionTokens, lower, &kind)) {
      if (!IsFunctionAhead(sc_.LookaheadCopy())) {
        Fill(&tok, Tok::kIdentifier);
        tok.text = std::move(text);
        return tok;
      }
      Fill(&tok, kind);
      tok.text = std::move(text);
      return tok;
    }
    int32_t pk = sc_.Peek();
    std::string next = lower;
    if (pk >= 0 && pk < 0x80) {
      next.push_back(static_cast<char>(pk));
      if (Lookup(kTokens, next, &kind)) {
        sc_.Next();
        Fill(&tok, kind);
        tok.text = std::move(next);
        return tok;
      }
    }
    if (Lookup(kTokens, lower, &kind)) {
      Fill(&tok, kind);
      tok.text = std::move(text);
      return tok;
    }
    Fill(&tok, Tok::kIdentifier);
    tok.text = std::move(text);
    return tok;
  }
}

}  // namespace skald::logql::internal
