// Line filter execution: the scan hot path of log queries.
//
// A LineFilter is compiled once per query from the parsed filter chain
// (LineFilterSpec, ast.h) and then applied to lines, either one at a time
// (Matches) or to a whole column of lines stored back to back (Select).
// Semantics follow Loki (pkg/logql/log/filter.go):
//   |= "s"  substring (byte-wise, case-sensitive); |= "" keeps every line
//   != "s"  substring absent
//   |~ "re" RE2 unanchored search, Perl syntax without the s flag (`.` does not
//           match \n); `(?i)` literals use an ASCII case-insensitive search as
//           Loki's does (so `(?i)k` does not match the Kelvin sign, unlike RE2)
//   !~ "re" no match
//   |> "p"  Loki pattern test (only <_> placeholders); !> its negation
//   |= ip("p") the line holds an address inside the address/range/CIDR p
//           (ip_match.h); != ip("p") it holds none
//   `or` operands: positive filters keep a line when any operand matches,
//   negative filters when none does. Filters in the chain are ANDed.
// Regexes that are plain literals or alternations of literals (`error|fail`,
// `(?i)timeout`) run as literal searches; `.*` and `` keep every line and
// `.+` keeps non-empty lines (Loki's simplifications).
//
// A compiled LineFilter is immutable: Matches and Select are const and safe to
// call from many threads at once. Copies share the compiled regexes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logql/ast.h"

namespace skald::logql {

namespace internal {
struct CompiledClause;
struct RequirementNode;
}  // namespace internal

// What a line must contain for a LineFilter to keep it: a formula (AND/OR) over literals,
// used to skip whole blocks with a per-block filter that answers "may some line contain this
// literal, ASCII-case-insensitively". Immutable; thread-safe; copies share state.
//
// Literals are ASCII-lowercased byte strings of at least one byte, each of which must occur
// within a single line. A regex that is not a plain literal search is a leaf decided by RE2's
// prefilter (re2::FilteredRE2) over its atoms; atom bytes that an ASCII-only case fold cannot
// vouch for (non-ASCII bytes, and `k`/`s` where Unicode folding may apply) are left out.
class LiteralRequirement {
 public:
  LiteralRequirement();  // always satisfiable (skips nothing)

  // False only if no line can pass the filter, given may_contain(lit) that returns false only
  // when no line of the block contains `lit` (ASCII-case-insensitively; `lit` is
  // ASCII-lowercase, at least 1 byte). Cheap: meant to run once per block.
  bool MayMatch(const std::function<bool(std::string_view)>& may_contain) const;
  // True when MayMatch always returns true whatever may_contain says (nothing to probe).
  bool Trivial() const;
  // True when MayMatch always returns false (the filter keeps no line, e.g. `!= ""`).
  bool Never() const;
  // Readable form for tests and logs, e.g. `and("error", or("fail", "timeout"))`; a regex
  // leaf reads `re2("pattern", atoms: "atom", ...)`, where an atom only partly checked is
  // followed by what is checked (`"kelvin"~"elvin"`). Strings are quoted as Go's
  // strconv.Quote does (core/go_string.h).
  std::string DebugString() const;

 private:
  friend class LineFilter;
  explicit LiteralRequirement(std::shared_ptr<const internal::RequirementNode> root);

  std::shared_ptr<const internal::RequirementNode> root_;  // null: always satisfiable
};

class LineFilter {
 public:
  // Compiles an ANDed chain of filters. Errors (InvalidArgument): invalid
  // regex (Go's "error parsing regexp: ..." wording), invalid pattern
  // ("named captures are not allowed: ..."), ip() on an operator other than
  // |= / !=, an invalid ip() pattern ("ip: invalid pattern: \"x\"").
  static StatusOr<LineFilter> Compile(const std::vector<LineFilterSpec>& specs);

  // A filter that keeps every line.
  LineFilter();

  // Does the line pass every filter?
  bool Matches(std::string_view line) const;

  // Bulk form for a column of lines: line i is
  // lines_data[offsets[i], offsets[i+1]); offsets has n+1 ascending entries.
  // Replaces *matching_indices with the indices of the lines that pass, in
  // ascending order, and returns how many there are. For positive literal
  // filters the search runs over the whole buffer and maps hits back to lines
  // (a hit that straddles two lines matches neither).
  size_t Select(std::string_view lines_data, std::span<const uint32_t> offsets,
                std::vector<uint32_t>* matching_indices) const;

  // True when the filter keeps every line (no filters, or only `|= ""`-like ones).
  bool IsNoop() const { return clauses_.empty() && !never_; }

  // What a kept line must contain (see LiteralRequirement), for skipping blocks of lines
  // that cannot pass. Built on each call (RE2 prefilters are compiled here, not in Compile,
  // so queries that never skip blocks do not pay for them): call it once per query.
  LiteralRequirement Requirement() const;

 private:
  std::vector<std::shared_ptr<const internal::CompiledClause>> clauses_;
  bool never_ = false;  // some clause can never match (e.g. `!= ""`)
  int driver_ = -1;     // clause evaluated in bulk by Select, or -1
};

namespace internal {

// Substring search over raw bytes (exact, or ASCII case-insensitive with a
// lower-case needle), vectorised with SSE2/AVX2. Thread-safe.
class LiteralSearcher {
 public:
  LiteralSearcher(std::string needle, bool case_insensitive);
  // First p in [from, to - needle.size()] where the needle occurs in
  // data[p, p + needle.size()), or std::string_view::npos.
  size_t Find(const char* data, size_t from, size_t to) const;
  bool Contains(std::string_view s) const {
    return Find(s.data(), 0, s.size()) != std::string_view::npos;
  }
  const std::string& needle() const { return needle_; }

 private:
  std::string needle_;
  bool ci_;
};

}  // namespace internal
}  // namespace skald::logql
