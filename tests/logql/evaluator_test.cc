// Tests for metric query evaluation (evaluator.h): range aggregations, vector
// aggregations, binary operators, label_replace, literals, vector(), offset, ordering,
// the pipeline and series-limit errors, cancellation, and Fork/Merge determinism.
//
// Queries are parsed with the real parser. Samples come from TestSource, an in-memory data
// source holding a fixed dataset of (labels, ts, value, bytes) entries: it selects the
// entries whose labels match the range aggregation's selector matchers (pipelines are not
// run — the dataset already holds the labels a pipeline would produce, `__error__`
// included) and pushes one sample per entry, valued as the extractor contract says: 1 for
// count_over_time / rate / absent_over_time, the line length for bytes_*, the unwrapped
// value otherwise.
//
// Expected values are worked out by hand from Loki's / Prometheus' documented semantics.
#include "logql/evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/matcher.h"
#include "logql/parser.h"
#include "logql/range_accumulator.h"

namespace skald::logql {
namespace {

constexpr int64_t kSec = 1'000'000'000;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Entry {
  std::vector<Label> labels;  // sorted by name
  int64_t ts_sec;
  double value;  // the unwrapped value
  int64_t bytes;
};

std::vector<Label> L(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  std::vector<Label> out;
  for (const auto& [n, v] : pairs) out.push_back(Label{n, v});
  return Labels(out).items();
}

// The dataset (times in seconds). Default range queries evaluate at 60, 90 and 120 with
// [1m] windows (0,60], (30,90], (60,120].
//   A {app="foo", env="prod", host="a"}: t=10 v=1 b=10 | 20 3 20 | 30 5 30 | 70 2 5 | 110 8 1
//   B {app="foo", env="prod", host="b"}: 15 2 4 | 45 4 4 | 75 6 4 | 105 10 4
//   C {app="bar", env="dev",  host="a"}: 50 7 100 | 100 9 200
//   Err {__error__=..., app="err", host="x"}: 50 0 1;  Ok {app="err", host="y"}: 55 4 1
//   K {app="ctr"} (a counter with a reset at 30): 10 10 | 20 20 | 30 5 | 40 15 | 50 25 |
//     70 30 | 100 40
//   N {app="nan"}: 40 NaN | 50 1
const std::vector<Entry>& Dataset() {
  static const std::vector<Entry> d = [] {
    std::vector<Entry> e;
    auto A = L({{"app", "foo"}, {"env", "prod"}, {"host", "a"}});
    auto B = L({{"app", "foo"}, {"env", "prod"}, {"host", "b"}});
    auto C = L({{"app", "bar"}, {"env", "dev"}, {"host", "a"}});
    auto Err = L({{"__error__", "SampleExtractionErr"},
                  {"__error_details__", "bad"},
                  {"app", "err"},
                  {"host", "x"}});
    auto Ok = L({{"app", "err"}, {"host", "y"}});
    auto K = L({{"app", "ctr"}});
    auto N = L({{"app", "nan"}});
    e.push_back({A, 10, 1, 10});
    e.push_back({B, 15, 2, 4});
    e.push_back({A, 20, 3, 20});
    e.push_back({A, 30, 5, 30});
    e.push_back({B, 45, 4, 4});
    e.push_back({C, 50, 7, 100});
    e.push_back({A, 70, 2, 5});
    e.push_back({B, 75, 6, 4});
    e.push_back({C, 100, 9, 200});
    e.push_back({B, 105, 10, 4});
    e.push_back({A, 110, 8, 1});
    e.push_back({Err, 50, 0, 1});
    e.push_back({Ok, 55, 4, 1});
    for (auto [t, v] : std::vector<std::pair<int, double>>{
             {10, 10}, {20, 20}, {30, 5}, {40, 15}, {50, 25}, {70, 30}, {100, 40}}) {
      e.push_back({K, t, v, 1});
    }
    e.push_back({N, 40, kNaN, 1});
    e.push_back({N, 50, 1, 1});
    return e;
  }();
  return d;
}

uint64_t HashOf(const std::vector<LabelRef>& refs) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a over names and values
  for (const LabelRef& r : refs) {
    for (char c : r.name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (char c : r.value) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ 0xfe) * 1099511628211ULL;
  }
  return h;
}

// In-memory data source. With parts > 1 it forks the accumulator, feeds entry j into
// fork j % parts and merges the forks back in order, as a parallel querier would.
class TestSource : public SampleSource {
 public:
  explicit TestSource(int parts = 1) : parts_(parts) {}
  int feeds = 0;

  Status Feed(const RangeAggregationExpr& expr, RangeAccumulator* acc) override {
    ++feeds;
    std::vector<RangeAccumulator> forks;
    for (int i = 1; i < parts_; ++i) forks.push_back(acc->Fork());
    size_t j = 0;
    for (const Entry& e : Dataset()) {
      if (!MatchesAll(expr.selector->matchers, Labels(e.labels))) continue;
      const int64_t ts = e.ts_sec * kSec;
      if (ts <= acc->first_exclusive_nanos() || ts > acc->last_inclusive_nanos()) continue;
      double v = 1;
      if (expr.op == RangeOp::kBytesOverTime || expr.op == RangeOp::kBytesRate) {
        v = static_cast<double>(e.bytes);
      } else if (expr.unwrap) {
        v = e.value;
      }
      std::vector<LabelRef> refs;
      for (const Label& l : e.labels) refs.push_back(LabelRef{l.name, l.value});
      EntryLabels el;
      el.all = refs;
      el.stream = refs;
      el.hash = HashOf(refs);
      const size_t part = j++ % parts_;
      RangeAccumulator* target = part == 0 ? acc : &forks[part - 1];
      target->Add(target->Series(el), ts, v);
    }
    for (RangeAccumulator& f : forks) acc->Merge(std::move(f));
    return Status::OK();
  }

 private:
  int parts_;
};

// ---- expected-result notation ----
// Matrix: one line per series, `{labels} t:v t:v ...` (t in seconds); vector: `{labels} v`
// (at the query time); scalar: `scalar v`; error: `error: <exact message>`; "" = empty.
// A value is a number, `a/b`, NaN, +Inf or -Inf.

double ParseValue(const std::string& s) {
  if (s == "NaN") return kNaN;
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (auto slash = s.find('/'); slash != std::string::npos) {
    return std::stod(s.substr(0, slash)) / std::stod(s.substr(slash + 1));
  }
  return std::stod(s);
}

bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

