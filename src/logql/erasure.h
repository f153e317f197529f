// Erasure: which entries of a tenant are gone — past their retention, or removed by a delete
// request — decided the same way by the querier (which hides them at query time, including
// entries still in ingester memory) and by the compactor (which removes them from storage).
//
// Retention follows Loki's rules: a stream's period is that of the matching `retention_stream`
// rule with the highest priority (on a tie, the shortest period), else `retention_period`;
// 0 keeps data forever. An entry is erased when ts < now - period. (Loki's compactor deletes
// whole chunks whose newest entry is past the period; Skald does the same in storage and
// additionally hides the older entries of a partly expired chunk at query time.)
//
// A delete request erases the entries of matching streams with from <= ts <= through that
// its pipeline keeps (a request without pipeline stages erases every such entry).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "logql/pipeline.h"

namespace skald::logql {

struct RetentionRule {
  std::vector<Matcher> matchers;
  int priority = 0;
  int64_t period_ns = 0;
};

struct DeleteRule {
  std::vector<Matcher> matchers;
  std::shared_ptr<const Pipeline> pipeline;  // null: every entry in range
  int64_t from = 0, through = 0;             // unix ns, inclusive
};

// A tenant's erasure rules at one instant. Immutable, thread-safe.
class Erasure {
 public:
  Erasure() = default;
  Erasure(int64_t now, int64_t retention_period_ns, std::vector<RetentionRule> retention,
          std::vector<DeleteRule> deletes);

  // True when nothing is ever erased (no retention, no delete request).
  bool empty() const { return retention_period_ns_ <= 0 && retention_.empty() && deletes_.empty(); }

  // The retention period that applies to a stream (0 = forever).
  int64_t RetentionPeriodFor(const Labels& labels) const;

  // What is erased of one stream. Not thread-safe (pipelines hold per-stream state).
  class Stream {
   public:
    // Entries with ts < keep_from() are erased (INT64_MIN: no retention).
    int64_t keep_from() const { return keep_from_; }
    bool empty() const { return keep_from_ == INT64_MIN && ranges_.empty(); }
    // True when deciding needs the line or metadata (some range has a pipeline).
    bool needs_lines() const { return needs_lines_; }
    // True when some entry with min_ts <= ts <= max_ts may be erased.
    bool Touches(int64_t min_ts, int64_t max_ts) const;
    // True when a delete range (not retention) overlaps [min_ts, max_ts].
    bool DeleteTouches(int64_t min_ts, int64_t max_ts) const;
    // True when every entry with min_ts <= ts <= max_ts is erased, whatever its line.
    bool Covers(int64_t min_ts, int64_t max_ts) const;
    // True when the entry is erased by time alone (retention, or a range without pipeline).
    bool ErasedByTime(int64_t ts) const;
    // True when the entry is erased.
    bool Erased(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata);

   private:
    friend class Erasure;
    struct Range {
      int64_t from, through;
      std::unique_ptr<StreamPipeline> pipeline;  // null: every entry
    };
    int64_t keep_from_ = INT64_MIN;
    bool needs_lines_ = false;
    std::vector<Range> ranges_;
  };
  Stream ForStream(const Labels& labels) const;

 private:
  int64_t now_ = 0;
  int64_t retention_period_ns_ = 0;
  std::vector<RetentionRule> retention_;
  std::vector<DeleteRule> deletes_;
};

}  // namespace skald::logql
