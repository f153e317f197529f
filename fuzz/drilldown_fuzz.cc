// Fuzzes what Skald reads out of arbitrary log lines for Logs Drilldown and detected_level:
// the distributor's level detection (JSON walk, logfmt scan, word scan) and detected_fields'
// per-entry parse (json else logfmt, JSON paths), type guess and value rewrite.
// Invariants: no crash or overread (ASan), a level is never empty, field names are never
// empty, every field has at least one value, a json parse reports only paths of non-empty names.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/labels.h"
#include "distributor/level_detection.h"
#include "querier/detected_internal.h"

using namespace skald;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  static const distributor::LevelDetector unlimited({"level", "lvl", "severity"}, 0);
  static const distributor::LevelDetector loki(
      {"level", "LEVEL", "Level", "log.level", "severity", "SeverityText", "lvl"}, 2);
  if (unlimited.FromLine(line).empty() || loki.FromLine(line).empty()) std::abort();
  if (distributor::LevelDetector::FromWords(line).empty()) std::abort();

  static querier::internal::EntryParser parser;
  static const Labels stream = *ParseLabels(R"({app="x", level="y"})");
  wire::ResultEntry e;
  e.line = line;
  querier::internal::EntryFields f = parser.Parse(stream, e);
  for (const auto& [name, values] : f.fields) {
    if (name.empty() || values.empty()) std::abort();
    for (const auto& v : values) {
      if (querier::internal::FieldType(v) == nullptr) std::abort();
      (void)querier::internal::ValueForQuery(v);
    }
  }
  for (const auto& [name, path] : f.json_paths) {
    if (path.empty()) std::abort();
  }
  return 0;
}
