// RE2 helpers with Go-style error messages: see regex_util.h.
#include "logql/regex_util.h"

#include <re2/re2.h>

namespace skald::logql::internal {
namespace {

std::string_view GoErrorCodeText(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

}  // namespace

std::optional<std::string> GoRegexpError(std::string_view pattern, bool dot_nl) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(dot_nl);
  RE2 re(pattern, opts);
  if (re.ok()) return std::nullopt;
  std::string msg = "error parsing regexp: ";
  msg += GoErrorCodeText(re.error_code());
  msg += ": `";
  msg += re.error_arg();
  msg += "`";
  return msg;
}

}  // namespace skald::logql::internal
