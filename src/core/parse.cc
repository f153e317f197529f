// Go-style value parsing (see parse.h).
#include "core/parse.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/ascii.h"
#include "core/go_string.h"

namespace skald {
namespace {

bool IsDecimal(char c) { return c >= '0' && c <= '9'; }
bool IsHexLetter(char c) {
  const char l = AsciiToLower(c);
  return l >= 'a' && l <= 'f';
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Go's strconv underscoreOK: '_' only between digits, or between a base prefix and a digit.
bool UnderscoresOk(std::string_view s) {
  char saw = '^';  // ^ start, 0 digit or prefix, _ underscore, ! anything else
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    const char b = AsciiToLower(s[1]);
    if (b == 'b' || b == 'o' || b == 'x') {
      i = 2;
      saw = '0';
      hex = b == 'x';
    }
  }
  for (; i < s.size(); i++) {
    if (IsDecimal(s[i]) || (hex && IsHexLetter(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// Go's special(): [+-]inf, [+-]infinity, nan (case-insensitive, the whole input).
bool SpecialFloat(std::string_view s, double* out) {
  double sign = 1;
  std::string_view t = s;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    sign = t[0] == '-' ? -1 : 1;
    t.remove_prefix(1);
  } else if (EqualsIgnoreCase(t, "nan")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (EqualsIgnoreCase(t, "inf") || EqualsIgnoreCase(t, "infinity")) {
    *out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  return false;
}

}  // namespace

std::string GoNumErrorText(std::string_view fn, std::string_view s, NumError e) {
  return "strconv." + std::string(fn) + ": parsing " + GoQuote(s) + ": " +
         (e == NumError::kRange ? "value out of range" : "invalid syntax");
}

NumError ParseGoInt(std::string_view s, int64_t* out) {
  if (s.empty()) return NumError::kSyntax;
  std::string_view d = s;
  bool neg = false;
  if (d[0] == '+' || d[0] == '-') {
    neg = d[0] == '-';
    d.remove_prefix(1);
  }
  if (d.empty()) return NumError::kSyntax;
  uint64_t n = 0;
  constexpr uint64_t kMaxU = std::numeric_limits<uint64_t>::max();
  for (char c : d) {
    if (!IsDecimal(c)) return NumError::kSyntax;
    if (n >= kMaxU / 10 + 1) return NumError::kRange;
    const uint64_t n1 = n * 10 + static_cast<uint64_t>(c - '0');
    if (n1 < n * 10) return NumError::kRange;
    n = n1;
  }
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!neg && n >= kCutoff) return NumError::kRange;
  if (neg && n > kCutoff) return NumError::kRange;
  if (neg) {
    *out = n == kCutoff ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(n);
  } else {
    *out = static_cast<int64_t>(n);
  }
  return NumError::kNone;
}

NumError ParseGoFloat(std::string_view s, double* out) {
  if (SpecialFloat(s, out)) return NumError::kNone;
  // Check the syntax the way Go's readFloat does, building what strtod reads (no '_').
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean.push_back(s[i++]);
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    hex = true;
    clean.append("0x");
    i += 2;
  }
  bool underscores = false, saw_digits = false, saw_dot = false, saw_exp = false;
  for (; i < s.size(); i++) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
      clean.push_back(c);
      continue;
    }
    if (IsDecimal(c) || (hex && IsHexLetter(c))) {
      saw_digits = true;
      clean.push_back(c);
      continue;
    }
    break;
  }
  if (!saw_digits) return NumError::kSyntax;
  if (i < s.size()) {
    const char e = AsciiToLower(s[i]);
    if ((!hex && e == 'e') || (hex && e == 'p')) {
      clean.push_back(e);
      i++;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean.push_back(s[i++]);
      bool exp_digits = false;
      for (; i < s.size(); i++) {
        if (s[i] == '_') {
          underscores = true;
          continue;
        }
        if (!IsDecimal(s[i])) break;
        exp_digits = true;
        clean.push_back(s[i]);
      }
      if (!exp_digits) return NumError::kSyntax;
      saw_exp = true;
    }
  }
  if (i != s.size()) return NumError::kSyntax;
  if (hex && !saw_exp) return NumError::kSyntax;  // Go: a hex mantissa needs a 'p' exponent
  if (underscores && !UnderscoresOk(s)) return NumError::kSyntax;
  // strtod rounds correctly (as Go does), reads hex floats, and gives ±Inf on overflow and
  // the nearest (possibly subnormal) value or zero on underflow, which Go accepts.
  const double v = std::strtod(clean.c_str(), nullptr);
  *out = v;
  return std::isinf(v) ? NumError::kRange : NumError::kNone;
}

bool ParseGoFloat(std::string_view s, double* out, std::string* err) {
  const NumError e = ParseGoFloat(s, out);
  if (e == NumError::kNone) return true;
  if (err != nullptr) *err = GoNumErrorText("ParseFloat", s, e);
  return false;
}

bool ParseHumanBytes(std::string_view s, uint64_t* out) {
  size_t last_digit = 0;
  while (last_digit < s.size() &&
         (IsDecimal(s[last_digit]) || s[last_digit] == '.' || s[last_digit] == ',')) {
    last_digit++;
  }
  std::string num;
  for (char c : s.substr(0, last_digit)) {
    if (c != ',') num.push_back(c);
  }
  // big.Rat scanning: digits with at most one '.', at least one digit.
  size_t dots = 0, digits = 0;
  for (char c : num) {
    if (c == '.') {
      dots++;
    } else {
      digits++;
    }
  }
  if (digits == 0 || dots > 1) return false;
  const std::string extra = AsciiLower(s.substr(last_digit));
  struct Unit {
    std::string_view name;
    long double mult;
  };
  static const Unit kUnits[] = {
      {"b", 1.0L},
      {"", 1.0L},
      {"kib", 1024.0L},
      {"ki", 1024.0L},
      {"kb", 1e3L},
      {"k", 1e3L},
      {"mib", 1048576.0L},
      {"mi", 1048576.0L},
      {"mb", 1e6L},
      {"m", 1e6L},
      {"gib", 1073741824.0L},
      {"gi", 1073741824.0L},
      {"gb", 1e9L},
      {"g", 1e9L},
      {"tib", 1099511627776.0L},
      {"ti", 1099511627776.0L},
      {"tb", 1e12L},
      {"t", 1e12L},
      {"pib", 1125899906842624.0L},
      {"pi", 1125899906842624.0L},
      {"pb", 1e15L},
      {"p", 1e15L},
  };
  const Unit* unit = nullptr;
  for (const Unit& u : kUnits) {
    if (u.name == extra) unit = &u;
  }
  if (unit == nullptr) return false;
  const long double v = std::strtold(num.c_str(), nullptr) * unit->mult;
  if (!(v < 18446744073709551616.0L)) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

StatusOr<int64_t> ParseByteSize(std::string_view v) {
  const std::string_view s = TrimBlanks(v);
  size_t i = 0;
  while (i < s.size() && IsDecimal(s[i])) i++;
  if (i == 0) return Status::InvalidArgument("expected a size in bytes (e.g. 262144 or \"256KB\")");
  uint64_t n = 0;
  auto res = std::from_chars(s.data(), s.data() + i, n);
  if (res.ec != std::errc()) return Status::InvalidArgument("value out of range");
  const std::string unit = AsciiLower(TrimBlanks(s.substr(i)));
  struct SizeUnit {
    const char* name;
    int shift;
  };
  static const SizeUnit kUnits[] = {
      {"", 0},     {"b", 0},     {"byte", 0},      {"bytes", 0},      {"k", 10}, {"kb", 10},
      {"kib", 10}, {"kilo", 10}, {"kilobyte", 10}, {"kilobytes", 10}, {"m", 20}, {"mb", 20},
      {"mib", 20}, {"mega", 20}, {"megabyte", 20}, {"megabytes", 20}, {"g", 30}, {"gb", 30},
      {"gib", 30}, {"giga", 30}, {"gigabyte", 30}, {"gigabytes", 30}, {"t", 40}, {"tb", 40},
      {"tib", 40}, {"tera", 40}, {"terabyte", 40}, {"terabytes", 40}, {"p", 50}, {"pb", 50},
      {"pib", 50}, {"peta", 50}, {"petabyte", 50}, {"petabytes", 50},
  };
  for (const auto& u : kUnits) {
    if (unit == u.name) {
      if (u.shift > 0 && n > (uint64_t{std::numeric_limits<int64_t>::max()} >> u.shift)) {
        return Status::InvalidArgument("value out of range");
      }
      const uint64_t bytes = n << u.shift;
      if (bytes > uint64_t{std::numeric_limits<int64_t>::max()}) {
        return Status::InvalidArgument("value out of range");
      }
      return static_cast<int64_t>(bytes);
    }
  }
  return Status::InvalidArgument("unknown size unit \"" + unit + "\"");
}

std::string FormatByteSize(int64_t v) {
  if (v == 0) return "0B";
  static const char* kNames[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  int idx = 0;
  uint64_t n = static_cast<uint64_t>(v < 0 ? -v : v);
  while (idx < 6 && n % 1024 == 0) {
    n /= 1024;
    idx++;
  }
  return (v < 0 ? "-" : "") + std::to_string(n) + kNames[idx];
}

std::vector<std::string> SplitCommaList(std::string_view s) {
  std::vector<std::string> items;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace skald
