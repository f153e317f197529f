#include "core/time.h"

#include <chrono>
#include <cstdio>
#include <limits>

#include "core/go_string.h"

namespace skald {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, second;
  int64_t nanos;
};

// Days since 1970-01-01 -> proleptic Gregorian date (Hinnant's civil algorithm).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil ToCivil(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  int64_t frac = ns % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  Civil c{};
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>((sod % 3600) / 60);
  c.second = static_cast<int>(sod % 60);
  c.nanos = frac;
  return c;
}

// Fraction ".123" with trailing zeros trimmed; empty when zero.
std::string TrimmedFraction(int64_t nanos) {
  if (nanos == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(nanos));
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  return s;
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "2024-01-02<sep>03:04:05[.fraction]<zone>" in UTC.
std::string FormatUtc(int64_t ns, char sep, std::string_view zone) {
  const Civil c = ToCivil(ns);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d%c%02d:%02d:%02d",
                static_cast<long long>(c.year), c.month, c.day, sep, c.hour, c.minute, c.second);
  return std::string(buf) + TrimmedFraction(c.nanos) + std::string(zone);
}

}  // namespace

std::string FormatRFC3339Nano(int64_t ns) { return FormatUtc(ns, 'T', "Z"); }

std::string FormatGoTime(int64_t ns) { return FormatUtc(ns, ' ', " +0000 UTC"); }

StatusOr<int64_t> ParseRFC3339(std::string_view s) {
  auto bad = [&]() {
    return Status::InvalidArgument("cannot parse \"" + std::string(s) + "\" as RFC3339 time");
  };
  int64_t year, month, day, hour, minute, second;
  if (!ParseDigits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' ||
      !ParseDigits(s, 5, 2, &month) || s[7] != '-' || !ParseDigits(s, 8, 2, &day) ||
      (s[10] != 'T' && s[10] != 't') || !ParseDigits(s, 11, 2, &hour) || s[13] != ':' ||
      !ParseDigits(s, 14, 2, &minute) || s[16] != ':' || !ParseDigits(s, 17, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return bad();
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    pos++;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      digits++;
      pos++;
    }
    if (digits == 0) return bad();
    for (size_t d = digits; d < 9; d++) nanos *= 10;
  }
  int64_t offset_secs = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    pos++;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  int64_t days = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_secs;
  // Guard the int64 nanosecond range (years ~1678..2262).
  if (secs > std::numeric_limits<int64_t>::max() / kNanosPerSecond - 1 ||
      secs < std::numeric_limits<int64_t>::min() / kNanosPerSecond + 1) {
    return bad();
  }
  return secs * kNanosPerSecond + nanos;
}

StatusOr<int64_t> ParsePromDuration(std::string_view s) {
  // Prometheus' model.ParseDuration, error texts included.
  if (s == "0") return int64_t{0};
  if (s.empty()) return Status::InvalidArgument("empty duration string");
  struct Unit {
    std::string_view name;
    uint64_t mult_ms;
    int pos;  // units must appear in this order, each at most once
  };
  static constexpr Unit kUnits[] = {
      {"y", 365ULL * 24 * 3600 * 1000, 1},
      {"w", 7ULL * 24 * 3600 * 1000, 2},
      {"d", 24ULL * 3600 * 1000, 3},
      {"h", 3600ULL * 1000, 4},
      {"m", 60ULL * 1000, 5},
      {"s", 1000, 6},
      {"ms", 1, 7},
  };
  const std::string_view orig = s;
  auto invalid = [&]() {
    return Status::InvalidArgument("not a valid duration string: " + GoQuote(orig));
  };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  uint64_t dur_ms = 0;
  int last_pos = 0;
  while (!s.empty()) {
    if (!is_digit(s[0])) return invalid();
    size_t i = 0;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < s.size() && is_digit(s[i]); i++) {
      const uint64_t d = static_cast<uint64_t>(s[i] - '0');
      if (v > (UINT64_MAX - d) / 10) overflow = true;
      v = v * 10 + d;
    }
    if (overflow) return invalid();
    s.remove_prefix(i);
    for (i = 0; i < s.size() && !is_digit(s[i]); i++) {
    }
    if (i == 0) return invalid();
    const std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& cand : kUnits) {
      if (cand.name == u) unit = &cand;
    }
    if (unit == nullptr) {
      return Status::InvalidArgument("unknown unit " + GoQuote(u) + " in duration " +
                                     GoQuote(orig));
    }
    if (unit->pos <= last_pos) return invalid();
    last_pos = unit->pos;
    // Prometheus checks overflow of time.Duration in nanoseconds.
    const uint64_t mult_ns = unit->mult_ms * 1000000ULL;
    if (v > (1ULL << 63) / mult_ns) return Status::InvalidArgument("duration out of range");
    dur_ms += v * unit->mult_ms;
    if (dur_ms > static_cast<uint64_t>(INT64_MAX) / 1000000ULL) {
      return Status::InvalidArgument("duration out of range");
    }
  }
  return static_cast<int64_t>(dur_ms * 1000000ULL);
}

