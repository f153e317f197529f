// Loki's step policy for range queries (see step_policy.h).
#include "querier/step_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/time.h"

namespace skald::querier {

int64_t DefaultStepNs(int64_t start_ns, int64_t end_ns) {
  const int64_t range = SaturatingSub(end_ns, start_ns);
  // As Go's Duration.Seconds(): whole seconds plus the fraction, so the floor
  // below is exact at 250-second boundaries even for huge ranges.
  const double secs = static_cast<double>(range / kNanosPerSecond) +
                      static_cast<double>(range % kNanosPerSecond) / 1e9;
  const double step = std::max(std::floor(secs / 250), 1.0);
  return static_cast<int64_t>(step) * kNanosPerSecond;
}

Status ValidateStep(int64_t start_ns, int64_t end_ns, int64_t step_ns) {
  if (step_ns <= 0) {
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  // For safety Loki caps the points per series (60s resolution for a week, 1h for a year).
  if (SaturatingSub(end_ns, start_ns) / step_ns > kMaxPointsPerSeries) {
    return Status::InvalidArgument(
        "exceeded maximum resolution of 11,000 points per time series. Try increasing the value "
        "of the step parameter");
  }
  return Status::OK();
}

StepGrid AlignMetricRange(int64_t start_ns, int64_t end_ns, int64_t step_ns) {
  const int64_t step = step_ns / kNanosPerMilli * kNanosPerMilli;
  if (step <= 0) return {start_ns, end_ns, step_ns};
  StepGrid g;
  g.step_ns = step;
  g.start_ns = start_ns - start_ns % step;
  const int64_t mod = end_ns % step;
  g.end_ns = mod == 0 ? end_ns : SaturatingAdd(end_ns, step - mod);
  return g;
}

}  // namespace skald::querier
