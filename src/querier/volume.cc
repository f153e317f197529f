// index/stats and index/volume(_range): see query_api.h. Answered from chunk refs and
// in-memory block metadata (Querier::Volumes); no chunk is opened.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "logql/ast.h"
#include "logql/parser.h"
#include "querier/query_api.h"

namespace skald::querier {
namespace {

// The matchers of a selector without line filters or stages (Loki's text otherwise).
StatusOr<std::vector<Matcher>> MatchersOnly(std::string_view query) {
  SKALD_ASSIGN_OR_RETURN(auto expr, logql::ParseExpr(query));
  const logql::LogSelector* sel = logql::AsLogSelector(*expr);
  if (sel == nullptr || !sel->line_filters.empty() || !sel->stages.empty()) {
    return Status::InvalidArgument("only label matchers are supported");
  }
  return sel->matchers;
}

// a - b for b >= 0, stopping at INT64_MIN.
int64_t SaturatingSub(int64_t a, int64_t b) { return a < INT64_MIN + b ? INT64_MIN : a - b; }

// [start, end] as the querier's [start, end + 1), without overflow.
int64_t PastEnd(int64_t end) { return end == INT64_MAX ? end : end + 1; }

// Bytes of `p` that fall in (lo, hi], its bytes spread evenly over [min_ts, max_ts].
double BytesIn(const ingester::DataPiece& p, int64_t lo, int64_t hi) {
  if (p.max_ts <= lo || p.min_ts > hi) return 0;
  if (p.max_ts == p.min_ts) return static_cast<double>(p.bytes);
  const double span = static_cast<double>(p.max_ts) - static_cast<double>(p.min_ts);
  const double from = std::max(static_cast<double>(p.min_ts), static_cast<double>(lo));
  const double to = std::min(static_cast<double>(p.max_ts), static_cast<double>(hi));
  return to <= from ? 0 : static_cast<double>(p.bytes) * (to - from) / span;
}

}  // namespace

StatusOr<IndexStats> QueryApi::Stats(std::string_view tenant, std::string_view query, int64_t start,
                                     int64_t end) {
  SKALD_ASSIGN_OR_RETURN(auto matchers, MatchersOnly(query));
  IndexStats s;
  if (!ClampToLookback(tenant, &start, end)) return s;  // before max_query_lookback: nothing
  SKALD_ASSIGN_OR_RETURN(auto volumes, querier_->Volumes(tenant, matchers, start, PastEnd(end)));
  for (const auto& v : volumes) {
    s.streams++;
    s.chunks += v.chunks;
    for (const auto& p : v.pieces) {
      s.entries += p.entries;
      s.bytes += p.bytes;
    }
  }
  return s;
}

StatusOr<logql::QueryValue> QueryApi::Volume(std::string_view tenant, const VolumeQuery& q) {
  SKALD_ASSIGN_OR_RETURN(auto matchers, MatchersOnly(q.query));
  // max_query_lookback: data before it is not counted (the buckets stay where asked).
  int64_t from = q.start;
  std::vector<ingester::StreamVolume> volumes;
  if (ClampToLookback(tenant, &from, q.end)) {
    SKALD_ASSIGN_OR_RETURN(volumes, querier_->Volumes(tenant, matchers, from, PastEnd(q.end)));
  }
  std::vector<std::string> names = q.target_labels;
  if (names.empty()) {
    for (const Matcher& m : matchers) names.push_back(m.name());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  // Buckets: one (index/volume) or the step grid.
  std::vector<int64_t> ends;
  if (q.step <= 0) {
    ends.push_back(q.end);
  } else {
    for (int64_t t = q.start; t <= q.end; t += q.step) {
      ends.push_back(t);
      if (t > INT64_MAX - q.step) break;
    }
  }
  // A stream's bytes per bucket, computed once per stream: each piece visits only the
  // buckets (ends[b] - step, ends[b]] it overlaps.
  std::vector<double> stream_bytes(ends.size());
  auto fill = [&](const ingester::StreamVolume& v) {
    std::fill(stream_bytes.begin(), stream_bytes.end(), 0.0);
    if (q.step <= 0) {
      for (const auto& p : v.pieces)
        stream_bytes[0] += BytesIn(p, SaturatingSub(q.start, 1), q.end);
      return;
    }
    for (const auto& p : v.pieces) {
      // First bucket whose end is at or after the piece's start.
      size_t b = 0;
      if (p.min_ts > q.start) {
        const double k = std::ceil((static_cast<double>(p.min_ts) - static_cast<double>(q.start)) /
                                   static_cast<double>(q.step));
        b = static_cast<size_t>(std::min(k, static_cast<double>(ends.size())));
        while (b > 0 && ends[b - 1] >= p.min_ts) b--;
        while (b < ends.size() && ends[b] < p.min_ts) b++;
      }
      for (; b < ends.size(); b++) {
        const int64_t lo = SaturatingSub(ends[b], q.step);
        if (lo >= p.max_ts) break;
        stream_bytes[b] += BytesIn(p, lo, ends[b]);
      }
    }
  };
  struct Group {
    Labels labels;
    std::vector<double> bytes;
    double total = 0;
  };
  std::map<std::string, Group> groups;
  auto add = [&](Labels labels) {
    std::string key = labels.ToString();
    Group& g = groups[key];
    if (g.bytes.empty()) {
      g.labels = std::move(labels);
      g.bytes.assign(ends.size(), 0);
    }
    for (size_t b = 0; b < ends.size(); b++) g.bytes[b] += stream_bytes[b];
  };
  for (const auto& v : volumes) {
    fill(v);
    if (q.by_labels) {
      for (const Label& l : v.labels) {
        if (!q.target_labels.empty() && !std::binary_search(names.begin(), names.end(), l.name)) {
          continue;
        }
        add(Labels({Label{l.name, ""}}));
      }
      continue;
    }
    std::vector<Label> kept;
    for (const Label& l : v.labels) {
      if (std::binary_search(names.begin(), names.end(), l.name)) kept.push_back(l);
    }
    add(Labels(std::move(kept)));
  }
  std::vector<Group*> order;
  for (auto& [key, g] : groups) {
    for (double b : g.bytes) g.total += b;
    if (g.total > 0) order.push_back(&g);
  }
  // Largest first, ties by label string (the map's order, kept by the stable sort).
  std::stable_sort(order.begin(), order.end(),
                   [](const Group* a, const Group* b) { return a->total > b->total; });
  const size_t limit = q.limit == 0 ? 100 : q.limit;
  if (order.size() > limit) order.resize(limit);

  logql::QueryValue out;
  out.type = q.step <= 0 ? logql::QueryValue::Type::kVector : logql::QueryValue::Type::kMatrix;
  for (Group* g : order) {
    if (q.step <= 0) {
      out.vector.push_back({g->labels, {q.end, std::round(g->bytes[0])}});
      continue;
    }
    logql::SeriesValue s;
    s.labels = g->labels;
    for (size_t b = 0; b < ends.size(); b++) {
      const double bytes = std::round(g->bytes[b]);
      if (bytes > 0) s.points.push_back({ends[b], bytes});
    }
    out.matrix.push_back(std::move(s));
  }
  return out;
}

}  // namespace skald::querier
