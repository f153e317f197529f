// Parsing of the values users type, the way the Go programs Skald stands in for parse them:
// integers and floats like Go's strconv, byte sizes like go-humanize (LogQL) and like Skald's
// config, each with the error texts users see from Loki. The LogQL lexer, the HTTP query
// parameters and the config all parse through here. Durations live beside the other time
// forms in core/time.h (ParseGoDuration, ParsePromDuration); UTF-8 in core/utf8.h.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald {

// Why a number did not parse (Go's strconv.ErrSyntax / strconv.ErrRange).
enum class NumError { kNone, kSyntax, kRange };

// Go's error text for a failed strconv call, e.g. ("ParseInt", "abc", kSyntax) ->
// `strconv.ParseInt: parsing "abc": invalid syntax`; kRange says `value out of range`.
std::string GoNumErrorText(std::string_view fn, std::string_view s, NumError e);

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no underscores.
NumError ParseGoInt(std::string_view s, int64_t* out);

// Go's strconv.ParseFloat(s, 64): decimal and hexadecimal (0x...p...) forms, '_' between
// digits, and (case-insensitive) inf, infinity with an optional sign, nan without. On kRange
// *out is ±Inf, as in Go; on kSyntax *out is unchanged.
NumError ParseGoFloat(std::string_view s, double* out);
// The same with Go's error text (`strconv.ParseFloat: parsing "x": invalid syntax`) in *err
// (may be null) on failure. Returns true on success.
bool ParseGoFloat(std::string_view s, double* out, std::string* err);

// go-humanize's ParseBytes for what the LogQL lexer lets through (digits with '.' and ','
// then an optional unit): SI units (k kb m mb ... pb) are powers of 1000, IEC units (ki kib
// ... pib) of 1024, case-insensitive; "b" or nothing is bytes. False when malformed, the unit
// is unknown or the value does not fit in uint64.
bool ParseHumanBytes(std::string_view s, uint64_t* out);

// Skald's config byte sizes: an integer, optional blanks, an optional case-insensitive unit
// where every k/m/g/t/p unit is a power of 1024 ("256KB", "1 mib", "2gigabytes", "64").
// Errors (InvalidArgument, the reason only): `expected a size in bytes (e.g. 262144 or
// "256KB")`, `value out of range`, `unknown size unit "x"`.
StatusOr<int64_t> ParseByteSize(std::string_view s);
// The inverse for printing: the largest unit that divides v exactly ("256KB", "0B", "1000B").
std::string FormatByteSize(int64_t v);

// The non-empty items of a comma-separated list, in order, not trimmed ("a,,b," -> a, b):
// how Loki's HTTP layer reads X-Loki-Response-Encoding-Flags and targetLabels.
std::vector<std::string> SplitCommaList(std::string_view s);

}  // namespace skald
