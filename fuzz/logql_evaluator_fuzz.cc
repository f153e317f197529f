// libFuzzer target: metric query evaluation (logql/evaluator.h) must never crash, throw,
// run long or break its contract on any query over any small dataset.
//
// Input framing (bytes; `\0` separates records):
//   <query text> \0 <params: 6 bytes> <record> \0 <record> ...
// params: [0] step (0 mod 8: instant query; else one of 1s 5s 10s 15s 30s 60s 300s),
// [1] number of steps - 1 (mod 16), [2..3] start offset in seconds (big-endian, mod
// 3600) after T0, [4] max_series (one of 0 = no limit, 1, 2, 3, 5, 10, 50), [5] how many
// parts the forked source splits the streams into (2..4). Missing bytes read as 0.
// Records as in logql_pipeline_fuzz: `\x03 name \x02 value (\x01 name \x02 value)*` starts a
// new stream (names mapped to valid label names); any other record is an entry of the
// current stream: `<dt> line (\x01 mdname \x02 mdvalue)*` where dt (one byte) is the
// entry's time after the previous entry of the stream, in half seconds (so entries may
// share a timestamp); metadata names are mapped to valid label names. Each stream's
// first entry is at T0 + dt. The first stream, unless a record starts one, is
// {job="fuzz", level="info"}.
//
// The source runs the real SampleExtractor (pipeline.h) over the streams that match the
// aggregation's selector and feeds the accumulator as the querier does: only samples in
// its range; with parts > 1, stream i into fork i % parts, forks merged in order.
//
// Checks:
//   - no exception escapes Evaluate (errors are Status values);
//   - the result is well formed: matrix series in label order with unique label sets,
//     points ascending on the step grid; vector samples at the query time with unique
//     labels, in label order unless the query has sort()/sort_desc(); valid label names;
//   - evaluating again gives a bit-identical result (NaN == NaN) or the same error;
//   - the forked source gives the same status, and the same values wherever merging is
//     exact (every range aggregation in the tree counts, or takes min/max/first/last/
//     quantile/rate_counter); with float sums merged in another order, values within
//     1e-9 relative when the root is the range aggregation itself;
//   - a successful range query agrees exactly with the instant queries at its steps (at
//     most four: the first, the last and two between) (Loki evaluates a range query as instant
//     queries on the step grid);
//   - a cancelled evaluation returns the cancellation status.
// Bounds: query <= 2 KiB, <= 16 steps, <= 8 streams, <= 64 entries, lines <= 1 KiB, <= 4
// metadata pairs, <= 4 templates of <= 256 bytes.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "logql/ast.h"
#include "logql/evaluator.h"
#include "logql/parser.h"
#include "logql/pipeline.h"
#include "logql/value.h"

namespace {

using skald::Label;
using skald::Labels;
using skald::MetadataPair;
using skald::Status;
using skald::StatusOr;
using namespace skald::logql;

constexpr size_t kMaxQuery = 2048;
constexpr size_t kMaxSteps = 16;
constexpr size_t kMaxStreams = 8;
constexpr size_t kMaxEntries = 64;
constexpr size_t kMaxLine = 1024;
constexpr size_t kMaxMetadata = 4;
constexpr size_t kMaxTemplates = 4;
constexpr size_t kMaxTemplateBytes = 256;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1700000000 * kSec;

[[noreturn]] void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "logql_evaluator_fuzz invariant violated: %s [%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void Require(bool cond, const char* what, std::string_view detail = {}) {
  if (!cond) Fail(what, detail);
}

struct Entry {
  int64_t ts = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> metadata;
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

std::vector<Stream> ParseStreams(std::string_view rest) {
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
    if (rec.empty() || n == kMaxEntries) continue;
    n++;
    Stream& s = streams.back();
    const int64_t prev = s.entries.empty() ? kT0 : s.entries.back().ts;
    std::vector<std::string_view> parts = Split(rec.substr(1), '\x01');
    Entry e;
    e.ts = prev + static_cast<int64_t>(static_cast<uint8_t>(rec[0])) * (kSec / 2);
    e.line = std::string(parts[0].substr(0, kMaxLine));
    for (size_t i = 1; i < parts.size() && e.metadata.size() < kMaxMetadata; i++) {
      size_t eq = parts[i].find('\x02');
      if (eq == std::string_view::npos) continue;
      std::string name = ValidName(parts[i].substr(0, eq));
      if (name.empty()) continue;
      e.metadata.emplace_back(std::move(name), std::string(parts[i].substr(eq + 1)));
    }
    s.entries.push_back(std::move(e));
  }
  return streams;
}

