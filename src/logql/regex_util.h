// RE2 helpers that speak Go's regexp dialect of error messages (internal).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace skald::logql::internal {

// Compiles `pattern` with RE2 in Go's Perl-compatible mode (UTF-8, `.` not
// matching \n unless dot_nl). Returns std::nullopt on success, otherwise Go's
// error text: "error parsing regexp: <reason>: `<fragment>`".
std::optional<std::string> GoRegexpError(std::string_view pattern, bool dot_nl = false);

// Whether Loki's regex simplifier would turn the label-filter regex `pattern` into literal
// filters (then Loki prints the filter as `name=~"..."`; otherwise as name=~`...`). An
// approximation of Go's parse tree for common shapes (regex_shape.cc); only printing
// depends on it.
bool LokiSimplifiesLabelRegex(std::string_view pattern);

}  // namespace skald::logql::internal
