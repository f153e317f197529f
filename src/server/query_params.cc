// Loki HTTP API parameter parsing (see query_params.h).
#include "server/query_params.h"

#include <charconv>

#include <cmath>
#include <limits>

#include "core/ascii.h"
#include "core/go_string.h"
#include "core/parse.h"
#include "core/time.h"

namespace skald::server {

namespace {

constexpr int64_t kDefaultSinceNs = kNanosPerHour;
constexpr size_t kMaxFormBodyBytes = 10 << 20;  // Go's parsePostForm limit

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Go's strconv.ParseInt(s, 10, 64) / strconv.Atoi (fn names which), error texts included
// (`strconv.<fn>: parsing "<s>": invalid syntax|value out of range`).
StatusOr<int64_t> GoParseInt(std::string_view s, std::string_view fn) {
  int64_t v = 0;
  const NumError e = ParseGoInt(s, &v);
  if (e != NumError::kNone) return Status::InvalidArgument(GoNumErrorText(fn, s, e));
  return v;
}

// Go's strconv.ParseFloat(s, 64) succeeded.
bool GoParseFloat(std::string_view s, double* out) {
  return ParseGoFloat(s, out) == NumError::kNone;
}

// Go's float64 -> int64 conversion on amd64: out-of-range and NaN give MinInt64.
int64_t GoFloatToInt64(double v) {
  if (std::isnan(v) || v >= 9223372036854775808.0 || v < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(v);
}

Status Prefixed(std::string_view param, const Status& s) {
  return Status(s.code(), "could not parse '" + std::string(param) + "' parameter: " + s.message());
}

}  // namespace

// ---------------------------------------------------------------------------
// URL decoding and Params

namespace {

// Decodes %XX escapes (and '+' as a space when asked). An invalid escape is an
// error when strict (Go's url.QueryUnescape), else copied through verbatim.
StatusOr<std::string> Unescape(std::string_view s, bool plus_as_space, bool strict) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2])) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 3;
      continue;
    }
    if (c == '%' && strict)
      return Status::InvalidArgument("invalid URL escape " + GoQuote(s.substr(i, 3)));
    out.push_back(c == '+' && plus_as_space ? ' ' : c);
    i++;
  }
  return out;
}

// Go's ParseForm reads the body of POST, PUT and PATCH requests whose media type is
// application/x-www-form-urlencoded.
bool HasFormBody(const HttpRequest& req) {
  if (req.method != "POST" && req.method != "PUT" && req.method != "PATCH") return false;
  std::string_view ct = req.Header("Content-Type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  while (!ct.empty() && (ct.front() == ' ' || ct.front() == '\t')) ct.remove_prefix(1);
  return EqualsIgnoreCase(ct, "application/x-www-form-urlencoded");
}

}  // namespace

StatusOr<std::string> UrlUnescape(std::string_view s, bool plus_as_space) {
  return Unescape(s, plus_as_space, true);
}

std::string UrlDecode(std::string_view s, bool plus_as_space) {
  return *Unescape(s, plus_as_space, false);
}

Status Params::AddEncoded(std::string_view q) {
  Status err;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.find(';') != std::string_view::npos) {
      err = Status::InvalidArgument("invalid semicolon separator in query");
      continue;
    }
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view k = part.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto key = UrlUnescape(k, true);
    if (!key.ok()) {
      if (err.ok()) err = key.status();
      continue;
    }
    auto value = UrlUnescape(v, true);
    if (!value.ok()) {
      if (err.ok()) err = value.status();
      continue;
    }
    pairs_.emplace_back(std::move(*key), std::move(*value));
  }
  return err;
}

StatusOr<Params> Params::FromRequest(const HttpRequest& req) {
  Params p;
  Status err;
  if (HasFormBody(req)) {
    if (req.body.size() > kMaxFormBodyBytes) {
      return Status::InvalidArgument("http: POST too large");
    }
    err = p.AddEncoded(req.body);
  }
  Status qerr = p.AddEncoded(req.query);
  if (err.ok()) err = qerr;
  if (!err.ok()) return err;
  return p;
}

Params Params::FromRequestIgnoringErrors(const HttpRequest& req) {
  Params p;
  if (HasFormBody(req) && req.body.size() <= kMaxFormBodyBytes) (void)p.AddEncoded(req.body);
  (void)p.AddEncoded(req.query);
  return p;
}

std::string_view Params::Get(std::string_view k) const {
  for (const auto& [key, value] : pairs_) {
    if (key == k) return value;
  }
  return {};
}

std::vector<std::string_view> Params::GetAll(std::string_view k) const {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : pairs_) {
    if (key == k) out.push_back(value);
  }
  return out;
}

