// HTTP/1.1 client over POSIX sockets (see http_client.h).
#include "tools/http/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace skald::http {
namespace {

constexpr size_t kInitialBuffer = 64 << 10;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (EqualsIgnoreCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

std::string Url::HostHeader() const {
  std::string h;
  if (host.find(':') != std::string::npos) {
    h.push_back('[');
    h.append(host);
    h.push_back(']');
  } else {
    h = host;
  }
  if (port != 80) {
    h.push_back(':');
    h.append(std::to_string(port));
  }
  return h;
}

StatusOr<Url> ParseUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.substr(0, 8) == "https://") {
    return Status::InvalidArgument("https URLs are not supported (no TLS): " + std::string(url));
  }
  if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  Url u;
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    u.base_path = std::string(path);
  }
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("bad IPv6 host in URL: " + std::string(url));
    }
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status::InvalidArgument("bad URL: " + std::string(url));
      port = after.substr(1);
    }
  } else {
    size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
    }
  }
  if (host.empty()) return Status::InvalidArgument("URL has no host: " + std::string(url));
  u.host = std::string(host);
  if (!port.empty()) {
    uint64_t p = 0;
    if (!ParseDecimal(port, &p) || p == 0 || p > 65535) {
      return Status::InvalidArgument("bad port in URL: " + std::string(url));
    }
    u.port = static_cast<uint16_t>(p);
  }
  return u;
}

void AppendQueryEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  AppendQueryEscaped(&out, s);
  return out;
}

Url Loopback(int port) {
  Url u;
  u.host = "127.0.0.1";
  u.port = static_cast<uint16_t>(port);
  return u;
}

