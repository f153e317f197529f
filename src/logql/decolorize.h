// The `decolorize` stage: removes ANSI escape sequences from a line.
//
// What counts as an escape sequence is what Loki removes (it uses the stripansi package's
// expression): ESC (0x1B) or CSI (U+009B), any of `[ ] ( ) # ; ?`, then either a run of
// letters, digits and `;` ended by BEL (0x07), or up to four digits with `;`-separated
// groups of up to four digits ended by one final byte from `0-9 A-P R Z c f-n q r t y = > <
// ~` — with the leftmost-first, greedy-with-backtracking choice Go's regexp makes.
// Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace skald::logql {

// True when the line may hold an escape sequence (fast check).
bool MayHaveAnsi(std::string_view line);
// Replaces *out with `line` minus its escape sequences.
void StripAnsi(std::string_view line, std::string* out);

}  // namespace skald::logql
