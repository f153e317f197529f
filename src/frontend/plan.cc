#include "frontend/plan.h"

#include <algorithm>

namespace skald::frontend {

namespace {
// The smallest multiple of `m` strictly greater than `t` (floor division for negatives).
int64_t NextMultiple(int64_t t, int64_t m) {
  int64_t q = t / m;
  if (t % m != 0 && t < 0) q--;
  return (q + 1) * m;
}
}  // namespace

std::vector<Interval> SplitMetric(int64_t start, int64_t end, int64_t step, int64_t interval) {
  if (end < start) return {};
  if (interval <= 0 || step <= 0 || interval < step) return {{start, end}};
  std::vector<Interval> out;
  int64_t first = start;
  while (first <= end) {
    const int64_t boundary = NextMultiple(first, interval);
    // The last step before the boundary (and not past end).
    int64_t last = first + ((std::min(end, boundary - 1) - first) / step) * step;
    out.push_back({first, last});
    if (last + step > end) break;
    first = last + step;
  }
  return out;
}

std::vector<Interval> SplitLogs(int64_t start, int64_t end, int64_t interval, bool forward) {
  if (end <= start) return {};
  if (interval <= 0) return {{start, end}};
  std::vector<Interval> out;
  for (int64_t a = start; a < end;) {
    const int64_t b = std::min(end, NextMultiple(a, interval));
    out.push_back({a, b});
    a = b;
  }
  if (!forward) std::reverse(out.begin(), out.end());
  return out;
}

ShardMerge Shardability(const logql::Expr& e) {
  if (e.kind() == logql::ExprKind::kLogSelector) return ShardMerge::kStreams;
  if (e.kind() != logql::ExprKind::kVectorAggregation) return ShardMerge::kNone;
  const auto& v = static_cast<const logql::VectorAggregationExpr&>(e);
  if (v.op != logql::VectorOp::kSum || v.arg == nullptr ||
      v.arg->kind() != logql::ExprKind::kRangeAggregation) {
    return ShardMerge::kNone;
  }
  const auto& r = static_cast<const logql::RangeAggregationExpr&>(*v.arg);
  if (r.grouping.has_value()) return ShardMerge::kNone;
  switch (r.op) {
    case logql::RangeOp::kCountOverTime:
    case logql::RangeOp::kRate:
    case logql::RangeOp::kBytesOverTime:
    case logql::RangeOp::kBytesRate:
    case logql::RangeOp::kSumOverTime:
      return ShardMerge::kSum;
    default:
      return ShardMerge::kNone;
  }
}

}  // namespace skald::frontend
