#include "storage/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <ctime>

namespace skald::storage::sigv4 {

namespace {

constexpr char kHexLower[] = "0123456789abcdef";

std::string Digest(const EVP_MD* md, const std::vector<std::string_view>& parts) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md, nullptr);
  for (std::string_view p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  EVP_DigestFinal_ex(ctx, out, &n);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Trim(std::string_view v) {
  // Leading and trailing spaces go; inner runs of spaces become one.
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string Hex(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHexLower[c >> 4]);
    out.push_back(kHexLower[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return Hex(Digest(EVP_sha256(), {data})); }

std::string Sha256Hex(const std::vector<std::string_view>& parts) {
  return Hex(Digest(EVP_sha256(), parts));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Md5Base64(std::string_view data) {
  std::string raw = Digest(EVP_md5(), {data});
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHexUpper[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

namespace {

// Canonical header lines and the signed header list, from r.headers.
std::pair<std::string, std::string> CanonicalHeaders(const Request& r) {
  std::vector<std::pair<std::string, std::string>> hs;
  hs.reserve(r.headers.size());
  for (const auto& [name, value] : r.headers) hs.emplace_back(Lower(name), Trim(value));
  std::stable_sort(hs.begin(), hs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string lines, names;
  for (size_t i = 0; i < hs.size(); i++) {
    if (i > 0 && hs[i].first == hs[i - 1].first) {
      // A repeated header: values joined with ',' on one line.
      lines.pop_back();
      lines += "," + hs[i].second + "\n";
      continue;
    }
    lines += hs[i].first + ":" + hs[i].second + "\n";
    if (!names.empty()) names.push_back(';');
    names += hs[i].first;
  }
  return {lines, names};
}

}  // namespace

std::string CanonicalRequest(const Request& r) {
  auto [lines, names] = CanonicalHeaders(r);
  std::string out = r.method;
  out += "\n";
  out += r.canonical_uri.empty() ? "/" : r.canonical_uri;
  out += "\n";
  out += CanonicalQuery(r.query);
  out += "\n";
  out += lines;
  out += "\n";
  out += names;
  out += "\n";
  out += r.payload_sha256;
  return out;
}

std::string Scope(std::string_view amz_date, std::string_view region, std::string_view service) {
  std::string out(amz_date.substr(0, 8));
  out += "/";
  out += region;
  out += "/";
  out += service;
  out += "/aws4_request";
  return out;
}

std::string Authorization(const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date, const Request& r) {
  const std::string scope = Scope(amz_date, region, service);
  std::string to_sign = "AWS4-HMAC-SHA256\n";
  to_sign += amz_date;
  to_sign += "\n";
  to_sign += scope;
  to_sign += "\n";
  to_sign += Sha256Hex(CanonicalRequest(r));

  std::string key = HmacSha256("AWS4" + creds.secret_key, amz_date.substr(0, 8));
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = Hex(HmacSha256(key, to_sign));

  std::string out = "AWS4-HMAC-SHA256 Credential=";
  out += creds.access_key;
  out += "/";
  out += scope;
  out += ",SignedHeaders=";
  out += CanonicalHeaders(r).second;
  out += ",Signature=";
  out += signature;
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace skald::storage::sigv4
