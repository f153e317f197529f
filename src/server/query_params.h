// Loki HTTP API parameter parsing: form decoding and the start/end/time/since/
// step/interval/limit/direction rules of Loki's pkg/loghttp, with its exact error
// texts (clients show them to users). All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "querier/query_request.h"
#include "querier/step_policy.h"
#include "server/http_server.h"

namespace skald::server {

// Request parameters as Go's http.Request.ParseForm builds r.Form: for POST, PUT
// and PATCH with Content-Type application/x-www-form-urlencoded the body's pairs
// come first, then the URL query string's. Repeated keys are kept in order.
class Params {
 public:
  Params() = default;

  // Errors (InvalidArgument, Go's texts): `invalid URL escape "%zz"`,
  // `invalid semicolon separator in query`.
  static StatusOr<Params> FromRequest(const HttpRequest& req);
  // As Go's r.FormValue, which ignores form-decoding errors: the pairs that do
  // decode (a POST body over 10 MiB is skipped whole). Used where Loki reads
  // FormValue (format_query).
  static Params FromRequestIgnoringErrors(const HttpRequest& req);
  // Parses one application/x-www-form-urlencoded string (a query string) and
  // appends its pairs; on error the valid pairs are still appended (Go does the same).
  Status AddEncoded(std::string_view encoded);
  void Add(std::string key, std::string value) {
    pairs_.emplace_back(std::move(key), std::move(value));
  }
  // Removes every value of k.
  void Erase(std::string_view k) {
    std::erase_if(pairs_, [k](const auto& kv) { return kv.first == k; });
  }

  // First value for k, or "" when absent (Go's url.Values.Get).
  std::string_view Get(std::string_view k) const;
  std::vector<std::string_view> GetAll(std::string_view k) const;
  bool Has(std::string_view k) const;
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Percent-decoding. Invalid %-escapes are copied through verbatim.
std::string UrlDecode(std::string_view s, bool plus_as_space);
// Strict variant: InvalidArgument `invalid URL escape "%zz"` (Go's url.EscapeError text).
StatusOr<std::string> UrlUnescape(std::string_view s, bool plus_as_space);

// Loki's timestamp rule (pkg/loghttp parseTimestamp), result in Unix ns:
//   "" -> default_ns; contains '.' and parses as a float -> seconds with the
//   fraction rounded to milliseconds; int64 with <= 10 characters -> seconds,
//   longer -> nanoseconds; else RFC3339Nano. Errors are Go's strconv.ParseInt
//   text, e.g. `strconv.ParseInt: parsing "abc": invalid syntax`.
StatusOr<int64_t> ParseTimeParam(std::string_view v, int64_t default_ns);

// Float seconds ("15", "0.5", "1e3") or a Prometheus duration ("250ms", "1h30m"),
// in ns. Errors: `cannot parse "x" to a valid duration` (and `... It overflows int64`).
StatusOr<int64_t> ParseSecondsOrDuration(std::string_view v);

// `limit`: "" -> default_limit; non-integer -> Go's strconv.Atoi text; <= 0 ->
// `limit must be a positive value`; > 2^32-1 -> `limit value N is out of range [0, 4294967295]`.
StatusOr<uint32_t> ParseLimit(std::string_view v, uint32_t default_limit = 100);
// `direction`: case-insensitive forward|backward; "" -> default; else `invalid direction 'v'`.
// Returns true for forward.
StatusOr<bool> ParseDirection(std::string_view v, bool default_forward = false);
// Loki's start/end/since resolution (pkg/loghttp determineBounds): since (default
// 1h) then end (default now) then start (default min(end, now) - since). Errors are
// prefixed `could not parse 'since' parameter: `, `... 'end' ...`, `... 'start' ...`.
StatusOr<std::pair<int64_t, int64_t>> ParseBounds(std::string_view start, std::string_view end,
                                                  std::string_view since, int64_t now_ns);
// Loki's default step (querier/step_policy.h, where the step rules live).
using querier::DefaultStepNs;

// The decoded requests are the querier's request types.
using RangeParams = querier::RangeQuery;
using InstantParams = querier::InstantQuery;

// query_range (also index/stats, volume_range): `query`, bounds, then `end timestamp must
// not be before or equal to start time` (end < start), limit, direction, step (absent:
// querier::DefaultStepNs; else float seconds or a duration via ParseSecondsOrDuration;
// then querier::ValidateStep: `zero or negative query resolution step widths are not
// accepted. Try a positive integer`, `exceeded maximum resolution of 11,000 points per
// time series. Try increasing the value of the step parameter`), interval (`interval
// must be >= 0`),
// checked in Loki's order so the first error reported is Loki's. Range lengths
// saturate like Go's time.Time.Sub, so no start/end pair can overflow the checks.
StatusOr<RangeParams> ParseRangeParams(const Params& p, int64_t now_ns);

// /query: `query`, limit, then time (default now, error text unprefixed), then direction.
StatusOr<InstantParams> ParseInstantParams(const Params& p, int64_t now_ns);

// labels / label values / series: start/end/since via ParseBounds (no order check,
// like Loki).
StatusOr<std::pair<int64_t, int64_t>> ParseMetadataRange(const Params& p, int64_t now_ns);

}  // namespace skald::server
