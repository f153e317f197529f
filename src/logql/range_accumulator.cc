// RangeAccumulator: per-series, per-step state of one range aggregation, and the range
// functions (Loki's *_over_time, rate, rate_counter) computed from it.
#include "logql/range_accumulator.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/go_string.h"

namespace skald::logql {
namespace internal {
namespace {

constexpr std::string_view kErrorLabel = "__error__";

// floor(a / b) for b > 0.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// Step arithmetic is done in 128 bits: a window's ends (t - offset - range) leave int64 for
// ranges and offsets near the largest durations LogQL accepts (~292y), where int64
// arithmetic would overflow (undefined behaviour, found by logql_evaluator_fuzz).
using Wide = __int128;

// ceil(a / b) for b > 0, clamped to [lo, hi].
int64_t CeilDivClamped(Wide a, int64_t b, int64_t lo, int64_t hi) {
  Wide q = a / b;
  if (a % b != 0 && a > 0) ++q;
  if (q < lo) return lo;
  if (q > hi) return hi;
  return static_cast<int64_t>(q);
}

// The order first_over_time / last_over_time pick by: time, then (for samples at one time,
// which may come from different streams of one series) value, NaN lowest and -0 before +0.
// Found by logql_evaluator_fuzz: keeping whichever tied sample was fed first made the
// answer depend on how a source split the streams across forks.
bool SampleBefore(int64_t t1, double v1, int64_t t2, double v2) {
  if (t1 != t2) return t1 < t2;
  if (std::isnan(v1) || std::isnan(v2)) return std::isnan(v1) && !std::isnan(v2);
  if (v1 != v2) return v1 < v2;
  return std::signbit(v1) && !std::signbit(v2);
}

// a - b saturated to int64.
int64_t SatSub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

CellKind KindOf(const AccumulatorConfig& c) {
  switch (c.op) {
    case RangeOp::kCountOverTime:
    case RangeOp::kBytesOverTime:
    case RangeOp::kBytesRate:
    case RangeOp::kAbsentOverTime:
      return CellKind::kCount;
    case RangeOp::kRate:
      return c.unwrap ? CellKind::kSum : CellKind::kCount;
    case RangeOp::kSumOverTime:
    case RangeOp::kAvgOverTime:
      return CellKind::kSum;
    case RangeOp::kMinOverTime:
      return CellKind::kMin;
    case RangeOp::kMaxOverTime:
      return CellKind::kMax;
    case RangeOp::kFirstOverTime:
      return CellKind::kFirst;
    case RangeOp::kLastOverTime:
      return CellKind::kLast;
    case RangeOp::kStdvarOverTime:
    case RangeOp::kStddevOverTime:
      return CellKind::kMoments;
    case RangeOp::kQuantileOverTime:
    case RangeOp::kRateCounter:
      return CellKind::kSamples;
  }
  return CellKind::kCount;
}

uint64_t HashRefs(std::span<const LabelRef> labels) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  for (const LabelRef& l : labels) {
    h = XXH3_64bits_withSeed(l.name.data(), l.name.size(), h);
    h = XXH3_64bits_withSeed(l.value.data(), l.value.size(), h ^ 0x9e3779b97f4a7c15ULL);
  }
  return h;
}

bool SameLabels(std::span<const LabelRef> a, const std::vector<Label>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

bool HasLabel(std::span<const LabelRef> labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const LabelRef& l, std::string_view n) { return l.name < n; });
  return it != labels.end() && it->name == name;
}

// Prometheus' quantile over sorted values.
double Quantile(double phi, std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(phi)) return std::numeric_limits<double>::quiet_NaN();
  if (phi < 0) return -std::numeric_limits<double>::infinity();
  if (phi > 1) return std::numeric_limits<double>::infinity();
  // NaN orders first so the comparison stays a strict weak order (as Go's sort.Float64s).
  auto less = [](double x, double y) {
    if (std::isnan(x)) return !std::isnan(y);
    return x < y;
  };
  double n = static_cast<double>(values.size());
  double rank = phi * (n - 1);
  double lower_d = std::max(0.0, std::floor(rank));
  size_t lower = static_cast<size_t>(lower_d);
  size_t upper = std::min(values.size() - 1, lower + 1);
  double weight = rank - std::floor(rank);
  // Two order statistics, not a full sort: nth_element places the lower one, and the
  // upper one is the smallest of what lies after it.
  std::nth_element(values.begin(), values.begin() + lower, values.end(), less);
  const double lo = values[lower];
  const double hi =
      upper == lower ? lo : *std::min_element(values.begin() + lower + 1, values.end(), less);
  return lo * (1 - weight) + hi * weight;
}

