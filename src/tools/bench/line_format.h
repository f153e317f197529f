// Structured log records for `skald-bench push -line-format`.
//
// The corpus generator (corpus.h) yields plain loghub-derived lines. For
// parser benchmarks (`| json`, `| logfmt`, `unwrap`) a line is wrapped into a
// record of an HTTP-service shape whose fields a query can use:
//
//   level=info host=host-3 method=GET path=/api/v1/users status=200 duration=12.5ms bytes=3381
//   msg="<line>"
//   {"level":"info","host":"host-3","method":"GET","path":"/api/v1/users","status":200,"duration":"12.5ms","bytes":3381,"msg":"<line>"}
//
// `level` comes from the wrapped line when it names one (INFO, WARN, ERROR,
// FATAL, [error], Android's " E " ...), else from a seeded draw; every other
// field is a seeded draw (see RecordGenerator). Output is a pure function of
// (seed, stream, wrapped lines): the same flags always produce the same data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tools/bench/corpus.h"

namespace skald::bench {

// How the lines of one stream are written.
enum class LineFormat : uint8_t { kPlain = 0, kLogfmt = 1, kJson = 2 };
inline constexpr int kLineFormatCount = 3;

// "plain", "logfmt" or "json".
std::string_view LineFormatName(LineFormat f);

// What -line-format asks for: one format for every stream, or kMixed.
enum class LineFormatMode : uint8_t { kPlain, kLogfmt, kJson, kMixed };

// Parses "plain", "logfmt", "json" or "mixed". Errors: InvalidArgument.
StatusOr<LineFormatMode> ParseLineFormatMode(std::string_view s);

// The format of stream s: the mode's own for a single-format mode; for kMixed
// plain, logfmt, json for s % 3 == 0, 1, 2 (so 1/3 of the streams each).
LineFormat StreamLineFormat(LineFormatMode mode, int stream);

// The level a log line names, as a lower-case Loki-style level ("info",
// "warn", "error", "debug"), or "" when it names none. Recognised: the first
// word (alphanumeric run) that is INFO/NOTICE, WARN/WARNING, ERROR/ERR/FATAL/
// SEVERE/CRITICAL/CRIT, DEBUG/TRACE; the bracketed lower-case forms
// "[info]", "[notice]", "[warn]", "[error]", "[debug]"; and Android's lone
// V/D/I/W/E/F letter after two numbers (pid, tid: "1702  2395 E Tag: ...").
// Thread-safe.
std::string_view LevelOfLine(std::string_view line);

// Appends d (microseconds, >= 0) as a Go duration string that Go's
// time.ParseDuration and Loki's duration() accept: "850us", "12ms",
// "12.5ms", "1.234s" (at most 3 decimals, trailing zeros dropped; ASCII "us"
// rather than Go's "µs").
void AppendGoDuration(std::string* out, int64_t micros);

// Appends v as a logfmt value: bare when it is non-empty and has no byte
// <= ' ', '"', '=' or '\\' (and no byte >= 0x7f), else double-quoted with
// \" \\ \n \r \t escaped and other control bytes as \u00XX.
void AppendLogfmtValue(std::string* out, std::string_view v);

// Appends v as a JSON string (quotes included): \" \\ \n \r \t \b \f escaped,
// other control bytes as \u00XX, valid UTF-8 copied, each byte of an invalid
// UTF-8 sequence replaced by U+FFFD so the result is always valid JSON.
void AppendJsonString(std::string* out, std::string_view v);

// Field values of one record.
struct RecordFields {
  std::string_view level;   // "info", "warn", "error", "debug"
  std::string_view method;  // GET, POST, PUT, DELETE, PATCH
  std::string_view path;    // one of kRecordPathCount paths, skewed towards the first ones
  int status = 200;         // ~91% 2xx, ~2% 3xx, ~4% 4xx, ~3% 5xx
  int64_t duration_us = 0;  // log-normal, median ~25 ms, clamped to [50 us, 60 s]
  int64_t bytes = 0;        // log-normal, median ~2 KB, clamped to [0, 50 MB]
};

inline constexpr int kRecordPathCount = 50;

// Draws record fields for the lines of one stream. Not thread-safe; one per
// stream.
class RecordGenerator {
 public:
  // host is the record's host field (push uses the stream's host label value).
  RecordGenerator(uint64_t seed, uint64_t stream, std::string host);

  // Draws the fields of the record that wraps msg (level from msg when it
  // names one, see LevelOfLine).
  RecordFields Draw(std::string_view msg);

  // Replaces *out with msg wrapped as a kLogfmt or kJson record (fields as
  // drawn by Draw); kPlain copies msg. Reuses out's capacity.
  void Format(LineFormat f, std::string_view msg, std::string* out);

  // The record text for given fields (what Format writes after Draw).
  static void Write(LineFormat f, const RecordFields& r, std::string_view host,
                    std::string_view msg, std::string* out);

 private:
  Rng rng_;
  std::string host_;
};

// The lines of one stream in its format: a LineGenerator over the stream's
// corpus source, wrapped by a RecordGenerator unless the format is plain. For
// kPlain the output is exactly LineGenerator's. Not thread-safe.
class StreamLines {
 public:
  StreamLines(const CorpusSource* source, uint64_t seed, uint64_t stream, LineFormat format,
              std::string host);

  void Next(std::string* out);
  LineFormat format() const { return format_; }

 private:
  LineGenerator lines_;
  RecordGenerator records_;
  LineFormat format_;
  std::string msg_;
};

}  // namespace skald::bench