// In-memory SampleSource over the fuzzed streams (see the file comment).
class FuzzSource final : public SampleSource {
 public:
  FuzzSource(const std::vector<Stream>& streams, size_t parts) : streams_(streams), parts_(parts) {}

  Status Feed(const RangeAggregationExpr& expr, RangeAccumulator* acc) override {
    auto ex = SampleExtractor::Compile(expr);
    if (!ex.ok()) return ex.status();
    std::vector<RangeAccumulator> forks;
    if (parts_ > 1) {
      for (size_t i = 0; i < parts_; i++) forks.push_back(acc->Fork());
    }
    const int64_t after = acc->first_exclusive_nanos();
    const int64_t through = acc->last_inclusive_nanos();
    std::vector<MetadataPair> md;
    for (size_t i = 0; i < streams_.size(); i++) {
      const Stream& s = streams_[i];
      if (!skald::MatchesAll(expr.selector->matchers, s.labels)) continue;
      RangeAccumulator* target = parts_ > 1 ? &forks[i % parts_] : acc;
      auto se = (*ex)->ForStream(s.labels);
      for (const Entry& e : s.entries) {
        if (e.ts <= after || e.ts > through) continue;
        md.clear();
        for (const auto& [n, v] : e.metadata) md.push_back(MetadataPair{n, v});
        double v = 0;
        if (!se->Process(e.ts, e.line, md, &v)) continue;
        target->Add(target->Series(se->labels()), e.ts, v);
      }
    }
    for (RangeAccumulator& f : forks) acc->Merge(std::move(f));
    return Status::OK();
  }

 private:
  const std::vector<Stream>& streams_;
  size_t parts_;
};

StatusOr<QueryValue> Run(const Expr& e, const EvalParams& p, SampleSource* src) {
  try {
    return Evaluate(e, p, src);
  } catch (const std::exception& ex) {
    Fail("an exception escaped Evaluate", ex.what());
  } catch (...) {
    Fail("an exception escaped Evaluate");
  }
}

bool SameDouble(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool CloseDouble(double a, double b) {
  if (SameDouble(a, b) || a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

// Loose comparison only where float sums merged in another order may differ in the last
// bits; huge values (where a sum can overflow in one order only) are not compared.
bool Huge(double a) { return std::isfinite(a) && std::fabs(a) > 1e290; }

using ValueEq = bool (*)(double, double);

bool SameValue(const QueryValue& a, const QueryValue& b, ValueEq eq) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case QueryValue::Type::kScalar:
      return a.scalar.ts_nanos == b.scalar.ts_nanos && eq(a.scalar.value, b.scalar.value);
    case QueryValue::Type::kVector:
      if (a.vector.size() != b.vector.size()) return false;
      for (size_t i = 0; i < a.vector.size(); i++) {
        const SampleValue &x = a.vector[i], &y = b.vector[i];
        if (x.labels != y.labels || x.point.ts_nanos != y.point.ts_nanos ||
            !eq(x.point.value, y.point.value)) {
          return false;
        }
      }
      return true;
    case QueryValue::Type::kMatrix:
      if (a.matrix.size() != b.matrix.size()) return false;
      for (size_t i = 0; i < a.matrix.size(); i++) {
        const SeriesValue &x = a.matrix[i], &y = b.matrix[i];
        if (x.labels != y.labels || x.points.size() != y.points.size()) return false;
        for (size_t j = 0; j < x.points.size(); j++) {
          if (x.points[j].ts_nanos != y.points[j].ts_nanos ||
              !eq(x.points[j].value, y.points[j].value)) {
            return false;
          }
        }
      }
      return true;
  }
  return false;
}

bool AnyHuge(const QueryValue& v) {
  bool h = Huge(v.scalar.value);
  for (const auto& s : v.vector) h = h || Huge(s.point.value);
  for (const auto& s : v.matrix) {
    for (const auto& p : s.points) h = h || Huge(p.value);
  }
  return h;
}

bool SameResult(const StatusOr<QueryValue>& a, const StatusOr<QueryValue>& b, ValueEq eq) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) {
    return a.status().code() == b.status().code() && a.status().message() == b.status().message();
  }
  return SameValue(*a, *b, eq);
}

