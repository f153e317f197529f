// Blocking HTTP/1.1 test client (see http_client.h).
#include "tests/server/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace skald::test {

namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IContains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); i++) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
  return std::string(s.substr(b, e - b));
}

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

}  // namespace

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return {};
}

bool ClientResponse::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return true;
  }
  return false;
}

bool ClientResponse::ConnectionClose() const {
  std::string_view c = Header("Connection");
  if (IContains(c, "close")) return true;
  if (version == "HTTP/1.0" && !IContains(c, "keep-alive")) return true;
  return false;
}

HttpClient::HttpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::set_timeout_ms(int ms) {
  timeout_ms_ = ms;
  if (fd_ >= 0) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
}

Status HttpClient::Connect() {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(port_);
  int rc = getaddrinfo(host_.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::IOError("getaddrinfo " + host_ + ": " + gai_strerror(rc));
  Status last = Status::IOError("no addresses for " + host_);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Errno("socket");
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last = Errno("connect " + host_ + ":" + port);
      ::close(fd);
      continue;
    }
    fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (fd_ < 0) return last;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  set_timeout_ms(timeout_ms_);
  buf_.clear();
  pos_ = 0;
  must_reconnect_ = false;
  return Status::OK();
}

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  pos_ = 0;
}

Status HttpClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) return Status::IOError("not connected");
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status HttpClient::Fill() {
  if (fd_ < 0) return Status::IOError("not connected");
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char tmp[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::DeadlineExceeded("recv timeout");
      return Errno("recv");
    }
    if (n == 0) return Status::IOError("connection closed");
    buf_.append(tmp, static_cast<size_t>(n));
    return Status::OK();
  }
}

StatusOr<std::string> HttpClient::ReadLine() {
  for (;;) {
    size_t nl = buf_.find("\r\n", pos_);
    if (nl != std::string::npos) {
      std::string line = buf_.substr(pos_, nl - pos_);
      pos_ = nl + 2;
      return line;
    }
    SKALD_RETURN_IF_ERROR(Fill());
  }
}

Status HttpClient::ReadExactly(size_t n, std::string* out) {
  while (buf_.size() - pos_ < n) SKALD_RETURN_IF_ERROR(Fill());
  out->append(buf_, pos_, n);
  pos_ += n;
  return Status::OK();
}

StatusOr<ClientResponse> HttpClient::ReadResponse(bool head_request, bool return_informational) {
  ClientResponse r;
  for (;;) {
    SKALD_ASSIGN_OR_RETURN(std::string status_line, ReadLine());
    // "HTTP/1.1 200 OK"
    size_t sp1 = status_line.find(' ');
    if (sp1 == std::string::npos || status_line.rfind("HTTP/", 0) != 0) {
      return Status::Corruption("bad status line: " + status_line);
    }
    size_t sp2 = status_line.find(' ', sp1 + 1);
    r.version = status_line.substr(0, sp1);
    r.status = std::atoi(status_line.substr(sp1 + 1, sp2 - sp1 - 1).c_str());
    r.reason = sp2 == std::string::npos ? "" : status_line.substr(sp2 + 1);
    r.headers.clear();
    for (;;) {
      SKALD_ASSIGN_OR_RETURN(std::string line, ReadLine());
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) return Status::Corruption("bad header line: " + line);
      r.headers.emplace_back(line.substr(0, colon), Trim(std::string_view(line).substr(colon + 1)));
    }
    if (r.status >= 100 && r.status < 200) {
      if (return_informational) return r;
      continue;  // 100 Continue: the real one follows
    }
    break;
  }
  bool no_body = head_request || r.status == 204 || r.status == 304;
  if (no_body) {
  } else if (IContains(r.Header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      SKALD_ASSIGN_OR_RETURN(std::string size_line, ReadLine());
      size_t len = std::strtoul(size_line.c_str(), nullptr, 16);
      if (len == 0) {
        for (;;) {  // trailers
          SKALD_ASSIGN_OR_RETURN(std::string t, ReadLine());
          if (t.empty()) break;
        }
        break;
      }
      SKALD_RETURN_IF_ERROR(ReadExactly(len, &r.body));
      SKALD_ASSIGN_OR_RETURN(std::string crlf, ReadLine());
      (void)crlf;
    }
  } else if (r.HasHeader("Content-Length")) {
    size_t len = std::strtoul(std::string(r.Header("Content-Length")).c_str(), nullptr, 10);
    SKALD_RETURN_IF_ERROR(ReadExactly(len, &r.body));
  } else {
    // Body until the server closes.
    r.body.append(buf_, pos_, std::string::npos);
    pos_ = buf_.size();
    for (;;) {
      Status s = Fill();
      if (!s.ok()) break;
      r.body.append(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
    }
    must_reconnect_ = true;
  }
  if (r.ConnectionClose()) must_reconnect_ = true;
  return r;
}

std::string HttpClient::BuildRequest(std::string_view method, std::string_view target,
                                     const HeaderList& headers, std::string_view body) const {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method);
  req.push_back(' ');
  req.append(target);
  req.append(" HTTP/1.1\r\n");
  bool has_host = false, has_len = false, has_te = false;
  for (const auto& [k, v] : headers) {
    has_host |= IEquals(k, "Host");
    has_len |= IEquals(k, "Content-Length");
    has_te |= IEquals(k, "Transfer-Encoding");
  }
  if (!has_host) req.append("Host: " + host_ + ":" + std::to_string(port_) + "\r\n");
  for (const auto& [k, v] : headers) req.append(k + ": " + v + "\r\n");
  bool needs_len = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (needs_len && !has_len && !has_te) {
    req.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  }
  req.append("\r\n");
  req.append(body);
  return req;
}

StatusOr<ClientResponse> HttpClient::Call(std::string_view method, std::string_view target,
                                          const HeaderList& headers, std::string_view body) {
  if (fd_ < 0 || must_reconnect_) SKALD_RETURN_IF_ERROR(Connect());
  SKALD_RETURN_IF_ERROR(SendRaw(BuildRequest(method, target, headers, body)));
  return ReadResponse(method == "HEAD");
}

bool HttpClient::PeerClosed(int timeout_ms) {
  if (fd_ < 0) return true;
  if (pos_ < buf_.size()) return false;
  pollfd p{fd_, POLLIN, 0};
  int rc = ::poll(&p, 1, timeout_ms);
  if (rc <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

StatusOr<ClientResponse> HttpCall(const std::string& host, int port, std::string_view method,
                                  std::string_view target, const HeaderList& headers,
                                  std::string_view body) {
  HttpClient c(host, port);
  HeaderList h = headers;
  bool has_conn = false;
  for (const auto& [k, v] : h) has_conn |= IEquals(k, "Connection");
  if (!has_conn) h.emplace_back("Connection", "close");
  return c.Call(method, target, h, body);
}

}  // namespace skald::test