// Prometheus' extrapolated counter rate over the window (range_start, range_end]
// (seconds of `range` in the denominator). Loki answers 0 for fewer than two samples.
double CounterRate(std::span<const AccumulatorState::TimedValue> s, Wide range_start,
                   Wide range_end, int64_t range) {
  if (s.size() < 2) return 0;
  double delta = s.back().value - s.front().value;
  double prev = 0;
  for (const auto& p : s) {
    if (p.value < prev) delta += prev;  // a reset: the counter restarted from 0
    prev = p.value;
  }
  double to_start = static_cast<double>(s.front().ts - range_start) / 1e9;
  double to_end = static_cast<double>(range_end - s.back().ts) / 1e9;
  double sampled = static_cast<double>(s.back().ts - s.front().ts) / 1e9;
  double avg_gap = sampled / static_cast<double>(s.size() - 1);
  if (delta > 0 && s.front().value >= 0) {
    // A counter cannot go below zero: do not extrapolate past where it would be 0.
    double to_zero = sampled * (s.front().value / delta);
    if (to_zero < to_start) to_start = to_zero;
  }
  double threshold = avg_gap * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg_gap / 2;
  interval += to_end < threshold ? to_end : avg_gap / 2;
  double result = delta * (interval / sampled);
  return result / (static_cast<double>(range) / 1e9);
}

}  // namespace

AccumulatorState::AccumulatorState(const AccumulatorConfig& c) : cfg(c) {
  kind = KindOf(cfg);
  absent = cfg.op == RangeOp::kAbsentOverTime;
  if (cfg.grouping) {
    group_names = cfg.grouping->labels;
    std::sort(group_names.begin(), group_names.end());
    group_names.erase(std::unique(group_names.begin(), group_names.end()), group_names.end());
    keep_error = !cfg.grouping->without &&
                 std::binary_search(group_names.begin(), group_names.end(), kErrorLabel);
  }
  stride = kind == CellKind::kCount ? cfg.grid.n + 1 : cfg.grid.n;
  if (cfg.grid.n > 0) {
    last_inclusive = SatSub(cfg.grid.At(cfg.grid.n - 1), cfg.offset_nanos);
    // Saturated: a window reaching below int64's range starts at its minimum.
    first_exclusive = SatSub(SatSub(cfg.grid.start, cfg.offset_nanos), cfg.range_nanos);
  } else {
    last_inclusive = first_exclusive = std::numeric_limits<int64_t>::min();
  }
}

uint32_t AccumulatorState::FindOrAdd(std::span<const LabelRef> key, uint64_t hash, bool error) {
  auto it = by_hash.find(hash);
  uint32_t last = UINT32_MAX;
  if (it != by_hash.end()) {
    for (uint32_t i = it->second; i != UINT32_MAX; i = series[i].next_same_hash) {
      if (SameLabels(key, series[i].labels)) return i;
      last = i;
    }
  }
  if (series.size() >= cfg.max_series) {
    overflow = true;
    return kOverflowRef;
  }
  uint32_t ref = static_cast<uint32_t>(series.size());
  SeriesEntry e;
  e.hash = hash;
  e.error = error;
  e.labels.reserve(key.size());
  for (const LabelRef& l : key)
    e.labels.push_back(Label{std::string(l.name), std::string(l.value)});
  series.push_back(std::move(e));
  if (last == UINT32_MAX) {
    by_hash.emplace(hash, ref);
  } else {
    series[last].next_same_hash = ref;
  }
  AddCells(ref);
  return ref;
}

uint32_t AccumulatorState::FindOrAddOwned(const std::vector<Label>& labels, uint64_t hash,
                                          bool error) {
  scratch.clear();
  for (const Label& l : labels) scratch.push_back(LabelRef{l.name, l.value});
  return FindOrAdd(scratch, hash, error);
}

