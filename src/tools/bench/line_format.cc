// Structured record generation for skald-bench (see line_format.h).
#include "tools/bench/line_format.h"

#include <algorithm>
#include <cmath>

#include "core/utf8.h"

namespace skald::bench {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct LevelWord {
  std::string_view word;
  std::string_view level;
};

// Upper-case level words (whole alphanumeric runs).
constexpr LevelWord kUpperWords[] = {
    {"INFO", "info"},         {"NOTICE", "info"},   {"WARN", "warn"},      {"WARNING", "warn"},
    {"ERROR", "error"},       {"ERR", "error"},     {"FATAL", "critical"}, {"SEVERE", "critical"},
    {"CRITICAL", "critical"}, {"CRIT", "critical"}, {"DEBUG", "debug"},    {"TRACE", "trace"},
};

// Bracketed lower-case forms (Apache error log).
constexpr LevelWord kBracketWords[] = {
    {"[info]", "info"},   {"[notice]", "info"},   {"[warn]", "warn"},   {"[warning]", "warn"},
    {"[error]", "error"}, {"[crit]", "critical"}, {"[debug]", "debug"},
};

std::string_view AndroidLevel(char c) {
  switch (c) {
    case 'V':
      return "trace";
    case 'D':
      return "debug";
    case 'I':
      return "info";
    case 'W':
      return "warn";
    case 'E':
      return "error";
    case 'F':
      return "critical";
    default:
      return {};
  }
}

// True when s[..i) ends with "<digits> <digits> " (runs of spaces allowed): the
// pid and tid before the level letter of an Android logcat line.
bool PrecededByTwoNumbers(std::string_view s, size_t i) {
  size_t k = i;
  for (int number = 0; number < 2; ++number) {
    size_t spaces = 0;
    while (k > 0 && s[k - 1] == ' ') {
      --k;
      ++spaces;
    }
    size_t digits = 0;
    while (k > 0 && IsDigit(s[k - 1])) {
      --k;
      ++digits;
    }
    if (spaces == 0 || digits == 0) return false;
  }
  return k == 0 || !IsAlnum(s[k - 1]);
}

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
// Cumulative per-mille weights of kMethods.
constexpr int kMethodCum[] = {700, 900, 950, 980, 1000};

struct StatusWeight {
  int status;
  int cum;  // cumulative per mille
};
constexpr StatusWeight kStatuses[] = {
    {200, 850}, {201, 880}, {204, 910},                           // 2xx 91%
    {301, 915}, {304, 930},                                       // 3xx 2%
    {400, 940}, {401, 945}, {403, 950}, {404, 965},  {429, 970},  // 4xx 4%
    {500, 985}, {502, 990}, {503, 997}, {504, 1000},              // 5xx 3%
};

// Levels drawn for lines that name none: info 80%, debug 8%, warn 8%, error 4%.
std::string_view RandomLevel(uint64_t per_mille) {
  if (per_mille < 800) return "info";
  if (per_mille < 880) return "debug";
  if (per_mille < 960) return "warn";
  return "error";
}

constexpr std::string_view kPaths[kRecordPathCount] = {
    "/api/v1/users",
    "/api/v1/orders",
    "/healthz",
    "/api/v1/products",
    "/api/v1/cart",
    "/login",
    "/api/v1/search",
    "/static/app.js",
    "/api/v1/users/me",
    "/metrics",
    "/api/v1/payments",
    "/api/v1/sessions",
    "/static/app.css",
    "/api/v1/inventory",
    "/api/v1/recommendations",
    "/logout",
    "/api/v1/orders/history",
    "/api/v1/notifications",
    "/api/v2/users",
    "/api/v2/orders",
    "/api/v1/reviews",
    "/api/v1/shipping/quote",
    "/api/v1/coupons",
    "/favicon.ico",
    "/api/v1/categories",
    "/api/v1/wishlist",
    "/api/v1/addresses",
    "/api/v1/checkout",
    "/api/v1/refunds",
    "/api/v1/invoices",
    "/admin/dashboard",
    "/admin/users",
    "/admin/reports",
    "/api/v1/export",
    "/api/v1/import",
    "/api/v1/upload",
    "/api/v1/download",
    "/api/v1/webhooks/stripe",
    "/api/v1/webhooks/github",
    "/api/v1/feature-flags",
    "/api/v1/config",
    "/api/v1/audit",
    "/api/v1/tokens/refresh",
    "/api/v1/password/reset",
    "/api/v1/avatar",
    "/api/v1/stats",
    "/api/v1/subscriptions",
    "/robots.txt",
    "/sitemap.xml",
    "/api/v1/debug/pprof",
};

// Uniform double in (0, 1].
double Unit(Rng* rng) { return (static_cast<double>(rng->Next() >> 11) + 1.0) * 0x1.0p-53; }

void AppendInt(std::string* out, int64_t v) { out->append(std::to_string(v)); }

void AppendUnicodeEscape(std::string* out, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  out->append("\\u00");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

}  // namespace

std::string_view LineFormatName(LineFormat f) {
  switch (f) {
    case LineFormat::kPlain:
      return "plain";
    case LineFormat::kLogfmt:
      return "logfmt";
    case LineFormat::kJson:
      return "json";
  }
  return "plain";
}

StatusOr<LineFormatMode> ParseLineFormatMode(std::string_view s) {
  if (s == "plain") return LineFormatMode::kPlain;
  if (s == "logfmt") return LineFormatMode::kLogfmt;
  if (s == "json") return LineFormatMode::kJson;
  if (s == "mixed") return LineFormatMode::kMixed;
  return Status::InvalidArgument("-line-format must be plain, logfmt, json or mixed, got \"" +
                                 std::string(s) + "\"");
}

LineFormat StreamLineFormat(LineFormatMode mode, int stream) {
  switch (mode) {
    case LineFormatMode::kPlain:
      return LineFormat::kPlain;
    case LineFormatMode::kLogfmt:
      return LineFormat::kLogfmt;
    case LineFormatMode::kJson:
      return LineFormat::kJson;
    case LineFormatMode::kMixed:
      break;
  }
  return static_cast<LineFormat>(((stream % 3) + 3) % 3);
}

std::string_view LevelOfLine(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '[') {
      for (const LevelWord& w : kBracketWords) {
        if (s.substr(i, w.word.size()) == w.word) return w.level;
      }
      ++i;
      continue;
    }
    if (!IsAlnum(c)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsAlnum(s[j])) ++j;
    std::string_view word = s.substr(i, j - i);
    for (const LevelWord& w : kUpperWords) {
      if (word == w.word) return w.level;
    }
    if (word.size() == 1 && j < s.size() && s[j] == ' ' && PrecededByTwoNumbers(s, i)) {
      std::string_view lvl = AndroidLevel(word[0]);
      if (!lvl.empty()) return lvl;
    }
    i = j;
  }
  return {};
}