std::string BuildRequest(std::string_view method, const Url& url, std::string_view target,
                         const HeaderList& headers, std::string_view body) {
  bool has_host = false, has_length = false, has_te = false;
  for (const auto& [k, v] : headers) {
    has_host |= EqualsIgnoreCase(k, "host");
    has_length |= EqualsIgnoreCase(k, "content-length");
    has_te |= EqualsIgnoreCase(k, "transfer-encoding");
  }
  std::string r;
  r.reserve(256 + body.size());
  r.append(method).append(" ").append(url.base_path).append(target).append(" HTTP/1.1\r\n");
  if (!has_host) r.append("Host: ").append(url.HostHeader()).append("\r\n");
  for (const auto& [k, v] : headers) r.append(k).append(": ").append(v).append("\r\n");
  const bool wants_length =
      !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (wants_length && !has_length && !has_te) {
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

std::string_view HttpResponse::Version() const {
  std::string_view h(head);
  return h.substr(0, h.find(' '));
}

std::string_view HttpResponse::Reason() const {
  std::string_view line(head);
  line = line.substr(0, line.find("\r\n"));
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return {};
  size_t sp2 = line.find(' ', sp1 + 1);
  return sp2 == std::string_view::npos ? std::string_view() : line.substr(sp2 + 1);
}

namespace {

// The value of the first header line named `name` (case-insensitive) in a response head, or
// nullopt. The status line is skipped.
std::optional<std::string_view> FindHeader(std::string_view head, std::string_view name) {
  size_t eol = head.find("\r\n");
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && EqualsIgnoreCase(line.substr(0, colon), name)) {
      return Trim(line.substr(colon + 1));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view HttpResponse::Header(std::string_view name) const {
  return FindHeader(head, name).value_or(std::string_view());
}

bool HttpResponse::HasHeader(std::string_view name) const {
  return FindHeader(head, name).has_value();
}

HttpClient::HttpClient(Url url, int64_t timeout_ms)
    : url_(std::move(url)), timeout_ms_(timeout_ms) {}

HttpClient::HttpClient(std::string host, int port, int64_t timeout_ms) : timeout_ms_(timeout_ms) {
  url_.host = std::move(host);
  url_.port = static_cast<uint16_t>(port);
}

void HttpClient::set_timeout_ms(int64_t ms) {
  timeout_ms_ = ms;
  if (fd_ >= 0) ApplyTimeout();
}

void HttpClient::ApplyTimeout() {
  // 0 in a timeval means "no timeout" to the kernel, as it does here.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_ms_ / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_ms_ % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  must_reconnect_ = false;
  rd_ = wr_ = 0;
}

Status HttpClient::Connect() {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url_.port);
  int rc = ::getaddrinfo(url_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::Unavailable("resolve " + url_.host + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoText("socket");
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd_ = fd;
    ApplyTimeout();
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    fd_ = -1;
    last_error = ErrnoText("connect");
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) {
    return Status::Unavailable(last_error + " (" + url_.host + ":" + port + ")");
  }
  if (ever_connected_) ++reconnects_;
  ever_connected_ = true;
  if (!buf_) {
    cap_ = kInitialBuffer;
    buf_ = std::make_unique<char[]>(cap_);
  }
  rd_ = wr_ = 0;
  return Status::OK();
}

Status HttpClient::SendAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Status::DeadlineExceeded("send timed out");
      }
      return Status::Unavailable(ErrnoText("send"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

StatusOr<bool> HttpClient::Fill() {
  if (rd_ > 0 && rd_ == wr_) rd_ = wr_ = 0;
  if (wr_ == cap_) {
    if (rd_ > 0) {
      std::memmove(buf_.get(), buf_.get() + rd_, wr_ - rd_);
      wr_ -= rd_;
      rd_ = 0;
    } else {
      size_t ncap = cap_ * 2;
      auto nbuf = std::make_unique<char[]>(ncap);
      std::memcpy(nbuf.get(), buf_.get(), wr_);
      buf_ = std::move(nbuf);
      cap_ = ncap;
    }
  }
  for (;;) {
    ssize_t n = ::recv(fd_, buf_.get() + wr_, cap_ - wr_, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Status::DeadlineExceeded("receive timed out");
      }
      return Status::Unavailable(ErrnoText("recv"));
    }
    if (n == 0) return false;
    wr_ += static_cast<size_t>(n);
    return true;
  }
}

Status HttpClient::Need(size_t n) {
  while (Avail() < n) {
    StatusOr<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) return Status::Unavailable("connection closed mid-response");
  }
  return Status::OK();
}

size_t HttpClient::FindCrlf(size_t from) const {
  const char* d = Data();
  size_t n = Avail();
  for (size_t i = from; i + 1 < n; ++i) {
    if (d[i] == '\r' && d[i + 1] == '\n') return i;
  }
  return std::string::npos;
}

Status HttpClient::Read(HttpResponse* resp, ReadOptions options, bool* got_any) {
  *got_any = false;
  for (;;) {  // loops only over interim 1xx responses
    // Head: read until the blank line.
    size_t scanned = 0;
    size_t head_end = std::string::npos;
    for (;;) {
      const char* d = Data();
      size_t n = Avail();
      for (size_t i = scanned; i + 3 < n; ++i) {
        if (d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' && d[i + 3] == '\n') {
          head_end = i;
          break;
        }
      }
      if (head_end != std::string::npos) break;
      scanned = n >= 3 ? n - 3 : 0;
      if (n > (1 << 20)) return Status::Corruption("response head larger than 1 MiB");
      StatusOr<bool> more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        return Status::Unavailable(Avail() == 0 ? "connection closed by peer"
                                                : "connection closed mid-response");
      }
      *got_any = true;
    }
    *got_any = true;
    std::string_view head(Data(), head_end);
    size_t eol = head.find("\r\n");
    std::string_view status_line = head.substr(0, eol);
    // "HTTP/1.1 204 No Content"
    if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
      return Status::Corruption("bad status line: " + std::string(status_line.substr(0, 80)));
    }
    size_t sp = status_line.find(' ');
    uint64_t code = 0;
    if (sp == std::string_view::npos || !ParseDecimal(status_line.substr(sp + 1, 3), &code)) {
      return Status::Corruption("bad status line: " + std::string(status_line.substr(0, 80)));
    }
    bool http10 = status_line.substr(0, 8) == "HTTP/1.0";
    bool chunked = false;
    bool have_length = false;
    bool close = http10;
    uint64_t length = 0;
    resp->content_type.clear();
    std::string_view rest =
        eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon);
      std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "content-length")) {
        if (!ParseDecimal(value, &length)) {
          return Status::Corruption("bad Content-Length: " + std::string(value));
        }
        have_length = true;
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = ContainsIgnoreCase(value, "chunked");
      } else if (EqualsIgnoreCase(name, "connection")) {
        if (ContainsIgnoreCase(value, "close")) close = true;
        if (ContainsIgnoreCase(value, "keep-alive")) close = false;
      } else if (EqualsIgnoreCase(name, "content-type")) {
        resp->content_type.assign(value);
      }
    }
    resp->head.assign(head);
    Consume(head_end + 4);
    resp->status = static_cast<int>(code);
    resp->body.clear();
    resp->connection_close = close;
    if (code >= 100 && code < 200) {
      if (options.return_informational) return Status::OK();
      continue;  // interim response: read the real one
    }
    if (options.head_request || code == 204 || code == 304) return Status::OK();
    if (chunked) {
      for (;;) {
        size_t e;
        while ((e = FindCrlf(0)) == std::string::npos) {
          if (Avail() > 4096) return Status::Corruption("chunk size line too long");
          SKALD_RETURN_IF_ERROR(Need(Avail() + 1));
        }
        std::string_view size_line(Data(), e);
        size_t semi = size_line.find(';');
        size_line = Trim(size_line.substr(0, semi));
        if (size_line.empty() || size_line.size() > 15) {
          return Status::Corruption("bad chunk size line");
        }
        uint64_t size = 0;
        for (char c : size_line) {
          int v;
          if (c >= '0' && c <= '9') {
            v = c - '0';
          } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
          } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
          } else {
            return Status::Corruption("bad chunk size: " + std::string(size_line));
          }
          size = size * 16 + static_cast<uint64_t>(v);
        }
        Consume(e + 2);
        if (size == 0) {
          // Trailers until an empty line.
          for (;;) {
            size_t t;
            while ((t = FindCrlf(0)) == std::string::npos) {
              SKALD_RETURN_IF_ERROR(Need(Avail() + 1));
            }
            Consume(t + 2);
            if (t == 0) break;
          }
          break;
        }
        uint64_t left = size;
        while (left > 0) {
          if (Avail() == 0) SKALD_RETURN_IF_ERROR(Need(1));
          size_t take = std::min<uint64_t>(left, Avail());
          resp->body.append(Data(), take);
          Consume(take);
          left -= take;
        }
        SKALD_RETURN_IF_ERROR(Need(2));
        if (Data()[0] != '\r' || Data()[1] != '\n') {
          return Status::Corruption("chunk not followed by CRLF");
        }
        Consume(2);
      }
    } else if (have_length) {
      uint64_t left = length;
      resp->body.reserve(length);
      while (left > 0) {
        if (Avail() == 0) SKALD_RETURN_IF_ERROR(Need(1));
        size_t take = std::min<uint64_t>(left, Avail());
        resp->body.append(Data(), take);
        Consume(take);
        left -= take;
      }
    } else {
      // No framing: the body runs until the server closes the connection.
      for (;;) {
        resp->body.append(Data(), Avail());
        Consume(Avail());
        StatusOr<bool> more = Fill();
        if (!more.ok()) return more.status();
        if (!*more) break;
      }
      resp->connection_close = true;
      Close();  // the server has closed its end
    }
    return Status::OK();
  }
}