std::string Fmt(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

struct Row {
  std::string labels;
  std::vector<std::pair<int64_t, double>> points;  // t = -1: vector sample
};

// Splits `{...} rest` respecting quotes inside the label set.
std::vector<Row> ParseWant(const std::string& want) {
  std::vector<Row> rows;
  std::istringstream in(want);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Row r;
    size_t close = line.rfind('}');
    r.labels = line.substr(0, close + 1);
    std::istringstream rest(line.substr(close + 1));
    std::string tok;
    while (rest >> tok) {
      auto colon = tok.find(':');
      if (colon == std::string::npos) {
        r.points.push_back({-1, ParseValue(tok)});
      } else {
        r.points.push_back({std::stoll(tok.substr(0, colon)), ParseValue(tok.substr(colon + 1))});
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string Render(const std::vector<Row>& rows) {
  std::string s;
  for (const Row& r : rows) {
    s += r.labels;
    for (auto [t, v] : r.points) s += " " + (t >= 0 ? std::to_string(t) + ":" : "") + Fmt(v);
    s += "\n";
  }
  return s;
}

struct Case {
  const char* name;
  const char* query;
  std::string want;
  bool instant = false;
  int64_t start = 60;  // instant: the time
  int64_t end = 120;
  int64_t step = 30;
  uint32_t max_series = 500;
};

Case R(const char* name, const char* q, std::string want) { return Case{name, q, std::move(want)}; }
Case I(const char* name, const char* q, std::string want, int64_t t = 60) {
  Case c{name, q, std::move(want)};
  c.instant = true;
  c.start = c.end = t;
  c.step = 0;
  return c;
}
Case Lim(Case c, uint32_t max) {
  c.max_series = max;
  return c;
}
Case Grid(Case c, int64_t start, int64_t end, int64_t step) {
  c.start = start;
  c.end = end;
  c.step = step;
  return c;
}

StatusOr<QueryValue> RunQuery(const std::string& query, const EvalParams& p, SampleSource* src) {
  auto parsed = ParseExpr(query);
  if (!parsed.ok()) return parsed.status();
  return Evaluate(**parsed, p, src);
}

EvalParams ParamsOf(const Case& c) {
  EvalParams p;
  p.start_nanos = c.start * kSec;
  p.end_nanos = c.end * kSec;
  p.step_nanos = c.step * kSec;
  p.max_series = c.max_series;
  return p;
}

void Check(const Case& c) {
  SCOPED_TRACE(std::string(c.name) + ": " + c.query);
  TestSource src;
  auto r = RunQuery(c.query, ParamsOf(c), &src);
  if (c.want.rfind("error: ", 0) == 0) {
    ASSERT_FALSE(r.ok()) << "expected an error";
    // Loki answers vector-matching errors with a 500 (untyped errors in its evaluator).
    const bool matching = c.want.find("many-to-many") != std::string::npos ||
                          c.want.find("multiple matches for labels") != std::string::npos;
    EXPECT_EQ(r.status().code(), matching ? StatusCode::kInternal : StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.want.substr(7));
    return;
  }
  ASSERT_TRUE(r.ok()) << r.status().message();
  const QueryValue& v = *r;
  std::vector<Row> got;
  if (c.want.rfind("scalar ", 0) == 0) {
    ASSERT_EQ(v.type, QueryValue::Type::kScalar);
    EXPECT_EQ(v.scalar.ts_nanos, c.start * kSec);
    EXPECT_TRUE(SameValue(v.scalar.value, ParseValue(c.want.substr(7)))) << Fmt(v.scalar.value);
    return;
  }
  if (c.instant) {
    ASSERT_EQ(v.type, QueryValue::Type::kVector);
    for (const SampleValue& s : v.vector) {
      EXPECT_EQ(s.point.ts_nanos, c.start * kSec);
      got.push_back(Row{s.labels.ToString(), {{-1, s.point.value}}});
    }
  } else {
    ASSERT_EQ(v.type, QueryValue::Type::kMatrix);
    for (const SeriesValue& s : v.matrix) {
      Row row{s.labels.ToString(), {}};
      for (const Point& p : s.points) {
        EXPECT_EQ(p.ts_nanos % kSec, 0);
        row.points.push_back({p.ts_nanos / kSec, p.value});
      }
      got.push_back(std::move(row));
    }
  }
  std::vector<Row> want = ParseWant(c.want);
  bool same = got.size() == want.size();
  for (size_t i = 0; same && i < got.size(); ++i) {
    same = got[i].labels == want[i].labels && got[i].points.size() == want[i].points.size();
    for (size_t k = 0; same && k < got[i].points.size(); ++k) {
      same = got[i].points[k].first == want[i].points[k].first &&
             SameValue(got[i].points[k].second, want[i].points[k].second);
    }
  }
  EXPECT_TRUE(same) << "got:\n" << Render(got) << "want:\n" << Render(want);
}

const std::string kA = R"({app="foo", env="prod", host="a"})";
const std::string kB = R"({app="foo", env="prod", host="b"})";
const std::string kC = R"({app="bar", env="dev", host="a"})";

std::string Lines(std::initializer_list<std::string> lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string PipelineError(const std::string& labels, const std::string& err) {
  return "error: pipeline error: '" + err + "' for series: '" + labels +
         "'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"" + err +
         "\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"
         "The label filter can also be specified after unwrap. (e.g | unwrap latency | "
         "__error__=\"\" )\n";
}

std::string SeriesLimit(int n) {
  return "error: maximum number of series (" + std::to_string(n) +
         ") reached for a single query; consider reducing query cardinality by adding more "
         "specific stream selectors, reducing the time range, or aggregating results with "
         "functions like sum(), count() or topk()";
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << ": " << c.query; }

class EvaluatorCases : public ::testing::TestWithParam<Case> {};
TEST_P(EvaluatorCases, Matches) { Check(GetParam()); }
std::string CaseName(const ::testing::TestParamInfo<Case>& i) { return i.param.name; }

// ---------------------------------------------------------------------------
// Range aggregations without unwrap. Windows: (0,60], (30,90], (60,120].
// A: 10,20,30 | 70 | 70,110   B: 15,45 | 45,75 | 75,105   C: 50 | 50 | 100
INSTANTIATE_TEST_SUITE_P(
    RangeCounting, EvaluatorCases,
    ::testing::Values(
        R("CountOverTime", R"(count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        R("CountOverTimeLeftOpenWindow", R"(count_over_time({app="bar"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1"})),
        // rate = count / 60 s.
        R("Rate", R"(rate({app="foo"}[1m]))",
          Lines({kA + " 60:3/60 90:1/60 120:2/60", kB + " 60:2/60 90:2/60 120:2/60"})),
        // A bytes: 10+20+30 | 5 | 5+1.
        R("BytesOverTime", R"(bytes_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:60 90:5 120:6", kB + " 60:8 90:8 120:8"})),
        R("BytesRate", R"(bytes_rate({app="foo"}[1m]))",
          Lines({kA + " 60:1 90:5/60 120:6/60", kB + " 60:8/60 90:8/60 120:8/60"})),
        R("NoMatchingStreamsIsEmpty", R"(count_over_time({app="none"}[1m]))", ""),
        // [15s] windows (45,60], (75,90], (105,120]: only A's 110 falls in one (B's 45, 75
        // and 105 sit exactly on window starts, which are open).
        R("RangeShorterThanStepLeavesGaps", R"(count_over_time({app="foo"}[15s]))",
          Lines({kA + " 120:1"})),
        // [2m] windows (-60,60], (-30,90], (0,120]: everything up to t.
        R("RangeLongerThanStep", R"(count_over_time({app="foo"}[2m]))",
          Lines({kA + " 60:3 90:4 120:5", kB + " 60:2 90:3 120:4"})),
        // offset 30s: windows (-30,30], (0,60], (30,90]; timestamps unchanged.
        R("Offset", R"(count_over_time({app="foo"}[1m] offset 30s))",
          Lines({kA + " 60:3 90:3 120:1", kB + " 60:1 90:2 120:2"})),
        // offset 1m: windows (-60,0], (-30,30], (0,60]: only C's 50 s, at 120.
        R("OffsetOnRate", R"(rate({app="bar"}[1m] offset 1m))", Lines({kC + " 120:1/60"})),
        // Sample exactly at the window end is in; exactly at the start is out.
        // (15,45]: A 20,30; B 45 in, 15 out.
        I("WindowIsLeftOpenRightClosed", R"(count_over_time({app="foo"}[30s]))",
          Lines({kA + " 2", kB + " 1"}), 45),
        I("InstantCount", R"(count_over_time({app="foo"}[1m]))", Lines({kA + " 3", kB + " 2"})),
        // (15,75]: A 20,30,70; B 45,75 (15 excluded).
        I("InstantUnalignedTime", R"(count_over_time({app="foo"}[1m]))",
          Lines({kA + " 3", kB + " 2"}), 75),
        I("InstantOffset", R"(count_over_time({app="foo"}[1m] offset 1m))",
          Lines({kA + " 3", kB + " 2"}), 120),
        I("InstantBytes", R"(bytes_over_time({app="bar"}[1m]))", Lines({kC + " 200"}), 120),
        I("InstantRegexSelector", R"(count_over_time({env=~".+"}[1m]))",
          Lines({kC + " 1", kA + " 3", kB + " 2"})),
        // Unaligned grid: 60, 90 (120 > end).
        Grid(R("GridStopsAtEnd", R"(count_over_time({app="bar"}[1m]))", Lines({kC + " 60:1 90:1"})),
             60, 110, 30),
        Grid(R("GridOneStep", R"(count_over_time({app="bar"}[1m]))", Lines({kC + " 60:1"})), 60, 60,
             30),
        Grid(R("GridSmallStep", R"(count_over_time({app="bar"}[10s]))",
               Lines({kC + " 50:1 55:1 100:1 105:1"})),
             45, 112, 5)),
    CaseName);

// absent_over_time: 1 where no series has a sample; labels from the `=` matchers.
INSTANTIATE_TEST_SUITE_P(
    Absent, EvaluatorCases,
    ::testing::Values(
        R("AbsentWhenNothingMatches", R"(absent_over_time({app="nope"}[1m]))",
          Lines({R"({app="nope"} 60:1 90:1 120:1)"})),
        R("AbsentEmptyWhenPresent", R"(absent_over_time({app="bar"}[1m]))", ""),
        // [20s] windows (40,60], (70,90], (100,120]: C's 100 is outside the last.
        R("AbsentOnlyAtEmptySteps", R"(absent_over_time({app="bar"}[20s]))",
          Lines({R"({app="bar"} 90:1 120:1)"})),
        R("AbsentLabelsOnlyFromEquality", R"(absent_over_time({app="nope", host=~"a.*"}[1m]))",
          Lines({R"({app="nope"} 60:1 90:1 120:1)"})),
        R("AbsentNoEqualityMatchers", R"(absent_over_time({app=~"nope"}[1m]))",
          Lines({R"({} 60:1 90:1 120:1)"})),
        I("AbsentInstant", R"(absent_over_time({app="nope", env="x"}[1m]))",
          Lines({R"({app="nope", env="x"} 1)"})),
        I("AbsentInstantPresent", R"(absent_over_time({app="foo"}[1m]))", ""),
        // Errors do not matter to absent_over_time: it only asks whether samples exist.
        I("AbsentIgnoresErrorSamples", R"(absent_over_time({app="err"}[1m]))", "")),
    CaseName);

// Range aggregations over unwrapped values (the source uses the dataset's value).
// A: {1,3,5} | {2} | {2,8}   B: {2,4} | {4,6} | {6,10}
INSTANTIATE_TEST_SUITE_P(
    RangeUnwrap, EvaluatorCases,
    ::testing::Values(
        R("SumOverTime", R"(sum_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:9 90:2 120:10", kB + " 60:6 90:10 120:16"})),
        R("AvgOverTime", R"(avg_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:3 90:2 120:5", kB + " 60:3 90:5 120:8"})),
        R("MinOverTime", R"(min_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:1 90:2 120:2", kB + " 60:2 90:4 120:6"})),
        R("MaxOverTime", R"(max_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:5 90:2 120:8", kB + " 60:4 90:6 120:10"})),
        R("FirstOverTime", R"(first_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:1 90:2 120:2", kB + " 60:2 90:4 120:6"})),
        R("LastOverTime", R"(last_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:5 90:2 120:8", kB + " 60:4 90:6 120:10"})),
        // Population variance: {1,3,5} mean 3 -> (4+0+4)/3; {2,8} mean 5 -> (9+9)/2.
        R("StdvarOverTime", R"(stdvar_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:8/3 90:0 120:9", kB + " 60:1 90:1 120:4"})),
        R("StddevOverTime", R"(stddev_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:1.6329931618554521 90:0 120:3", kB + " 60:1 90:1 120:2"})),
        // rank = φ(n-1): {1,3,5} rank 1 -> 3; {2,8} rank 0.5 -> 5.
        R("QuantileMedian", R"(quantile_over_time(0.5, {app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:3 90:2 120:5", kB + " 60:3 90:5 120:8"})),
        // {1,3,5} rank 1.8 -> 3*0.2 + 5*0.8 = 4.6; {2,8} rank 0.9 -> 2*0.1 + 8*0.9 = 7.4.
        R("QuantileInterpolates", R"(quantile_over_time(0.9, {app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:4.6 90:2 120:7.4", kB + " 60:3.8 90:5.8 120:9.6"})),
        R("QuantileZeroIsMin", R"(quantile_over_time(0, {app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:1 90:2 120:2", kB + " 60:2 90:4 120:6"})),
        R("QuantileOneIsMax", R"(quantile_over_time(1, {app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:5 90:2 120:8", kB + " 60:4 90:6 120:10"})),
        I("QuantileAboveOneIsPlusInf", R"(quantile_over_time(1.5, {app="bar"} | unwrap v [1m]))",
          Lines({kC + " +Inf"})),
        // rate with unwrap: sum / 60 s.
        R("RateUnwrap", R"(rate({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 60:9/60 90:2/60 120:10/60", kB + " 60:6/60 90:10/60 120:16/60"})),
        // rate_counter (Prometheus extrapolation), K: 10,20,5,15,25 | 15,25,30 | 30,40.
        // t=60: increase 25-10 + 20 (reset) = 35 over samples 10..50 s; 10 s to each
        //   boundary < 1.1 * 10 s average gap, so extrapolate to 60 s: 35*60/40/60 = 0.875.
        // t=90: increase 15 over 40..70 s; start gap 10 < 16.5 -> +10; end gap 20 >= 16.5
        //   -> +7.5 (half the average gap): 15*47.5/30/60 = 0.39583...
        // t=120: increase 10 over 70..100 s; gaps 10 and 20 < 33: 10*60/30/60 = 1/3.
        R("RateCounter", R"(rate_counter({app="ctr"} | unwrap v [1m]))",
          Lines({R"({app="ctr"} 60:0.875 90:23.75/60 120:1/3)"})),
        // One sample in the window gives 0 (Loki), not no value.
        I("RateCounterSingleSample", R"(rate_counter({app="bar"} | unwrap v [1m]))",
          Lines({kC + " 0"})),
        // (20,60]: 5,15,25 over 30..50 s, no reset. The zero point lies 20*(5/20) = 5 s
        // before the first sample, nearer than the 10 s to the window start, so the start
        // extends by 5 s only; end gap 10 < 11: 20 * (20+5+10)/20 / 40 s = 0.875.
        I("RateCounterZeroPointLimitsExtrapolation",
          R"(rate_counter({app="ctr"} | unwrap v [40s]))", Lines({R"({app="ctr"} 0.875)"})),
        I("InstantSumOverTime", R"(sum_over_time({app="foo"} | unwrap v [1m]))",
          Lines({kA + " 9", kB + " 6"})),
        I("InstantMaxOverTimeOffset", R"(max_over_time({app="foo"} | unwrap v [1m] offset 30s))",
          Lines({kA + " 5", kB + " 2"})),
        // NaN: N has NaN at 40 then 1 at 50. min/max skip a NaN unless it is all there is.
        I("NaNMaxOverTime", R"(max_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} 1)"})),
        I("NaNMinOverTime", R"(min_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} 1)"})),
        I("NaNSumOverTime", R"(sum_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} NaN)"})),
        I("NaNAvgOverTime", R"(avg_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} NaN)"})),
        I("NaNFirstOverTime", R"(first_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} NaN)"})),
        I("NaNLastOverTime", R"(last_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} 1)"})),
        I("NaNOnlyMaxOverTime", R"(max_over_time({app="nan"} | unwrap v [1m]))",
          Lines({R"({app="nan"} NaN)"}), 45),
        I("NaNCountsAsASample", R"(count_over_time({app="nan"}[1m]))",
          Lines({R"({app="nan"} 2)"}))),
    CaseName);

