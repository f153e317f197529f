// HTTP/1.1 client over POSIX sockets, shared by the load tool (skald-bench) and
// the tests (tests/testing/). Not used by the server.
//
// Plain TCP only (no TLS). Requests can be sent as pre-serialized bytes (head and
// body in one buffer, see BuildRequest) so the load tool's hot loop does no
// formatting; responses with Content-Length, chunked transfer coding or
// read-until-close bodies are decoded into a caller-owned HttpResponse whose
// buffers are reused across calls. For tests the client also speaks the low
// level: raw bytes out (pipelining, malformed requests), one response in
// (interim 1xx responses on request, HEAD responses), and "has the peer closed?".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::http {

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

// The URL of a server on 127.0.0.1 at `port`.
Url Loopback(int port);

// Appends s percent-encoded for a URL query component (RFC 3986 unreserved
// characters pass through, everything else becomes %XX).
void AppendQueryEscaped(std::string* out, std::string_view s);
// The same, returned.
std::string QueryEscape(std::string_view s);

using Header = std::pair<std::string, std::string>;
using HeaderList = std::vector<Header>;

// Serializes a complete HTTP/1.1 request: "<method> <base_path><target>
// HTTP/1.1", Host (unless `headers` has one), the given headers, Content-Length
// (when body is non-empty or the method is POST/PUT/PATCH, unless `headers`
// has Content-Length or Transfer-Encoding), a blank line and the body.
std::string BuildRequest(std::string_view method, const Url& url, std::string_view target,
                         const HeaderList& headers, std::string_view body);

struct HttpResponse {
  int status = 0;                 // HTTP status code
  std::string body;               // de-chunked body (capacity reused across calls)
  std::string content_type;       // Content-Type header value ("" if absent)
  bool connection_close = false;  // the server will close (or closed) the connection
  // Status line and header lines as received, CRLF-separated, without the blank line.
  std::string head;

  // "HTTP/1.1", from the status line.
  std::string_view Version() const;
  // "No Content", from the status line.
  std::string_view Reason() const;
  // First value of the header (name compared case-insensitively), trimmed; "" if absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

// How ReadResponse reads.
struct ReadOptions {
  bool head_request = false;          // the response has no body whatever its headers say
  bool return_informational = false;  // return a 1xx response instead of skipping it
};

// One keep-alive connection. Not thread-safe: use one client per thread.
class HttpClient {
 public:
  // timeout_ms bounds every connect/send/receive call (0 = no timeout).
  explicit HttpClient(Url url, int64_t timeout_ms = 10000);
  // A client for http://host:port/.
  HttpClient(std::string host, int port, int64_t timeout_ms = 10000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Resolves the host and opens the TCP connection (TCP_NODELAY). Errors:
  // Unavailable (resolve/connect failures, with errno text).
  Status Connect();
  // Closes the connection (idempotent).
  void Close();
  bool connected() const { return fd_ >= 0; }
  // Changes the per-call timeout (also on an open connection).
  void set_timeout_ms(int64_t ms);

  // Sends `request` (complete bytes, see BuildRequest) and reads one response
  // into *resp. Connects first if needed. If a reused connection turns out to
  // be closed by the peer (send fails or EOF before any response byte), it
  // reconnects once and resends (counted in reconnects()). After a response
  // with "Connection: close" the next call connects anew. Errors: Unavailable
  // (I/O), DeadlineExceeded (timeout), Corruption (malformed response). On
  // error the connection is closed.
  Status RoundTrip(std::string_view request, HttpResponse* resp);

  // Builds the request (allocating) and calls RoundTrip.
  StatusOr<HttpResponse> Call(std::string_view method, std::string_view target,
                              const HeaderList& headers = {}, std::string_view body = {});
  Status Get(std::string_view target, const HeaderList& headers, HttpResponse* resp);
  Status Post(std::string_view target, const HeaderList& headers, std::string_view body,
              HttpResponse* resp);

  // Low level, for tests: sends raw bytes (connecting first if needed), then
  // reads one response. No retries. Errors as RoundTrip.
  Status SendRaw(std::string_view bytes);
  Status ReadResponse(HttpResponse* resp, ReadOptions options = {});
  StatusOr<HttpResponse> ReadResponse(ReadOptions options = {});
  // True if the peer has closed the connection (EOF or reset), waiting at most
  // timeout_ms for it; false if bytes are pending or it stays open.
  bool PeerClosed(int timeout_ms);

  const Url& url() const { return url_; }
  // Number of times the client reconnected after the first connection.
  int64_t reconnects() const { return reconnects_; }

 private:
  Status SendAll(std::string_view data);
  // Reads one response; *got_any tells whether any byte of it arrived.
  Status Read(HttpResponse* resp, ReadOptions options, bool* got_any);
  // Receives more bytes into the buffer; returns false on EOF.
  StatusOr<bool> Fill();
  // Makes at least n unread bytes available; EOF -> Unavailable.
  Status Need(size_t n);
  // Finds "\r\n" at or after unread start + from; returns offset from rd_ or npos.
  size_t FindCrlf(size_t from) const;
  void Consume(size_t n) { rd_ += n; }
  size_t Avail() const { return wr_ - rd_; }
  const char* Data() const { return buf_.get() + rd_; }
  void ApplyTimeout();

  Url url_;
  int64_t timeout_ms_;
  int fd_ = -1;
  bool ever_connected_ = false;
  bool must_reconnect_ = false;  // the last response said the server closes the connection
  int64_t reconnects_ = 0;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t rd_ = 0;  // first unread byte
  size_t wr_ = 0;  // end of received bytes
};

// One request on a fresh connection that asks the server to close it
// ("Connection: close" unless `headers` has a Connection header).
StatusOr<HttpResponse> Fetch(const std::string& host, int port, std::string_view method,
                             std::string_view target, const HeaderList& headers = {},
                             std::string_view body = {});

}  // namespace skald::http
