// Tiny blocking HTTP/1.1 client for tests (raw POSIX sockets, no dependencies).
//
// Supports keep-alive (HttpClient reuses one connection), pipelining (SendRaw
// several requests, then ReadResponse for each), Content-Length, chunked and
// read-until-close bodies, and responses to HEAD. Not for production use: no
// TLS, IPv4/IPv6 literal or resolvable host names only, blocking with timeouts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;
  std::string reason;
  std::string version;  // "HTTP/1.1"
  HeaderList headers;
  std::string body;

  // First value of the header (case-insensitive name), "" if absent.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // True when the server said it will close the connection after this response.
  bool ConnectionClose() const;
};

// One connection to host:port. Not thread-safe: use one client per thread.
class HttpClient {
 public:
  HttpClient(std::string host, int port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Connects (also called lazily by Call). IOError on failure.
  Status Connect();
  void Close();
  bool connected() const { return fd_ >= 0; }
  // Receive/send timeout per socket operation (default 10 s).
  void set_timeout_ms(int ms);

  // Sends one request and reads its response. Adds Host, and Content-Length when
  // a body is given or the method is POST/PUT/PATCH, unless `headers` has them.
  // Reconnects first when the previous response closed the connection.
  StatusOr<ClientResponse> Call(std::string_view method, std::string_view target,
                                const HeaderList& headers = {}, std::string_view body = {});

  // Low level: raw bytes out, one parsed response in (head_request: the response
  // has no body even if Content-Length says otherwise). Interim 1xx responses are
  // skipped unless return_informational is set.
  Status SendRaw(std::string_view bytes);
  StatusOr<ClientResponse> ReadResponse(bool head_request = false,
                                        bool return_informational = false);
  // Builds the request bytes Call() would send.
  std::string BuildRequest(std::string_view method, std::string_view target,
                           const HeaderList& headers, std::string_view body) const;
  // True if the peer has closed the connection (EOF seen / readable with 0 bytes),
  // waiting at most timeout_ms for it.
  bool PeerClosed(int timeout_ms);

 private:
  StatusOr<std::string> ReadLine();
  Status ReadExactly(size_t n, std::string* out);
  Status Fill();  // reads more bytes into buf_; IOError("connection closed") at EOF

  std::string host_;
  int port_;
  int fd_ = -1;
  int timeout_ms_ = 10000;
  bool must_reconnect_ = false;
  std::string buf_;
  size_t pos_ = 0;
};

// One-shot request on a fresh connection (closed afterwards).
StatusOr<ClientResponse> HttpCall(const std::string& host, int port, std::string_view method,
                                  std::string_view target, const HeaderList& headers = {},
                                  std::string_view body = {});

}  // namespace skald::test
