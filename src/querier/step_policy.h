// Loki's query-resolution (step) policy for range queries: the default step when
// the request has none, the limits on a given step (with Loki's exact error
// texts, which clients show to users), and the step alignment Loki's query
// frontend applies to metric range queries before evaluating them.
//
// Where each rule runs: the HTTP parameter parser (server/query_params.h) calls
// DefaultStepNs and ValidateStep while decoding query_range, in Loki's order;
// the query policy (querier/query_api.h) calls AlignMetricRange for metric
// queries only (log queries keep their exact [start, end)).
//
// Pure functions on int64 nanoseconds; thread-safe; no allocation except for
// error messages.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace skald::querier {

// Loki's maximum number of points per series in a range query.
inline constexpr int64_t kMaxPointsPerSeries = 11000;

// The step Loki uses when `step` is absent: max(floor((end - start) / 250), 1)
// whole seconds, so a range of up to 8m19s gets 1s and an hour gets 14s. The
// range saturates (Go's time.Time.Sub), so any start/end pair is safe.
int64_t DefaultStepNs(int64_t start_ns, int64_t end_ns);

// Loki's checks on a range query's step, in Loki's order (both run for log
// queries too, which carry a step they ignore):
//   step <= 0 -> InvalidArgument `zero or negative query resolution step widths
//     are not accepted. Try a positive integer`;
//   (end - start) / step > 11000 (integer division, range saturating) ->
//     InvalidArgument `exceeded maximum resolution of 11,000 points per time
//     series. Try increasing the value of the step parameter`.
Status ValidateStep(int64_t start_ns, int64_t end_ns, int64_t step_ns);

// A metric range query's evaluation grid after Loki's query frontend: the step
// truncated to whole milliseconds (the frontend carries it in ms), start
// rounded down and end rounded up to multiples of that step counted from the
// Unix epoch. The engine evaluates at start, start + step, ... while <= end, so
// every output timestamp is a step multiple. Rounding follows Go's truncating
// `%` like Loki, so a negative start rounds toward zero.
struct StepGrid {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  friend bool operator==(const StepGrid&, const StepGrid&) = default;
};

// Aligns [start_ns, end_ns] to step_ns as above. A step below 1ms (which Loki's
// frontend would turn into 0) is left as it is and the range unaligned — a
// deliberate choice: Loki has no defined answer there. Rounding saturates at
// the int64 range instead of overflowing. REQUIRES: step_ns > 0 (ValidateStep).
StepGrid AlignMetricRange(int64_t start_ns, int64_t end_ns, int64_t step_ns);

}  // namespace skald::querier
