// Tests for the shared HTTP/1.1 client (skald-bench and the tests) against a
// scripted loopback server.
#include "tools/http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace skald::http {
namespace {

// A one-connection-at-a-time server: for every request it reads (head plus
// Content-Length body) it writes the next scripted reply. A reply with
// close_after closes the connection after writing it.
class ScriptedServer {
 public:
  struct Reply {
    std::string bytes;
    bool close_after = false;
  };

  explicit ScriptedServer(std::vector<Reply> replies) : replies_(replies.begin(), replies.end()) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  int accepts() const { return accepts_.load(); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      accepts_++;
      std::string buf;
      char tmp[4096];
      bool open = true;
      while (open) {
        size_t head_end;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
          ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) {
            open = false;
            break;
          }
          buf.append(tmp, static_cast<size_t>(n));
        }
        if (!open) break;
        size_t body_len = 0;
        size_t cl = buf.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) body_len = std::stoul(buf.substr(cl + 16));
        while (buf.size() < head_end + 4 + body_len) {
          ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) break;
          buf.append(tmp, static_cast<size_t>(n));
        }
        Reply r;
        {
          std::lock_guard<std::mutex> l(mu_);
          requests_.push_back(buf.substr(0, head_end + 4 + body_len));
          if (replies_.empty()) break;
          r = replies_.front();
          replies_.pop_front();
        }
        buf.erase(0, head_end + 4 + body_len);
        // Write in small pieces so the client has to reassemble.
        for (size_t i = 0; i < r.bytes.size(); i += 7) {
          std::string piece = r.bytes.substr(i, 7);
          ::send(c, piece.data(), piece.size(), MSG_NOSIGNAL);
        }
        if (r.close_after) open = false;
      }
      ::close(c);
    }
  }

  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepts_{0};
  std::mutex mu_;
  std::deque<Reply> replies_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

Url Local(uint16_t port) {
  Url u;
  u.host = "127.0.0.1";
  u.port = port;
  return u;
}

TEST(ParseUrlTest, HostPortPathAndErrors) {
  StatusOr<Url> u = ParseUrl("http://localhost:3100/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 3100);
  EXPECT_EQ(u->base_path, "/prefix");
  EXPECT_EQ(u->HostHeader(), "localhost:3100");
  u = ParseUrl("example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->HostHeader(), "example.com");
  u = ParseUrl("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");
  EXPECT_FALSE(ParseUrl("https://x").ok());
  EXPECT_FALSE(ParseUrl("http://x:0").ok());
  EXPECT_FALSE(ParseUrl("http://x:70000").ok());
  EXPECT_FALSE(ParseUrl("http://:80").ok());
}

TEST(QueryEscapeTest, EscapesEverythingButUnreserved) {
  std::string out;
  AppendQueryEscaped(&out, "{job=\"a b\"} |~ \"(?i)x\"-_.~");
  EXPECT_EQ(out, "%7Bjob%3D%22a%20b%22%7D%20%7C~%20%22%28%3Fi%29x%22-_.~");
}

TEST(BuildRequestTest, SerializesHeadAndBody) {
  Url u = Local(3100);
  u.base_path = "/base";
  std::string r = BuildRequest("POST", u, "/loki/api/v1/push", {{"Content-Type", "x/y"}}, "abc");
  EXPECT_EQ(r,
            "POST /base/loki/api/v1/push HTTP/1.1\r\nHost: 127.0.0.1:3100\r\nContent-Type: "
            "x/y\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(BuildRequest("GET", Local(80), "/ready", {}, ""),
            "GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

TEST(HttpClientTest, ReadsContentLengthAndChunkedBodiesOnOneKeptAliveConnection) {
  ScriptedServer srv({
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"},
      {"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
       "4;ext=1\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n"},
      {"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"},
  });
  HttpClient c(Local(srv.port()), 5000);
  HttpResponse r;
  ASSERT_TRUE(c.Get("/a", {}, &r).ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_TRUE(c.Get("/b", {}, &r).ok());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(r.content_type, "");
  ASSERT_TRUE(c.Post("/c", {{"X-Scope-OrgID", "t1"}}, "payload", &r).ok());
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(c.Get("/d", {}, &r).ok());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "bad");
  EXPECT_EQ(srv.accepts(), 1);
  EXPECT_EQ(c.reconnects(), 0);
  std::vector<std::string> reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2], "POST /c HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(srv.port()) +
                         "\r\nX-Scope-OrgID: t1\r\nContent-Length: 7\r\n\r\npayload");
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosedTheKeptAliveConnection) {
  ScriptedServer srv({
      {"HTTP/1.1 204 No Content\r\n\r\n", /*close_after=*/true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
  });
  HttpClient c(Local(srv.port()), 5000);
  HttpResponse r;
  ASSERT_TRUE(c.Get("/1", {}, &r).ok());
  EXPECT_EQ(r.status, 204);
  // Wait until the server has closed its end; the client only learns it on the next request.
  ASSERT_TRUE(c.PeerClosed(5000));
  Status s = c.Get("/2", {}, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(srv.accepts(), 2);
  EXPECT_EQ(c.reconnects(), 1);
}

TEST(HttpClientTest, ConnectionCloseAndUnframedBodies) {
  ScriptedServer srv({
      {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-eof", /*close_after=*/true},
  });
  HttpClient c(Local(srv.port()), 5000);
  HttpResponse r;
  ASSERT_TRUE(c.Get("/x", {}, &r).ok());
  EXPECT_EQ(r.body, "until-eof");
  EXPECT_TRUE(r.connection_close);
  EXPECT_FALSE(c.connected());
}

TEST(HttpClientTest, MalformedResponsesAndRefusedConnectionsAreErrors) {
  ScriptedServer srv({{"garbage\r\n\r\n"}});
  HttpClient c(Local(srv.port()), 5000);
  HttpResponse r;
  EXPECT_EQ(c.Get("/x", {}, &r).code(), StatusCode::kCorruption);
  EXPECT_FALSE(c.connected());

  // A port nobody listens on (bind, read the port, close).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  HttpClient d(Local(ntohs(a.sin_port)), 1000);
  EXPECT_EQ(d.Get("/x", {}, &r).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace skald::http
