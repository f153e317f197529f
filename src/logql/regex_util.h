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

}  // namespace skald::logql::internal
