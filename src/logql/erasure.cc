// Erasure: see erasure.h.
#include "logql/erasure.h"

#include <utility>

#include "core/time.h"

namespace skald::logql {

Erasure::Erasure(int64_t now, int64_t retention_period_ns, std::vector<RetentionRule> retention,
                 std::vector<DeleteRule> deletes)
    : now_(now),
      retention_period_ns_(retention_period_ns),
      retention_(std::move(retention)),
      deletes_(std::move(deletes)) {}

int64_t Erasure::RetentionPeriodFor(const Labels& labels) const {
  const RetentionRule* best = nullptr;
  for (const RetentionRule& r : retention_) {
    if (!MatchesAll(r.matchers, labels)) continue;
    if (best != nullptr && (best->priority > r.priority ||
                            (best->priority == r.priority && best->period_ns <= r.period_ns))) {
      continue;
    }
    best = &r;
  }
  return best != nullptr ? best->period_ns : retention_period_ns_;
}

Erasure::Stream Erasure::ForStream(const Labels& labels) const {
  Stream s;
  const int64_t period = RetentionPeriodFor(labels);
  if (period > 0) s.keep_from_ = SaturatingSub(now_, period);
  for (const DeleteRule& d : deletes_) {
    if (d.through < d.from || !MatchesAll(d.matchers, labels)) continue;
    Stream::Range r{d.from, d.through, nullptr};
    if (d.pipeline != nullptr) {
      r.pipeline = d.pipeline->ForStream(labels);
      s.needs_lines_ = true;
    }
    s.ranges_.push_back(std::move(r));
  }
  return s;
}

bool Erasure::Stream::Touches(int64_t min_ts, int64_t max_ts) const {
  if (min_ts < keep_from_) return true;
  for (const Range& r : ranges_) {
    if (r.from <= max_ts && r.through >= min_ts) return true;
  }
  return false;
}

bool Erasure::Stream::DeleteTouches(int64_t min_ts, int64_t max_ts) const {
  for (const Range& r : ranges_) {
    if (r.from <= max_ts && r.through >= min_ts) return true;
  }
  return false;
}

bool Erasure::Stream::Covers(int64_t min_ts, int64_t max_ts) const {
  if (max_ts < keep_from_) return true;
  for (const Range& r : ranges_) {
    if (r.pipeline == nullptr && r.from <= min_ts && r.through >= max_ts) return true;
  }
  return false;
}

bool Erasure::Stream::ErasedByTime(int64_t ts) const {
  if (ts < keep_from_) return true;
  for (const Range& r : ranges_) {
    if (r.pipeline == nullptr && ts >= r.from && ts <= r.through) return true;
  }
  return false;
}

bool Erasure::Stream::Erased(int64_t ts, std::string_view line,
                             std::span<const MetadataPair> metadata) {
  if (ts < keep_from_) return true;
  for (Range& r : ranges_) {
    if (ts < r.from || ts > r.through) continue;
    if (r.pipeline == nullptr) return true;
    std::string_view out;
    if (r.pipeline->Process(ts, line, metadata, &out)) return true;
  }
  return false;
}

}  // namespace skald::logql