// by/without on range aggregations (Series() groups the samples).
// host a = A + C: {1,3,5,7} | {2,7} | {2,8,9};  host b = B.
INSTANTIATE_TEST_SUITE_P(
    RangeGrouping, EvaluatorCases,
    ::testing::Values(
        R("AvgOverTimeBy", R"(avg_over_time({env=~".+"} | unwrap v [1m]) by (host))",
          Lines({R"({host="a"} 60:4 90:4.5 120:19/3)", R"({host="b"} 60:3 90:5 120:8)"})),
        R("MinOverTimeWithout", R"(min_over_time({env=~".+"} | unwrap v [1m]) without (app, env))",
          Lines({R"({host="a"} 60:1 90:2 120:2)", R"({host="b"} 60:2 90:4 120:6)"})),
        R("MaxOverTimeByTwo", R"(max_over_time({env=~".+"} | unwrap v [1m]) by (app, env))",
          Lines({R"({app="bar", env="dev"} 60:7 90:7 120:9)",
                 R"({app="foo", env="prod"} 60:5 90:6 120:10)"})),
        // prod: {1,3,5,2,4} -> 3; {2,4,6} -> 4; {2,8,6,10} rank 1.5 -> (6+8)/2 = 7.
        R("QuantileBy", R"(quantile_over_time(0.5, {env=~".+"} | unwrap v [1m]) by (env))",
          Lines({R"({env="dev"} 60:7 90:7 120:9)", R"({env="prod"} 60:3 90:4 120:7)"})),
        // prod {1,2,3,4,5}: variance 2.
        I("StdvarOverTimeBy", R"(stdvar_over_time({app="foo"} | unwrap v [1m]) by (env))",
          Lines({R"({env="prod"} 2)"})),
        I("StddevOverTimeByMissingLabel",
          R"(stddev_over_time({app="foo"} | unwrap v [1m]) by (nope))",
          Lines({R"({} 1.4142135623730951)"})),
        // first/last across merged streams: the earliest / latest sample of the group.
        R("FirstOverTimeBy", R"(first_over_time({env=~".+"} | unwrap v [1m]) by (host))",
          Lines({R"({host="a"} 60:1 90:7 120:2)", R"({host="b"} 60:2 90:4 120:6)"})),
        R("LastOverTimeBy", R"(last_over_time({env=~".+"} | unwrap v [1m]) by (host))",
          Lines({R"({host="a"} 60:7 90:2 120:8)", R"({host="b"} 60:4 90:6 120:10)"})),
        I("ByEmptyListIsOneSeries", R"(max_over_time({env=~".+"} | unwrap v [1m]) by ())",
          Lines({R"({} 7)"})),
        I("WithoutEverything",
          R"(max_over_time({env=~".+"} | unwrap v [1m]) without (app, env, host))",
          Lines({R"({} 7)"}))),
    CaseName);

