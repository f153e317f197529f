// libFuzzer target: the log pipeline and sample extraction (logql/pipeline.h) must never
// crash, hang, leak or break their contract on any query and any entries.
//
// Input framing (bytes; `\0` separates records):
//   <query text> \0 <record> \0 <record> ...
// A record starting with \x03 starts a new stream: `\x03 name \x02 value (\x01 name \x02
// value)*` (names are mapped to valid label names, empty values dropped, first of a name
// kept, as a push would have them); any other record is an entry of the current stream:
// `line (\x01 mdname \x02 mdvalue)*` (structured metadata, names and values as given).
// Before the first stream record the stream is {job="fuzz", level="info"} (`level` so that
// parsed labels collide with a stream label). Entries are 1 s apart.
//
// For a log query, every entry runs through Pipeline::Compile(selector)->ForStream(...)
// Process; for a metric query, through the SampleExtractor of each range aggregation in the
// tree (and the log pipeline of its selector, to compare). Checks:
//   - the EntryLabels contract: every span sorted by name with unique names, `all` the
//     union of the other three, stream labels unchanged, metadata names as given or with
//     `_extracted`, parsed names valid label names, equal `all` sets hash equal;
//   - determinism: the same entry processed again by the same StreamPipeline, and by a
//     fresh one, gives the same line and labels (buffers are reused correctly);
//   - OnlyLineFilters pipelines keep exactly what the line filters (line_filter.h) keep,
//     leave the line as it is and add only the metadata;
//   - sample extraction agrees with the log pipeline: without unwrap a sample exists iff
//     the pipeline keeps the entry, with the same labels, valued 1 or the output line's
//     length (bytes_*); with unwrap only kept entries give samples and the unwrapped label
//     is gone; StreamLabelsOnly extractors give the stream labels plus the metadata.
// The printer round trip is logql_parse_fuzz's job and is not repeated here.
//
// Bounds (so one input stays well under a second): query <= 4 KiB, <= 4 template stages
// of <= 512 bytes each, <= 4 streams, <= 16 entries, lines <= 4 KiB, <= 8 metadata pairs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "logql/ast.h"
#include "logql/line_filter.h"
#include "logql/parser.h"
#include "logql/pipeline.h"

namespace {

using skald::Label;
using skald::Labels;
using skald::MetadataPair;
using namespace skald::logql;

constexpr size_t kMaxQuery = 4096;
constexpr size_t kMaxTemplates = 4;
constexpr size_t kMaxTemplateBytes = 512;
constexpr size_t kMaxStreams = 4;
constexpr size_t kMaxEntries = 16;
constexpr size_t kMaxLine = 4096;
constexpr size_t kMaxMetadata = 8;
constexpr int64_t kT0 = 1700000000000000000;

[[noreturn]] void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "logql_pipeline_fuzz invariant violated: %s [%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void Require(bool cond, const char* what, std::string_view detail = {}) {
  if (!cond) Fail(what, detail);
}

