// Postings lists (sorted, duplicate-free uint64 vectors: fingerprints in the
// head index, series ordinals in index files), their set operations, and the
// matcher-selection algorithm shared by MemIndex and IndexFileReader.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/matcher.h"

namespace skald::index {

using Postings = std::vector<uint64_t>;

// a ∩ b.
Postings Intersect(const Postings& a, const Postings& b);
// a \ b.
Postings Subtract(const Postings& a, const Postings& b);
// Union of all lists (pairwise merges, O(total · log lists)).
Postings Union(std::vector<Postings> lists);

// What the selection algorithm needs from an index. Label values that are
// empty are never indexed (Prometheus: empty value == label absent).
class PostingsSource {
 public:
  virtual ~PostingsSource() = default;
  // Every series.
  virtual Postings AllPostings() const = 0;
  // Series that have label `name` (with a non-empty value).
  virtual Postings NamePostings(std::string_view name) const = 0;
  // Series with label name=value; empty when there are none.
  virtual Postings ValuePostings(std::string_view name, std::string_view value) const = 0;
  // The distinct non-empty values of `name`, sorted. The views stay valid as
  // long as the source is not modified.
  virtual std::vector<std::string_view> Values(std::string_view name) const = 0;
};

// Series matching every matcher, with Prometheus semantics: a matcher that
// matches "" also selects series lacking the label. Each matcher becomes
// either an inclusion (union of the postings of the values it accepts) or,
// when it matches "", an exclusion (union of the postings of the values it
// rejects); the result is the intersection of inclusions (or all series) minus
// the exclusions. =, != and set-literal regexes (Matcher::SetMatches()) are
// answered with postings lookups, other regexes scan the label's values.
// An empty matcher list selects every series.
Postings SelectPostings(const PostingsSource& source, const std::vector<Matcher>& matchers);

}  // namespace skald::index
