// Label matchers (`name="v"`, `!=`, `=~`, `!~`) shared by LogQL and the index.
//
// Regex matchers are RE2, fully anchored with `.` matching newlines (^(?s:re)$),
// as Prometheus and Loki compile them.
// A Matcher is immutable and cheap to copy (the compiled regex is shared), and
// safe to use from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"

namespace re2 {
class RE2;
}

namespace skald {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

std::string_view MatchTypeOperator(MatchType t);  // "=", "!=", "=~", "!~"

class Matcher {
 public:
  // Compiles the regex for regex types; an invalid regex is InvalidArgument
  // with RE2's error text.
  static StatusOr<Matcher> Create(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Does a label value match? An absent label is the empty value.
  bool Matches(std::string_view label_value) const;
  // Matches(""): such a matcher also selects streams that lack the label.
  bool MatchesEmpty() const { return matches_empty_; }
  // For =~ regexes that are a plain alternation of literals (a|b|c), the literals;
  // lets the index answer with postings lookups instead of scanning values.
  const std::vector<std::string>& SetMatches() const { return set_matches_; }

  // `name="value"` with the value Go-quoted.
  std::string ToString() const;

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;
  bool matches_empty_ = false;
  std::vector<std::string> set_matches_;
};

// True when every matcher accepts the given label set.
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace skald
