// Entries for tests: one owning entry type (timestamp, line, structured
// metadata) that gtest can compare and print, a random entry generator, and
// converters to and from the codecs' view types.
//
// The converters are templates over the shape of the code's types (an entry
// with ts/line/metadata fields; a pair with name/value string views; a decoded
// block with ts(i), line(i), metadata_count(i), metadata(i, j)) so the kit
// depends on no module but core.
#pragma once

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace skald::testing {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Entry {
  int64_t ts = 0;
  std::string line;
  Metadata metadata;

  bool operator==(const Entry&) const = default;
  bool operator<(const Entry& o) const {
    return std::tie(ts, line, metadata) < std::tie(o.ts, o.line, o.metadata);
  }
};

inline std::ostream& operator<<(std::ostream& os, const Entry& e) {
  os << "{" << e.ts << ", \"" << e.line << "\"";
  for (const auto& [n, v] : e.metadata) os << ", " << n << "=" << v;
  return os << "}";
}
inline void PrintTo(const Entry& e, std::ostream* os) { *os << e; }

// View pairs ({name, value} string views into `md`), e.g.
// MetadataViews<MetadataPair>(e.metadata).
template <class Pair>
std::vector<Pair> MetadataViews(const Metadata& md) {
  std::vector<Pair> out;
  out.reserve(md.size());
  for (const auto& [n, v] : md) out.push_back(Pair{n, v});
  return out;
}

// Every entry of a decoded block, in block order.
template <class E = Entry, class Block>
std::vector<E> EntriesOf(const Block& b) {
  std::vector<E> out;
  out.reserve(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    E e;
    e.ts = b.ts(i);
    e.line = std::string(b.line(i));
    for (size_t j = 0; j < b.metadata_count(i); ++j) {
      const auto& p = b.metadata(i, j);
      e.metadata.emplace_back(std::string(p.name), std::string(p.value));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// n entries with non-decreasing timestamps from start_ts (ties included),
// lines of common log words (empty lines, multi-KB lines, NUL bytes and UTF-8
// included) and, with_metadata, structured metadata (unique values, repeated
// values, empty values and empty names). Deterministic for a seed.
template <class E = Entry>
std::vector<E> RandomEntries(size_t n, uint64_t seed, int64_t start_ts, bool with_metadata) {
  std::mt19937_64 rng(seed);
  std::vector<E> out;
  out.reserve(n);
  int64_t ts = start_ts;
  static const char* kWords[] = {"GET",
                                 "POST",
                                 "/api/v1/push",
                                 "status=200",
                                 "level=error",
                                 "caller=main.go:42",
                                 "msg=\"hello world\"",
                                 "ütf8-✓",
                                 ""};
  for (size_t i = 0; i < n; ++i) {
    E e;
    ts += static_cast<int64_t>(rng() % 3 == 0 ? 0 : rng() % 5'000'000'000ull);  // ties too
    e.ts = ts;
    size_t words = rng() % 12;  // 0 words -> empty line
    for (size_t w = 0; w < words; ++w) {
      if (w) e.line += ' ';
      e.line += kWords[rng() % 9];
    }
    if (rng() % 50 == 0) e.line.append(rng() % 3000, static_cast<char>('a' + rng() % 26));
    if (rng() % 40 == 0) e.line.push_back('\0');  // binary-safe
    if (with_metadata && rng() % 3 != 0) {
      size_t pairs = 1 + rng() % 3;
      for (size_t p = 0; p < pairs; ++p) {
        switch (rng() % 4) {
          case 0:
            e.metadata.emplace_back("trace_id", std::to_string(rng()));
            break;  // unique
          case 1:
            e.metadata.emplace_back("pod", "pod-" + std::to_string(rng() % 4));
            break;
          case 2:
            e.metadata.emplace_back("empty", "");
            break;
          default:
            e.metadata.emplace_back("", "no name");
            break;
        }
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace skald::testing