std::string Describe(const StatusOr<QueryValue>& r) {
  if (!r.ok()) return "error: " + r.status().message();
  std::string s;
  char buf[64];
  switch (r->type) {
    case QueryValue::Type::kScalar:
      std::snprintf(buf, sizeof buf, "scalar %.17g", r->scalar.value);
      return buf;
    case QueryValue::Type::kVector:
      for (const auto& x : r->vector) {
        std::snprintf(buf, sizeof buf, " %.17g\n", x.point.value);
        s += x.labels.ToString() + buf;
      }
      return s;
    case QueryValue::Type::kMatrix:
      for (const auto& x : r->matrix) {
        s += x.labels.ToString();
        for (const auto& p : x.points) {
          std::snprintf(buf, sizeof buf, " %lld:%.17g", static_cast<long long>(p.ts_nanos / kSec),
                        p.value);
          s += buf;
        }
        s += "\n";
      }
      return s;
  }
  return s;
}

int CompareLabelSets(const Labels& a, const Labels& b) {
  const auto& x = a.items();
  const auto& y = b.items();
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (int c = x[i].name.compare(y[i].name); c != 0) return c;
    if (int c = x[i].value.compare(y[i].value); c != 0) return c;
  }
  return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
}

// label_replace's destination is used as written (Loki does not validate it either).
std::vector<std::string> g_replace_dsts;

void CollectReplaceDsts(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::kVectorAggregation:
      CollectReplaceDsts(*static_cast<const VectorAggregationExpr&>(e).arg);
      return;
    case ExprKind::kBinary:
      CollectReplaceDsts(*static_cast<const BinaryExpr&>(e).lhs);
      CollectReplaceDsts(*static_cast<const BinaryExpr&>(e).rhs);
      return;
    case ExprKind::kLabelReplace: {
      const auto& lr = static_cast<const LabelReplaceExpr&>(e);
      g_replace_dsts.push_back(lr.dst);
      CollectReplaceDsts(*lr.arg);
      return;
    }
    default:
      return;
  }
}

void CheckLabelNames(const Labels& l) {
  for (const Label& x : l) {
    const bool dst =
        std::find(g_replace_dsts.begin(), g_replace_dsts.end(), x.name) != g_replace_dsts.end();
    Require(dst || skald::IsValidLabelName(x.name), "valid result label name", x.name);
  }
  Require(l.FindDuplicateName().empty(), "unique result label names", l.ToString());
}

// sort() / sort_desc() anywhere in the tree (Loki then keeps the engine's order).
bool HasSort(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::kVectorAggregation: {
      const auto& v = static_cast<const VectorAggregationExpr&>(e);
      return v.op == VectorOp::kSort || v.op == VectorOp::kSortDesc || HasSort(*v.arg);
    }
    case ExprKind::kBinary:
      return HasSort(*static_cast<const BinaryExpr&>(e).lhs) ||
             HasSort(*static_cast<const BinaryExpr&>(e).rhs);
    case ExprKind::kLabelReplace:
      return HasSort(*static_cast<const LabelReplaceExpr&>(e).arg);
    default:
      return false;
  }
}

