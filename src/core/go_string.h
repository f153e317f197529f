// Go-compatible string quoting and unquoting.
//
// Loki renders label values with Go's strconv.Quote and parses label strings and
// LogQL string literals with Go's unquoting rules, so clients see byte-identical
// text. These helpers implement those rules for "double-quoted" and `raw` strings.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/utf8.h"  // DecodeUtf8Rune, IsValidUtf8, AppendUtf8 (used with these)

namespace skald {

// Appends s to *out as a Go double-quoted string literal (strconv.Quote rules):
// \a \b \f \n \r \t \v \\ \" escaped, other control bytes and invalid UTF-8 as
// \xNN, DEL as \x7f, printable UTF-8 passed through.
void AppendGoQuoted(std::string* out, std::string_view s);
std::string GoQuote(std::string_view s);

// Parses a Go string literal that starts at text[0] (a '"' or '`'). On success
// stores the unescaped value in *value and the number of bytes consumed (both
// quotes included) in *consumed. Errors name what was wrong ("invalid escape",
// "unterminated string", "invalid UTF-8").
Status ParseGoStringLiteral(std::string_view text, std::string* value, size_t* consumed);

// Unquotes a complete literal (the whole input must be one literal).
StatusOr<std::string> GoUnquote(std::string_view quoted);

}  // namespace skald
