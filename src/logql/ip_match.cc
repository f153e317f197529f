// IP matching for ip() filters: see ip_match.h.
#include "logql/ip_match.h"

#include <cstring>
#include <string>

#include "core/go_string.h"

namespace skald::logql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted-quad IPv4 exactly as netip accepts it: four decimal fields 0-255, no leading zeros.
bool ParseIpv4(std::string_view s, uint8_t out[4]) {
  int field = 0;
  size_t i = 0;
  while (field < 4) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i])) {
      v = v * 10 + (s[i] - '0');
      if (v > 255) return false;
      i++;
    }
    size_t len = i - start;
    if (len == 0 || (len > 1 && s[start] == '0')) return false;
    out[field++] = static_cast<uint8_t>(v);
    if (field == 4) break;
    if (i >= s.size() || s[i] != '.') return false;
    i++;
  }
  return i == s.size();
}

bool ParseIpv6(std::string_view s, uint8_t ip[16]) {
  std::memset(ip, 0, 16);
  int i = 0;
  int ellipsis = -1;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    s.remove_prefix(2);
  }
  while (!s.empty()) {
    if (i >= 16) return false;
    size_t off = 0;
    int acc = 0;
    while (off < s.size() && HexValue(s[off]) >= 0) {
      if (off == 4) return false;  // at most 4 hex digits per field
      acc = acc * 16 + HexValue(s[off]);
      off++;
    }
    if (off == 0) return false;
    if (off < s.size() && s[off] == '.') {
      // An embedded IPv4 address must end the address and replace its last two fields.
      if (ellipsis < 0 && i != 12) return false;
      if (i + 4 > 16) return false;
      if (!ParseIpv4(s, ip + i)) return false;
      i += 4;
      s = {};
      break;
    }
    ip[i] = static_cast<uint8_t>(acc >> 8);
    ip[i + 1] = static_cast<uint8_t>(acc);
    i += 2;
    s.remove_prefix(off);
    if (s.empty()) break;
    if (s[0] != ':' || s.size() == 1) return false;
    s.remove_prefix(1);
    if (s[0] == ':') {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s.remove_prefix(1);
      if (s.empty()) break;
    }
  }
  if (i < 16) {
    if (ellipsis < 0) return false;
    const int n = 16 - i;
    for (int j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    std::memset(ip + ellipsis, 0, static_cast<size_t>(n));
  } else if (ellipsis >= 0) {
    return false;  // `::` must stand for at least one zero field
  }
  return true;
}

bool ParsePrefixBits(std::string_view s, int max, int* bits) {
  if (s.empty() || s.size() > 3) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  *bits = v;
  return true;
}

bool IsHexDigit(char c) { return HexValue(c) >= 0; }

size_t SpanOf(std::string_view s, size_t from, bool v6) {
  size_t i = from;
  while (i < s.size() &&
         (IsDigit(s[i]) || s[i] == '.' || (v6 && (s[i] == ':' || IsHexDigit(s[i])))))
    i++;
  return i - from;
}

// Loki's cheap hints for where an address may start: a digit with a '.' within the next
// three bytes (IPv4); `::h`, or one to four hex digits then ':' (IPv6).
bool Ipv4Hint(const char* p) {
  return IsDigit(p[0]) && (p[1] == '.' || p[2] == '.' || p[3] == '.');
}
bool Ipv6Hint(const char* p) {
  if (p[0] == ':' && p[1] == ':' && IsHexDigit(p[2])) return true;
  int k = 0;
  while (k < 4 && IsHexDigit(p[k])) k++;
  return k >= 1 && p[k] == ':';
}

}  // namespace

bool ParseIpAddr(std::string_view s, IpAddr* out) {
  for (char c : s) {
    if (c == '.') {
      out->bytes.fill(0);
      out->bits = 32;
      return ParseIpv4(s, out->bytes.data() + 12);
    }
    if (c == ':') {
      out->bits = 128;
      return ParseIpv6(s, out->bytes.data());
    }
    if (c == '%') return false;  // zones are not supported
  }
  return false;
}

int CompareIpAddr(const IpAddr& a, const IpAddr& b) {
  if (a.bits != b.bits) return a.bits < b.bits ? -1 : 1;
  return std::memcmp(a.bytes.data(), b.bytes.data(), 16);
}

StatusOr<IpMatcher> IpMatcher::Create(std::string_view pattern) {
  IpMatcher m;
  // The forms are tried in Loki's order: address, prefix, range.
  if (ParseIpAddr(pattern, &m.lo_)) {
    m.kind_ = Kind::kSingle;
    return m;
  }
  if (size_t slash = pattern.rfind('/'); slash != std::string_view::npos) {
    if (ParseIpAddr(pattern.substr(0, slash), &m.lo_) &&
        ParsePrefixBits(pattern.substr(slash + 1), m.lo_.bits, &m.prefix_bits_)) {
      m.kind_ = Kind::kPrefix;
      return m;
    }
  }
  if (size_t dash = pattern.find('-'); dash != std::string_view::npos) {
    if (ParseIpAddr(pattern.substr(0, dash), &m.lo_) &&
        ParseIpAddr(pattern.substr(dash + 1), &m.hi_) && m.lo_.bits == m.hi_.bits &&
        CompareIpAddr(m.lo_, m.hi_) <= 0) {
      m.kind_ = Kind::kRange;
      return m;
    }
  }
  return Status::InvalidArgument("ip: invalid pattern: " + GoQuote(pattern));
}

bool IpMatcher::Matches(const IpAddr& addr) const {
  switch (kind_) {
    case Kind::kSingle:
      return CompareIpAddr(lo_, addr) == 0;
    case Kind::kRange:
      return CompareIpAddr(lo_, addr) <= 0 && CompareIpAddr(addr, hi_) <= 0;
    case Kind::kPrefix: {
      if (addr.bits != lo_.bits) return false;
      const int skip = addr.bits == 32 ? 12 : 0;
      int bits = prefix_bits_;
      for (int i = skip; bits > 0; i++, bits -= 8) {
        const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if ((addr.bytes[i] & mask) != (lo_.bytes[i] & mask)) return false;
      }
      return true;
    }
  }
  return false;
}

bool IpMatcher::ContainsMatch(std::string_view text) const {
  const size_t n = text.size();
  const char* p = text.data();
  IpAddr addr;
  for (size_t i = 0; i < n; i++) {
    // Loki's scan: an IPv4 candidate needs four bytes from i, an IPv6 candidate five (so
    // a bare "::1" is never found); a candidate that fails skips its whole span.
    bool v4 = i + 3 < n && Ipv4Hint(p + i);
    bool v6 = !v4 && i + 4 < n && Ipv6Hint(p + i);
    if (!v4 && !v6) continue;
    size_t len = SpanOf(text, i, v6);
    if (ParseIpAddr(text.substr(i, len), &addr) && Matches(addr)) return true;
    i += len;
  }
  return false;
}

}  // namespace skald::logql