// Vector aggregations. count_over_time({env=~".+"}[1m]): A 3,1,2  B 2,2,2  C 1,1,1.
INSTANTIATE_TEST_SUITE_P(
    VectorAggregation, EvaluatorCases,
    ::testing::Values(
        R("Sum", R"(sum(count_over_time({app="foo"}[1m])))", Lines({"{} 60:5 90:3 120:4"})),
        R("SumBy", R"(sum by (host) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({host="a"} 60:4 90:2 120:3)", R"({host="b"} 60:2 90:2 120:2)"})),
        R("SumByAfterArgs", R"(sum(count_over_time({env=~".+"}[1m])) by (host))",
          Lines({R"({host="a"} 60:4 90:2 120:3)", R"({host="b"} 60:2 90:2 120:2)"})),
        R("SumWithout", R"(sum without (host) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({app="bar", env="dev"} 60:1 90:1 120:1)",
                 R"({app="foo", env="prod"} 60:5 90:3 120:4)"})),
        R("SumByEmpty", R"(sum by () (count_over_time({env=~".+"}[1m])))",
          Lines({"{} 60:6 90:4 120:5"})),
        R("SumRate", R"(sum(rate({app="foo"}[1m])))", Lines({"{} 60:5/60 90:3/60 120:4/60"})),
        R("SumByBytesRate", R"(sum by (app) (bytes_rate({env=~".+"}[1m])))",
          Lines({R"({app="bar"} 60:100/60 90:100/60 120:200/60)",
                 R"({app="foo"} 60:68/60 90:13/60 120:14/60)"})),
        R("SumSumOverTime", R"(sum(sum_over_time({app="foo"} | unwrap v [1m])))",
          Lines({"{} 60:15 90:12 120:26"})),
        R("SumOfAvgOverTime", R"(sum(avg_over_time({app="foo"} | unwrap v [1m])))",
          Lines({"{} 60:6 90:7 120:13"})),
        R("Avg", R"(avg(count_over_time({app="foo"}[1m])))", Lines({"{} 60:2.5 90:1.5 120:2"})),
        R("AvgBy", R"(avg by (host) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({host="a"} 60:2 90:1 120:1.5)", R"({host="b"} 60:2 90:2 120:2)"})),
        R("Count", R"(count(count_over_time({env=~".+"}[1m])))", Lines({"{} 60:3 90:3 120:3"})),
        R("CountBy", R"(count by (host) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({host="a"} 60:2 90:2 120:2)", R"({host="b"} 60:1 90:1 120:1)"})),
        R("Max", R"(max(count_over_time({app="foo"}[1m])))", Lines({"{} 60:3 90:2 120:2"})),
        R("Min", R"(min(count_over_time({app="foo"}[1m])))", Lines({"{} 60:2 90:1 120:2"})),
        R("MaxBy", R"(max by (env) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({env="dev"} 60:1 90:1 120:1)", R"({env="prod"} 60:3 90:2 120:2)"})),
        // {3,2}: mean 2.5, variance 0.25; {1,2} 0.25; {2,2} 0.
        R("Stdvar", R"(stdvar(count_over_time({app="foo"}[1m])))",
          Lines({"{} 60:0.25 90:0.25 120:0"})),
        R("Stddev", R"(stddev(count_over_time({app="foo"}[1m])))",
          Lines({"{} 60:0.5 90:0.5 120:0"})),
        // {3,2,1} mean 2 -> (1+0+1)/3.
        I("StdvarThree", R"(stdvar(count_over_time({env=~".+"}[1m])))", Lines({"{} 2/3"})),
        I("StddevBy", R"(stddev by (host) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({host="a"} 1)", R"({host="b"} 0)"})),
        // topk per step; keeps the input labels. At 120 A and B tie at 2: the smaller label
        // set wins (deliberate: Loki's heap order for ties is unspecified).
        R("Topk", R"(topk(1, count_over_time({app="foo"}[1m])))",
          Lines({kA + " 60:3 120:2", kB + " 90:2"})),
        R("Bottomk", R"(bottomk(1, count_over_time({app="foo"}[1m])))",
          Lines({kA + " 90:1 120:2", kB + " 60:2"})),
        R("TopkBy", R"(topk by (app) (1, count_over_time({env=~".+"}[1m])))",
          Lines({kC + " 60:1 90:1 120:1", kA + " 60:3 120:2", kB + " 90:2"})),
        R("TopkByAfterArgs", R"(topk(1, count_over_time({env=~".+"}[1m])) by (app))",
          Lines({kC + " 60:1 90:1 120:1", kA + " 60:3 120:2", kB + " 90:2"})),
        R("TopkKLargerThanSeries", R"(topk(10, count_over_time({app="foo"}[1m])))",
          Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        // Instant topk results come sorted by labels, not by value (Loki sorts instant
        // vectors by labels unless the query uses sort/sort_desc).
        I("TopkInstantSortedByLabels", R"(topk(2, count_over_time({env=~".+"}[1m])))",
          Lines({kA + " 3", kB + " 2"})),
        I("BottomkInstant", R"(bottomk(2, count_over_time({env=~".+"}[1m])))",
          Lines({kC + " 1", kB + " 2"})),
        I("ApproxTopkIsExact", R"(approx_topk(1, count_over_time({env=~".+"}[1m])))",
          Lines({kA + " 3"})),
        // Sort: instant vectors in value order; ties (C=A=1 at 90) by labels.
        I("SortInstant", R"(sort(count_over_time({env=~".+"}[1m])))",
          Lines({kC + " 1", kB + " 2", kA + " 3"})),
        I("SortDescInstant", R"(sort_desc(count_over_time({env=~".+"}[1m])))",
          Lines({kA + " 3", kB + " 2", kC + " 1"})),
        I("SortTiesByLabels", R"(sort(count_over_time({env=~".+"}[1m])))",
          Lines({kC + " 1", kA + " 1", kB + " 2"}), 90),
        I("SortDescTiesByLabels", R"(sort_desc(count_over_time({env=~".+"}[1m])))",
          Lines({kB + " 2", kC + " 1", kA + " 1"}), 90),
        // Range queries: a matrix is always in label order.
        R("SortRangeIsLabelOrdered", R"(sort_desc(count_over_time({app="foo"}[1m])))",
          Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        I("InstantSumBy", R"(sum by (app) (count_over_time({env=~".+"}[1m])))",
          Lines({R"({app="bar"} 1)", R"({app="foo"} 5)"})),
        I("NestedAggregations", R"(max(sum by (host) (count_over_time({env=~".+"}[1m]))))",
          Lines({"{} 4"})),
        I("CountOfSumBy", R"(count(sum by (host) (count_over_time({env=~".+"}[1m]))))",
          Lines({"{} 2"})),
        I("SumOverEmptyIsEmpty", R"(sum(count_over_time({app="none"}[1m])))", ""),
        // max of {NaN, 1} is 1; of {NaN} NaN.
        I("MaxSkipsNaN", R"(max(sum_over_time({app=~"nan|bar"} | unwrap v [1m])))",
          Lines({"{} 7"})),
        I("SumWithNaN", R"(sum(sum_over_time({app=~"nan|bar"} | unwrap v [1m])))",
          Lines({"{} NaN"})),
        I("TopkNaNLast", R"(topk(1, sum_over_time({app=~"nan|bar"} | unwrap v [1m])))",
          Lines({kC + " 7"})),
        I("BottomkNaNLast", R"(bottomk(1, sum_over_time({app=~"nan|bar"} | unwrap v [1m])))",
          Lines({kC + " 7"}))),
    CaseName);