Status HttpClient::RoundTrip(std::string_view request, HttpResponse* resp) {
  ReadOptions options;
  options.head_request = request.substr(0, 5) == "HEAD ";
  bool fresh = false;
  if (fd_ < 0 || must_reconnect_) {
    SKALD_RETURN_IF_ERROR(Connect());
    fresh = true;
  }
  for (int attempt = 0;; ++attempt) {
    Status st = SendAll(request);
    bool got_any = false;
    if (st.ok()) st = Read(resp, options, &got_any);
    if (st.ok()) {
      // Left open so PeerClosed() can still watch the server close it.
      must_reconnect_ = resp->connection_close;
      return st;
    }
    Close();
    // A kept-alive connection the server already closed: retry once on a new one.
    bool retryable = !fresh && attempt == 0 && !got_any && st.code() == StatusCode::kUnavailable;
    if (!retryable) return st;
    SKALD_RETURN_IF_ERROR(Connect());
    fresh = true;
  }
}

StatusOr<HttpResponse> HttpClient::Call(std::string_view method, std::string_view target,
                                        const HeaderList& headers, std::string_view body) {
  HttpResponse resp;
  SKALD_RETURN_IF_ERROR(RoundTrip(BuildRequest(method, url_, target, headers, body), &resp));
  return resp;
}

Status HttpClient::Get(std::string_view target, const HeaderList& headers, HttpResponse* resp) {
  return RoundTrip(BuildRequest("GET", url_, target, headers, {}), resp);
}

Status HttpClient::Post(std::string_view target, const HeaderList& headers, std::string_view body,
                        HttpResponse* resp) {
  return RoundTrip(BuildRequest("POST", url_, target, headers, body), resp);
}

Status HttpClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) SKALD_RETURN_IF_ERROR(Connect());
  Status st = SendAll(bytes);
  if (!st.ok()) Close();
  return st;
}

Status HttpClient::ReadResponse(HttpResponse* resp, ReadOptions options) {
  if (fd_ < 0) return Status::Unavailable("not connected");
  bool got_any = false;
  Status st = Read(resp, options, &got_any);
  if (!st.ok()) {
    Close();
  } else {
    must_reconnect_ = resp->connection_close;
  }
  return st;
}

StatusOr<HttpResponse> HttpClient::ReadResponse(ReadOptions options) {
  HttpResponse resp;
  SKALD_RETURN_IF_ERROR(ReadResponse(&resp, options));
  return resp;
}

bool HttpClient::PeerClosed(int timeout_ms) {
  if (fd_ < 0) return true;
  if (Avail() > 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

StatusOr<HttpResponse> Fetch(const std::string& host, int port, std::string_view method,
                             std::string_view target, const HeaderList& headers,
                             std::string_view body) {
  HttpClient c(host, port);
  HeaderList h = headers;
  bool has_connection = false;
  for (const auto& [k, v] : h) has_connection |= EqualsIgnoreCase(k, "connection");
  if (!has_connection) h.emplace_back("Connection", "close");
  return c.Call(method, target, h, body);
}

}  // namespace skald::http
