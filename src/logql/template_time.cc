// Go time.Time for templates: civil-date arithmetic, Go reference-time layouts
// ("2006-01-02T15:04:05Z07:00", "Jan _2", ".000", "MST", ...) for formatting and parsing,
// and time.ParseDuration. Zones are UTC or fixed offsets; the server's Local zone is UTC.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "logql/template_internal.h"

namespace skald::logql::internal {

void GoTime::SetZone(std::string_view name, int32_t off) {
  offset = off;
  size_t n = std::min(name.size(), sizeof(zone) - 1);
  std::memcpy(zone, name.data(), n);
  zone[n] = 0;
}

namespace {

constexpr const char* kLongMonths[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};

// Days since 1970-01-01 of a proleptic Gregorian date (valid for any int year).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysIn(int m, int64_t y) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil {
  int64_t year;
  int month, day, hour, min, sec, yday, wday;
};

Civil ToCivil(const GoTime& t) {
  const int64_t local = t.sec + t.offset;
  const int64_t days = FloorDiv(local, 86400);
  const int64_t secs = local - days * 86400;
  Civil c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(secs / 3600);
  c.min = static_cast<int>(secs / 60 % 60);
  c.sec = static_cast<int>(secs % 60);
  c.yday = static_cast<int>(days - DaysFromCivil(c.year, 1, 1)) + 1;
  c.wday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  return c;
}

enum Std {
  kNone,
  kLongMonth,
  kMonth,
  kNumMonth,
  kZeroMonth,
  kLongWeekDay,
  kWeekDay,
  kDay,
  kUnderDay,
  kZeroDay,
  kUnderYearDay,
  kZeroYearDay,
  kHour,
  kHour12,
  kZeroHour12,
  kMinute,
  kZeroMinute,
  kSecond,
  kZeroSecond,
  kLongYear,
  kYear,
  kPM,
  kpm,
  kTZ,
  kISO8601TZ,
  kISO8601SecondsTZ,
  kISO8601ShortTZ,
  kISO8601ColonTZ,
  kISO8601ColonSecondsTZ,
  kNumTZ,
  kNumSecondsTz,
  kNumShortTZ,
  kNumColonTZ,
  kNumColonSecondsTZ,
  kFracSecond0,
  kFracSecond9,
};

struct Chunk {
  std::string_view prefix;
  Std std = kNone;
  int frac_digits = 0;
  std::string_view rest;
};

bool StartsLower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }

// Splits the layout at its first reference-time element.
Chunk NextChunk(std::string_view l) {
  auto hit = [&](size_t i, size_t n, Std s) {
    return Chunk{l.substr(0, i), s, 0, l.substr(i + n)};
  };
  for (size_t i = 0; i < l.size(); ++i) {
    std::string_view r = l.substr(i);
    switch (l[i]) {
      case 'J':
        if (r.starts_with("Jan")) {
          if (r.starts_with("January")) return hit(i, 7, kLongMonth);
          if (!StartsLower(r.substr(3))) return hit(i, 3, kMonth);
        }
        break;
      case 'M':
        if (r.starts_with("Mon")) {
          if (r.starts_with("Monday")) return hit(i, 6, kLongWeekDay);
          if (!StartsLower(r.substr(3))) return hit(i, 3, kWeekDay);
        }
        if (r.starts_with("MST")) return hit(i, 3, kTZ);
        break;
      case '0':
        if (r.size() >= 2 && r[1] >= '1' && r[1] <= '6') {
          static const Std k[] = {kZeroMonth,  kZeroDay,    kZeroHour12,
                                  kZeroMinute, kZeroSecond, kYear};
          return hit(i, 2, k[r[1] - '1']);
        }
        if (r.starts_with("002")) return hit(i, 3, kZeroYearDay);
        break;
      case '1':
        if (r.starts_with("15")) return hit(i, 2, kHour);
        return hit(i, 1, kNumMonth);
      case '2':
        if (r.starts_with("2006")) return hit(i, 4, kLongYear);
        return hit(i, 1, kDay);
      case '_':
        if (r.starts_with("_2")) {
          if (r.starts_with("_2006"))
            return Chunk{l.substr(0, i + 1), kLongYear, 0, l.substr(i + 5)};
          return hit(i, 2, kUnderDay);
        }
        if (r.starts_with("__2")) return hit(i, 3, kUnderYearDay);
        break;
      case '3':
        return hit(i, 1, kHour12);
      case '4':
        return hit(i, 1, kMinute);
      case '5':
        return hit(i, 1, kSecond);
      case 'P':
        if (r.starts_with("PM")) return hit(i, 2, kPM);
        break;
      case 'p':
        if (r.starts_with("pm")) return hit(i, 2, kpm);
        break;
      case '-':
        if (r.starts_with("-070000")) return hit(i, 7, kNumSecondsTz);
        if (r.starts_with("-07:00:00")) return hit(i, 9, kNumColonSecondsTZ);
        if (r.starts_with("-0700")) return hit(i, 5, kNumTZ);
        if (r.starts_with("-07:00")) return hit(i, 6, kNumColonTZ);
        if (r.starts_with("-07")) return hit(i, 3, kNumShortTZ);
        break;
      case 'Z':
        if (r.starts_with("Z070000")) return hit(i, 7, kISO8601SecondsTZ);
        if (r.starts_with("Z07:00:00")) return hit(i, 9, kISO8601ColonSecondsTZ);
        if (r.starts_with("Z0700")) return hit(i, 5, kISO8601TZ);
        if (r.starts_with("Z07:00")) return hit(i, 6, kISO8601ColonTZ);
        if (r.starts_with("Z07")) return hit(i, 3, kISO8601ShortTZ);
        break;
      case '.':
      case ',':
        if (r.size() >= 2 && (r[1] == '0' || r[1] == '9')) {
          char ch = r[1];
          size_t j = 1;
          while (j < r.size() && r[j] == ch) ++j;
          if (j >= r.size() || r[j] < '0' || r[j] > '9') {
            Chunk c{l.substr(0, i), ch == '0' ? kFracSecond0 : kFracSecond9,
                    static_cast<int>(j - 1), l.substr(i + j)};
            return c;
          }
        }
        break;
      default:
        break;
    }
  }
  return Chunk{l, kNone, 0, {}};
}

void AppendInt(int64_t v, int width, char pad, std::string* out) {
  if (v < 0) {
    out->push_back('-');
    v = -v;
  }
  char buf[24];
  int n = std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  for (int k = n; k < width; ++k) out->push_back(pad);
  out->append(buf, n);
}

}  // namespace