// Binary operators.
INSTANTIATE_TEST_SUITE_P(
    BinaryScalar, EvaluatorCases,
    ::testing::Values(
        R("VectorTimesScalar", R"(count_over_time({app="foo"}[1m]) * 2)",
          Lines({kA + " 60:6 90:2 120:4", kB + " 60:4 90:4 120:4"})),
        R("ScalarTimesVector", R"(2 * count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:6 90:2 120:4", kB + " 60:4 90:4 120:4"})),
        R("ScalarMinusVector", R"(10 - count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:7 90:9 120:8", kB + " 60:8 90:8 120:8"})),
        R("VectorDivScalar", R"(count_over_time({app="foo"}[1m]) / 4)",
          Lines({kA + " 60:0.75 90:0.25 120:0.5", kB + " 60:0.5 90:0.5 120:0.5"})),
        R("VectorModScalar", R"(count_over_time({app="foo"}[1m]) % 2)",
          Lines({kA + " 60:1 90:1 120:0", kB + " 60:0 90:0 120:0"})),
        R("VectorPowScalar", R"(count_over_time({app="foo"}[1m]) ^ 2)",
          Lines({kA + " 60:9 90:1 120:4", kB + " 60:4 90:4 120:4"})),
        R("ScalarPowVector", R"(2 ^ count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:8 90:2 120:4", kB + " 60:4 90:4 120:4"})),
        R("DivByZeroIsInf", R"(count_over_time({app="bar"}[1m]) / 0)",
          Lines({kC + " 60:+Inf 90:+Inf 120:+Inf"})),
        R("ZeroDivZeroIsNaN", R"(count_over_time({app="bar"}[1m]) * 0 / 0)",
          Lines({kC + " 60:NaN 90:NaN 120:NaN"})),
        R("NegativeDivZero", R"(-1 * count_over_time({app="bar"}[1m]) / 0)",
          Lines({kC + " 60:-Inf 90:-Inf 120:-Inf"})),
        R("ModByZeroIsNaN", R"(count_over_time({app="bar"}[1m]) % 0)",
          Lines({kC + " 60:NaN 90:NaN 120:NaN"})),
        // Comparisons filter, keeping the vector's value.
        R("GreaterFilters", R"(count_over_time({app="foo"}[1m]) > 2)", Lines({kA + " 60:3"})),
        R("GreaterEqualFilters", R"(count_over_time({app="foo"}[1m]) >= 2)",
          Lines({kA + " 60:3 120:2", kB + " 60:2 90:2 120:2"})),
        R("LessFilters", R"(count_over_time({app="foo"}[1m]) < 2)", Lines({kA + " 90:1"})),
        R("LessEqualFilters", R"(count_over_time({app="foo"}[1m]) <= 1)", Lines({kA + " 90:1"})),
        R("EqualFilters", R"(count_over_time({app="foo"}[1m]) == 2)",
          Lines({kA + " 120:2", kB + " 60:2 90:2 120:2"})),
        R("NotEqualFilters", R"(count_over_time({app="foo"}[1m]) != 2)",
          Lines({kA + " 60:3 90:1"})),
        R("GreaterBool", R"(count_over_time({app="foo"}[1m]) > bool 2)",
          Lines({kA + " 60:1 90:0 120:0", kB + " 60:0 90:0 120:0"})),
        R("EqualBool", R"(count_over_time({app="foo"}[1m]) == bool 2)",
          Lines({kA + " 60:0 90:0 120:1", kB + " 60:1 90:1 120:1"})),
        // Scalar on the left of a filtering comparison: still the vector's value
        // (Prometheus semantics; see docs/logql.md).
        R("ScalarLeftComparisonKeepsVectorValue", R"(2 < count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:3"})),
        R("ScalarLeftComparisonBool", R"(2 < bool count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:1 90:0 120:0", kB + " 60:0 90:0 120:0"})),
        R("RateTimesSixty", R"(sum(rate({app="foo"}[1m])) * 60)", Lines({"{} 60:5 90:3 120:4"})),
        R("ChainedArithmetic", R"((count_over_time({app="bar"}[1m]) + 1) * 3)",
          Lines({kC + " 60:6 90:6 120:6"})),
        R("NaNComparisonFalse", R"(sum_over_time({app="nan"} | unwrap v [1m]) == 0)", ""),
        I("NaNComparisonBool", R"(sum_over_time({app="nan"} | unwrap v [1m]) != bool 0)",
          Lines({R"({app="nan"} 1)"}))),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    BinaryVector, EvaluatorCases,
    ::testing::Values(
        R("SameLabelsMatch",
          R"(count_over_time({app="foo"}[1m]) - count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:0 90:0 120:0", kB + " 60:0 90:0 120:0"})),
        R("SumDivSum",
          R"(sum(count_over_time({app="foo"}[1m])) / sum(count_over_time({env=~".+"}[1m])))",
          Lines({"{} 60:5/6 90:3/4 120:4/5"})),
        R("UnmatchedDropped",
          R"(count_over_time({app="foo"}[1m]) + count_over_time({app="bar"}[1m]))", ""),
        // on(host): A (host a) matches C; result labels reduced to the on() labels.
        R("OnReducesLabels",
          R"(count_over_time({app="foo"}[1m]) + on (host) count_over_time({app="bar"}[1m]))",
          Lines({R"({host="a"} 60:4 90:2 120:3)"})),
        R("IgnoringDropsLabels",
          R"(count_over_time({app="foo"}[1m]) + ignoring (app, env) count_over_time({app="bar"}[1m]))",
          Lines({R"({host="a"} 60:4 90:2 120:3)"})),
        R("ComparisonVectorVector",
          R"(count_over_time({app="foo"}[1m]) > on (host) count_over_time({app="bar"}[1m]))",
          Lines({R"({host="a"} 60:3 120:2)"})),
        R("ComparisonVectorVectorBool",
          R"(count_over_time({app="foo"}[1m]) > bool on (host) count_over_time({app="bar"}[1m]))",
          Lines({R"({host="a"} 60:1 90:0 120:1)"})),
        // group_left: A/4,2,3 and C/4,2,3 (host a), B/2,2,2; labels of the many side.
        R("GroupLeft",
          R"(count_over_time({env=~".+"}[1m]) / on (host) group_left sum by (host) (count_over_time({env=~".+"}[1m])))",
          Lines({kC + " 60:1/4 90:1/2 120:1/3", kA + " 60:3/4 90:1/2 120:2/3",
                 kB + " 60:1 90:1 120:1"})),
        R("GroupRight",
          R"(sum by (host) (count_over_time({env=~".+"}[1m])) / on (host) group_right count_over_time({env=~".+"}[1m]))",
          Lines({kC + " 60:4 90:2 120:3", kA + " 60:4/3 90:2 120:3/2", kB + " 60:1 90:1 120:1"})),
        // group_left(env) copies env from the one side.
        R("GroupLeftInclude",
          R"(count_over_time({app="foo"}[1m]) * on (host) group_left (env) count_over_time({app="bar"}[1m]))",
          Lines({R"({app="foo", env="dev", host="a"} 60:3 90:1 120:2)"})),
        R("GroupLeftIncludeMissingLabelRemoves",
          R"(count_over_time({app="foo"}[1m]) * on (host) group_left (nope) count_over_time({app="bar"}[1m]))",
          Lines({kA + " 60:3 90:1 120:2"})),
        R("ManyToManyError",
          R"(sum by (host) (count_over_time({env=~".+"}[1m])) + on (host) count_over_time({env=~".+"}[1m]))",
          "error: found duplicate series on the right hand-side;many-to-many matching not "
          "allowed: matching labels must be unique on one side"),
        R("ManyToManyErrorGroupRightNamesLeft",
          R"(count_over_time({env=~".+"}[1m]) + on (host) group_right sum by (host) (count_over_time({env=~".+"}[1m])))",
          "error: found duplicate series on the left hand-side;many-to-many matching not "
          "allowed: matching labels must be unique on one side"),
        R("ManyToOneMustBeExplicit",
          R"(count_over_time({env=~".+"}[1m]) + on (host) sum by (host) (count_over_time({env=~".+"}[1m])))",
          "error: multiple matches for labels: many-to-one matching must be explicit "
          "(group_left/group_right)"),
        R("GroupingLabelsMustBeUnique",
          R"q(count_over_time({app="foo"}[1m]) + on (app) group_left (host) label_replace(sum by (app) (count_over_time({app="foo"}[1m])), "host", "x", "app", ".*"))q",
          "error: multiple matches for labels: grouping labels must ensure unique matches"),
        // A comparison that filters the duplicates away raises no many-to-one error.
        I("FilteredPairsDoNotCount",
          R"(count_over_time({env=~".+"}[1m]) > on (host) group_left sum by (host) (count_over_time({env=~".+"}[1m])))",
          ""),
        R("VectorPlusVector", "vector(1) + vector(1)", Lines({"{} 60:2 90:2 120:2"})),
        I("VectorPlusVectorInstant", "vector(1) + vector(1)", Lines({"{} 2"})),
        R("VectorTimesCount", R"(vector(2) * on () sum(count_over_time({app="foo"}[1m])))",
          Lines({"{} 60:10 90:6 120:8"}))),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    BinarySet, EvaluatorCases,
    ::testing::Values(
        R("And", R"(count_over_time({env=~".+"}[1m]) and count_over_time({app="foo"}[1m]))",
          Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        R("AndKeepsLeftValues",
          R"(count_over_time({app="foo"}[1m]) and (count_over_time({app="foo"}[1m]) * 10))",
          Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        R("AndPerStep", R"(count_over_time({app="foo"}[1m]) and count_over_time({app="foo"}[15s]))",
          Lines({kA + " 120:2"})),
        R("Unless", R"(count_over_time({env=~".+"}[1m]) unless count_over_time({app="foo"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1"})),
        R("UnlessPerStep",
          R"(count_over_time({app="foo"}[1m]) unless count_over_time({app="foo"}[15s]))",
          Lines({kA + " 60:3 90:1", kB + " 60:2 90:2 120:2"})),
        R("Or", R"(count_over_time({app="foo"}[1m]) or count_over_time({app="bar"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1", kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
        R("OrPrefersLeft",
          R"(count_over_time({app="bar"}[1m]) or (count_over_time({app="bar"}[1m]) * 10))",
          Lines({kC + " 60:1 90:1 120:1"})),
        R("OrFillsGaps", R"(sum(count_over_time({app="foo"}[15s])) or vector(0))",
          Lines({"{} 60:0 90:0 120:1"})),
        R("OrVectorDifferentLabels", R"(count_over_time({app="foo"}[15s]) or vector(0))",
          Lines({"{} 60:0 90:0 120:0", kA + " 120:1"})),
        R("AndOn",
          R"(count_over_time({app="bar"}[1m]) and on (host) count_over_time({app="foo", host="a"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1"})),
        R("AndIgnoring",
          R"(count_over_time({app="bar"}[1m]) and ignoring (app, env) count_over_time({app="foo"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1"})),
        R("UnlessOn",
          R"(count_over_time({app="foo"}[1m]) unless on (host) count_over_time({app="bar"}[1m]))",
          Lines({kB + " 60:2 90:2 120:2"})),
        R("OrOnHost",
          R"(count_over_time({app="bar"}[1m]) or on (host) count_over_time({app="foo"}[1m]))",
          Lines({kC + " 60:1 90:1 120:1", kB + " 60:2 90:2 120:2"})),
        I("AndEmptyRight",
          R"(count_over_time({app="foo"}[1m]) and count_over_time({app="none"}[1m]))", ""),
        I("OrEmptyLeft", R"(count_over_time({app="none"}[1m]) or count_over_time({app="bar"}[1m]))",
          Lines({kC + " 1"}))),
    CaseName);

