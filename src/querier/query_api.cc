// Query policy in front of the querier (see query_api.h).
#include "querier/query_api.h"

#include <algorithm>
#include <limits>

#include "core/time.h"
#include "core/tracing.h"
#include "logql/ast.h"
#include "logql/evaluator.h"
#include "logql/parser.h"
#include "querier/step_policy.h"

namespace skald::querier {

namespace {

// The querier's ranges are [start, end) and it asks the index for the inclusive
// [start, end - 1]: an end of INT64_MIN (an empty range anyway) must not wrap.
int64_t ExclusiveEnd(int64_t end) { return std::max(end, std::numeric_limits<int64_t>::min() + 1); }

// The monotonic-clock deadline of a query started now (query_timeout; 0 = none).
int64_t Deadline(int64_t timeout_ns) {
  return timeout_ns > 0 ? SaturatingAdd(MonotonicNanos(), timeout_ns)
                        : std::numeric_limits<int64_t>::max();
}

}  // namespace

bool QueryApi::ClampToLookback(std::string_view tenant, int64_t* start, int64_t end) const {
  const int64_t lookback = limits_->For(tenant)->max_query_lookback_ns;
  if (lookback <= 0) return true;
  const int64_t floor = SaturatingSub(NowNanos(), lookback);
  if (end < floor) return false;
  *start = std::max(*start, floor);
  return true;
}

Status QueryApi::CheckQueryLength(std::string_view tenant, int64_t start, int64_t end) const {
  const std::shared_ptr<const limits::Limits> lim_handle = limits_->For(tenant);
  const limits::Limits& lim = *lim_handle;
  // Loki compares time.Time.Sub (saturating) against the limit, printing the
  // length as a Go duration and the limit as a Prometheus one.
  const int64_t length = SaturatingSub(end, start);
  if (lim.max_query_length_ns > 0 && length > lim.max_query_length_ns) {
    return Status::InvalidArgument(
        "the query time range exceeds the limit (query length: " + FormatGoDuration(length) +
        ", limit: " + FormatPromDuration(lim.max_query_length_ns) + ")");
  }
  return Status::OK();
}

StatusOr<LogsResult> QueryApi::Range(std::string_view tenant, const RangeQuery& q) {
  const std::shared_ptr<const limits::Limits> lim_handle = limits_->For(tenant);
  const limits::Limits& lim = *lim_handle;
  trace::Span parse_span("logql.parse");
  SKALD_ASSIGN_OR_RETURN(auto expr, logql::ParseExpr(q.query));
  parse_span.End();
  if (lim.max_entries_limit_per_query > 0 &&
      q.limit > static_cast<uint32_t>(lim.max_entries_limit_per_query) &&
      logql::IsLogQuery(*expr)) {
    return Status::InvalidArgument(
        "max entries limit per query exceeded, limit > max_entries_limit_per_query (" +
        std::to_string(q.limit) + " > " + std::to_string(lim.max_entries_limit_per_query) + ")");
  }
  const logql::LogSelector* sel = logql::AsLogSelector(*expr);
  // max_query_lookback before the length check, as Loki's frontend: a range wholly before it
  // answers an empty result.
  int64_t start = q.start_ns;
  if (!ClampToLookback(tenant, &start, q.end_ns)) {
    QueryResult empty;
    empty.is_metric = sel == nullptr;
    empty.value.type = logql::QueryValue::Type::kMatrix;
    return empty;
  }
  SKALD_RETURN_IF_ERROR(CheckQueryLength(tenant, start, q.end_ns));
  if (sel == nullptr) {
    // Loki's frontend aligns metric range queries to the step (log queries keep their
    // exact range).
    const StepGrid grid = AlignMetricRange(start, q.end_ns, q.step_ns);
    return EvaluateMetric(tenant, *expr, grid.start_ns, grid.end_ns, grid.step_ns, q.client_gone,
                          q.shard, q.shard_count);
  }
  QueryResult out;
  QueryControl control;
  control.deadline_mono_nanos = Deadline(lim.query_timeout_ns);
  control.client_gone = q.client_gone;
  control.max_parallelism = lim.max_query_parallelism;
  control.shard = q.shard;
  control.shard_count = q.shard_count;
  trace::Span select_span("querier.select_logs");
  SKALD_ASSIGN_OR_RETURN(out.streams, querier_->SelectLogs(tenant, *sel, start, q.end_ns, q.limit,
                                                           q.forward, &out.stats, &control));
  if (q.interval_ns > 0) ApplyInterval(q.interval_ns, q.forward, &out.streams);
  return out;
}

StatusOr<QueryResult> QueryApi::Instant(std::string_view tenant, const InstantQuery& q) {
  trace::Span parse_span("logql.parse");
  SKALD_ASSIGN_OR_RETURN(auto expr, logql::ParseExpr(q.query));
  parse_span.End();
  if (logql::IsLogQuery(*expr)) {
    return Status::InvalidArgument(
        "log queries are not supported as an instant query type, please change your query to a "
        "range query type");
  }
  int64_t start = q.time_ns;
  if (!ClampToLookback(tenant, &start, q.time_ns)) {  // before max_query_lookback: empty
    QueryResult empty;
    empty.is_metric = true;
    return empty;
  }
  return EvaluateMetric(tenant, *expr, q.time_ns, q.time_ns, 0, q.client_gone);
}

namespace {

// Feeds range aggregations from the querier, counting into the query's stats.
class QuerierSamples final : public logql::SampleSource {
 public:
  QuerierSamples(Querier* querier, std::string_view tenant, QueryStats* stats,
                 QueryControl* control)
      : querier_(querier), tenant_(tenant), stats_(stats), control_(control) {}
  Status Feed(const logql::RangeAggregationExpr& expr, logql::RangeAccumulator* acc) override {
    return querier_->FeedSamples(tenant_, expr, acc, stats_, control_);
  }