void AppendGoDuration(std::string* out, int64_t micros) {
  if (micros < 0) micros = 0;
  if (micros < 1000) {
    AppendInt(out, micros);
    out->append("us");
    return;
  }
  // Whole unit plus up to 3 decimals of the next unit, trailing zeros dropped.
  auto fixed = [&](int64_t whole, int64_t frac_thousandths, std::string_view unit) {
    AppendInt(out, whole);
    if (frac_thousandths > 0) {
      char digits[4] = {static_cast<char>('0' + frac_thousandths / 100),
                        static_cast<char>('0' + frac_thousandths / 10 % 10),
                        static_cast<char>('0' + frac_thousandths % 10), 0};
      int n = 3;
      while (n > 0 && digits[n - 1] == '0') --n;
      out->push_back('.');
      out->append(digits, static_cast<size_t>(n));
    }
    out->append(unit);
  };
  if (micros < 1000000) {
    // 100 us resolution below one second: "12.5ms".
    int64_t tenths = (micros + 50) / 100;
    if (tenths >= 10000) {
      fixed(1, 0, "s");
      return;
    }
    fixed(tenths / 10, (tenths % 10) * 100, "ms");
    return;
  }
  int64_t ms = (micros + 500) / 1000;
  fixed(ms / 1000, ms % 1000, "s");
}