void AppendTimeFormat(const GoTime& t, std::string_view layout, std::string* out) {
  const Civil c = ToCivil(t);
  while (!layout.empty()) {
    Chunk ch = NextChunk(layout);
    out->append(ch.prefix);
    if (ch.std == kNone) break;
    layout = ch.rest;
    switch (ch.std) {
      case kYear:
        AppendInt(((c.year % 100) + 100) % 100, 2, '0', out);
        break;
      case kLongYear:
        AppendInt(c.year, 4, '0', out);
        break;
      case kMonth:
        out->append(std::string_view(kLongMonths[c.month - 1]).substr(0, 3));
        break;
      case kLongMonth:
        out->append(kLongMonths[c.month - 1]);
        break;
      case kNumMonth:
        AppendInt(c.month, 0, '0', out);
        break;
      case kZeroMonth:
        AppendInt(c.month, 2, '0', out);
        break;
      case kWeekDay:
        out->append(std::string_view(kLongDays[c.wday]).substr(0, 3));
        break;
      case kLongWeekDay:
        out->append(kLongDays[c.wday]);
        break;
      case kDay:
        AppendInt(c.day, 0, '0', out);
        break;
      case kUnderDay:
        AppendInt(c.day, 2, ' ', out);
        break;
      case kZeroDay:
        AppendInt(c.day, 2, '0', out);
        break;
      case kUnderYearDay:
        AppendInt(c.yday, 3, ' ', out);
        break;
      case kZeroYearDay:
        AppendInt(c.yday, 3, '0', out);
        break;
      case kHour:
        AppendInt(c.hour, 2, '0', out);
        break;
      case kHour12:
      case kZeroHour12: {
        int h = c.hour % 12;
        if (h == 0) h = 12;
        AppendInt(h, ch.std == kZeroHour12 ? 2 : 0, '0', out);
        break;
      }
      case kMinute:
        AppendInt(c.min, 0, '0', out);
        break;
      case kZeroMinute:
        AppendInt(c.min, 2, '0', out);
        break;
      case kSecond:
        AppendInt(c.sec, 0, '0', out);
        break;
      case kZeroSecond:
        AppendInt(c.sec, 2, '0', out);
        break;
      case kPM:
        out->append(c.hour >= 12 ? "PM" : "AM");
        break;
      case kpm:
        out->append(c.hour >= 12 ? "pm" : "am");
        break;
      case kISO8601TZ:
      case kISO8601ColonTZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
      case kNumTZ:
      case kNumColonTZ:
      case kNumSecondsTz:
      case kNumShortTZ:
      case kNumColonSecondsTZ: {
        const bool iso = ch.std == kISO8601TZ || ch.std == kISO8601ColonTZ ||
                         ch.std == kISO8601SecondsTZ || ch.std == kISO8601ShortTZ ||
                         ch.std == kISO8601ColonSecondsTZ;
        if (iso && t.offset == 0) {
          out->push_back('Z');
          break;
        }
        int zone = t.offset / 60;
        int absoff = t.offset;
        if (zone < 0) {
          out->push_back('-');
          zone = -zone;
          absoff = -absoff;
        } else {
          out->push_back('+');
        }
        AppendInt(zone / 60, 2, '0', out);
        const bool colon = ch.std == kISO8601ColonTZ || ch.std == kNumColonTZ ||
                           ch.std == kISO8601ColonSecondsTZ || ch.std == kNumColonSecondsTZ;
        if (colon) out->push_back(':');
        if (ch.std != kNumShortTZ && ch.std != kISO8601ShortTZ) AppendInt(zone % 60, 2, '0', out);
        if (ch.std == kISO8601SecondsTZ || ch.std == kNumSecondsTz ||
            ch.std == kNumColonSecondsTZ || ch.std == kISO8601ColonSecondsTZ) {
          if (colon) out->push_back(':');
          AppendInt(absoff % 60, 2, '0', out);
        }
        break;
      }
      case kTZ:
        if (t.zone[0] != 0) {
          out->append(t.zone);
        } else {
          int zone = t.offset / 60;
          if (zone < 0) {
            out->push_back('-');
            zone = -zone;
          } else {
            out->push_back('+');
          }
          AppendInt(zone / 60, 2, '0', out);
          AppendInt(zone % 60, 2, '0', out);
        }
        break;
      case kFracSecond0:
      case kFracSecond9: {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "%09d", t.nsec);
        std::string_view digits(buf, 9);
        if (ch.std == kFracSecond0) {
          out->push_back('.');
          out->append(digits.substr(0, std::min(ch.frac_digits, 9)));
        } else {
          digits = digits.substr(0, std::min(ch.frac_digits, 9));
          while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);
          if (!digits.empty()) {
            out->push_back('.');
            out->append(digits);
          }
        }
        break;
      }
      case kNone:
        break;
    }
  }
}

void AppendTimeString(const GoTime& t, std::string* out) {
  AppendTimeFormat(t, "2006-01-02 15:04:05.999999999 -0700 MST", out);
}