void CheckWellFormed(const Expr& e, const QueryValue& v, const EvalParams& p, size_t steps) {
  switch (v.type) {
    case QueryValue::Type::kScalar:
      Require(p.step_nanos == 0, "scalars only for instant queries");
      Require(v.scalar.ts_nanos == p.start_nanos, "scalar at the query time");
      return;
    case QueryValue::Type::kVector:
      Require(p.step_nanos == 0, "vectors only for instant queries");
      for (size_t i = 0; i < v.vector.size(); i++) {
        CheckLabelNames(v.vector[i].labels);
        Require(v.vector[i].point.ts_nanos == p.start_nanos, "vector samples at the query time");
        for (size_t j = 0; j < i; j++) {
          Require(v.vector[i].labels != v.vector[j].labels, "vector labels unique",
                  v.vector[i].labels.ToString());
        }
        if (i > 0 && !HasSort(e)) {
          Require(CompareLabelSets(v.vector[i - 1].labels, v.vector[i].labels) < 0,
                  "vector in label order", v.vector[i].labels.ToString());
        }
      }
      return;
    case QueryValue::Type::kMatrix:
      Require(p.step_nanos > 0, "matrices only for range queries");
      for (size_t i = 0; i < v.matrix.size(); i++) {
        const SeriesValue& s = v.matrix[i];
        CheckLabelNames(s.labels);
        Require(!s.points.empty(), "no empty series", s.labels.ToString());
        Require(s.points.size() <= steps, "at most one point per step");
        if (i > 0) {
          Require(CompareLabelSets(v.matrix[i - 1].labels, s.labels) < 0,
                  "matrix in label order, labels unique", s.labels.ToString());
        }
        for (size_t j = 0; j < s.points.size(); j++) {
          const int64_t off = s.points[j].ts_nanos - p.start_nanos;
          Require(off >= 0 && off % p.step_nanos == 0 &&
                      static_cast<size_t>(off / p.step_nanos) < steps,
                  "points on the step grid");
          if (j > 0) Require(s.points[j - 1].ts_nanos < s.points[j].ts_nanos, "points ascending");
        }
      }
      return;
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

// Ops whose accumulator cells merge exactly, whatever the split.
bool ExactMerge(const RangeAggregationExpr& r) {
  switch (r.op) {
    case RangeOp::kCountOverTime:
    case RangeOp::kBytesOverTime:
    case RangeOp::kBytesRate:
    case RangeOp::kAbsentOverTime:
      return true;
    case RangeOp::kRate:
      return !r.unwrap;
    case RangeOp::kMinOverTime:
    case RangeOp::kMaxOverTime:
    case RangeOp::kFirstOverTime:
    case RangeOp::kLastOverTime:
    case RangeOp::kQuantileOverTime:
    case RangeOp::kRateCounter:
      return true;
    default:
      return false;
  }
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

// The instant query at each step of a successful range query answers what the matrix
// holds at that step.
void CheckInstantsAgree(const Expr& e, const QueryValue& range, const EvalParams& p, size_t steps,
                        const std::vector<Stream>& streams) {
  // The first, the last and two steps between (each instant query feeds everything again).
  std::vector<size_t> at;
  for (size_t i = 0; i < steps; i++) at.push_back(i);
  if (steps > 4) at = {0, steps / 3, 2 * steps / 3, steps - 1};
  for (size_t i : at) {
    const int64_t t = p.start_nanos + static_cast<int64_t>(i) * p.step_nanos;
    EvalParams ip = p;
    ip.start_nanos = ip.end_nanos = t;
    ip.step_nanos = 0;
    FuzzSource src(streams, 1);
    StatusOr<QueryValue> inst = Run(e, ip, &src);
    Require(inst.ok(), "an instant query at a step of a successful range query succeeds",
            inst.ok() ? "" : inst.status().message());
    std::map<std::string, double> want;
    for (const SeriesValue& s : range.matrix) {
      for (const Point& pt : s.points) {
        if (pt.ts_nanos == t) want[s.labels.ToString()] = pt.value;
      }
    }
    std::map<std::string, double> got;
    if (inst->type == QueryValue::Type::kScalar) {
      got[Labels().ToString()] = inst->scalar.value;
    } else {
      for (const SampleValue& s : inst->vector) got[s.labels.ToString()] = s.point.value;
    }
    bool same = want.size() == got.size();
    for (auto it = want.begin(), jt = got.begin(); same && it != want.end(); ++it, ++jt) {
      same = it->first == jt->first && SameDouble(it->second, jt->second);
    }
    if (!same) {
      std::string d = "step " + std::to_string(i) + "\nrange:\n" + Describe(range) + "instant:\n" +
                      Describe(inst);
      Fail("range query and instant query at a step agree", d);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t q_end = in.find('\0');
  const std::string_view query = in.substr(0, q_end);
  if (query.size() > kMaxQuery) return 0;
  auto parsed = ParseExpr(query);
  // SKALD_FUZZ_VERBOSE=1 names seeds whose query does not parse (corpus upkeep).
  static const bool verbose = std::getenv("SKALD_FUZZ_VERBOSE") != nullptr;
  if (!parsed.ok()) {
    if (verbose) std::fprintf(stderr, "query rejected: %s\n", parsed.status().message().c_str());
    return 0;
  }
  if (IsLogQuery(**parsed)) return 0;
  const Expr& expr = **parsed;
  std::vector<const RangeAggregationExpr*> ranges;
  CollectRanges(expr, &ranges);
  size_t templates = 0;
  for (const RangeAggregationExpr* r : ranges) {
    const size_t t = CountTemplates(*r->selector);
    templates = t == SIZE_MAX ? SIZE_MAX : templates + t;
  }
  if (templates > kMaxTemplates || ranges.size() > 8) return 0;

  std::string_view rest =
      q_end == std::string_view::npos ? std::string_view() : in.substr(q_end + 1);
  uint8_t pb[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < 6 && i < rest.size(); i++) pb[i] = static_cast<uint8_t>(rest[i]);
  rest = rest.size() > 6 ? rest.substr(6) : std::string_view();
  static constexpr int64_t kSteps[] = {1, 5, 10, 15, 30, 60, 300};
  static constexpr uint32_t kMaxSeries[] = {0, 1, 2, 3, 5, 10, 50};
  EvalParams p;
  p.step_nanos = pb[0] % 8 == 0 ? 0 : kSteps[pb[0] % 8 - 1] * kSec;
  const size_t steps = p.step_nanos == 0 ? 1 : static_cast<size_t>(pb[1] % kMaxSteps) + 1;
  p.start_nanos = kT0 + static_cast<int64_t>(((pb[2] << 8) | pb[3]) % 3600) * kSec;
  p.end_nanos = p.start_nanos + static_cast<int64_t>(steps - 1) * p.step_nanos;
  p.max_series = kMaxSeries[pb[4] % 7];
  const size_t parts = 2 + pb[5] % 3;
  const std::vector<Stream> streams = ParseStreams(rest);

  g_replace_dsts.clear();
  CollectReplaceDsts(expr);
  FuzzSource src(streams, 1);
  StatusOr<QueryValue> r1 = Run(expr, p, &src);
  if (r1.ok()) CheckWellFormed(expr, *r1, p, steps);
  FuzzSource again(streams, 1);
  StatusOr<QueryValue> r2 = Run(expr, p, &again);
  Require(SameResult(r1, r2, SameDouble), "evaluating twice gives the same result",
          Describe(r1) + "\nvs\n" + Describe(r2));

  bool exact = true;
  for (const RangeAggregationExpr* r : ranges) exact = exact && ExactMerge(*r);
  FuzzSource forked(streams, parts);
  StatusOr<QueryValue> r3 = Run(expr, p, &forked);
  if (exact) {
    Require(SameResult(r1, r3, SameDouble), "a forked source gives the same result",
            Describe(r1) + "\nvs\n" + Describe(r3));
  } else if (expr.kind() == ExprKind::kRangeAggregation) {
    if (!(r1.ok() && r3.ok() && (AnyHuge(*r1) || AnyHuge(*r3)))) {
      Require(SameResult(r1, r3, CloseDouble), "a forked source gives close results",
              Describe(r1) + "\nvs\n" + Describe(r3));
    }
  }

  if (r1.ok() && p.step_nanos > 0) CheckInstantsAgree(expr, *r1, p, steps, streams);

  std::atomic<bool> cancelled{true};
  EvalParams cp = p;
  cp.cancelled = &cancelled;
  FuzzSource csrc(streams, 1);
  StatusOr<QueryValue> rc = Run(expr, cp, &csrc);
  Require(!rc.ok() && rc.status().code() == skald::StatusCode::kDeadlineExceeded,
          "a cancelled evaluation returns the cancellation status");
  return 0;
}