 private:
  Querier* querier_;
  std::string_view tenant_;
  QueryStats* stats_;
  QueryControl* control_;
};

}  // namespace

StatusOr<QueryResult> QueryApi::EvaluateMetric(std::string_view tenant, const logql::Expr& expr,
                                               int64_t start, int64_t end, int64_t step,
                                               const std::function<bool()>& client_gone,
                                               uint32_t shard, uint32_t shard_count) {
  const std::shared_ptr<const limits::Limits> lim_handle = limits_->For(tenant);
  const limits::Limits& lim = *lim_handle;
  const int64_t t0 = MonotonicNanos();
  QueryResult out;
  out.is_metric = true;
  logql::EvalParams params;
  params.start_nanos = start;
  params.end_nanos = end;
  params.step_nanos = step;
  params.max_series = lim.max_query_series > 0 ? static_cast<uint32_t>(lim.max_query_series)
                                               : std::numeric_limits<uint32_t>::max();
  // query_timeout and a client that went away: the feed polls both per block and raises
  // `cancelled`, which the evaluator polls between steps; the query stops (504 or 499),
  // not just answers late.
  QueryControl control;
  control.deadline_mono_nanos = Deadline(lim.query_timeout_ns);
  control.client_gone = client_gone;
  control.max_parallelism = lim.max_query_parallelism;
  control.shard = shard;
  control.shard_count = shard_count;
  // max_query_lookback also bounds the entries the range aggregations read.
  if (lim.max_query_lookback_ns > 0) {
    control.min_ts = SaturatingSub(NowNanos(), lim.max_query_lookback_ns);
  }
  params.cancelled = &control.cancelled;
  params.cancel_code = StatusCode::kDeadlineExceeded;
  QuerierSamples source(querier_, tenant, &out.stats, &control);
  trace::Span evaluate_span("logql.evaluate");  // includes the scans that feed it
  auto value = logql::Evaluate(expr, params, &source);
  evaluate_span.End();
  if (!value.ok() && control.cancelled.load()) return control.Why();
  if (!value.ok()) return value.status();
  out.value = *std::move(value);
  out.stats.exec_seconds = static_cast<double>(MonotonicNanos() - t0) / 1e9;
  return out;
}

StatusOr<std::vector<std::string>> QueryApi::LabelNames(std::string_view tenant, int64_t start,
                                                        int64_t end, std::string_view selector) {
  if (!ClampToLookback(tenant, &start, end)) return std::vector<std::string>{};
  if (selector.empty()) return querier_->LabelNames(tenant, start, ExclusiveEnd(end));
  // Names of the matching series: Loki answers this from the series, too.
  SKALD_ASSIGN_OR_RETURN(auto matchers, logql::ParseMatchers(selector));
  SKALD_ASSIGN_OR_RETURN(auto series,
                         querier_->Series(tenant, {std::move(matchers)}, start, ExclusiveEnd(end)));
  std::vector<std::string> names;
  for (const auto& l : series) {
    for (const auto& kv : l) names.push_back(kv.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

StatusOr<std::vector<std::string>> QueryApi::LabelValues(std::string_view tenant,
                                                         std::string_view name, int64_t start,
                                                         int64_t end, std::string_view selector) {
  if (!ClampToLookback(tenant, &start, end)) return std::vector<std::string>{};
  std::vector<Matcher> matchers;
  if (!selector.empty()) {
    SKALD_ASSIGN_OR_RETURN(matchers, logql::ParseMatchers(selector));
  }
  return querier_->LabelValues(tenant, name, start, ExclusiveEnd(end), matchers);
}

StatusOr<std::vector<Labels>> QueryApi::Series(std::string_view tenant,
                                               const std::vector<std::string_view>& selectors,
                                               int64_t start, int64_t end) {
  std::vector<std::vector<Matcher>> sets;
  for (std::string_view s : selectors) {
    SKALD_ASSIGN_OR_RETURN(auto m, logql::ParseMatchers(s));
    sets.push_back(std::move(m));
  }
  if (!ClampToLookback(tenant, &start, end)) return std::vector<Labels>{};
  return querier_->Series(tenant, sets, start, ExclusiveEnd(end));
}

void ApplyInterval(int64_t interval_ns, bool forward, std::vector<ResultStream>* streams) {
  struct Ref {
    int64_t ts;
    size_t s, e;
  };
  std::vector<Ref> all;
  for (size_t s = 0; s < streams->size(); s++) {
    for (size_t e = 0; e < (*streams)[s].entries.size(); e++) {
      all.push_back({(*streams)[s].entries[e].ts, s, e});
    }
  }
  std::stable_sort(all.begin(), all.end(), [forward](const Ref& a, const Ref& b) {
    return forward ? a.ts < b.ts : a.ts > b.ts;
  });
  std::vector<std::vector<bool>> keep(streams->size());
  for (size_t s = 0; s < streams->size(); s++) keep[s].assign((*streams)[s].entries.size(), false);
  bool have = false;
  int64_t last = 0;
  for (const Ref& r : all) {
    const bool far_enough = forward ? r.ts >= SaturatingAdd(last, interval_ns)
                                    : r.ts <= SaturatingSub(last, interval_ns);
    if (!have || far_enough) {
      keep[r.s][r.e] = true;
      last = r.ts;
      have = true;
    }
  }
  for (size_t s = 0; s < streams->size(); s++) {
    auto& entries = (*streams)[s].entries;
    size_t out = 0;
    for (size_t e = 0; e < entries.size(); e++) {
      if (!keep[s][e]) continue;
      // Never self-move: a string moved onto itself may come out empty.
      if (out != e) entries[out] = std::move(entries[e]);
      out++;
    }
    entries.resize(out);
  }
  streams->erase(std::remove_if(streams->begin(), streams->end(),
                                [](const ResultStream& s) { return s.entries.empty(); }),
                 streams->end());
}

}  // namespace skald::querier