// Literals and vector().
INSTANTIATE_TEST_SUITE_P(
    Literals, EvaluatorCases,
    ::testing::Values(I("ScalarInstant", "1+1", "scalar 2"),
                      I("ScalarLiteral", "3.5", "scalar 3.5"),
                      I("NegativeScalar", "-2", "scalar -2"),
                      // A range query of a scalar is one label-less series (Loki).
                      R("ScalarRange", "1+1", Lines({"{} 60:2 90:2 120:2"})),
                      I("VectorInstant", "vector(1)", Lines({"{} 1"})),
                      R("VectorRange", "vector(5)", Lines({"{} 60:5 90:5 120:5"})),
                      I("VectorComparisonFilters", "vector(1) > 2", ""),
                      I("VectorComparisonBool", "vector(1) > bool 2", Lines({"{} 0"})),
                      I("VectorTimesScalar", "vector(3) * 2", Lines({"{} 6"})),
                      I("SumOfVector", "sum(vector(3))", Lines({"{} 3"})),
                      Grid(R("ScalarRangeOneStep", "4", Lines({"{} 60:4"})), 60, 60, 30)),
    CaseName);

// label_replace (Prometheus semantics: anchored regex, Go template expansion).
INSTANTIATE_TEST_SUITE_P(
    LabelReplace, EvaluatorCases,
    ::testing::Values(
        I("Capture",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "$1-x", "host", "(.*)"))q",
          Lines({R"({app="bar", dst="a-x", env="dev", host="a"} 1)"})),
        I("BracedCapture",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "${1}x", "host", "(.*)"))q",
          Lines({R"({app="bar", dst="ax", env="dev", host="a"} 1)"})),
        I("NamedCapture",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "${h}z", "host", "(?P<h>.*)"))q",
          Lines({R"({app="bar", dst="az", env="dev", host="a"} 1)"})),
        // `$1x` names a group "1x" (Go's rule: longest name), which does not exist -> "".
        I("DollarNameIsLongest",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "$1x", "host", "(.*)"))q",
          Lines({kC + " 1"})),
        I("DoubleDollarIsLiteral",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "$$1", "host", "(.*)"))q",
          Lines({R"({app="bar", dst="$1", env="dev", host="a"} 1)"})),
        I("NoMatchUnchanged",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "y", "host", "b"))q",
          Lines({kC + " 1"})),
        I("RegexIsAnchored",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "y", "app", "ba"))q",
          Lines({kC + " 1"})),
        I("OverwritesExisting",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "env", "$1", "host", "(.*)"))q",
          Lines({R"({app="bar", env="a", host="a"} 1)"})),
        I("EmptyResultRemovesLabel",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "env", "", "host", ".*"))q",
          Lines({R"({app="bar", host="a"} 1)"})),
        I("MissingSourceIsEmpty",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "v", "nope", ""))q",
          Lines({R"({app="bar", dst="v", env="dev", host="a"} 1)"})),
        I("UnknownGroupIsEmpty",
          R"q(label_replace(count_over_time({app="bar"}[1m]), "dst", "a${2}b", "host", "(.*)"))q",
          Lines({R"({app="bar", dst="ab", env="dev", host="a"} 1)"})),
        R("RangeQuery",
          R"q(label_replace(sum by (host) (count_over_time({env=~".+"}[1m])), "h", "h-$1", "host", "(.)"))q",
          Lines({R"({h="h-a", host="a"} 60:4 90:2 120:3)",
                 R"({h="h-b", host="b"} 60:2 90:2 120:2)"})),
        // Series that become equal are merged.
        I("CollapsingSeriesMerge",
          R"q(label_replace(count_over_time({app="foo"}[1m]), "host", "", "host", ".*"))q",
          Lines({R"({app="foo", env="prod"} 3)"}))),
    CaseName);

// __error__: a sample still carrying it fails the query unless a `by` grouping keeps it.
INSTANTIATE_TEST_SUITE_P(
    PipelineErrors, EvaluatorCases,
    ::testing::Values(
        I("CountWithErrorFails", R"(count_over_time({app="err"}[1m]))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr")),
        I("SumWithErrorFails", R"(sum(count_over_time({app="err"}[1m])))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr")),
        // Grouping without __error__ does not hide the error (Loki keeps all labels then).
        I("RangeGroupingDoesNotHideError",
          R"(max_over_time({app="err"} | unwrap v [1m]) by (host))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr")),
        I("WithoutErrorDoesNotHideError",
          R"(max_over_time({app="err"} | unwrap v [1m]) without (__error__, __error_details__))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr")),
        I("SumByErrorKeepsIt", R"(sum by (__error__) (count_over_time({app="err"}[1m])))",
          Lines({"{} 1", R"({__error__="SampleExtractionErr"} 1)"})),
        I("RangeByErrorKeepsIt",
          R"(max_over_time({app="err"} | unwrap v [1m]) by (__error__, host))",
          Lines({R"({__error__="SampleExtractionErr", host="x"} 0)", R"({host="y"} 4)"})),
        // Only outer sums over counting/summing ops push their grouping down (Loki); a max
        // by (__error__) still sees the raw error series.
        I("MaxByErrorStillFails", R"(max by (__error__) (count_over_time({app="err"}[1m])))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr")),
        // The error sample at 50 s is outside (53,56]: no error.
        I("ErrorOutsideWindowIsFine", R"(count_over_time({app="err"}[3s]))",
          Lines({R"({app="err", host="y"} 1)"}), 56),
        // Range query: the error is in the window of the first step already.
        R("ErrorInRangeQuery", R"(rate({app="err"}[1m]))",
          PipelineError(
              R"({__error__="SampleExtractionErr", __error_details__="bad", app="err", host="x"})",
              "SampleExtractionErr"))),
    CaseName);

// max_series: more distinct output series than allowed fails with Loki's text.
INSTANTIATE_TEST_SUITE_P(
    SeriesLimit, EvaluatorCases,
    ::testing::Values(
        Lim(R("OverLimit", R"(count_over_time({env=~".+"}[1m]))", SeriesLimit(2)), 2),
        Lim(R("AtLimit", R"(count_over_time({app="foo"}[1m]))",
              Lines({kA + " 60:3 90:1 120:2", kB + " 60:2 90:2 120:2"})),
            2),
        // The outer sum groups while extracting: only 2 series ever exist.
        Lim(R("SumByPushedDownStaysUnder", R"(sum by (app) (count_over_time({env=~".+"}[1m])))",
              Lines({R"({app="bar"} 60:1 90:1 120:1)", R"({app="foo"} 60:5 90:3 120:4)"})),
            2),
        Lim(I("InstantOverLimit", R"(count_over_time({env=~".+"}[1m]))", SeriesLimit(1)), 1),
        Lim(I("VectorOutputOverLimit", R"(count_over_time({app="foo"}[1m]) or vector(1))",
              SeriesLimit(2)),
            2),
        Lim(I("RangeGroupingCountsGroups",
              R"(max_over_time({env=~".+"} | unwrap v [1m]) by (host))",
              Lines({R"({host="a"} 7)", R"({host="b"} 4)"})),
            2)),
    CaseName);

