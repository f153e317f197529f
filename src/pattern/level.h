// The level a pattern is filed under: Loki's pattern ingester reads the entry's
// `detected_level` structured metadata (lower-cased; anything but the eight known levels is
// "unknown"). Skald's distributor does not add that metadata yet, so when it is absent the
// level is detected here the way Loki's distributor would (discover_log_levels): a level
// label of the stream or metadata field (level, severity, lvl, ...), else a level field of a
// JSON (top level only) or logfmt line, else the first level word in the line.
#pragma once

#include <span>
#include <string_view>

#include "core/entry.h"
#include "core/labels.h"

namespace skald::pattern {

// The eight levels Loki keeps a pattern tree for.
inline constexpr std::string_view kLevels[] = {"unknown", "debug", "info",     "warn",
                                               "error",   "fatal", "critical", "trace"};
inline constexpr int kLevelCount = 8;

// Index into kLevels of a level name (ASCII case-insensitive); 0 (unknown) otherwise.
int LevelIndex(std::string_view level);

// Loki's normalizeLogLevel: "WRN" -> "warn", "information" -> "info", ...; other values
// unchanged.
std::string_view NormalizeLogLevel(std::string_view level);

// Loki's detectLevelFromLogLine: the earliest of trace, debug, fatal, critical, error, err,
// warning, warn, info found as a word (case-insensitive); "unknown" when none.
std::string_view DetectLevelFromLine(std::string_view line);

// The level index of an entry of a stream (see above). stream_level: StreamLevel() of the
// stream's labels.
int EntryLevel(std::string_view line, std::span<const MetadataPair> metadata, int stream_level);

// Whether a structured-metadata name can carry the level (detected_level or a level field).
bool IsLevelMetadata(std::string_view name);

// The level index from a stream's labels (Loki's allowed level fields), or -1 when none.
int StreamLevel(const Labels& labels);

}  // namespace skald::pattern
