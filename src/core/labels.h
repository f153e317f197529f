// Label sets: the identity of a stream.
//
// A Labels value is a list of name/value pairs sorted by name (stable, so
// duplicates stay adjacent and can be reported). Its canonical text form is
// `{a="1", b="2"}` with Go-quoted values, and its fingerprint is the 64-bit
// XXH3 hash of that text. Both are what Loki clients see and what the index keys on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label& o) const { return name == o.name && value == o.value; }
};

class Labels {
 public:
  Labels() = default;
  // Takes pairs in any order and sorts them by name (stable). Pairs with an
  // empty value are kept; callers that follow Prometheus rules drop them first.
  explicit Labels(std::vector<Label> pairs);

  const std::vector<Label>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

  // Value of the label, or "" when absent (Prometheus: empty == absent).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

  // Returns the first name that occurs twice, or "" when names are unique.
  std::string_view FindDuplicateName() const;

  // Canonical form: `{a="1", b="2"}`; `{}` when empty.
  std::string ToString() const;
  // XXH3-64 of ToString().
  uint64_t Fingerprint() const;

  bool operator==(const Labels& o) const { return items_ == o.items_; }
  bool operator!=(const Labels& o) const { return !(*this == o); }
  // Orders by canonical text, the order Loki uses for result streams.
  bool operator<(const Labels& o) const { return ToString() < o.ToString(); }

 private:
  std::vector<Label> items_;
};

// Parses Prometheus metric notation as Loki does for push label strings:
// `{name="value", ...}` with free whitespace, Go escapes in values, names
// `[a-zA-Z_][a-zA-Z0-9_]*`, an optional trailing comma, and an optional metric
// name prefix (`foo{...}` becomes __name__="foo"). Labels with empty values are
// dropped. Duplicate names are kept (see FindDuplicateName). Errors describe the
// position of the problem; the caller wraps them into Loki's message.
StatusOr<Labels> ParseLabels(std::string_view text);

// True for `[a-zA-Z_][a-zA-Z0-9_]*`.
bool IsValidLabelName(std::string_view name);

// Fingerprint of a canonical label string (XXH3-64).
uint64_t FingerprintOf(std::string_view canonical);

// Loki's default limits_config.discover_service_name: the labels (in order) whose value becomes
// `service_name` when a stream has none. Shared by the limits and the OTLP decoder's defaults.
const std::vector<std::string>& DefaultServiceNameSources();

}  // namespace skald