void AccumulatorState::AddCells(uint32_t ref) {
  size_t need = (static_cast<size_t>(ref) + 1) * stride;
  switch (kind) {
    case CellKind::kCount:
      count_diff.resize(need, 0);
      sum_diff.resize(need, 0);
      break;
    case CellKind::kSum:
    case CellKind::kMin:
    case CellKind::kMax:
      n.resize(need, 0);
      a.resize(need, 0);
      break;
    case CellKind::kFirst:
    case CellKind::kLast:
      n.resize(need, 0);
      a.resize(need, 0);
      ts.resize(need, 0);
      break;
    case CellKind::kMoments:
      n.resize(need, 0);
      a.resize(need, 0);
      b.resize(need, 0);
      break;
    case CellKind::kSamples:
      samples.resize(ref + 1);
      break;
  }
}

void AccumulatorState::Add(uint32_t ref, int64_t t, double v) {
  if (ref == kOverflowRef || ref >= series.size()) return;
  if (t <= first_exclusive || t > last_inclusive) return;
  if (kind == CellKind::kSamples) {
    samples[ref].push_back(TimedValue{t, v});
    return;
  }
  size_t lo = 0, hi = 0;  // steps [lo, hi] whose window holds t
  if (cfg.grid.step > 0) {
    const int64_t last = static_cast<int64_t>(cfg.grid.n) - 1;
    int64_t l, h;
    int64_t rel, rel_end;
    if (!__builtin_add_overflow(t, cfg.offset_nanos, &rel) &&
        !__builtin_sub_overflow(rel, cfg.grid.start, &rel) &&
        !__builtin_add_overflow(rel, cfg.range_nanos, &rel_end)) {
      l = std::max<int64_t>(CeilDiv(rel, cfg.grid.step), 0);
      h = std::min<int64_t>(CeilDiv(rel_end, cfg.grid.step) - 1, last);
    } else {
      const Wide wrel = Wide{t} + cfg.offset_nanos - cfg.grid.start;
      l = CeilDivClamped(wrel, cfg.grid.step, 0, last + 1);
      h = CeilDivClamped(wrel + cfg.range_nanos, cfg.grid.step, 0, last + 1) - 1;
      h = std::min(h, last);
    }
    if (l > h) return;
    lo = static_cast<size_t>(l);
    hi = static_cast<size_t>(h);
  }
  const size_t base = static_cast<size_t>(ref) * stride;
  switch (kind) {
    case CellKind::kCount: {
      const int64_t iv = static_cast<int64_t>(std::llround(v));
      count_diff[base + lo] += 1;
      count_diff[base + hi + 1] -= 1;
      sum_diff[base + lo] += iv;
      sum_diff[base + hi + 1] -= iv;
      return;
    }
    case CellKind::kSum:
      for (size_t i = base + lo; i <= base + hi; ++i) {
        ++n[i];
        a[i] += v;
      }
      return;
    case CellKind::kMin:
      for (size_t i = base + lo; i <= base + hi; ++i) {
        if (n[i]++ == 0 || v < a[i] || std::isnan(a[i])) a[i] = v;
      }
      return;
    case CellKind::kMax:
      for (size_t i = base + lo; i <= base + hi; ++i) {
        if (n[i]++ == 0 || v > a[i] || std::isnan(a[i])) a[i] = v;
      }
      return;
    case CellKind::kFirst:
      for (size_t i = base + lo; i <= base + hi; ++i) {
        if (n[i]++ == 0 || SampleBefore(t, v, ts[i], a[i])) {
          a[i] = v;
          ts[i] = t;
        }
      }
      return;
    case CellKind::kLast:
      for (size_t i = base + lo; i <= base + hi; ++i) {
        if (n[i]++ == 0 || SampleBefore(ts[i], a[i], t, v)) {
          a[i] = v;
          ts[i] = t;
        }
      }
      return;
    case CellKind::kMoments:
      // Welford's running mean and sum of squared deviations.
      for (size_t i = base + lo; i <= base + hi; ++i) {
        double cnt = static_cast<double>(++n[i]);
        double delta = v - a[i];
        a[i] += delta / cnt;
        b[i] += delta * (v - a[i]);
      }
      return;
    case CellKind::kSamples:
      return;
  }
}

