// LogQL parser: query text -> AST (ast.h), with Loki's validation and errors.
//
// Errors are Status::InvalidArgument whose message is what Loki's HTTP API
// returns with status 400:
//   `parse error at line L, col C: syntax error: unexpected X[, expecting Y or Z]`
//   `parse error at line L, col C: <lexer message>` (e.g. literal not terminated)
//   `parse error : <message>` for errors found after parsing (no position),
//     e.g. the "at least one matcher" rule, `invalid aggregation ...`.
// Lines and columns are 1-based and count characters; as in Loki, the line is
// reported as 0 for some tokens (two-character operators, ranges, durations).
// "expecting" lists follow Loki's goyacc tables where they are known; in other
// states only the unexpected token is named.
//
// All functions are thread-safe (no shared mutable state).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/matcher.h"
#include "core/status.h"
#include "logql/ast.h"

namespace skald::logql {

// Loki's maximum query length in bytes; longer input fails with
// `parse error : input size too long (N > 131072)`.
inline constexpr size_t kMaxQueryLength = 131072;

// Parses and validates any LogQL expression (log or metric query).
StatusOr<std::unique_ptr<Expr>> ParseExpr(std::string_view query);

// Parses a bare stream selector for /series `match[]` and /labels `query=`.
// `{}` is allowed here. Anything that is not just a selector fails with
// "only label matchers are supported" (Loki's wording, no "parse error" prefix).
StatusOr<std::vector<Matcher>> ParseMatchers(std::string_view selector);

// Formats a Loki parse error ("parse error at line %d, col %d: %s", or
// "parse error : %s" when line and col are both 0).
std::string FormatParseError(std::string_view msg, int line, int col);

}  // namespace skald::logql