void AppendLogfmtValue(std::string* out, std::string_view v) {
  bool bare = !v.empty();
  for (char ch : v) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char ch : v) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          AppendUnicodeEscape(out, c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendJsonString(std::string* out, std::string_view v) {
  out->push_back('"');
  size_t i = 0;
  while (i < v.size()) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      char32_t rune;
      const size_t n = DecodeUtf8Rune(v.substr(i), &rune);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD for the invalid byte
        ++i;
      } else {
        out->append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          AppendUnicodeEscape(out, c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

RecordGenerator::RecordGenerator(uint64_t seed, uint64_t stream, std::string host)
    // A seed distinct from the LineGenerator's (seed, stream), so wrapping a
    // stream does not change the lines it wraps.
    : rng_(MixSeed(seed ^ 0x6a09e667f3bcc909ULL, stream)), host_(std::move(host)) {}

RecordFields RecordGenerator::Draw(std::string_view msg) {
  RecordFields r;
  uint64_t a = rng_.Next();
  uint64_t level_draw = (a & 0xffff) % 1000;
  uint64_t method_draw = ((a >> 16) & 0xffff) % 1000;
  uint64_t status_draw = ((a >> 32) & 0xffff) % 1000;
  r.level = LevelOfLine(msg);
  if (r.level.empty()) r.level = RandomLevel(level_draw);
  for (size_t k = 0; k < std::size(kMethodCum); ++k) {
    if (static_cast<int>(method_draw) < kMethodCum[k]) {
      r.method = kMethods[k];
      break;
    }
  }
  for (const StatusWeight& w : kStatuses) {
    if (static_cast<int>(status_draw) < w.cum) {
      r.status = w.status;
      break;
    }
  }
  // Paths skewed towards the start of the list (index = 50 u^2), so a
  // top-k by path has a clear order.
  double u = Unit(&rng_);
  int p = static_cast<int>(static_cast<double>(kRecordPathCount) * u * u);
  r.path = kPaths[std::min(p, kRecordPathCount - 1)];
  // Two normal draws (Box-Muller) for the log-normal duration and size.
  double rad = std::sqrt(-2.0 * std::log(Unit(&rng_)));
  double ang = 6.283185307179586 * Unit(&rng_);
  double z1 = rad * std::cos(ang), z2 = rad * std::sin(ang);
  double dur = std::exp(std::log(25000.0) + 1.0 * z1);
  r.duration_us = std::clamp<int64_t>(static_cast<int64_t>(dur), 50, 60000000);
  double bytes = std::exp(std::log(2000.0) + 1.2 * z2);
  r.bytes = std::clamp<int64_t>(static_cast<int64_t>(bytes), 0, 50000000);
  return r;
}

void RecordGenerator::Write(LineFormat f, const RecordFields& r, std::string_view host,
                            std::string_view msg, std::string* out) {
  out->clear();
  switch (f) {
    case LineFormat::kPlain:
      out->append(msg);
      return;
    case LineFormat::kLogfmt:
      out->append("level=");
      out->append(r.level);
      out->append(" host=");
      AppendLogfmtValue(out, host);
      out->append(" method=");
      out->append(r.method);
      out->append(" path=");
      AppendLogfmtValue(out, r.path);
      out->append(" status=");
      AppendInt(out, r.status);
      out->append(" duration=");
      AppendGoDuration(out, r.duration_us);
      out->append(" bytes=");
      AppendInt(out, r.bytes);
      out->append(" msg=");
      AppendLogfmtValue(out, msg);
      return;
    case LineFormat::kJson:
      out->append("{\"level\":\"");
      out->append(r.level);
      out->append("\",\"host\":");
      AppendJsonString(out, host);
      out->append(",\"method\":\"");
      out->append(r.method);
      out->append("\",\"path\":");
      AppendJsonString(out, r.path);
      out->append(",\"status\":");
      AppendInt(out, r.status);
      out->append(",\"duration\":\"");
      AppendGoDuration(out, r.duration_us);
      out->append("\",\"bytes\":");
      AppendInt(out, r.bytes);
      out->append(",\"msg\":");
      AppendJsonString(out, msg);
      out->push_back('}');
      return;
  }
}

void RecordGenerator::Format(LineFormat f, std::string_view msg, std::string* out) {
  if (f == LineFormat::kPlain) {
    out->assign(msg);
    return;
  }
  RecordFields r = Draw(msg);
  Write(f, r, host_, msg, out);
}

StreamLines::StreamLines(const CorpusSource* source, uint64_t seed, uint64_t stream,
                         LineFormat format, std::string host)
    : lines_(source, seed, stream), records_(seed, stream, std::move(host)), format_(format) {}

void StreamLines::Next(std::string* out) {
  if (format_ == LineFormat::kPlain) {
    lines_.Next(out);
    return;
  }
  lines_.Next(&msg_);
  records_.Format(format_, msg_, out);
}

}  // namespace skald::bench