void AccumulatorState::MergeFrom(AccumulatorState&& o) {
  overflow = overflow || o.overflow;
  for (uint32_t s = 0; s < o.series.size(); ++s) {
    const SeriesEntry& e = o.series[s];
    uint32_t ref = FindOrAddOwned(e.labels, e.hash, e.error);
    if (ref == kOverflowRef) continue;
    const size_t dst = static_cast<size_t>(ref) * stride;
    const size_t src = static_cast<size_t>(s) * stride;
    for (size_t k = 0; k < stride; ++k) {
      const size_t i = dst + k, j = src + k;
      switch (kind) {
        case CellKind::kCount:
          count_diff[i] += o.count_diff[j];
          sum_diff[i] += o.sum_diff[j];
          break;
        case CellKind::kSum:
          n[i] += o.n[j];
          a[i] += o.a[j];
          break;
        case CellKind::kMin:
          if (o.n[j] > 0 && (n[i] == 0 || o.a[j] < a[i] || std::isnan(a[i]))) a[i] = o.a[j];
          n[i] += o.n[j];
          break;
        case CellKind::kMax:
          if (o.n[j] > 0 && (n[i] == 0 || o.a[j] > a[i] || std::isnan(a[i]))) a[i] = o.a[j];
          n[i] += o.n[j];
          break;
        case CellKind::kFirst:
          if (o.n[j] > 0 && (n[i] == 0 || SampleBefore(o.ts[j], o.a[j], ts[i], a[i]))) {
            a[i] = o.a[j];
            ts[i] = o.ts[j];
          }
          n[i] += o.n[j];
          break;
        case CellKind::kLast:
          if (o.n[j] > 0 && (n[i] == 0 || SampleBefore(ts[i], a[i], o.ts[j], o.a[j]))) {
            a[i] = o.a[j];
            ts[i] = o.ts[j];
          }
          n[i] += o.n[j];
          break;
        case CellKind::kMoments:
          // Chan et al.'s pairwise combination of (count, mean, M2).
          if (o.n[j] == 0) break;
          if (n[i] == 0) {
            n[i] = o.n[j];
            a[i] = o.a[j];
            b[i] = o.b[j];
          } else {
            double na = n[i], nb = o.n[j], nt = na + nb;
            double delta = o.a[j] - a[i];
            a[i] += delta * nb / nt;
            b[i] += o.b[j] + delta * delta * na * nb / nt;
            n[i] += o.n[j];
          }
          break;
        case CellKind::kSamples:
          break;
      }
    }
    if (kind == CellKind::kSamples) {
      auto& d = samples[ref];
      d.insert(d.end(), o.samples[s].begin(), o.samples[s].end());
    }
  }
}

namespace {

double RangeSeconds(const AccumulatorConfig& c) { return static_cast<double>(c.range_nanos) / 1e9; }

}  // namespace