// ---------------------------------------------------------------------------
// Fork/Merge: feeding disjoint parts into forks and merging them gives the unforked
// result bit for bit (the dataset's values make every partial sum exact).

void ExpectBitIdentical(const QueryValue& a, const QueryValue& b) {
  ASSERT_EQ(a.type, b.type);
  ASSERT_EQ(a.matrix.size(), b.matrix.size());
  for (size_t i = 0; i < a.matrix.size(); ++i) {
    EXPECT_EQ(a.matrix[i].labels, b.matrix[i].labels);
    ASSERT_EQ(a.matrix[i].points.size(), b.matrix[i].points.size());
    for (size_t k = 0; k < a.matrix[i].points.size(); ++k) {
      EXPECT_EQ(a.matrix[i].points[k].ts_nanos, b.matrix[i].points[k].ts_nanos);
      const double x = a.matrix[i].points[k].value, y = b.matrix[i].points[k].value;
      EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << x << " vs " << y;
    }
  }
}

TEST(EvaluatorForkTest, MergedForksEqualUnforkedBitForBit) {
  const char* queries[] = {
      R"(count_over_time({env=~".+"}[1m]))",
      R"(rate({env=~".+"}[1m]))",
      R"(bytes_over_time({env=~".+"}[2m]))",
      R"(bytes_rate({env=~".+"}[1m]))",
      R"(sum_over_time({env=~".+"} | unwrap v [1m]))",
      R"(avg_over_time({env=~".+"} | unwrap v [1m]) by (host))",
      R"(min_over_time({env=~".+"} | unwrap v [1m]) by (env))",
      R"(max_over_time({env=~".+"} | unwrap v [1m]))",
      R"(first_over_time({env=~".+"} | unwrap v [1m]) by (host))",
      R"(last_over_time({env=~".+"} | unwrap v [1m]) by (host))",
      R"(quantile_over_time(0.3, {env=~".+"} | unwrap v [1m]) by (env))",
      R"(rate_counter({app="ctr"} | unwrap v [1m]))",
      R"(rate({app="ctr"} | unwrap v [1m]))",
      R"(sum by (host) (count_over_time({env=~".+"}[1m])))",
      R"(absent_over_time({app="bar"}[20s]))",
  };
  EvalParams p;
  p.start_nanos = 30 * kSec;
  p.end_nanos = 130 * kSec;
  p.step_nanos = 10 * kSec;
  for (const char* q : queries) {
    SCOPED_TRACE(q);
    TestSource whole;
    auto want = RunQuery(q, p, &whole);
    ASSERT_TRUE(want.ok()) << want.status().message();
    ASSERT_FALSE(want->matrix.empty());
    for (int parts : {2, 3, 5}) {
      TestSource split(parts);
      auto got = RunQuery(q, p, &split);
      ASSERT_TRUE(got.ok()) << got.status().message();
      ExpectBitIdentical(*want, *got);
    }
  }
}

TEST(EvaluatorForkTest, RepeatedRunsAreIdentical) {
  EvalParams p;
  p.start_nanos = 30 * kSec;
  p.end_nanos = 130 * kSec;
  p.step_nanos = 10 * kSec;
  const char* q = R"(stddev_over_time({env=~".+"} | unwrap v [1m]) by (env))";
  TestSource s1(3), s2(3);
  auto a = RunQuery(q, p, &s1);
  auto b = RunQuery(q, p, &s2);
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectBitIdentical(*a, *b);
}

// ---------------------------------------------------------------------------
// The accumulator API directly.

internal::AccumulatorConfig CountConfig() {
  internal::AccumulatorConfig c;
  c.op = RangeOp::kCountOverTime;
  c.grid = internal::StepGrid{60 * kSec, 30 * kSec, 3};
  c.range_nanos = 60 * kSec;
  c.max_series = 10;
  return c;
}

EntryLabels Refs(const std::vector<LabelRef>& refs) {
  EntryLabels e;
  e.all = refs;
  e.hash = HashOf(refs);
  return e;
}

TEST(RangeAccumulatorTest, TimeRangeCoversEveryWindow) {
  RangeAccumulator acc = internal::AccumulatorAccess::Make(CountConfig());
  EXPECT_EQ(acc.first_exclusive_nanos(), 0);
  EXPECT_EQ(acc.last_inclusive_nanos(), 120 * kSec);
  auto c = CountConfig();
  c.offset_nanos = 10 * kSec;
  RangeAccumulator off = internal::AccumulatorAccess::Make(c);
  EXPECT_EQ(off.first_exclusive_nanos(), -10 * kSec);
  EXPECT_EQ(off.last_inclusive_nanos(), 110 * kSec);
}

TEST(RangeAccumulatorTest, EqualLabelSetsShareASeries) {
  RangeAccumulator acc = internal::AccumulatorAccess::Make(CountConfig());
  std::vector<LabelRef> a = {{"app", "x"}, {"host", "1"}};
  std::vector<LabelRef> a2 = {{"app", "x"}, {"host", "1"}};
  std::vector<LabelRef> b = {{"app", "x"}, {"host", "2"}};
  auto ra = acc.Series(Refs(a));
  EXPECT_EQ(acc.Series(Refs(a2)), ra);
  EXPECT_NE(acc.Series(Refs(b)), ra);
  EXPECT_EQ(internal::AccumulatorAccess::State(acc).series.size(), 2u);
}

TEST(RangeAccumulatorTest, HashCollisionsAreResolvedByLabels) {
  RangeAccumulator acc = internal::AccumulatorAccess::Make(CountConfig());
  std::vector<LabelRef> a = {{"app", "x"}};
  std::vector<LabelRef> b = {{"app", "y"}};
  EntryLabels ea = Refs(a), eb = Refs(b);
  eb.hash = ea.hash;  // force a collision
  auto ra = acc.Series(ea);
  auto rb = acc.Series(eb);
  EXPECT_NE(ra, rb);
  EXPECT_EQ(acc.Series(eb), rb);
  EXPECT_EQ(acc.Series(ea), ra);
}

TEST(RangeAccumulatorTest, GroupingAppliesInSeries) {
  auto c = CountConfig();
  c.grouping = Grouping{false, {"host"}};
  RangeAccumulator acc = internal::AccumulatorAccess::Make(c);
  std::vector<LabelRef> a = {{"app", "x"}, {"host", "1"}};
  std::vector<LabelRef> b = {{"app", "y"}, {"host", "1"}};
  EXPECT_EQ(acc.Series(Refs(a)), acc.Series(Refs(b)));
  const auto& st = internal::AccumulatorAccess::State(acc);
  ASSERT_EQ(st.series.size(), 1u);
  EXPECT_EQ(Labels(st.series[0].labels).ToString(), R"({host="1"})");
}

TEST(RangeAccumulatorTest, SamplesOutsideTheRangeAreIgnored) {
  RangeAccumulator acc = internal::AccumulatorAccess::Make(CountConfig());
  std::vector<LabelRef> a = {{"app", "x"}};
  auto r = acc.Series(Refs(a));
  acc.Add(r, 0, 1);           // == first_exclusive: out
  acc.Add(r, 121 * kSec, 1);  // after last_inclusive: out
  acc.Add(r, 60 * kSec, 1);   // windows at 60 and 90
  EvalParams p;
  auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].present, (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ((*out)[0].values[0], 1);
}

