// Internal to the evaluator: the state behind RangeAccumulator (evaluator.h) and the
// dense per-step series every metric node evaluates to. Not a public contract; only
// evaluator.cc, range_accumulator.cc and their tests include it.
//
// Cell layouts (series x steps, flat arrays, index series * stride + step):
//  - counting ops (count_over_time, rate / bytes_rate / bytes_over_time without unwrap,
//    absent_over_time): exact int64 difference arrays — a sample adds at its first step
//    and subtracts after its last, so Add() is O(1) whatever range/step is, and forks
//    merge exactly;
//  - sum / avg / min / max / first / last / stdvar / stddev _over_time and rate with
//    unwrap: one cell per step, updated for every step whose window holds the sample;
//  - quantile_over_time and rate_counter: the series' samples themselves (they need the
//    window's values), sorted once when the accumulator is finished.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/labels.h"
#include "core/matcher.h"
#include "core/status.h"
#include "logql/ast.h"
#include "logql/evaluator.h"
#include "logql/pipeline.h"

namespace skald::logql::internal {

// Evaluation times start + i*step for i < n (instant query: n == 1, step == 0).
struct StepGrid {
  int64_t start = 0;
  int64_t step = 0;
  size_t n = 0;
  int64_t At(size_t i) const { return start + static_cast<int64_t>(i) * step; }
};

// One series of an intermediate result: a value per step where `present` is 1.
struct StepSeries {
  Labels labels;
  std::vector<double> values;
  std::vector<uint8_t> present;
};

struct AccumulatorConfig {
  RangeOp op = RangeOp::kCountOverTime;
  StepGrid grid;
  int64_t range_nanos = 0;
  int64_t offset_nanos = 0;
  bool unwrap = false;
  double param = 0;                  // quantile_over_time's φ
  std::optional<Grouping> grouping;  // applied in Series(); may come from an outer sum
  uint32_t max_series = 500;
};

enum class CellKind { kCount, kSum, kMin, kMax, kFirst, kLast, kMoments, kSamples };

struct AccumulatorState {
  explicit AccumulatorState(const AccumulatorConfig& c);

  AccumulatorConfig cfg;
  CellKind kind = CellKind::kCount;
  bool absent = false;                   // absent_over_time: one series for everything
  bool keep_error = false;               // grouping is `by (..., __error__, ...)`
  std::vector<std::string> group_names;  // sorted
  size_t stride = 0;                     // cells per series

  struct SeriesEntry {
    uint64_t hash = 0;
    uint32_t next_same_hash = UINT32_MAX;
    bool error = false;  // carries __error__ the grouping does not keep
    std::vector<Label> labels;
  };
  std::vector<SeriesEntry> series;
  std::unordered_map<uint64_t, uint32_t> by_hash;  // hash -> first series with it
  bool overflow = false;                           // more than max_series series
  std::vector<LabelRef> scratch;                   // grouped labels of the current sample

  // Cells (which arrays are used depends on `kind`).
  std::vector<int64_t> count_diff;  // kCount: entries, difference-encoded
  std::vector<int64_t> sum_diff;    // kCount: value sums (bytes), difference-encoded
  std::vector<uint32_t> n;          // per-cell sample count (not kCount/kSamples)
  std::vector<double> a;            // sum / min / max / value / mean
  std::vector<double> b;            // kMoments: sum of squared deviations
  std::vector<int64_t> ts;          // kFirst / kLast: the kept sample's time
  struct TimedValue {
    int64_t ts;
    double value;
  };
  std::vector<std::vector<TimedValue>> samples;  // kSamples: per series

  int64_t first_exclusive = 0;
  int64_t last_inclusive = 0;

  static constexpr uint32_t kOverflowRef = UINT32_MAX;

  uint32_t FindOrAdd(std::span<const LabelRef> key, uint64_t hash, bool error);
  uint32_t FindOrAddOwned(const std::vector<Label>& labels, uint64_t hash, bool error);
  void AddCells(uint32_t series_ref);
  void Add(uint32_t series_ref, int64_t ts, double value);
  void MergeFrom(AccumulatorState&& other);
};

// Access to RangeAccumulator's private state for the evaluator and tests.
struct AccumulatorAccess {
  static RangeAccumulator Make(const AccumulatorConfig& cfg);
  static AccumulatorState& State(RangeAccumulator& acc) { return *acc.state_; }
};

// Turns a fed accumulator into per-step series values (Loki's range functions), sorted
// by labels. Fails with Loki's pipeline error when a series still carrying `__error__`
// has a value at some step, and with the series-limit error. `selector` gives
// absent_over_time its labels. Polls `cancelled`.
StatusOr<std::vector<StepSeries>> FinishAccumulator(AccumulatorState& st,
                                                    const std::vector<Matcher>& selector,
                                                    const EvalParams& params);

// Loki's (Prometheus') label-set order: pairwise by name then value; a prefix first.
int CompareLabels(const Labels& a, const Labels& b);

// Loki's texts.
std::string SeriesLimitMessage(uint32_t max_series);
std::string PipelineErrorMessage(const Labels& labels);
Status CancelledStatus(const EvalParams& params);
inline bool IsCancelled(const EvalParams& p) {
  return p.cancelled != nullptr && p.cancelled->load(std::memory_order_relaxed);
}

}  // namespace skald::logql::internal