StatusOr<std::vector<StepSeries>> FinishAccumulator(AccumulatorState& st,
                                                    const std::vector<Matcher>& selector,
                                                    const EvalParams& params) {
  const AccumulatorConfig& c = st.cfg;
  const size_t steps = c.grid.n;
  if (st.overflow) return Status::InvalidArgument(SeriesLimitMessage(c.max_series));

  if (st.absent) {
    // absent_over_time: 1 at the steps where no series had a sample.
    StepSeries out;
    std::vector<Label> ls;
    for (const Matcher& m : selector) {
      if (m.type() != MatchType::kEqual) continue;
      bool dup = false;
      for (const Label& l : ls) dup = dup || l.name == m.name();
      if (!dup) ls.push_back(Label{m.name(), m.value()});
    }
    out.labels = Labels(std::move(ls));
    out.values.assign(steps, 1.0);
    out.present.assign(steps, 1);
    int64_t running = 0;
    bool any = false;
    if (!st.series.empty()) {
      for (size_t i = 0; i < steps; ++i) {
        running += st.count_diff[i];
        if (running > 0) out.present[i] = 0;
      }
    }
    for (size_t i = 0; i < steps; ++i) any = any || out.present[i];
    std::vector<StepSeries> result;
    if (any) result.push_back(std::move(out));
    return result;
  }

  std::vector<StepSeries> result;
  result.reserve(st.series.size());
  std::vector<double> window;  // kSamples scratch
  size_t first_error_step = SIZE_MAX;
  Labels first_error;
  for (uint32_t s = 0; s < st.series.size(); ++s) {
    if (IsCancelled(params)) return CancelledStatus(params);
    StepSeries out;
    out.values.assign(steps, 0);
    out.present.assign(steps, 0);
    const size_t base = static_cast<size_t>(s) * st.stride;
    switch (st.kind) {
      case CellKind::kCount: {
        int64_t cnt = 0, sum = 0;
        for (size_t i = 0; i < steps; ++i) {
          cnt += st.count_diff[base + i];
          sum += st.sum_diff[base + i];
          if (cnt <= 0) continue;
          out.present[i] = 1;
          switch (c.op) {
            case RangeOp::kCountOverTime:
              out.values[i] = static_cast<double>(cnt);
              break;
            case RangeOp::kRate:
              out.values[i] = static_cast<double>(cnt) / RangeSeconds(c);
              break;
            case RangeOp::kBytesOverTime:
              out.values[i] = static_cast<double>(sum);
              break;
            case RangeOp::kBytesRate:
              out.values[i] = static_cast<double>(sum) / RangeSeconds(c);
              break;
            default:
              break;
          }
        }
        break;
      }
      case CellKind::kSamples: {
        auto& smp = st.samples[s];
        std::sort(smp.begin(), smp.end(),
                  [](const AccumulatorState::TimedValue& x, const AccumulatorState::TimedValue& y) {
                    if (x.ts != y.ts) return x.ts < y.ts;
                    // Equal times: a fixed order whatever the feeding order was.
                    if (std::isnan(x.value)) return !std::isnan(y.value);
                    return x.value < y.value;
                  });
        size_t lo = 0, hi = 0;
        for (size_t i = 0; i < steps; ++i) {
          const Wide end = Wide{c.grid.At(i)} - c.offset_nanos;
          const Wide begin = end - c.range_nanos;
          while (hi < smp.size() && smp[hi].ts <= end) ++hi;
          while (lo < hi && smp[lo].ts <= begin) ++lo;
          if (lo >= hi) continue;
          out.present[i] = 1;
          std::span<const AccumulatorState::TimedValue> w(smp.data() + lo, hi - lo);
          if (c.op == RangeOp::kRateCounter) {
            out.values[i] = CounterRate(w, begin, end, c.range_nanos);
          } else {
            window.clear();
            for (const auto& p : w) window.push_back(p.value);
            out.values[i] = Quantile(c.param, window);
          }
        }
        break;
      }
      default:
        for (size_t i = 0; i < steps; ++i) {
          const uint32_t cnt = st.n[base + i];
          if (cnt == 0) continue;
          out.present[i] = 1;
          const double av = st.a[base + i];
          double v = av;
          switch (c.op) {
            case RangeOp::kRate:
              v = av / RangeSeconds(c);
              break;
            case RangeOp::kAvgOverTime:
              v = av / static_cast<double>(cnt);
              break;
            case RangeOp::kStdvarOverTime:
              v = st.b[base + i] / static_cast<double>(cnt);
              break;
            case RangeOp::kStddevOverTime:
              v = std::sqrt(st.b[base + i] / static_cast<double>(cnt));
              break;
            default:
              break;
          }
          out.values[i] = v;
        }
        break;
    }
    out.labels = Labels(st.series[s].labels);
    size_t first = 0;
    while (first < steps && !out.present[first]) ++first;
    if (first == steps) continue;
    if (st.series[s].error) {
      // Loki fails at the first step that holds an error sample; among several such
      // series we name the first in label order.
      if (first < first_error_step ||
          (first == first_error_step && CompareLabels(out.labels, first_error) < 0)) {
        first_error_step = first;
        first_error = out.labels;
      }
      continue;
    }
    result.push_back(std::move(out));
  }
  if (first_error_step != SIZE_MAX) {
    return Status::InvalidArgument(PipelineErrorMessage(first_error));
  }
  std::sort(result.begin(), result.end(), [](const StepSeries& x, const StepSeries& y) {
    return CompareLabels(x.labels, y.labels) < 0;
  });
  return result;
}

