// LogQL lexer (internal to skald_logql).
//
// Reproduces the token stream of Loki's lexer (pkg/logql/syntax/lex.go on top
// of a text/scanner-style character scanner), including its quirks, because
// clients see the positions and wording of parse errors:
//   - keywords are case-insensitive; function words (rate, sum, bytes, ip, ...)
//     are keywords only when followed by `(` (or `by`/`without` then `(`);
//   - numbers followed by unit letters become DURATION or BYTES tokens;
//   - `[...]` is one RANGE token holding a Prometheus duration;
//   - `#` starts a comment to the end of the line, and so do Go's `//` and
//     `/* */` (the scanner skips Go comments);
//   - any other character sequence that is not a known token is an IDENTIFIER;
//   - error positions are those of the most recently scanned token, with the
//     line reported as 0 when the lexer consumed characters past the scanner's
//     token (two-character operators, durations, ranges, flags).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/parse.h"

namespace skald::logql::internal {

// Token kinds. The order of the named kinds after kEof is the order of Loki's
// goyacc token declarations; "expecting ..." lists are printed in this order.
enum class Tok : int {
  kEof = 0,
  kBytes,
  kIdentifier,
  kString,
  kNumber,
  kFunctionFlag,
  kDuration,
  kRange,
  kMatchers,
  kLabels,
  kEq,
  kRe,
  kNre,
  kNpa,
  kOpenBrace,
  kCloseBrace,
  kOpenBracket,
  kCloseBracket,
  kComma,
  kDot,
  kPipeMatch,
  kPipeExact,
  kPipePattern,
  kOpenParen,
  kCloseParen,
  kBy,
  kWithout,
  kCountOverTime,
  kRate,
  kRateCounter,
  kSum,
  kSort,
  kSortDesc,
  kAvg,
  kMax,
  kMin,
  kCount,
  kStddev,
  kStdvar,
  kBottomk,
  kTopk,
  kApproxTopk,
  kBytesOverTime,
  kBytesRate,
  kBool,
  kJson,
  kRegexp,
  kLogfmt,
  kPipe,
  kLineFmt,
  kLabelFmt,
  kUnwrap,
  kAvgOverTime,
  kSumOverTime,
  kMinOverTime,
  kMaxOverTime,
  kStdvarOverTime,
  kStddevOverTime,
  kQuantileOverTime,
  kBytesConv,
  kDurationConv,
  kDurationSecondsConv,
  kFirstOverTime,
  kLastOverTime,
  kAbsentOverTime,
  kVector,
  kLabelReplace,
  kUnpack,
  kOffset,
  kPattern,
  kIp,
  kOn,
  kIgnoring,
  kGroupLeft,
  kGroupRight,
  kDecolorize,
  kDrop,
  kKeep,
  kOr,
  kAnd,
  kUnless,
  kCmpEq,
  kNeq,
  kLt,
  kLte,
  kGt,
  kGte,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
};

// The name goyacc prints for a token in "unexpected X" messages: the literal
// text for operators and keywords ("{", "|=", "json", "ip"), the upper-case
// symbol for the others ("IDENTIFIER", "RATE"), "$end" at the end of input.
std::string_view TokName(Tok t);

struct Token {
  Tok kind = Tok::kEof;
  // IDENTIFIER / NUMBER / FUNCTION_FLAG: the source text. STRING: the
  // unquoted value. DURATION / BYTES / RANGE: the source text of the value.
  std::string text;
  int64_t nanos = 0;   // DURATION, RANGE
  uint64_t bytes = 0;  // BYTES
  // Position Loki reports for an error at this token (line 0 = "invalid").
  int line = 0;
  int col = 0;
};

// First error reported by the scanner or the lexer.
struct LexError {
  bool set = false;
  std::string msg;
  int line = 0;
  int col = 0;
};

// Character scanner with the semantics of Go's text/scanner as copied into
// Loki (GoTokens mode). Cheap to copy; copies share the error sink, as the Go
// copies share the error callback.
class Scanner {
 public:
  static constexpr int32_t kEOF = -1;
  static constexpr int32_t kIdent = -2;
  static constexpr int32_t kInt = -3;
  static constexpr int32_t kFloat = -4;
  static constexpr int32_t kChar = -5;
  static constexpr int32_t kString = -6;
  static constexpr int32_t kRawString = -7;

  Scanner(std::string_view src, LexError* err) : src_(src), err_(err) {}

  // Next token (one of the negative kinds above) or a single character.
  int32_t Scan();
  // Reads and returns the next character; invalidates the token line.
  int32_t Next();
  // The next character without consuming it.
  int32_t Peek();
  std::string_view TokenText() const;

  // A copy for look-ahead scanning; its errors are reported at this
  // scanner's current token position (as Go's copies report through the
  // original's callback).
  Scanner LookaheadCopy() const;

  int line() const { return tok_line_; }
  int column() const { return tok_col_; }
  size_t offset() const { return pos_; }
  void Error(std::string msg);

 private:
  int32_t NextChar();
  int32_t ScanIdentifier();
  int32_t Digits(int32_t ch, int base, int32_t* invalid, int* digsep);
  int32_t ScanNumber(int32_t ch, bool seen_dot, int32_t* tok);
  int32_t ScanDigits(int32_t ch, int base, int n);
  int32_t ScanEscape(char quote);
  int ScanString(char quote);
  void ScanRawString();
  int32_t ScanComment(int32_t ch);

  std::string_view src_;
  LexError* err_;
  size_t pos_ = 0;   // next byte to read
  int32_t ch_ = -2;  // one-character lookahead (-2: nothing read yet)
  int line_ = 1;
  int column_ = 0;
  int last_line_len_ = 0;
  int last_char_len_ = 0;
  // Token text [tok_pos_, tok_end_) and the token's position.
  long tok_pos_ = -1;
  long tok_end_ = 0;
  int tok_line_ = 0;
  int tok_col_ = 0;
  bool is_copy_ = false;
  int report_line_ = 0;
  int report_col_ = 0;
};

// Produces Loki's LogQL tokens. After a lexing error, `err` is set and the
// lexer returns kEof.
class Lexer {
 public:
  Lexer(std::string_view src, LexError* err);
  Token Lex();

 private:
  bool IsFunctionAhead(Scanner sc);
  bool TryScanDuration(std::string_view prefix, Token* tok);
  bool TryScanBytes(std::string_view prefix, Token* tok);
  bool TryScanFlag(Token* tok);
  void Fill(Token* tok, Tok kind);

  std::string_view src_;
  LexError* err_;
  Scanner sc_;
};

// Durations are parsed by core/time.h (ParsePromDuration, ParseGoDuration) and numbers and
// byte sizes by core/parse.h; the parser reaches them through these names.
using skald::ParseGoFloat;
using skald::ParseHumanBytes;

// Go's unicode.IsLetter / IsDigit / IsNumber for one code point (IsSpace: core/utf8.h).
bool IsUnicodeLetter(int32_t r);
bool IsUnicodeDigit(int32_t r);
bool IsUnicodeNumber(int32_t r);

}  // namespace skald::logql::internal