// Found by logql_evaluator_fuzz: with a range and an offset near the largest durations
// LogQL accepts (~292y), `start - offset - range` overflowed int64 (undefined behaviour; in
// practice it wrapped to a window after its own end, which held nothing). The window's
// start now saturates at int64's minimum, so it holds every sample up to its end.
TEST(RangeAccumulatorTest, WindowReachingBelowInt64RangeSaturates) {
  constexpr int64_t kYear = 365 * 24 * 3600 * kSec;
  const int64_t sample_ts = -150 * kYear;
  struct Op {
    RangeOp op;
    bool unwrap;
  };
  for (const Op& op : {Op{RangeOp::kCountOverTime, false}, Op{RangeOp::kSumOverTime, true},
                       Op{RangeOp::kQuantileOverTime, true}}) {
    for (const internal::StepGrid& grid :
         {internal::StepGrid{0, 0, 1}, internal::StepGrid{0, 30 * kSec, 3}}) {
      SCOPED_TRACE(std::string(RangeOpName(op.op)) + " steps " + std::to_string(grid.n));
      internal::AccumulatorConfig c;
      c.op = op.op;
      c.unwrap = op.unwrap;
      c.param = 0.5;
      c.grid = grid;
      c.range_nanos = 292 * kYear;
      c.offset_nanos = 146 * kYear;
      c.max_series = 10;
      RangeAccumulator acc = internal::AccumulatorAccess::Make(c);
      EXPECT_EQ(acc.first_exclusive_nanos(), std::numeric_limits<int64_t>::min());
      EXPECT_EQ(acc.last_inclusive_nanos(), grid.At(grid.n - 1) - 146 * kYear);
      std::vector<LabelRef> a = {{"app", "x"}};
      acc.Add(acc.Series(Refs(a)), sample_ts, 3);
      EvalParams p;
      auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
      ASSERT_TRUE(out.ok()) << out.status().message();
      ASSERT_EQ(out->size(), 1u);
      EXPECT_EQ((*out)[0].present, std::vector<uint8_t>(grid.n, 1));
      EXPECT_EQ((*out)[0].values[0], op.op == RangeOp::kCountOverTime ? 1 : 3);
    }
  }
}

// Found by logql_evaluator_fuzz: two streams of one series with samples at the same time
// gave first_over_time / last_over_time the value fed first, so the answer depended on how
// the source split streams across forks. Ties now go by value (first: lowest, last:
// highest), whatever the feeding order. (A deliberate choice: Loki's docs do not say.)
TEST(RangeAccumulatorTest, FirstAndLastBreakTimeTiesByValueWhateverTheOrder) {
  for (RangeOp op : {RangeOp::kFirstOverTime, RangeOp::kLastOverTime}) {
    for (bool reversed : {false, true}) {
      for (bool forked : {false, true}) {
        SCOPED_TRACE(std::string(RangeOpName(op)) + (reversed ? " reversed" : "") +
                     (forked ? " forked" : ""));
        auto c = CountConfig();
        c.op = op;
        c.unwrap = true;
        RangeAccumulator acc = internal::AccumulatorAccess::Make(c);
        RangeAccumulator fork = acc.Fork();
        std::vector<LabelRef> a = {{"app", "x"}};
        std::vector<double> values = {5, 2, 9};
        if (reversed) std::reverse(values.begin(), values.end());
        for (size_t i = 0; i < values.size(); i++) {
          RangeAccumulator& target = forked && i == 0 ? fork : acc;
          target.Add(target.Series(Refs(a)), 50 * kSec, values[i]);
        }
        acc.Merge(std::move(fork));
        EvalParams p;
        auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
        ASSERT_TRUE(out.ok());
        ASSERT_EQ(out->size(), 1u);
        EXPECT_EQ((*out)[0].values[0], op == RangeOp::kFirstOverTime ? 2 : 9);
      }
    }
  }
}

// φ < 0 cannot be written in LogQL (the parser takes no sign there), so set it directly.
TEST(RangeAccumulatorTest, QuantileBelowZeroIsMinusInf) {
  auto c = CountConfig();
  c.op = RangeOp::kQuantileOverTime;
  c.unwrap = true;
  c.param = -0.5;
  RangeAccumulator acc = internal::AccumulatorAccess::Make(c);
  std::vector<LabelRef> a = {{"app", "x"}};
  acc.Add(acc.Series(Refs(a)), 60 * kSec, 3);
  EvalParams p;
  auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].values[0], -std::numeric_limits<double>::infinity());
}

TEST(RangeAccumulatorTest, TooManySeriesFailsAtFinish) {
  auto c = CountConfig();
  c.max_series = 1;
  RangeAccumulator acc = internal::AccumulatorAccess::Make(c);
  std::vector<LabelRef> a = {{"app", "x"}};
  std::vector<LabelRef> b = {{"app", "y"}};
  acc.Add(acc.Series(Refs(a)), 60 * kSec, 1);
  EXPECT_FALSE(acc.Full());
  acc.Add(acc.Series(Refs(b)), 60 * kSec, 1);  // overflow ref: ignored
  EXPECT_TRUE(acc.Full());
  EvalParams p;
  auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), SeriesLimit(1).substr(7));
}

TEST(RangeAccumulatorTest, MergeAddsSeriesUnknownToTheParent) {
  RangeAccumulator acc = internal::AccumulatorAccess::Make(CountConfig());
  RangeAccumulator fork = acc.Fork();
  std::vector<LabelRef> a = {{"app", "x"}};
  std::vector<LabelRef> b = {{"app", "y"}};
  acc.Add(acc.Series(Refs(a)), 60 * kSec, 1);
  fork.Add(fork.Series(Refs(b)), 60 * kSec, 1);
  fork.Add(fork.Series(Refs(a)), 61 * kSec, 1);
  acc.Merge(std::move(fork));
  EvalParams p;
  auto out = internal::FinishAccumulator(internal::AccumulatorAccess::State(acc), {}, p);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].labels.ToString(), R"({app="x"})");
  EXPECT_EQ((*out)[0].values, (std::vector<double>{1, 2, 1}));
  EXPECT_EQ((*out)[1].values, (std::vector<double>{1, 1, 0}));
}

// ---------------------------------------------------------------------------
// Evaluation plumbing.

TEST(EvaluatorTest, CancelledBeforeStartReturnsDeadlineExceeded) {
  std::atomic<bool> cancelled{true};
  EvalParams p;
  p.start_nanos = 60 * kSec;
  p.end_nanos = 120 * kSec;
  p.step_nanos = 30 * kSec;
  p.cancelled = &cancelled;
  TestSource src;
  auto r = RunQuery(R"(count_over_time({app="foo"}[1m]))", p, &src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  p.cancel_code = StatusCode::kCancelled;
  r = RunQuery(R"(sum(count_over_time({app="foo"}[1m])))", p, &src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

// A source that cancels the query while feeding, as a query timeout would.
class CancellingSource : public TestSource {
 public:
  explicit CancellingSource(std::atomic<bool>* flag) : flag_(flag) {}
  Status Feed(const RangeAggregationExpr& expr, RangeAccumulator* acc) override {
    Status s = TestSource::Feed(expr, acc);
    flag_->store(true);
    return s;
  }

 private:
  std::atomic<bool>* flag_;
};

TEST(EvaluatorTest, CancelledDuringFeedStopsEvaluation) {
  std::atomic<bool> cancelled{false};
  EvalParams p;
  p.start_nanos = 60 * kSec;
  p.end_nanos = 120 * kSec;
  p.step_nanos = 30 * kSec;
  p.cancelled = &cancelled;
  CancellingSource src(&cancelled);
  auto r =
      RunQuery(R"(count_over_time({app="foo"}[1m]) + count_over_time({app="foo"}[1m]))", p, &src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(src.feeds, 1);
}

TEST(EvaluatorTest, SourceErrorsPropagate) {
  class Failing : public SampleSource {
   public:
    Status Feed(const RangeAggregationExpr&, RangeAccumulator*) override {
      return Status::InvalidArgument("invalid regexp parser");
    }
  } src;
  EvalParams p;
  auto r = RunQuery(R"(count_over_time({app="foo"}[1m]))", p, &src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "invalid regexp parser");
}

TEST(EvaluatorTest, EachRangeAggregationIsFedOnce) {
  EvalParams p;
  p.start_nanos = 60 * kSec;
  p.end_nanos = 120 * kSec;
  p.step_nanos = 30 * kSec;
  TestSource src;
  auto r =
      RunQuery(R"(sum(count_over_time({app="foo"}[1m])) / sum(rate({app="bar"}[1m])))", p, &src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(src.feeds, 2);
}

TEST(EvaluatorTest, ScalarWithoutSourceNeedsNoFeed) {
  EvalParams p;
  p.start_nanos = 7 * kSec;
  auto r = RunQuery("2*3", p, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, QueryValue::Type::kScalar);
  EXPECT_EQ(r->scalar.value, 6);
  EXPECT_EQ(r->scalar.ts_nanos, 7 * kSec);
}

TEST(EvaluatorTest, EmptyGridGivesEmptyMatrix) {
  EvalParams p;
  p.start_nanos = 120 * kSec;
  p.end_nanos = 60 * kSec;
  p.step_nanos = 30 * kSec;
  TestSource src;
  auto r = RunQuery(R"(count_over_time({app="foo"}[1m]))", p, &src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, QueryValue::Type::kMatrix);
  EXPECT_TRUE(r->matrix.empty());
}

}  // namespace
}  // namespace skald::logql
