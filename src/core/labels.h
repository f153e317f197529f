// Label sets: the identity of a stream.
//
// A Labels value is a list of name/value pairs sorted by name (stable, so
// duplicates stay adjacent and can be reported). Its canonical text form is
// `{a="1", b="2"}` with Go-quoted values, and its fingerprint is the 64-bit
// XXH3 hash of that text. Both are what Loki clients see and what the index keys on.
#pragma once

#include <atomic>
#include <cstddef>
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

// An immutable label set in one reference-counted allocation, for what is held per stream
// for as long as the stream lives (the ingester's streams, their head index, a flush's index
// writer). Four labels take ~96 bytes instead of ~300 for a shared Labels (two std::string
// per pair plus the vector and the shared_ptr's control block). Copies share the allocation;
// the count is atomic, so copies may be made and dropped from any thread. Pairs keep the
// order of the Labels it was made from.
class PackedLabels {
 public:
  struct Pair {
    std::string_view name;
    std::string_view value;
  };
  class Iterator {
   public:
    using value_type = Pair;
    using difference_type = std::ptrdiff_t;
    Iterator(const PackedLabels* p, size_t i) : p_(p), i_(i) {}
    Pair operator*() const { return (*p_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const PackedLabels* p_;
    size_t i_;
  };

  PackedLabels() = default;  // no labels
  explicit PackedLabels(const Labels& labels);
  PackedLabels(const PackedLabels& o) noexcept : rep_(o.rep_) { Ref(); }
  PackedLabels(PackedLabels&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
  PackedLabels& operator=(PackedLabels o) noexcept {
    std::swap(rep_, o.rep_);
    return *this;
  }
  ~PackedLabels() { Unref(); }

  size_t size() const { return rep_ == nullptr ? 0 : rep_->count; }
  bool empty() const { return size() == 0; }
  Pair operator[](size_t i) const {
    const uint32_t* ends = rep_->ends();
    const char* text = rep_->text();
    const uint32_t name_begin = i == 0 ? 0 : ends[2 * i - 1];
    return {std::string_view(text + name_begin, ends[2 * i] - name_begin),
            std::string_view(text + ends[2 * i], ends[2 * i + 1] - ends[2 * i])};
  }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

  Labels ToLabels() const;
  // Labels::ToString() of the same pairs.
  std::string ToString() const;
  // Bytes of the allocation (0 when empty).
  size_t allocated_bytes() const;

  bool operator==(const PackedLabels& o) const;
  bool operator==(const Labels& o) const;

 private:
  // Followed by count * 2 uint32 ends (name i ends at ends[2i], its value at ends[2i+1], each
  // starting where the previous one ends), then the text.
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t count;
    uint32_t* ends() { return reinterpret_cast<uint32_t*>(this + 1); }
    const uint32_t* ends() const { return reinterpret_cast<const uint32_t*>(this + 1); }
    const char* text() const { return reinterpret_cast<const char*>(ends() + 2 * count); }
  };
  static_assert(sizeof(Rep) == 8 && alignof(Rep) == 4);

  void Ref() {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void Unref();

  Rep* rep_ = nullptr;
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