// Bytes owned by exactly-sized heap blocks, so that ASan flags any read past a view's end.
class Arena {
 public:
  std::string_view Copy(std::string_view s) {
    blocks_.emplace_back(new char[s.size() + 1]);
    if (!s.empty()) std::memcpy(blocks_.back().get(), s.data(), s.size());
    return std::string_view(blocks_.back().get(), s.size());
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
};

struct Entry {
  int64_t ts = 0;
  std::string_view line;
  std::vector<MetadataPair> metadata;
};

struct Stream {
  Labels labels;
  std::vector<Entry> entries;
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::string ValidName(std::string_view raw) {
  std::string n;
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    n.push_back(ok ? c : '_');
  }
  if (!n.empty() && n[0] >= '0' && n[0] <= '9') n.insert(n.begin(), '_');
  return n;
}

Labels StreamLabels(std::string_view spec) {
  std::vector<Label> pairs;
  for (std::string_view kv : Split(spec, '\x01')) {
    size_t eq = kv.find('\x02');
    if (eq == std::string_view::npos) continue;
    std::string name = ValidName(kv.substr(0, eq));
    std::string_view value = kv.substr(eq + 1);
    if (name.empty() || value.empty()) continue;
    bool dup = false;
    for (const Label& l : pairs) dup = dup || l.name == name;
    if (!dup) pairs.push_back(Label{std::move(name), std::string(value)});
  }
  return Labels(std::move(pairs));
}

std::vector<Stream> ParseStreams(std::string_view rest, Arena* arena) {
  std::vector<Stream> streams;
  streams.push_back(Stream{Labels({{"job", "fuzz"}, {"level", "info"}}), {}});
  size_t n = 0;
  for (std::string_view rec : Split(rest, '\0')) {
    if (!rec.empty() && rec[0] == '\x03') {
      if (streams.size() == kMaxStreams) break;
      if (streams.back().entries.empty()) streams.pop_back();
      streams.push_back(Stream{StreamLabels(rec.substr(1)), {}});
      continue;
    }
    if (n == kMaxEntries) break;
    std::vector<std::string_view> parts = Split(rec, '\x01');
    Entry e;
    e.ts = kT0 + static_cast<int64_t>(n++) * 1'000'000'000;
    e.line = arena->Copy(parts[0].substr(0, kMaxLine));
    for (size_t i = 1; i < parts.size() && e.metadata.size() < kMaxMetadata; i++) {
      size_t eq = parts[i].find('\x02');
      if (eq == std::string_view::npos) continue;
      e.metadata.push_back(
          MetadataPair{arena->Copy(parts[i].substr(0, eq)), arena->Copy(parts[i].substr(eq + 1))});
    }
    streams.back().entries.push_back(std::move(e));
  }
  return streams;
}

// ---- owned snapshots of results ----

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Own(std::span<const LabelRef> refs) {
  Pairs out;
  for (const LabelRef& r : refs) out.emplace_back(std::string(r.name), std::string(r.value));
  return out;
}

struct Result {
  bool kept = false;
  std::string line;
  double value = 0;
  Pairs all, stream, md, parsed;
  uint64_t hash = 0;
  bool operator==(const Result& o) const {
    // value compared bitwise so that NaN == NaN.
    return kept == o.kept && line == o.line && std::memcmp(&value, &o.value, sizeof value) == 0 &&
           all == o.all && stream == o.stream && md == o.md && parsed == o.parsed && hash == o.hash;
  }
};

std::string Describe(const Pairs& p) {
  std::string s = "{";
  for (const auto& [n, v] : p) s += n + "=" + v + ",";
  return s + "}";
}

Result Snapshot(bool kept, std::string_view line, double value, const EntryLabels* l) {
  Result r;
  r.kept = kept;
  if (!kept) return r;
  r.line = std::string(line);
  r.value = value;
  r.all = Own(l->all);
  r.stream = Own(l->stream);
  r.md = Own(l->structured_metadata);
  r.parsed = Own(l->parsed);
  r.hash = l->hash;
  return r;
}

bool SortedUnique(const Pairs& p) {
  for (size_t i = 1; i < p.size(); i++) {
    if (!(p[i - 1].first < p[i].first)) return false;
  }
  return true;
}

// Checks one kept entry's labels against the contract.
void CheckLabels(const Result& r, const Stream& s, const Entry& e,
                 std::map<Pairs, uint64_t>* hashes) {
  Require(SortedUnique(r.all), "all sorted by name, names unique", Describe(r.all));
  Require(SortedUnique(r.stream), "stream sorted, unique", Describe(r.stream));
  Require(SortedUnique(r.md), "structured_metadata sorted, unique", Describe(r.md));
  Require(SortedUnique(r.parsed), "parsed sorted, unique", Describe(r.parsed));
  Pairs u = r.stream;
  u.insert(u.end(), r.md.begin(), r.md.end());
  u.insert(u.end(), r.parsed.begin(), r.parsed.end());
  std::sort(u.begin(), u.end());
  Require(u == r.all, "all is the union of stream, metadata and parsed", Describe(r.all));
  for (const auto& [n, v] : r.stream) {
    Require(s.labels.Has(n) && s.labels.Get(n) == v, "stream labels are the stream's", n);
  }
  for (const auto& [n, v] : r.md) {
    bool found = false;
    for (const MetadataPair& p : e.metadata) {
      found =
          found || p.name == n || (s.labels.Has(p.name) && std::string(p.name) + "_extracted" == n);
    }
    Require(found, "metadata names are the entry's (or <name>_extracted)", n);
  }
  for (const auto& [n, v] : r.parsed) {
    Require(skald::IsValidLabelName(n), "parsed label names are valid", n);
  }
  // (Structured metadata names are whatever the push carried, empty ones included: the
  // distributor does not validate them, so only stream and parsed names are checked.)
  for (const auto& [n, v] : r.stream) Require(!n.empty(), "no empty stream label name");
  auto [it, inserted] = hashes->emplace(r.all, r.hash);
  Require(inserted || it->second == r.hash, "equal label sets hash equal", Describe(r.all));
}

// The line filters of an OnlyLineFilters selector, all of them.
std::vector<LineFilterSpec> AllLineFilters(const LogSelector& sel) {
  std::vector<LineFilterSpec> out = sel.line_filters;
  for (const PipelineStage& st : sel.stages) {
    if (st.kind == PipelineStage::Kind::kLineFilter) out.push_back(st.line_filter);
  }
  return out;
}

// The labels an OnlyLineFilters pipeline gives: the stream's plus the metadata (a key equal
// to a stream label renamed `<key>_extracted`, the last value of a repeated key winning).
Pairs ExpectedPlainLabels(const Stream& s, const Entry& e) {
  std::map<std::string, std::string> m;
  for (const Label& l : s.labels) m[l.name] = l.value;
  std::map<std::string, std::string> md;
  for (const MetadataPair& p : e.metadata) {
    std::string name(p.name);
    if (s.labels.Has(name)) name += "_extracted";
    md[name] = std::string(p.value);
  }
  for (auto& [n, v] : md) {
    m[n] = v;  // metadata shadows a stream label of the same (suffixed) name
  }
  return Pairs(m.begin(), m.end());
}

size_t CountTemplates(const LogSelector& sel) {
  size_t n = 0;
  for (const PipelineStage& st : sel.stages) {
    if (st.kind == PipelineStage::Kind::kLineFormat) {
      if (st.param.size() > kMaxTemplateBytes) return SIZE_MAX;
      n++;
    }
    if (st.kind == PipelineStage::Kind::kLabelFormat) {
      for (const LabelFormat& f : st.label_formats) {
        if (f.rename) continue;
        if (f.value.size() > kMaxTemplateBytes) return SIZE_MAX;
        n++;
      }
    }
  }
  return n;
}

void CheckLogPipeline(const LogSelector& sel, const std::vector<Stream>& streams) {
  auto compiled = Pipeline::Compile(sel);
  if (!compiled.ok()) return;
  const Pipeline& p = **compiled;
  const bool only_filters = p.OnlyLineFilters();
  std::optional<LineFilter> direct;
  if (only_filters) {
    auto f = LineFilter::Compile(AllLineFilters(sel));
    Require(f.ok(), "the line filters of a compiled pipeline compile");
    direct = std::move(f).value();
  }
  std::map<Pairs, uint64_t> hashes;
  for (const Stream& s : streams) {
    auto sp = p.ForStream(s.labels);
    for (const Entry& e : s.entries) {
      std::string_view out;
      bool kept = sp->Process(e.ts, e.line, e.metadata, &out);
      Result r1 = Snapshot(kept, out, 0, kept ? &sp->labels() : nullptr);
      kept = sp->Process(e.ts, e.line, e.metadata, &out);
      Result r2 = Snapshot(kept, out, 0, kept ? &sp->labels() : nullptr);
      Require(r1 == r2, "the same entry twice gives the same result", e.line);
      auto fresh = p.ForStream(s.labels);
      kept = fresh->Process(e.ts, e.line, e.metadata, &out);
      Result r3 = Snapshot(kept, out, 0, kept ? &fresh->labels() : nullptr);
      Require(r1 == r3, "a fresh stream pipeline gives the same result", e.line);
      if (r1.kept) CheckLabels(r1, s, e, &hashes);
      if (only_filters) {
        Require(r1.kept == direct->Matches(e.line), "OnlyLineFilters keeps what the filters keep",
                e.line);
        if (r1.kept) {
          Require(r1.line == e.line, "OnlyLineFilters leaves the line as it is", e.line);
          Require(r1.all == ExpectedPlainLabels(s, e), "OnlyLineFilters labels: stream + metadata",
                  Describe(r1.all));
        }
      }
    }
  }
}

void CollectRanges(const Expr& e, std::vector<const RangeAggregationExpr*>* out) {
  switch (e.kind()) {
    case ExprKind::kRangeAggregation:
      out->push_back(static_cast<const RangeAggregationExpr*>(&e));
      return;
    case ExprKind::kVectorAggregation:
      CollectRanges(*static_cast<const VectorAggregationExpr&>(e).arg, out);
      return;
    case ExprKind::kBinary:
      CollectRanges(*static_cast<const BinaryExpr&>(e).lhs, out);
      CollectRanges(*static_cast<const BinaryExpr&>(e).rhs, out);
      return;
    case ExprKind::kLabelReplace:
      CollectRanges(*static_cast<const LabelReplaceExpr&>(e).arg, out);
      return;
    default:
      return;
  }
}

void CheckExtractor(const RangeAggregationExpr& r, const std::vector<Stream>& streams) {
  auto ex = SampleExtractor::Compile(r);
  auto pl = Pipeline::Compile(*r.selector);
  if (!pl.ok()) {
    Require(!ex.ok(), "an extractor does not compile when its pipeline does not");
    Require(ex.status().message() == pl.status().message(), "same compile error",
            ex.status().message());
    return;
  }
  if (!ex.ok()) {
    Require(r.unwrap.has_value(), "only post-unwrap filters can fail an extractor alone",
            ex.status().message());
    return;
  }
  const bool bytes = r.op == RangeOp::kBytesOverTime || r.op == RangeOp::kBytesRate;
  std::map<Pairs, uint64_t> hashes;
  for (const Stream& s : streams) {
    auto se = (*ex)->ForStream(s.labels);
    auto sp = (*pl)->ForStream(s.labels);
    for (const Entry& e : s.entries) {
      double v = 0;
      bool kept = se->Process(e.ts, e.line, e.metadata, &v);
      Result r1 = Snapshot(kept, {}, v, kept ? &se->labels() : nullptr);
      kept = se->Process(e.ts, e.line, e.metadata, &v);
      Result r2 = Snapshot(kept, {}, v, kept ? &se->labels() : nullptr);
      Require(r1 == r2, "the same entry twice gives the same sample", e.line);
      auto fresh = (*ex)->ForStream(s.labels);
      kept = fresh->Process(e.ts, e.line, e.metadata, &v);
      Result r3 = Snapshot(kept, {}, v, kept ? &fresh->labels() : nullptr);
      Require(r1 == r3, "a fresh stream extractor gives the same sample", e.line);
      if (r1.kept) CheckLabels(r1, s, e, &hashes);

      std::string_view out;
      const bool pkept = sp->Process(e.ts, e.line, e.metadata, &out);
      if (!pkept) Require(!r1.kept, "no sample from an entry the pipeline drops", e.line);
      if (!r.unwrap) {
        Require(r1.kept == pkept, "without unwrap, a sample iff the pipeline keeps the entry",
                e.line);
        if (!pkept) continue;
        Require(r1.all == Own(sp->labels().all), "sample labels are the pipeline's",
                Describe(r1.all));
        const double want = bytes ? static_cast<double>(out.size()) : 1.0;
        Require(r1.value == want, "sample value is 1 or the line length", e.line);
      } else if (r1.kept) {
        // A sample without an error has no unwrapped label; one with an error keeps it (as
        // Loki's errored samples do).
        const std::string& name = r.unwrap->label;
        bool errored = false;
        for (const auto& [n, v2] : r1.all) errored = errored || n == "__error__";
        if (!errored && name != "__error__" && name != "__error_details__") {
          for (const auto& [n, v2] : r1.all) {
            Require(n != name, "the unwrapped label is not among the sample's labels", name);
          }
        }
      }
      if ((*ex)->StreamLabelsOnly()) {
        Require(r1.kept, "StreamLabelsOnly extractors keep every entry", e.line);
        Require(r1.all == ExpectedPlainLabels(s, e), "StreamLabelsOnly: stream labels + metadata",
                Describe(r1.all));
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t q_end = in.find('\0');
  const std::string_view query = in.substr(0, q_end);
  if (query.size() > kMaxQuery) return 0;
  auto expr = ParseExpr(query);
  // SKALD_FUZZ_VERBOSE=1 names seeds whose query does not parse (corpus upkeep).
  static const bool verbose = std::getenv("SKALD_FUZZ_VERBOSE") != nullptr;
  if (!expr.ok()) {
    if (verbose) std::fprintf(stderr, "query rejected: %s\n", expr.status().message().c_str());
    return 0;
  }
  Arena arena;
  const std::vector<Stream> streams = ParseStreams(
      q_end == std::string_view::npos ? std::string_view() : in.substr(q_end + 1), &arena);
  if (const LogSelector* sel = AsLogSelector(**expr)) {
    if (CountTemplates(*sel) > kMaxTemplates) return 0;
    CheckLogPipeline(*sel, streams);
    return 0;
  }
  std::vector<const RangeAggregationExpr*> ranges;
  CollectRanges(**expr, &ranges);
  size_t templates = 0;
  for (const RangeAggregationExpr* r : ranges) {
    const size_t t = CountTemplates(*r->selector);
    templates = t == SIZE_MAX ? SIZE_MAX : templates + t;
  }
  if (templates > kMaxTemplates || ranges.size() > 3) return 0;
  for (const RangeAggregationExpr* r : ranges) CheckExtractor(*r, streams);
  return 0;
}