namespace {

bool IsDigit(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Consumes a fractional second ("." or "," then digits; the caller checked the first
// digit) from *value and returns it in nanoseconds (digits past the ninth are ignored).
int TakeFraction(std::string_view* value) {
  size_t n = 1;
  while (IsDigit(*value, n)) ++n;
  int64_t ns = 0;
  for (size_t i = 1; i < n && i <= 9; ++i) ns = ns * 10 + ((*value)[i] - '0');
  for (size_t i = n; i <= 9; ++i) ns *= 10;
  value->remove_prefix(n);
  return static_cast<int>(ns);
}

// Go's getnum: one or two digits (exactly two when fixed).
bool GetNum(std::string_view* v, bool fixed, int* out) {
  if (!IsDigit(*v, 0)) return false;
  if (!IsDigit(*v, 1)) {
    if (fixed) return false;
    *out = (*v)[0] - '0';
    v->remove_prefix(1);
    return true;
  }
  *out = ((*v)[0] - '0') * 10 + ((*v)[1] - '0');
  v->remove_prefix(2);
  return true;
}

bool GetNum3(std::string_view* v, bool fixed, int* out) {
  int n = 0, i = 0;
  for (; i < 3 && IsDigit(*v, i); ++i) n = n * 10 + ((*v)[i] - '0');
  if (i == 0 || (fixed && i != 3)) return false;
  *out = n;
  v->remove_prefix(i);
  return true;
}

bool EqualFoldPrefix(std::string_view v, std::string_view name) {
  if (v.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(v[i])) !=
        std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

int Lookup(std::string_view* v, const char* const* names, int n, size_t len) {
  for (int i = 0; i < n; ++i) {
    std::string_view name = names[i];
    if (len) name = name.substr(0, len);
    if (EqualFoldPrefix(*v, name)) {
      v->remove_prefix(name.size());
      return i;
    }
  }
  return -1;
}

// Go's skip: a space in the layout matches one or more spaces in the value.
bool Skip(std::string_view* v, std::string_view prefix) {
  while (!prefix.empty()) {
    if (prefix[0] == ' ') {
      if (!v->empty() && (*v)[0] != ' ') return false;
      while (!prefix.empty() && prefix[0] == ' ') prefix.remove_prefix(1);
      while (!v->empty() && (*v)[0] == ' ') v->remove_prefix(1);
      continue;
    }
    if (v->empty() || (*v)[0] != prefix[0]) return false;
    prefix.remove_prefix(1);
    v->remove_prefix(1);
  }
  return true;
}

}  // namespace

const Zone::Type& Zone::Lookup(int64_t unix, int64_t* start, int64_t* end) const {
  if (transitions.empty() || unix < transitions[0]) {
    // Before the first transition: the first standard-time type (Go's lookupFirstZone).
    *start = INT64_MIN;
    *end = transitions.empty() ? INT64_MAX : transitions[0];
    for (const Type& t : types) {
      if (!t.dst) return t;
    }
    return types[0];
  }
  size_t i = std::upper_bound(transitions.begin(), transitions.end(), unix) - transitions.begin();
  --i;
  *start = transitions[i];
  // Past the last transition (2037 in "fat" tz files) the last type stays in force.
  *end = i + 1 < transitions.size() ? transitions[i + 1] : INT64_MAX;
  return types[type_index[i]];
}

namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Parses a TZif file (RFC 8536), using the 64-bit block of version 2+ files.
std::unique_ptr<Zone> ParseTZif(const std::string& data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  auto header = [&](size_t at, uint32_t c[6]) {
    if (at + 44 > n || std::memcmp(p + at, "TZif", 4) != 0) return false;
    for (int k = 0; k < 6; ++k) c[k] = Be32(p + at + 20 + 4 * k);
    return true;
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return nullptr;
  size_t at = 44;
  int tsize = 4;
  if (p[4] >= '2') {
    at += size_t{c[3]} * 4 + c[3] + size_t{c[4]} * 6 + c[5] + size_t{c[2]} * 8 + c[1] + c[0];
    if (!header(at, c)) return nullptr;
    at += 44;
    tsize = 8;
  }
  const size_t timecnt = c[3], typecnt = c[4], charcnt = c[5];
  if (typecnt == 0 || typecnt > 256) return nullptr;
  if (at + timecnt * tsize + timecnt + typecnt * 6 + charcnt > n) return nullptr;
  auto zone = std::make_unique<Zone>();
  for (size_t i = 0; i < timecnt; ++i) {
    const unsigned char* q = p + at + i * tsize;
    int64_t v = tsize == 8 ? static_cast<int64_t>((uint64_t{Be32(q)} << 32) | Be32(q + 4))
                           : static_cast<int32_t>(Be32(q));
    zone->transitions.push_back(v);
  }
  at += timecnt * tsize;
  for (size_t i = 0; i < timecnt; ++i) {
    if (p[at + i] >= typecnt) return nullptr;
    zone->type_index.push_back(p[at + i]);
  }
  at += timecnt;
  const size_t abbr_at = at + typecnt * 6;
  for (size_t i = 0; i < typecnt; ++i) {
    const unsigned char* q = p + at + i * 6;
    Zone::Type t;
    t.offset = static_cast<int32_t>(Be32(q));
    t.dst = q[4] != 0;
    size_t ai = q[5];
    if (ai >= charcnt) return nullptr;
    const char* a = reinterpret_cast<const char*>(p + abbr_at + ai);
    t.abbr.assign(a, strnlen(a, charcnt - ai));
    zone->types.push_back(std::move(t));
  }
  return zone;
}

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '/' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' ||
          ch == '+')) {
      return false;
    }
  }
  return true;
}

}  // namespace

