#include "core/time.h"

#include <chrono>
#include <cstdio>
#include <limits>

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

}  // namespace

std::string FormatRFC3339Nano(int64_t ns) {
  Civil c = ToCivil(ns);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return std::string(buf) + TrimmedFraction(c.nanos) + "Z";
}

std::string FormatGoTime(int64_t ns) {
  Civil c = ToCivil(ns);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d %02d:%02d:%02d", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return std::string(buf) + TrimmedFraction(c.nanos) + " +0000 UTC";
}

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
  auto bad = [&]() {
    return Status::InvalidArgument("not a valid duration string: \"" + std::string(s) + "\"");
  };
  if (s.empty()) return bad();
  if (s == "0") return int64_t{0};
  size_t pos = 0;
  __int128 total = 0;
  // Units must appear in decreasing order, each at most once (Prometheus rule).
  int last_rank = 100;
  while (pos < s.size()) {
    size_t start = pos;
    __int128 n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      n = n * 10 + (s[pos] - '0');
      if (n > (__int128)1 << 80) return bad();
      pos++;
    }
    if (pos == start) return bad();
    int64_t unit;
    int rank;
    if (s.substr(pos, 2) == "ms") {
      unit = kNanosPerMilli, rank = 0, pos += 2;
    } else if (pos < s.size()) {
      switch (s[pos]) {
        case 's':
          unit = kNanosPerSecond, rank = 1;
          break;
        case 'm':
          unit = kNanosPerMinute, rank = 2;
          break;
        case 'h':
          unit = kNanosPerHour, rank = 3;
          break;
        case 'd':
          unit = kNanosPerDay, rank = 4;
          break;
        case 'w':
          unit = 7 * kNanosPerDay, rank = 5;
          break;
        case 'y':
          unit = 365 * kNanosPerDay, rank = 6;
          break;
        default:
          return bad();
      }
      pos++;
    } else {
      return bad();
    }
    if (rank >= last_rank) return bad();
    last_rank = rank;
    total += n * unit;
    if (total > std::numeric_limits<int64_t>::max()) return bad();
  }
  return static_cast<int64_t>(total);
}

StatusOr<int64_t> ParseGoDuration(std::string_view s) {
  auto bad = [&]() {
    return Status::InvalidArgument("time: invalid duration \"" + std::string(s) + "\"");
  };
  std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  long double total = 0;
  while (!s.empty()) {
    size_t pos = 0;
    long double v = 0;
    bool digits = false;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      v = v * 10 + (s[pos] - '0');
      pos++;
      digits = true;
    }
    if (pos < s.size() && s[pos] == '.') {
      pos++;
      long double scale = 0.1L;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        v += (s[pos] - '0') * scale;
        scale /= 10;
        pos++;
        digits = true;
      }
    }
    if (!digits) return bad();
    size_t ustart = pos;
    while (pos < s.size() && !(s[pos] >= '0' && s[pos] <= '9') && s[pos] != '.') pos++;
    std::string_view unit = s.substr(ustart, pos - ustart);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else {
      (void)orig;
      return bad();
    }
    total += v * mult;
    if (total > 9.2e18L) return bad();
    s.remove_prefix(pos);
  }
  int64_t r = static_cast<int64_t>(total + 0.5L);
  return neg ? -r : r;
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
  if (nanos < 0) return FormatGoDuration(nanos);
  int64_t ms = nanos / kNanosPerMilli;
  if (ms == 0) return "0s";
  std::string out;
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
