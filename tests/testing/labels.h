// Label sets and matchers for tests, built without ceremony: a failure to
// parse or compile fails the current test and yields an empty value.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/matcher.h"

namespace skald::testing {

// Parses `{a="1", b="2"}`.
inline Labels L(std::string_view text) {
  auto l = ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : Labels();
}

inline Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  std::vector<Label> out;
  for (auto& [n, v] : pairs) out.push_back(Label{n, v});
  return Labels(std::move(out));
}

inline Matcher M(MatchType t, std::string name, std::string value) {
  auto m = Matcher::Create(t, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}
inline Matcher Eq(std::string n, std::string v) { return M(MatchType::kEqual, n, v); }
inline Matcher Neq(std::string n, std::string v) { return M(MatchType::kNotEqual, n, v); }
inline Matcher Re(std::string n, std::string v) { return M(MatchType::kRegexMatch, n, v); }
inline Matcher Nre(std::string n, std::string v) { return M(MatchType::kRegexNoMatch, n, v); }

}  // namespace skald::testing
