// Time helpers: Unix nanoseconds everywhere, plus the text forms Loki uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace skald {

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;
constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;
constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

// Overflow-safe time arithmetic on Unix ns and durations: results clamp to the
// int64 range instead of wrapping, so hostile timestamps (start=-2^62, end=2^62)
// can never turn a huge range into a small or negative one. Use them wherever a
// range, a step count or an offset is computed from request or config values.
//
// a + b, clamped.
constexpr int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b < 0 ? INT64_MIN : INT64_MAX;
  return r;
}
// a - b, clamped: the duration from b to a, like Go's time.Time.Sub.
constexpr int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}
// a * b, clamped.
constexpr int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
  return r;
}

// Wall-clock now in Unix nanoseconds.
int64_t NowNanos();
// Monotonic clock in nanoseconds (for durations and deadlines).
int64_t MonotonicNanos();

// RFC3339 with nanoseconds, UTC, trailing zeros of the fraction trimmed
// (Go's time.RFC3339Nano): 2024-01-02T03:04:05.123Z.
std::string FormatRFC3339Nano(int64_t unix_nanos);
// Go's time.Time.String() form used in Loki's validation messages:
// 2024-01-02 03:04:05.123 +0000 UTC.
std::string FormatGoTime(int64_t unix_nanos);
// Parses RFC3339 / RFC3339Nano (with Z or ±hh:mm offset).
StatusOr<int64_t> ParseRFC3339(std::string_view text);

// Prometheus duration (model.ParseDuration): "0", or [0-9]+ unit groups with units y w d h m
// s ms in decreasing order ("1h30m"), no sign, no fractions. Errors (InvalidArgument) are
// Prometheus' texts: `not a valid duration string: "x"`, `unknown unit "u" in duration "x"`,
// `empty duration string`, `duration out of range`. The one parser of this form (LogQL
// ranges, query parameters, config).
StatusOr<int64_t> ParsePromDuration(std::string_view text);
// Go time.ParseDuration: optional sign, decimal fractions (truncated to whole ns, as Go does),
// units ns us µs μs ms s m h. Error: `time: invalid duration "x"`.
StatusOr<int64_t> ParseGoDuration(std::string_view text);
// Go time.Duration.String(): "1h0m0s", "1.5s", "300ms", "0s".
std::string FormatGoDuration(int64_t nanos);
// Prometheus model.Duration.String(): largest units first, "1h30m", "5m", "1d",
// "250ms"; y and w only when they divide exactly; negative values as "-" and the magnitude.
std::string FormatPromDuration(int64_t nanos);

}  // namespace skald
