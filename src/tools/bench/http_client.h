// Minimal HTTP/1.1 keep-alive client over POSIX sockets for skald-bench.
//
// Plain TCP only (no TLS). Requests are sent as pre-serialized bytes (head and
// body in one buffer) so the hot loop of the load tool does no formatting or
// allocation; responses with Content-Length, chunked transfer coding or
// read-until-close bodies are decoded into a caller-owned HttpResponse whose
// body capacity is reused across calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::bench {

// A parsed http:// URL. base_path has no trailing slash ("" for the root).
struct Url {
  std::string host;
  uint16_t port = 80;
  std::string base_path;

  // The Host header value ("host:port", or "host" for port 80).
  std::string HostHeader() const;
};

// Parses "http://host[:port][/path]" (scheme optional; IPv6 as "[::1]:3100").
// Errors (InvalidArgument): https (TLS is not supported), empty host, bad port.
StatusOr<Url> ParseUrl(std::string_view url);

// Appends s percent-encoded for a URL query component (RFC 3986 unreserved
// characters pass through, everything else becomes %XX).
void AppendQueryEscaped(std::string* out, std::string_view s);

using Header = std::pair<std::string, std::string>;

// Serializes a complete HTTP/1.1 request: "<method> <base_path><target>
// HTTP/1.1", Host, the given headers, Content-Length (when body is non-empty or
// the method is POST/PUT), a blank line and the body.
std::string BuildRequest(std::string_view method, const Url& url, std::string_view target,
                         const std::vector<Header>& headers, std::string_view body);

struct HttpResponse {
  int status = 0;                 // HTTP status code of the last response
  std::string body;               // de-chunked body (capacity reused across calls)
  std::string content_type;       // Content-Type header value ("" if absent)
  bool connection_close = false;  // the server asked to close the connection
};

// One keep-alive connection. Not thread-safe: use one client per thread.
class HttpClient {
 public:
  // timeout_ms bounds every connect/send/receive call (0 = no timeout).
  explicit HttpClient(Url url, int64_t timeout_ms = 60000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Resolves the host and opens the TCP connection (TCP_NODELAY). Errors:
  // Unavailable (resolve/connect failures, with errno text).
  Status Connect();
  // Closes the connection (idempotent).
  void Close();
  bool connected() const { return fd_ >= 0; }

  // Sends `request` (complete bytes, see BuildRequest) and reads one response
  // into *resp. Connects first if needed. If a reused connection turns out to
  // be closed by the peer (send fails or EOF before any response byte), it
  // reconnects once and resends. A response with "Connection: close" closes
  // the connection afterwards. Errors: Unavailable (I/O), DeadlineExceeded
  // (timeout), Corruption (malformed response). On error the connection is closed.
  Status RoundTrip(std::string_view request, HttpResponse* resp);

  // Convenience wrappers that build the request (allocating) and call RoundTrip.
  Status Get(std::string_view target, const std::vector<Header>& headers, HttpResponse* resp);
  Status Post(std::string_view target, const std::vector<Header>& headers, std::string_view body,
              HttpResponse* resp);

  const Url& url() const { return url_; }
  // Number of times the client reconnected after the first connection.
  int64_t reconnects() const { return reconnects_; }

 private:
  Status SendAll(std::string_view data);
  // Reads one response; *got_any tells whether any byte of it arrived.
  Status ReadResponse(HttpResponse* resp, bool* got_any);
  // Receives more bytes into the buffer; returns false on EOF.
  StatusOr<bool> Fill();
  // Makes at least n unread bytes available; EOF -> Unavailable.
  Status Need(size_t n);
  // Finds "\r\n" at or after unread start + from; returns offset from rd_ or npos.
  size_t FindCrlf(size_t from) const;
  void Consume(size_t n) { rd_ += n; }
  size_t Avail() const { return wr_ - rd_; }
  const char* Data() const { return buf_.get() + rd_; }

  Url url_;
  int64_t timeout_ms_;
  int fd_ = -1;
  bool ever_connected_ = false;
  int64_t reconnects_ = 0;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t rd_ = 0;  // first unread byte
  size_t wr_ = 0;  // end of received bytes
};

}  // namespace skald::bench
