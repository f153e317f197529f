// detected_level: the log level Loki 3 attaches to every pushed entry as structured metadata
// (limits_config.discover_log_levels, default on), so Grafana can colour and count lines by
// level without a parser in the query.
//
// Where the level comes from, first hit wins (Loki's distributor field detection):
//  1. an entry that already carries `detected_level` keeps it, normalised;
//  2. a stream label named in `log_level_fields` (in that list's order);
//  3. a structured-metadata pair named in `log_level_fields`;
//  4. OTLP `severity_number` metadata, mapped by the OTel severity ranges;
//  5. the line: a JSON object's first string field named in `log_level_fields` (depth-first, down
//     to `log_level_from_json_max_depth` levels), or a logfmt line's key matching the list
//     case-insensitively (earliest list entry wins); when that value is no known level, or the
//     line is neither, the earliest level word standing alone in the line ("error", "warn", ...);
//     "unknown" when there is none.
// Known levels are normalised case-insensitively to trace, debug, info, warn, error, critical,
// fatal (trc, dbg, inf, information, wrn, warning, err accepted); other values from labels or
// metadata are kept as they are.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"

namespace skald::distributor {

inline constexpr std::string_view kDetectedLevel = "detected_level";

class LevelDetector {
 public:
  // fields: the names to look for (Loki's log_level_fields); max_json_depth <= 0: unlimited.
  LevelDetector(std::vector<std::string> fields, int max_json_depth);

  // The normalised form of a level value: a static constant for known levels, else `v` itself.
  static std::string_view Normalize(std::string_view v);

  // Step 2: the value of the first stream label named in the field list; `found` tells whether
  // one was present. The view points into `labels`' storage.
  template <class LabelsT>
  std::string_view FromLabels(const LabelsT& labels, bool* found) const {
    for (const std::string& f : fields_) {
      if (labels.Has(f)) {
        *found = true;
        return labels.Get(f);
      }
    }
    *found = false;
    return {};
  }

  // Steps 3 to 5 for one entry (call when no stream label gave the level). The result is a
  // static constant or a view into `metadata` (a value kept as is); never empty.
  std::string_view FromEntry(std::span<const MetadataPair> metadata, std::string_view line) const;

  // Step 5 alone (exposed for tests and the benchmark).
  std::string_view FromLine(std::string_view line) const;
  // The keyword scan of step 5 alone: the earliest bounded level word, or "unknown".
  static std::string_view FromWords(std::string_view line);

 private:
  std::string_view FromJson(std::string_view line) const;
  std::string_view FromLogfmt(std::string_view line) const;

  std::vector<std::string> fields_;
  int max_json_depth_;
};

}  // namespace skald::distributor
