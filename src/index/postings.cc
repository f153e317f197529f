// Postings set operations and matcher selection: see postings.h.
#include "index/postings.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace skald::index {
namespace {

// Intersection by binary-searching the elements of a short list in a long one.
Postings IntersectGalloping(const Postings& small, const Postings& large) {
  Postings out;
  auto it = large.begin();
  for (uint64_t v : small) {
    it = std::lower_bound(it, large.end(), v);
    if (it == large.end()) break;
    if (*it == v) out.push_back(v);
  }
  return out;
}

// Union of the postings of every value v of m.name() with m.Matches(v) == want.
Postings MatchingUnion(const PostingsSource& src, const Matcher& m, bool want) {
  const std::string& name = m.name();
  const std::string& value = m.value();
  switch (m.type()) {
    case MatchType::kEqual:
      if (want) return value.empty() ? Postings{} : src.ValuePostings(name, value);
      if (value.empty()) return src.NamePostings(name);
      return Subtract(src.NamePostings(name), src.ValuePostings(name, value));
    case MatchType::kNotEqual:
      if (!want) return value.empty() ? Postings{} : src.ValuePostings(name, value);
      if (value.empty()) return src.NamePostings(name);
      return Subtract(src.NamePostings(name), src.ValuePostings(name, value));
    case MatchType::kRegexMatch:
    case MatchType::kRegexNoMatch: {
      // Values the regex itself must accept for m.Matches(v) == want.
      const bool need_regex_match = (m.type() == MatchType::kRegexMatch) == want;
      const std::vector<std::string>& set = m.SetMatches();
      if (need_regex_match && !set.empty()) {
        // Set-literal fast path. Cheap sanity check that the literals really
        // are what the regex accepts; fall back to scanning otherwise.
        bool consistent = true;
        for (const std::string& s : set) {
          if (m.Matches(s) != want) {
            consistent = false;
            break;
          }
        }
        if (consistent) {
          std::vector<Postings> lists;
          lists.reserve(set.size());
          for (const std::string& s : set) {
            if (s.empty()) continue;  // empty values are not indexed
            Postings p = src.ValuePostings(name, s);
            if (!p.empty()) lists.push_back(std::move(p));
          }
          return Union(std::move(lists));
        }
      }
      break;
    }
  }
  // Scan the label's values.
  std::vector<std::string_view> values = src.Values(name);
  std::vector<std::string_view> selected;
  for (std::string_view v : values) {
    if (m.Matches(v) == want) selected.push_back(v);
  }
  if (selected.empty()) return {};
  if (selected.size() == values.size()) return src.NamePostings(name);
  std::vector<Postings> lists;
  lists.reserve(selected.size());
  for (std::string_view v : selected) lists.push_back(src.ValuePostings(name, v));
  return Union(std::move(lists));
}

}  // namespace

Postings Intersect(const Postings& a, const Postings& b) {
  if (a.empty() || b.empty()) return {};
  if (a.size() * 16 < b.size()) return IntersectGalloping(a, b);
  if (b.size() * 16 < a.size()) return IntersectGalloping(b, a);
  Postings out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  if (a.empty() || b.empty()) return a;
  Postings out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Union(std::vector<Postings> lists) {
  lists.erase(
      std::remove_if(lists.begin(), lists.end(), [](const Postings& p) { return p.empty(); }),
      lists.end());
  if (lists.empty()) return {};
  while (lists.size() > 1) {
    std::vector<Postings> next;
    next.reserve((lists.size() + 1) / 2);
    for (size_t i = 0; i + 1 < lists.size(); i += 2) {
      Postings merged;
      merged.reserve(lists[i].size() + lists[i + 1].size());
      std::set_union(lists[i].begin(), lists[i].end(), lists[i + 1].begin(), lists[i + 1].end(),
                     std::back_inserter(merged));
      next.push_back(std::move(merged));
    }
    if (lists.size() % 2 == 1) next.push_back(std::move(lists.back()));
    lists = std::move(next);
  }
  return std::move(lists.front());
}

Postings SelectPostings(const PostingsSource& source, const std::vector<Matcher>& matchers) {
  if (matchers.empty()) return source.AllPostings();
  std::vector<Postings> includes;
  std::vector<Postings> excludes;
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) {
      // Series lacking the label are out; the rest match by value.
      Postings p = MatchingUnion(source, m, /*want=*/true);
      if (p.empty()) return {};
      includes.push_back(std::move(p));
    } else {
      // Series lacking the label are in; drop those whose value is rejected.
      Postings p = MatchingUnion(source, m, /*want=*/false);
      if (!p.empty()) excludes.push_back(std::move(p));
    }
  }
  Postings result;
  if (includes.empty()) {
    result = source.AllPostings();
  } else {
    std::sort(includes.begin(), includes.end(),
              [](const Postings& a, const Postings& b) { return a.size() < b.size(); });
    result = std::move(includes.front());
    for (size_t i = 1; i < includes.size() && !result.empty(); ++i) {
      result = Intersect(result, includes[i]);
    }
  }
  if (!excludes.empty() && !result.empty()) result = Subtract(result, Union(std::move(excludes)));
  return result;
}

}  // namespace skald::index
