// Structured logging in Loki's logfmt shape:
//   level=info ts=2024-01-02T03:04:05.123456789Z caller=app.cc:42 msg="Starting Skald" key=value
// One line per call, written with a single write(2) so concurrent lines never
// interleave; lines logged while handling a request carry its trace_id. Values are quoted
// (Go logfmt rules) only when they need it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace skald::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using KeyValues = std::initializer_list<std::pair<std::string_view, std::string>>;

// Minimum level written (default kInfo). Thread-safe (atomic).
void SetLevel(Level level);
Level GetLevel();
// True when lines at `level` are written; use it to skip building expensive values.
bool Enabled(Level level);
// Parses "debug" / "info" / "warn" / "error" (Loki's -log.level values; "warning"
// is accepted too). Returns false on anything else and leaves *out untouched.
bool ParseLevel(std::string_view text, Level* out);
std::string_view LevelName(Level level);

// Redirects output to fd (default 2 = stderr). The caller keeps ownership of fd.
void SetOutputFd(int fd);

// Writes one line if `level` is enabled. `file`/`line` default to the call site
// (basename of the file is printed as caller=). While the calling thread works for a
// request (core/tracing.h's current span), the line ends with trace_id=<32 hex>.
// Thread-safe.
void Log(Level level, std::string_view msg, KeyValues kv = {}, const char* file = __builtin_FILE(),
         int line = __builtin_LINE());
inline void Debug(std::string_view msg, KeyValues kv = {}, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  Log(Level::kDebug, msg, kv, file, line);
}
inline void Info(std::string_view msg, KeyValues kv = {}, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  Log(Level::kInfo, msg, kv, file, line);
}
inline void Warn(std::string_view msg, KeyValues kv = {}, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  Log(Level::kWarn, msg, kv, file, line);
}
inline void Error(std::string_view msg, KeyValues kv = {}, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  Log(Level::kError, msg, kv, file, line);
}

// Builds one line (with trailing '\n') without writing it; ts is Unix nanoseconds.
// Exposed for tests and for callers that collect lines.
std::string FormatLine(Level level, int64_t ts_nanos, std::string_view caller, std::string_view msg,
                       KeyValues kv = {});
// Appends `value` to *out as a logfmt value: verbatim unless it contains a byte
// <= ' ', '=', '"' or invalid UTF-8, in which case it is double-quoted with
// \\ \" \n \r \t and \u00XX escapes (invalid UTF-8 becomes U+FFFD).
void AppendLogfmtValue(std::string* out, std::string_view value);

}  // namespace skald::log
