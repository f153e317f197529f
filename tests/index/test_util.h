// Helpers shared by the index tests: label sets, matchers, a brute-force
// reference for selection, and a random corpus generator.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/matcher.h"
#include "tests/testing/labels.h"

namespace skald::index::testing {

// Label and matcher builders from the kit (tests/testing/labels.h).
using skald::testing::Eq;
using skald::testing::L;
using skald::testing::M;
using skald::testing::Neq;
using skald::testing::Nre;
using skald::testing::Re;

struct Series {
  uint64_t fp;
  Labels labels;
};

// Sorted fingerprints of the series MatchesAll accepts: the reference answer.
inline std::vector<uint64_t> BruteForce(const std::vector<Series>& series,
                                        const std::vector<Matcher>& matchers) {
  std::vector<uint64_t> out;
  for (const auto& s : series) {
    if (MatchesAll(matchers, s.labels)) out.push_back(s.fp);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Random label sets over a small vocabulary (so matchers hit often), some
// with empty values.
inline std::vector<Series> RandomSeries(std::mt19937_64& rng, int n) {
  static const char* kNames[] = {"app", "env", "pod", "job", "zone"};
  static const char* kValues[] = {"a", "b", "api", "web", "prod", "dev", "x1", "x2", ""};
  std::vector<Series> out;
  std::vector<uint64_t> seen;
  for (int i = 0; i < n; ++i) {
    std::vector<Label> pairs;
    for (const char* name : kNames) {
      if (rng() % 3 == 0) continue;
      pairs.push_back(Label{name, kValues[rng() % std::size(kValues)]});
    }
    Labels labels(std::move(pairs));
    uint64_t fp = labels.Fingerprint();
    if (std::find(seen.begin(), seen.end(), fp) != seen.end()) continue;
    seen.push_back(fp);
    out.push_back(Series{fp, std::move(labels)});
  }
  return out;
}

// Random matcher lists covering all four types, empty values, set literals
// and real regexes.
inline std::vector<Matcher> RandomMatchers(std::mt19937_64& rng) {
  static const char* kNames[] = {"app", "env", "pod", "job", "zone", "missing"};
  static const char* kEqValues[] = {"a", "api", "prod", "", "nope", "x1"};
  static const char* kRegexes[] = {"a|api",   "api|web|", ".*",       ".+", "x.",
                                   "a.*",     "",         "prod|dev", "b",  "(a|b)",
                                   "nope|x2", "[a-c]+",   ".*e.*",    "web"};
  std::vector<Matcher> out;
  int n = static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    std::string name = kNames[rng() % std::size(kNames)];
    switch (rng() % 4) {
      case 0:
        out.push_back(Eq(name, kEqValues[rng() % std::size(kEqValues)]));
        break;
      case 1:
        out.push_back(Neq(name, kEqValues[rng() % std::size(kEqValues)]));
        break;
      case 2:
        out.push_back(Re(name, kRegexes[rng() % std::size(kRegexes)]));
        break;
      default:
        out.push_back(Nre(name, kRegexes[rng() % std::size(kRegexes)]));
        break;
    }
  }
  return out;
}

inline std::string Describe(const std::vector<Matcher>& ms) {
  std::string s = "{";
  for (size_t i = 0; i < ms.size(); ++i) {
    if (i > 0) s += ", ";
    s += ms[i].ToString();
  }
  return s + "}";
}

}  // namespace skald::index::testing