const Zone* LoadZone(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Local") return nullptr;
  if (!ValidZoneName(name)) return nullptr;
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::unique_ptr<Zone>, std::less<>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(name);
  if (it != cache->end()) return it->second.get();
  std::unique_ptr<Zone> zone;
  std::ifstream f("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
  if (f) {
    std::ostringstream ss;
    ss << f.rdbuf();
    std::string data = ss.str();
    if (data.size() <= (1 << 20)) zone = ParseTZif(data);
  }
  // Only loaded zones are cached (at most the tz database's few hundred files), so
  // templates naming junk zones cannot grow the cache.
  if (!zone) return nullptr;
  const Zone* result = zone.get();
  cache->emplace(std::string(name), std::move(zone));
  return result;
}

bool ParseTime(std::string_view layout, std::string_view value, GoTime* out, const Zone* zone) {
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, min = 0, sec = 0, nsec = 0;
  bool pm_set = false, am_set = false;
  int zone_offset = -1;
  bool zone_utc = false;
  std::string zone_name;
  while (true) {
    Chunk ch = NextChunk(layout);
    if (!Skip(&value, ch.prefix)) return false;
    if (ch.std == kNone) {
      if (!value.empty()) return false;  // extra text
      break;
    }
    std::string_view std_str =
        layout.substr(ch.prefix.size(), layout.size() - ch.prefix.size() - ch.rest.size());
    layout = ch.rest;
    bool ok = true;
    switch (ch.std) {
      case kYear: {
        if (value.size() < 2) return false;
        int n;
        ok = GetNum(&value, true, &n);
        year = n >= 69 ? 1900 + n : 2000 + n;
        break;
      }
      case kLongYear: {
        if (value.size() < 4 || !IsDigit(value, 0)) return false;
        int64_t y = 0;
        for (int i = 0; i < 4; ++i) {
          if (!IsDigit(value, i)) return false;
          y = y * 10 + (value[i] - '0');
        }
        year = y;
        value.remove_prefix(4);
        break;
      }
      case kMonth: {
        int m = Lookup(&value, kLongMonths, 12, 3);
        ok = m >= 0;
        month = m + 1;
        break;
      }
      case kLongMonth: {
        int m = Lookup(&value, kLongMonths, 12, 0);
        ok = m >= 0;
        month = m + 1;
        break;
      }
      case kNumMonth:
      case kZeroMonth:
        ok = GetNum(&value, ch.std == kZeroMonth, &month) && month >= 1 && month <= 12;
        break;
      case kWeekDay:
        ok = Lookup(&value, kLongDays, 7, 3) >= 0;
        break;
      case kLongWeekDay:
        ok = Lookup(&value, kLongDays, 7, 0) >= 0;
        break;
      case kDay:
      case kUnderDay:
      case kZeroDay:
        if (ch.std == kUnderDay && value.size() > 1 && value[0] == ' ') value.remove_prefix(1);
        ok = GetNum(&value, ch.std == kZeroDay, &day);
        break;
      case kUnderYearDay:
      case kZeroYearDay:
        for (int i = 0; i < 2; ++i) {
          if (ch.std == kUnderYearDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        ok = GetNum3(&value, ch.std == kZeroYearDay, &yday) && yday >= 1 && yday <= 366;
        break;
      case kHour:
        ok = GetNum(&value, false, &hour) && hour < 24;
        break;
      case kHour12:
      case kZeroHour12:
        ok = GetNum(&value, ch.std == kZeroHour12, &hour) && hour <= 12;
        break;
      case kMinute:
      case kZeroMinute:
        ok = GetNum(&value, ch.std == kZeroMinute, &min) && min < 60;
        break;
      case kSecond:
      case kZeroSecond: {
        ok = GetNum(&value, ch.std == kZeroSecond, &sec) && sec < 60;
        if (!ok) break;
        // A fractional second in the value the layout does not mention is accepted.
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && IsDigit(value, 1)) {
          Chunk nx = NextChunk(layout);
          if (nx.std == kFracSecond0 || nx.std == kFracSecond9) break;
          nsec = TakeFraction(&value);
        }
        break;
      }
      case kPM:
      case kpm: {
        if (value.size() < 2) return false;
        std::string_view p = value.substr(0, 2);
        if (ch.std == kPM ? p == "PM" : p == "pm") {
          pm_set = true;
        } else if (ch.std == kPM ? p == "AM" : p == "am") {
          am_set = true;
        } else {
          return false;
        }
        value.remove_prefix(2);
        break;
      }
      case kISO8601TZ:
      case kISO8601ColonTZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
      case kNumTZ:
      case kNumShortTZ:
      case kNumColonTZ:
      case kNumSecondsTz:
      case kNumColonSecondsTZ: {
        const bool iso = std_str[0] == 'Z';
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          zone_utc = true;
          break;
        }
        std::string_view body = std_str.substr(1);  // "07:00", "0700", ...
        if (value.empty() || (value[0] != '+' && value[0] != '-')) return false;
        const int sign = value[0] == '-' ? -1 : 1;
        value.remove_prefix(1);
        int hh = 0, mm = 0, ss = 0;
        auto two = [&](int* dst) {
          if (!IsDigit(value, 0) || !IsDigit(value, 1)) return false;
          *dst = (value[0] - '0') * 10 + (value[1] - '0');
          value.remove_prefix(2);
          return true;
        };
        auto colon = [&]() {
          if (value.empty() || value[0] != ':') return false;
          value.remove_prefix(1);
          return true;
        };
        if (!two(&hh)) return false;
        if (body.size() > 2) {
          if (body[2] == ':' && !colon()) return false;
          if (!two(&mm)) return false;
          if (body.size() > 5 || (body.size() == 6 && body[2] != ':')) {
            if (body[2] == ':' && !colon()) return false;
            if (!two(&ss)) return false;
          }
        }
        if (hh > 24 || mm > 60 || ss > 60) return false;
        zone_offset = sign * (hh * 3600 + mm * 60 + ss);
        break;
      }
      case kTZ: {
        if (value.size() >= 3 && value.substr(0, 3) == "UTC") {
          value.remove_prefix(3);
          zone_utc = true;
          break;
        }
        size_t n = 0;
        while (n < value.size() && value[n] >= 'A' && value[n] <= 'Z') ++n;
        if (n < 3 || n > 5) return false;
        zone_name = std::string(value.substr(0, n));
        value.remove_prefix(n);
        break;
      }
      case kFracSecond0: {
        const size_t ndigit = 1 + ch.frac_digits;
        if (value.size() < ndigit || (value[0] != '.' && value[0] != ',')) return false;
        int64_t ns = 0;
        for (size_t i = 1; i < ndigit; ++i) {
          if (!IsDigit(value, i)) return false;
          if (i <= 9) ns = ns * 10 + (value[i] - '0');
        }
        for (size_t i = ndigit; i <= 9; ++i) ns *= 10;
        nsec = static_cast<int>(ns);
        value.remove_prefix(ndigit);
        break;
      }
      case kFracSecond9: {
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !IsDigit(value, 1)) {
          break;
        }
        nsec = TakeFraction(&value);
        break;
      }
      case kNone:
        break;
    }
    if (!ok) return false;
  }
  if (pm_set && hour < 12) hour += 12;
  if (am_set && hour == 12) hour = 0;
  if (yday >= 0) {
    if (yday > (IsLeap(year) ? 366 : 365)) return false;
    int m = 1, d = yday;
    while (d > DaysIn(m, year)) {
      d -= DaysIn(m, year);
      ++m;
    }
    if ((month >= 0 && month != m) || (day >= 0 && day != d)) return false;
    month = m;
    day = d;
  }
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day < 1 || day > DaysIn(month, year)) return false;
  GoTime t;
  t.sec = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  t.nsec = nsec;
  int64_t ps, pe;
  if (zone_utc) {
    t.SetZone("UTC", 0);
  } else if (zone_offset != -1) {
    t.sec -= zone_offset;
    // The location's own zone when it has this offset then, else an unnamed fixed zone.
    if (zone) {
      const Zone::Type& ty = zone->Lookup(t.sec, &ps, &pe);
      if (ty.offset == zone_offset && (zone_name.empty() || ty.abbr == zone_name)) {
        t.SetZone(ty.abbr, ty.offset);
        *out = t;
        return true;
      }
    }
    if (zone_offset == 0 && !zone && (zone_name.empty() || zone_name == "UTC")) {
      t.SetZone("UTC", 0);
    } else {
      t.SetZone(zone_name, zone_offset);
    }
  } else if (!zone_name.empty()) {
    // An abbreviation the location uses (e.g. "CET" in Europe/Paris) gives its offset.
    bool found = false;
    if (zone) {
      for (const Zone::Type& ty : zone->types) {
        if (ty.abbr == zone_name) {
          const Zone::Type& at_time = zone->Lookup(t.sec - ty.offset, &ps, &pe);
          const Zone::Type& use = at_time.abbr == zone_name ? at_time : ty;
          t.sec -= use.offset;
          t.SetZone(use.abbr, use.offset);
          found = true;
          break;
        }
      }
    } else if (zone_name == "UTC") {
      t.SetZone("UTC", 0);
      found = true;
    }
    if (!found) t.SetZone(zone_name, 0);  // unknown abbreviation: Go records offset 0
  } else if (zone) {
    // time.Date in the location: find the offset in force at that wall-clock time.
    const int64_t wall = t.sec;
    const Zone::Type* ty = &zone->Lookup(wall, &ps, &pe);
    if (ty->offset != 0) {
      const int64_t utc = wall - ty->offset;
      if (utc < ps || utc >= pe) ty = &zone->Lookup(utc, &ps, &pe);
    }
    t.sec = wall - ty->offset;
    const Zone::Type& fin = zone->Lookup(t.sec, &ps, &pe);
    t.SetZone(fin.abbr, fin.offset);
  } else {
    t.SetZone("UTC", 0);
  }
  *out = t;
  return true;
}

bool ParseGoDuration(std::string_view s, int64_t* nanos, std::string* err) {
  // [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
  const std::string_view orig = s;
  auto fail = [&](std::string_view what) {
    std::string q;
    AppendGoQuote(orig, &q);
    *err = "time: " + std::string(what) + q;
    return false;
  };
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *nanos = 0;
    return true;
  }
  if (s.empty()) return fail("invalid duration ");
  long double total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s, 0))) return fail("invalid duration ");
    long double v = 0;
    size_t i = 0;
    bool digits = false;
    while (IsDigit(s, i)) {
      v = v * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (IsDigit(s, i)) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return fail("invalid duration ");
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigit(s, u)) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else if (unit.empty()) {
      return fail("missing unit in duration ");
    } else {
      std::string q;
      AppendGoQuote(unit, &q);
      return fail("unknown unit " + q + " in duration ");
    }
    total += v * mult;
    if (total > 9.223372036854775807e18L) return fail("invalid duration ");
  }
  *nanos = static_cast<int64_t>(neg ? -total : total);
  return true;
}

}  // namespace skald::logql::internal