StatusOr<int64_t> ParseGoDuration(std::string_view text) {
  // Go's time.ParseDuration, with its integer arithmetic (fractions are truncated to ns).
  auto bad = [&]() {
    return Status::InvalidArgument("time: invalid duration \"" + std::string(text) + "\"");
  };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  uint64_t d = 0;
  constexpr uint64_t kMax = 1ULL << 63;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return bad();
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); i++) {
      if (v > (kMax - 1) / 10) return bad();  // overflow
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return bad();
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      for (i = 0; i < s.size() && is_digit(s[i]); i++) {
        if (overflow) continue;
        if (f > (kMax - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t y = f * 10 + static_cast<uint64_t>(s[i] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = i > 0;
      s.remove_prefix(i);
    }
    if (!pre && !post) return bad();
    for (i = 0; i < s.size() && s[i] != '.' && !is_digit(s[i]); i++) {
    }
    if (i == 0) return bad();  // missing unit
    const std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit;
    if (u == "ns") {
      unit = 1;
    } else if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") {  // us, µs (micro sign), μs
      unit = 1000;
    } else if (u == "ms") {
      unit = 1000000;
    } else if (u == "s") {
      unit = 1000000000ULL;
    } else if (u == "m") {
      unit = 60ULL * 1000000000ULL;
    } else if (u == "h") {
      unit = 3600ULL * 1000000000ULL;
    } else {
      return bad();
    }
    if (v > kMax / unit) return bad();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMax) return bad();
    }
    d += v;
    if (d > kMax) return bad();
  }
  if (neg) return d == kMax ? INT64_MIN : -static_cast<int64_t>(d);
  if (d > kMax - 1) return bad();
  return static_cast<int64_t>(d);
}

std::string FormatGoDuration(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(d + 1)) + 1 : static_cast<uint64_t>(d);
  std::string out;
  auto frac = [](uint64_t v, int prec) {
    // v has `prec` fractional digits; render "int[.frac]" trimming zeros.
    uint64_t p = 1;
    for (int i = 0; i < prec; i++) p *= 10;
    std::string s = std::to_string(v / p);
    uint64_t f = v % p;
    if (f != 0) {
      std::string fs = std::to_string(f);
      fs.insert(0, prec - fs.size(), '0');
      while (!fs.empty() && fs.back() == '0') fs.pop_back();
      s += "." + fs;
    }
    return s;
  };
  if (u < 1000) {
    out = std::to_string(u) + "ns";
  } else if (u < 1000000) {
    out = frac(u, 3) + "\xC2\xB5s";
  } else if (u < 1000000000) {
    out = frac(u, 6) + "ms";
  } else {
    uint64_t hours = u / 3600000000000ULL;
    uint64_t rem = u % 3600000000000ULL;
    uint64_t mins = rem / 60000000000ULL;
    uint64_t secns = rem % 60000000000ULL;
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || mins > 0) out += std::to_string(mins) + "m";
    out += frac(secns, 9) + "s";
  }
  return neg ? "-" + out : out;
}

std::string FormatPromDuration(int64_t nanos) {
  int64_t ms = nanos / kNanosPerMilli;
  if (ms == 0) return "0s";
  std::string out;
  // Prometheus prints a sign, then the magnitude's units.
  if (ms < 0) {
    out = "-";
    ms = -ms;  // |nanos| / 1e6 cannot overflow
  }
  struct Unit {
    const char* name;
    int64_t ms;
    bool exact;  // only used when it divides the whole remainder
  };
  static constexpr Unit kUnits[] = {{"y", 365 * kNanosPerDay / kNanosPerMilli, true},
                                    {"w", 7 * kNanosPerDay / kNanosPerMilli, true},
                                    {"d", kNanosPerDay / kNanosPerMilli, false},
                                    {"h", kNanosPerHour / kNanosPerMilli, false},
                                    {"m", kNanosPerMinute / kNanosPerMilli, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  for (const Unit& u : kUnits) {
    if (u.exact && ms % u.ms != 0) continue;
    int64_t v = ms / u.ms;
    if (v > 0) {
      out += std::to_string(v) + u.name;
      ms -= v * u.ms;
    }
  }
  return out;
}

}  // namespace skald
