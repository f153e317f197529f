// AWS Signature Version 4 for S3 requests (header authorization), and the hashes it and the
// S3 client need (SHA-256, HMAC-SHA256, MD5). Pure functions: no I/O, no clock.
//
// The canonical request is: method, canonical URI, canonical query string, canonical headers
// (lowercase names, trimmed values, sorted by name, one "name:value\n" each), the signed
// header names joined with ';', and the payload hash, joined with '\n'. The signature is the
// hex HMAC-SHA256 of "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical
// request>" under the key derived from "AWS4" + secret through the date, region, service and
// "aws4_request".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skald::storage::sigv4 {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Lowercase hex SHA-256 of the concatenation of `parts`.
std::string Sha256Hex(const std::vector<std::string_view>& parts);
// Raw (32-byte) HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Base64 of the raw MD5 of `data` (the Content-MD5 header).
std::string Md5Base64(std::string_view data);
// Lowercase hex of raw bytes.
std::string Hex(std::string_view raw);

// The SHA-256 of an empty payload.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// pass, every other byte becomes %XX (uppercase hex); '/' passes when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when not empty
};

struct Request {
  std::string method;         // "GET", "PUT", ...
  std::string canonical_uri;  // the path, already URI-encoded ("/bucket/a%20b")
  // Query parameters, raw (not encoded); a parameter without value ("uploads") has "".
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign (names in any case). Must include host and x-amz-date; x-amz-content-sha256
  // must be present and equal payload_sha256 for S3.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // hex, or "UNSIGNED-PAYLOAD"
};

// The canonical query string: encoded names and values sorted by name then value, "k=v"
// joined with '&' ("k=" for an empty value).
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

std::string CanonicalRequest(const Request& r);

// "YYYYMMDD/<region>/<service>/aws4_request".
std::string Scope(std::string_view amz_date, std::string_view region, std::string_view service);

// The Authorization header value for `r` signed at `amz_date` ("20130524T000000Z").
std::string Authorization(const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date, const Request& r);

// "YYYYMMDDTHHMMSSZ" for a Unix time in seconds (UTC).
std::string AmzDate(int64_t unix_seconds);

}  // namespace skald::storage::sigv4
