// Metric query evaluation: range aggregations, vector aggregations, binary operations,
// literals, vector() and label_replace over a step grid (Loki's pkg/logql engine).
//
// The evaluator never reads storage. For each range aggregation in the tree it hands the
// caller's SampleSource a RangeAccumulator for the time range the aggregation needs; the
// source compiles the aggregation's SampleExtractor (pipeline.h), runs matching entries
// through it and pushes the samples into the accumulator in any order (typically from many
// chunks in parallel, through Fork/Merge). The accumulator keeps per-series, per-step
// state only — never the entries and, except for quantile_over_time and rate_counter
// (which need the window's values), never the samples — so a 24 h query at a 1 m step
// costs series x 1440 cells of memory.
//
// Semantics (Loki's docs are the authority; ../shared/reference/loki-compat.md §6.9-6.12):
// evaluation times are start, start+step, ... <= end (instant: the one time `start`); the
// window at t for range r and offset o holds samples with t-o-r < ts <= t-o; a series that
// gains more than max_series distinct label sets fails the query with Loki's series-limit
// error; samples still carrying `__error__` fail the query with Loki's pipeline error
// unless a grouping keeps `__error__`.
//
// Deliberate choices where Loki's code, not its docs, decides (see docs/logql.md,
// "Metric queries"): the series limit applies to every accumulator (after its grouping)
// as well as to the result; `sum by/without (...)` directly over count_over_time, rate,
// bytes_rate, bytes_over_time or sum_over_time groups while accumulating, as Loki's
// extractor does, so the limit sees the grouped series; result series and instant
// vectors are in Prometheus' label order (labels.Compare) unless the query's root is
// sort()/sort_desc().
//
// Thread-safety: Evaluate may run concurrently for different queries; one query's
// accumulators are used as the SampleSource contract below says.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/status.h"
#include "logql/ast.h"
#include "logql/pipeline.h"  // EntryLabels
#include "logql/value.h"

namespace skald::logql {

struct EvalParams {
  int64_t start_nanos = 0;    // first evaluation time (instant: the time)
  int64_t end_nanos = 0;      // last evaluation time is the largest start + i*step <= end
  int64_t step_nanos = 0;     // 0 = instant query
  uint32_t max_series = 500;  // max_query_series; 0 = no limit
  // Polled between units of work; when it becomes true Evaluate returns Cancelled /
  // DeadlineExceeded as the caller set `cancel_code`. May be null.
  const std::atomic<bool>* cancelled = nullptr;
  StatusCode cancel_code = StatusCode::kDeadlineExceeded;
};

namespace internal {
struct AccumulatorState;
struct AccumulatorAccess;
}  // namespace internal

// Per-series, per-step state of one range aggregation (with its grouping applied). Not
// thread-safe: one accumulator per thread; Fork() gives an empty one with the same
// configuration, Merge() folds a fork back in. Merging forks in a fixed order gives the
// same result on every run.
class RangeAccumulator {
 public:
  using SeriesRef = uint32_t;
  ~RangeAccumulator();
  RangeAccumulator(RangeAccumulator&&) noexcept;
  RangeAccumulator& operator=(RangeAccumulator&&) noexcept;

  // The series a sample with these labels belongs to (after the aggregation's by/without,
  // or an enclosing sum's grouping); equal label sets give the same ref. Looks up by
  // labels.hash (when no grouping applies) and verifies equality, so equal `all` sets
  // must hash equal within one query, forks included. Pass samples carrying `__error__`
  // as they are: the accumulator decides whether they fail the query. Allocates only for
  // a new series. Past the series limit it returns a ref that Add() ignores (see Full()).
  SeriesRef Series(const EntryLabels& labels);
  // Adds one sample (value as SampleExtractor yields it). Samples outside
  // (first_exclusive_nanos, last_inclusive_nanos] are ignored. Never allocates, except
  // for quantile_over_time / rate_counter, which keep the samples (amortized growth).
  void Add(SeriesRef series, int64_t ts_nanos, double value);
  // True once more than max_series distinct series were seen: the query will fail with
  // the series-limit error, so a source may stop feeding early.
  bool Full() const;

  // The sample time range the aggregation needs: (first_exclusive, last_inclusive].
  int64_t first_exclusive_nanos() const;
  int64_t last_inclusive_nanos() const;
  // The grouping Series() applies: the aggregation's own `by`/`without`, or the `by` of an
  // outer `sum` pushed down into it. A source passes it to SampleExtractor::Compile, whose
  // label hints then parse only the labels the grouping keeps.
  const std::optional<Grouping>& grouping() const;

  // An empty accumulator with the same configuration, for one parallel task. Call on the
  // feeding thread before handing the fork out.
  RangeAccumulator Fork() const;
  // Folds a fork (fed by a task that has finished) into this one. Counting ops merge
  // exactly; float sums, means and variances merge in the order Merge is called, so merge
  // forks in a fixed order (e.g. by chunk) for reproducible results. The limit applies to
  // the merged series.
  void Merge(RangeAccumulator&& fork);

 private:
  friend struct internal::AccumulatorAccess;
  explicit RangeAccumulator(std::unique_ptr<internal::AccumulatorState> state);
  std::unique_ptr<internal::AccumulatorState> state_;
};

// What the querier implements: feeds the samples of one range aggregation.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Pushes into *acc every sample that expr's SampleExtractor yields from the entries of
  // streams matching `expr.selector->matchers` with first_exclusive < ts <= last_inclusive
  // (the accumulator's range). May Fork() *acc per parallel task and Merge() the forks
  // back (in a fixed order) before returning. Returns pipeline compile errors, storage
  // errors, or the cancellation. The source must not group samples itself (the
  // accumulator applies by/without) and should poll EvalParams::cancelled while feeding;
  // Evaluate checks it again after Feed returns.
  virtual Status Feed(const RangeAggregationExpr& expr, RangeAccumulator* acc) = 0;
};

// Evaluates a metric query (IsLogQuery(expr) must be false). Range queries (step > 0)
// return a matrix; instant queries a vector, or a scalar when the query has no selector
// and no vector() (e.g. `1+1`); a range query of such a scalar is a matrix of one
// label-less series (as Loki answers). Step alignment (Loki's frontend rounds start down
// and end up to step multiples) is the caller's job. Feed is called once per range
// aggregation in the tree, in evaluation order. InvalidArgument with Loki's texts for
// errors only found while evaluating (series limit, pipeline errors); Internal (Loki
// answers them with a 500) for vector-matching errors (many-to-many, multiple matches);
// Cancelled / DeadlineExceeded (per cancel_code) with Loki's 499 / 504 texts
// when `cancelled` becomes true. `source` may be null for queries without a selector.
StatusOr<QueryValue> Evaluate(const Expr& expr, const EvalParams& params, SampleSource* source);

}  // namespace skald::logql