int CompareLabels(const Labels& a, const Labels& b) {
  const auto& x = a.items();
  const auto& y = b.items();
  const size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = x[i].name.compare(y[i].name); c != 0) return c < 0 ? -1 : 1;
    if (int c = x[i].value.compare(y[i].value); c != 0) return c < 0 ? -1 : 1;
  }
  if (x.size() == y.size()) return 0;
  return x.size() < y.size() ? -1 : 1;
}

std::string SeriesLimitMessage(uint32_t max_series) {
  return "maximum number of series (" + std::to_string(max_series) +
         ") reached for a single query; consider reducing query cardinality by adding more "
         "specific stream selectors, reducing the time range, or aggregating results with "
         "functions like sum(), count() or topk()";
}

std::string PipelineErrorMessage(const Labels& labels) {
  const std::string err(labels.Get(kErrorLabel));
  return "pipeline error: '" + err + "' for series: '" + labels.ToString() +
         "'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"" + err +
         "\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"
         "The label filter can also be specified after unwrap. (e.g | unwrap latency | "
         "__error__=\"\" )\n";
}

Status CancelledStatus(const EvalParams& params) {
  if (params.cancel_code == StatusCode::kCancelled) {
    return Status::Cancelled("the request was cancelled by the client");
  }
  return Status::DeadlineExceeded(
      "request timed out, decrease the duration of the request or add more label matchers "
      "(prefer exact match over regex match) to reduce the amount of data processed");
}

RangeAccumulator AccumulatorAccess::Make(const AccumulatorConfig& cfg) {
  return RangeAccumulator(std::make_unique<AccumulatorState>(cfg));
}

}  // namespace internal

// ---- RangeAccumulator ----

RangeAccumulator::RangeAccumulator(std::unique_ptr<internal::AccumulatorState> state)
    : state_(std::move(state)) {}
RangeAccumulator::~RangeAccumulator() = default;
RangeAccumulator::RangeAccumulator(RangeAccumulator&&) noexcept = default;
RangeAccumulator& RangeAccumulator::operator=(RangeAccumulator&&) noexcept = default;

RangeAccumulator::SeriesRef RangeAccumulator::Series(const EntryLabels& labels) {
  internal::AccumulatorState& st = *state_;
  if (st.absent) {
    if (st.series.empty()) return st.FindOrAdd({}, 0, false);
    return 0;
  }
  const bool error = !st.keep_error && internal::HasLabel(labels.all, internal::kErrorLabel);
  if (error || !st.cfg.grouping) {
    // Loki keeps every label of a sample that carries an error, whatever the grouping,
    // so the pipeline error can name the series.
    return st.FindOrAdd(labels.all, labels.hash, error);
  }
  st.scratch.clear();
  const bool without = st.cfg.grouping->without;
  for (const LabelRef& l : labels.all) {
    const bool listed = std::binary_search(st.group_names.begin(), st.group_names.end(), l.name);
    if (listed != without) st.scratch.push_back(l);
  }
  // Grouped keys hash with our own function: EntryLabels::hash covers `all` only.
  const uint64_t h = internal::HashRefs(st.scratch) ^ 0x5bd1e9955bd1e995ULL;
  return st.FindOrAdd(st.scratch, h, false);
}

void RangeAccumulator::Add(SeriesRef series, int64_t ts_nanos, double value) {
  state_->Add(series, ts_nanos, value);
}

bool RangeAccumulator::Full() const { return state_->overflow; }

int64_t RangeAccumulator::first_exclusive_nanos() const { return state_->first_exclusive; }
const std::optional<Grouping>& RangeAccumulator::grouping() const { return state_->cfg.grouping; }
int64_t RangeAccumulator::last_inclusive_nanos() const { return state_->last_inclusive; }

RangeAccumulator RangeAccumulator::Fork() const {
  return RangeAccumulator(std::make_unique<internal::AccumulatorState>(state_->cfg));
}

void RangeAccumulator::Merge(RangeAccumulator&& fork) {
  if (!fork.state_) return;
  state_->MergeFrom(std::move(*fork.state_));
  fork.state_.reset();
}

}  // namespace skald::logql
