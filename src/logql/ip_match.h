// IP address matching for LogQL's `ip("<pattern>")` line and label filters.
//
// A pattern is one address (`192.0.2.1`, `::1`), an inclusive range (`a-b`) or a CIDR
// prefix (`10.0.0.0/8`, `2001:db8::/32`), IPv4 or IPv6, parsed the way Go's net/netip parses
// them (dotted IPv4 without leading zeros, IPv6 with `::` and an embedded IPv4 tail).
// Loki's semantics, which ContainsMatch follows: the text is scanned for runs of the
// characters an address is written with (hex digits, `.` and `:`); a run that parses as an
// address and falls inside the pattern is a match. IPv4 and IPv6 are different families:
// an IPv4 address never matches an IPv6 pattern and the other way round (ordering within a
// range compares the family first, as netip.Addr.Compare does).
//
// An IpMatcher is immutable and safe to use from many threads; matching allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace skald::logql {

// An IPv4 or IPv6 address: 16 bytes, IPv4 in the last four with bits = 32.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  int bits = 0;  // 32 or 128
};

// Parses one address as netip.ParseAddr does (no zone). False when malformed.
bool ParseIpAddr(std::string_view s, IpAddr* out);

// netip.Addr.Compare: family first (IPv4 < IPv6), then the address bytes.
int CompareIpAddr(const IpAddr& a, const IpAddr& b);

class IpMatcher {
 public:
  // InvalidArgument ("ip: invalid pattern: <pattern>") when the pattern is not an address,
  // a range or a prefix.
  static StatusOr<IpMatcher> Create(std::string_view pattern);

  // Is this address inside the pattern?
  bool Matches(const IpAddr& addr) const;
  // Does the text contain an address inside the pattern (Loki's scan, see above)?
  bool ContainsMatch(std::string_view text) const;

 private:
  enum class Kind { kSingle, kRange, kPrefix };
  Kind kind_ = Kind::kSingle;
  IpAddr lo_;
  IpAddr hi_;
  int prefix_bits_ = 0;
};

}  // namespace skald::logql
