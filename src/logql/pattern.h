// Loki's `pattern` expressions (internal): `<name>` captures, `<_>`
// placeholders and literal text. Used to validate `| pattern "..."` stages and
// to run `|> "..."` / `!> "..."` line filters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skald::logql::internal {

struct PatternNode {
  bool capture = false;
  std::string text;  // capture name (without <>), or literal bytes
  bool Unnamed() const { return capture && text == "_"; }
};

// Splits a pattern into nodes (adjacent literal characters merged). Invalid
// UTF-8 ends the pattern, as in Loki's lexer. Fails with Loki's message when
// nothing could be parsed.
bool ParsePatternNodes(std::string_view in, std::vector<PatternNode>* out, std::string* err);

// Checks a `| pattern` stage's expression: at least one named capture, no two
// captures adjacent, no duplicate names. Returns Loki's error text.
std::optional<std::string> ValidatePatternParser(std::string_view in);

// `|> "p"` matcher: only `<_>` placeholders allowed.
class PatternLineMatcher {
 public:
  // Returns Loki's error text on failure (named capture, adjacent captures).
  static std::optional<std::string> Create(std::string_view in, PatternLineMatcher* out);
  // Loki's Matcher.Test: literals found in order (first occurrence), each
  // placeholder consuming at least one byte, a trailing literal ending the
  // line exactly, a trailing placeholder leaving at least one byte.
  bool Test(std::string_view line) const;
  // The parsed nodes: literal text alternating with `<_>` placeholders (empty for an empty
  // pattern). Every literal node must occur in a line that passes Test.
  const std::vector<PatternNode>& nodes() const { return nodes_; }

 private:
  std::vector<PatternNode> nodes_;
};

}  // namespace skald::logql::internal