bool Params::Has(std::string_view k) const {
  for (const auto& [key, value] : pairs_) {
    if (key == k) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Individual parameters

StatusOr<int64_t> ParseTimeParam(std::string_view v, int64_t default_ns) {
  if (v.empty()) return default_ns;
  if (v.find('.') != std::string_view::npos) {
    double t;
    if (GoParseFloat(v, &t)) {
      // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000)/1000; time.Unix(int64(s),
      // int64(ns*1e9))
      double secs;
      double frac = std::modf(t, &secs);
      frac = std::round(frac * 1000) / 1000;
      int64_t s = GoFloatToInt64(secs);
      int64_t ns = static_cast<int64_t>(frac * 1e9);
      return SaturatingAdd(SaturatingMul(s, kNanosPerSecond), ns);
    }
  }
  auto n = GoParseInt(v, "ParseInt");
  if (!n.ok()) {
    auto ts = ParseRFC3339(v);
    if (ts.ok()) return *ts;
    return n.status();
  }
  if (v.size() <= 10) return SaturatingMul(*n, kNanosPerSecond);
  return *n;
}

StatusOr<int64_t> ParseSecondsOrDuration(std::string_view v) {
  double d;
  if (GoParseFloat(v, &d)) {
    double ts = d * 1e9;
    if (ts > 9223372036854775807.0 || ts < -9223372036854775808.0) {
      return Status::InvalidArgument("cannot parse " + GoQuote(v) +
                                     " to a valid duration. It overflows int64");
    }
    return GoFloatToInt64(ts);
  }
  auto pd = ParsePromDuration(v);
  if (pd.ok()) return *pd;
  return Status::InvalidArgument("cannot parse " + GoQuote(v) + " to a valid duration");
}

StatusOr<uint32_t> ParseLimit(std::string_view v, uint32_t default_limit) {
  int64_t l = default_limit;
  if (!v.empty()) {
    auto n = GoParseInt(v, "Atoi");
    if (!n.ok()) return n.status();
    l = *n;
  }
  if (l <= 0) return Status::InvalidArgument("limit must be a positive value");
  if (l > int64_t{std::numeric_limits<uint32_t>::max()}) {
    return Status::InvalidArgument("limit value " + std::to_string(l) +
                                   " is out of range [0, 4294967295]");
  }
  return static_cast<uint32_t>(l);
}

StatusOr<bool> ParseDirection(std::string_view v, bool default_forward) {
  if (v.empty()) return default_forward;
  if (EqualsIgnoreCase(v, "forward")) return true;
  if (EqualsIgnoreCase(v, "backward")) return false;
  return Status::InvalidArgument("invalid direction '" + std::string(v) + "'");
}

StatusOr<std::pair<int64_t, int64_t>> ParseBounds(std::string_view start_s, std::string_view end_s,
                                                  std::string_view since_s, int64_t now_ns) {
  int64_t since = kDefaultSinceNs;
  if (!since_s.empty()) {
    auto d = ParsePromDuration(since_s);
    if (!d.ok()) {
      return Prefixed("since",
                      Status::InvalidArgument("not a valid duration string: " + GoQuote(since_s)));
    }
    since = *d;
  }
  auto end = ParseTimeParam(end_s, now_ns);
  if (!end.ok()) return Prefixed("end", end.status());
  int64_t end_or_now = *end > now_ns ? now_ns : *end;
  auto start = ParseTimeParam(start_s, SaturatingSub(end_or_now, since));
  if (!start.ok()) return Prefixed("start", start.status());
  return std::make_pair(*start, *end);
}

// ---------------------------------------------------------------------------
// Whole requests

StatusOr<RangeParams> ParseRangeParams(const Params& p, int64_t now_ns) {
  RangeParams r;
  r.query = std::string(p.Get("query"));
  SKALD_ASSIGN_OR_RETURN(auto bounds,
                         ParseBounds(p.Get("start"), p.Get("end"), p.Get("since"), now_ns));
  r.start_ns = bounds.first;
  r.end_ns = bounds.second;
  if (r.end_ns < r.start_ns) {
    return Status::InvalidArgument("end timestamp must not be before or equal to start time");
  }
  SKALD_ASSIGN_OR_RETURN(r.limit, ParseLimit(p.Get("limit")));
  SKALD_ASSIGN_OR_RETURN(r.forward, ParseDirection(p.Get("direction")));
  std::string_view step = p.Get("step");
  if (step.empty()) {
    r.step_ns = DefaultStepNs(r.start_ns, r.end_ns);
  } else {
    SKALD_ASSIGN_OR_RETURN(r.step_ns, ParseSecondsOrDuration(step));
  }
  SKALD_RETURN_IF_ERROR(querier::ValidateStep(r.start_ns, r.end_ns, r.step_ns));
  std::string_view interval = p.Get("interval");
  if (!interval.empty()) {
    SKALD_ASSIGN_OR_RETURN(r.interval_ns, ParseSecondsOrDuration(interval));
  }
  if (r.interval_ns < 0) return Status::InvalidArgument("interval must be >= 0");
  // The query frontend's shard of the streams: `shards=2_of_8`.
  if (std::string_view shards = p.Get("shards"); !shards.empty()) {
    const size_t of = shards.find("_of_");
    uint32_t i = 0, n = 0;
    auto ok = [](std::string_view s, uint32_t* v) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      return ec == std::errc() && end == s.data() + s.size();
    };
    if (of == std::string_view::npos || !ok(shards.substr(0, of), &i) ||
        !ok(shards.substr(of + 4), &n) || n == 0 || i >= n) {
      return Status::InvalidArgument("invalid shard: " + std::string(shards));
    }
    r.shard = i;
    r.shard_count = n;
  }
  return r;
}

StatusOr<InstantParams> ParseInstantParams(const Params& p, int64_t now_ns) {
  InstantParams r;
  r.query = std::string(p.Get("query"));
  SKALD_ASSIGN_OR_RETURN(r.limit, ParseLimit(p.Get("limit")));
  SKALD_ASSIGN_OR_RETURN(r.time_ns, ParseTimeParam(p.Get("time"), now_ns));
  SKALD_ASSIGN_OR_RETURN(r.forward, ParseDirection(p.Get("direction")));
  return r;
}

StatusOr<std::pair<int64_t, int64_t>> ParseMetadataRange(const Params& p, int64_t now_ns) {
  return ParseBounds(p.Get("start"), p.Get("end"), p.Get("since"), now_ns);
}

}  // namespace skald::server
