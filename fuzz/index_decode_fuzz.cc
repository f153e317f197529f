// Fuzzes the index file reader (src/index/index_file.cc). The first input
// byte picks a mode:
//   0: the rest is an index file as stored (exercises the checksum gate);
//   1: same, with checksums recomputed first, so the section decoders see
//      arbitrary content;
//   2: the rest describes series and chunks; the file written from them must
//      open and read back exactly, and flipping any one byte must be caught.
// Any file that opens must be safe to query, and Select (postings) must return
// exactly what a brute-force evaluation of the matchers over every decoded
// series returns, for fixed matcher sets and for matchers built from the
// file's own label names and values. Seeds: fuzz/corpus/index_decode_fuzz/,
// written by index_decode_corpus_gen (fuzz/index_decode_corpus_gen.cc).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chunk/gram_filter.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "index/index_file.h"

namespace {

using skald::Label;
using skald::Labels;
using skald::Matcher;
using skald::MatchType;
using skald::index::ChunkRef;
using skald::index::IndexFileReader;
using skald::index::IndexFileWriter;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

const std::vector<std::vector<Matcher>>& MatcherSets() {
  static const auto* sets = [] {
    auto m = [](MatchType t, const char* n, const char* v) { return *Matcher::Create(t, n, v); };
    return new std::vector<std::vector<Matcher>>{
        {},
        {m(MatchType::kEqual, "a", "b")},
        {m(MatchType::kEqual, "a", "")},
        {m(MatchType::kNotEqual, "a", "b"), m(MatchType::kRegexMatch, "c", "x|y|")},
        {m(MatchType::kRegexMatch, "a", ".+"), m(MatchType::kRegexNoMatch, "b", "a.*")},
        {m(MatchType::kNotEqual, "a", "")},
    };
  }();
  return *sets;
}

// The reference answer: every series of the file (Select({}) lists them all,
// checked against num_series) whose decoded labels satisfy all matchers.
std::vector<uint64_t> BruteForce(const IndexFileReader& r, const std::vector<uint64_t>& all,
                                 const std::vector<Matcher>& ms) {
  std::vector<uint64_t> out;
  for (uint64_t fp : all) {
    std::optional<Labels> labels = r.LabelsOf(fp);
    FUZZ_CHECK(labels.has_value());
    if (skald::MatchesAll(ms, *labels)) out.push_back(fp);
  }
  return out;
}

// Whether Select must agree with the brute force: true for files a writer produced (mode 2,
// and the seeds, the only files that pass the checksums in mode 0). Mode 1 recomputes the
// checksums over arbitrary content, and the reader does not cross-check postings against the
// series table (the CRC guards the content: docs/formats/index.md), so there Select only has
// to be safe.
thread_local bool g_consistent = true;

void CheckSelect(const IndexFileReader& r, const std::vector<uint64_t>& all,
                 const std::vector<Matcher>& ms) {
  std::vector<uint64_t> got = r.Select(ms);
  if (g_consistent) FUZZ_CHECK(got == BruteForce(r, all, ms));
}

void Exercise(const IndexFileReader& r) {
  const std::vector<uint64_t> all = r.Select({});
  FUZZ_CHECK(all.size() == r.num_series());
  FUZZ_CHECK(std::is_sorted(all.begin(), all.end()));
  FUZZ_CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  for (const auto& ms : MatcherSets()) CheckSelect(r, all, ms);
  // Matchers from the file's own vocabulary hit postings lists for real.
  auto m = [](MatchType t, const std::string& n, const std::string& v) {
    return *Matcher::Create(t, n, v);
  };
  std::vector<std::string> names = r.LabelNames();
  for (size_t i = 0; i < names.size() && i < 4; ++i) {
    const std::string& name = names[i];
    std::vector<std::string> values = r.LabelValues(name);
    FUZZ_CHECK(!values.empty());
    const std::string& v = values.front();
    const std::string& w = values.back();
    CheckSelect(r, all, {m(MatchType::kEqual, name, v)});
    CheckSelect(r, all, {m(MatchType::kNotEqual, name, v)});
    CheckSelect(r, all, {m(MatchType::kEqual, name, "")});
    CheckSelect(r, all, {m(MatchType::kNotEqual, name, "")});
    CheckSelect(r, all, {m(MatchType::kRegexMatch, name, ".+")});
    CheckSelect(r, all, {m(MatchType::kRegexNoMatch, name, ".+")});
    if (Matcher::Create(MatchType::kRegexMatch, name, "x|" + v).ok() &&
        Matcher::Create(MatchType::kRegexMatch, name, w).ok()) {
      CheckSelect(r, all, {m(MatchType::kRegexMatch, name, "x|" + v)});
      CheckSelect(r, all, {m(MatchType::kRegexNoMatch, name, w)});
    }
    if (i + 1 < names.size()) {
      const std::string& other = names[i + 1];
      const std::string ov = r.LabelValues(other).back();  // a copy: the vector is a temporary
      CheckSelect(r, all, {m(MatchType::kEqual, name, v), m(MatchType::kEqual, other, ov)});
      CheckSelect(r, all, {m(MatchType::kEqual, name, w), m(MatchType::kNotEqual, other, ov)});
    }
  }
  for (const auto& ms : MatcherSets()) {
    std::vector<uint64_t> fps = r.Select(ms);
    for (uint64_t fp : fps) {
      FUZZ_CHECK(r.LabelsOf(fp).has_value());
      r.Chunks(fp, kMin, kMax);
      r.Chunks(fp, 0, 1000);
      r.HasChunks(fp, -5, 5);
    }
  }
  for (const std::string& name : r.LabelNames()) {
    r.LabelValues(name);
    std::vector<Matcher> ms = {*Matcher::Create(MatchType::kRegexMatch, name, ".*a.*")};
    r.Select(ms);
  }
  r.LabelsOf(0);
  r.Chunks(0, kMin, kMax);
  // Detached filters were validated at Open: probing them unchecked must be safe, and a
  // probe only ever leaves chunks out.
  const skald::index::FilterProbe probe = [](std::string_view f) {
    return skald::chunk::GramFilter::Trusted(f).MayContain("needle");
  };
  for (uint64_t ord = 0; ord < r.num_series(); ++ord) {
    std::vector<ChunkRef> all, kept;
    skald::index::ChunkSelection sel;
    sel.probe = &probe;
    const size_t n = r.AppendChunksAt(ord, kMin, kMax, &all);
    const size_t k = r.AppendChunksAt(ord, kMin, kMax, &kept, &sel);
    FUZZ_CHECK(k + sel.refuted == n);
    for (const ChunkRef& c : all) {
      FUZZ_CHECK(c.filter.empty() || skald::chunk::GramFilter::Parse(c.filter).ok());
    }
  }
}

void Structured(FuzzedDataProvider& in) {
  IndexFileWriter w;
  std::map<uint64_t, Labels> series;
  std::vector<ChunkRef> chunks;
  std::set<std::pair<uint64_t, std::string>> keys;
  const int n = in.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < n; ++i) {
    std::vector<Label> pairs;
    const int labels = in.ConsumeIntegralInRange<int>(0, 4);
    std::set<std::string> names;
    for (int j = 0; j < labels; ++j) {
      Label l{in.ConsumeRandomLengthString(8), in.ConsumeRandomLengthString(8)};
      // Stored series have what validation guarantees: unique names and non-empty values
      // (a duplicate name would sit in two postings lists but match by one value).
      if (l.value.empty() || !names.insert(l.name).second) continue;
      pairs.push_back(std::move(l));
    }
    Labels l(std::move(pairs));
    uint64_t fp = in.ConsumeIntegral<uint64_t>();
    if (series.count(fp)) continue;
    series.emplace(fp, l);
    w.AddSeries(fp, l);
    const int c = in.ConsumeIntegralInRange<int>(0, 3);
    for (int k = 0; k < c; ++k) {
      ChunkRef ref;
      ref.fingerprint = fp;
      ref.min_ts = in.ConsumeIntegral<int64_t>();
      ref.max_ts = in.ConsumeIntegralInRange<int64_t>(ref.min_ts, kMax);
      ref.entries = in.ConsumeIntegral<uint32_t>();
      ref.compressed_bytes = in.ConsumeIntegral<uint64_t>();
      ref.uncompressed_bytes = in.ConsumeIntegral<uint64_t>();
      // Half the keys look packed ("p<digit>#..."): coded against a prefix symbol.
      ref.key =
          in.ConsumeBool() ? "p" + std::to_string(in.ConsumeIntegralInRange<int>(0, 2)) + "#" : "k";
      ref.key += in.ConsumeRandomLengthString(12);
      if (in.ConsumeBool()) {  // a detached filter of a random line
        skald::chunk::GramFilterBuilder filter;
        filter.AddLine(in.ConsumeRandomLengthString(24));
        filter.Finish(&ref.filter);
      }
      w.AddChunk(ref);
      // A repeated key is ignored by the writer (first one wins).
      if (keys.insert({fp, ref.key}).second) chunks.push_back(ref);
    }
  }
  auto bytes = w.Finish();
  FUZZ_CHECK(bytes.ok());
  auto r = IndexFileReader::Open(*bytes);
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(r->num_series() == series.size());
  for (const auto& [fp, labels] : series) FUZZ_CHECK(*r->LabelsOf(fp) == labels);
  for (const ChunkRef& c : chunks) {
    bool found = false;
    for (const ChunkRef& got : r->Chunks(c.fingerprint, c.min_ts, c.max_ts)) {
      if (got.key == c.key) found = got == c;
    }
    FUZZ_CHECK(found);
  }
  Exercise(*r);
  // Any single-byte change must be detected.
  if (!bytes->empty()) {
    std::string bad = *bytes;
    size_t pos = in.ConsumeIntegralInRange<size_t>(0, bad.size() - 1);
    uint8_t flip = in.ConsumeIntegralInRange<uint8_t>(1, 255);
    bad[pos] = static_cast<char>(bad[pos] ^ flip);
    auto damaged = IndexFileReader::Open(std::move(bad));
    // The one exception: the version byte of a file without chunk refs, whose bytes mean the
    // same in every version (only chunk entries differ), so another version reads the same.
    if (damaged.ok() && pos == 4 && r->num_chunks() == 0) {
      FUZZ_CHECK(damaged->num_chunks() == 0 && damaged->num_series() == r->num_series());
      return;
    }
    FUZZ_CHECK(!damaged.ok() && damaged.status().code() == skald::StatusCode::kCorruption);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 3;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 2) {
    FuzzedDataProvider in(data + 1, size - 1);
    g_consistent = true;
    Structured(in);
    return 0;
  }
  if (mode == 1) skald::index::internal::FixChecksumsForTesting(&bytes);
  g_consistent = mode == 0;
  auto r = IndexFileReader::Open(std::move(bytes));
  if (r.ok()) {
    Exercise(*r);
  } else {
    FUZZ_CHECK(r.status().code() == skald::StatusCode::kCorruption);
  }
  return 0;
}
