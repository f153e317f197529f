// Tests for the HTTP/1.1 server over real loopback sockets.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/metrics.h"
#include "core/thread_pool.h"
#include "tests/testing/captured_log.h"
#include "tests/testing/wait.h"
#include "tools/http/http_client.h"

namespace skald::server {
namespace {

using http::HttpClient;
using testing::WaitFor;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions opts = {}) {
    opts.address = "127.0.0.1";
    opts.port = 0;
    if (opts.threads == 0) opts.threads = 2;
    if (opts.registry == nullptr) opts.registry = &registry_;
    server_ = std::make_unique<HttpServer>(opts);
    server_->Route({"GET", "POST"}, "/echo", [](const HttpRequest& req, HttpResponse* resp) {
      resp->content_type = "text/plain";
      resp->body = req.method + " " + req.path + " ?" + req.query + " body=" + req.body +
                   " x=" + std::string(req.Header("x-test"));
    });
    server_->Route({"GET"}, "/loki/api/v1/label/*", [](const HttpRequest& req, HttpResponse* resp) {
      resp->body = "label:" + req.path;
    });
    server_->Route({"GET"}, "/loki/api/v1/label/special/*",
                   [](const HttpRequest& req, HttpResponse* resp) { resp->body = "special"; });
    server_->Route({"POST"}, "/loki/api/v1/push", [](const HttpRequest& req, HttpResponse* resp) {
      resp->status = 204;
      resp->body = "ignored";
    });
    server_->Route({"GET"}, "/throw",
                   [](const HttpRequest&, HttpResponse*) { throw std::runtime_error("boom"); });
    server_->Route({"GET"}, "/close", [](const HttpRequest&, HttpResponse* resp) {
      resp->body = "bye";
      resp->headers.emplace_back("Connection", "close");
    });
    server_->Route({"GET"}, "/status/499", [](const HttpRequest&, HttpResponse* resp) {
      resp->SetText(499, "the request was cancelled by the client");
    });
    server_->Route({"GET"}, "/slow", [this](const HttpRequest&, HttpResponse* resp) {
      {
        std::lock_guard<std::mutex> l(mu_);
        slow_entered_ = true;
      }
      cv_.notify_all();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      resp->body = "slow done";
    });
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  metrics::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool slow_entered_ = false;
};

TEST_F(HttpServerTest, GetAndPostReachHandlerWithDecodedPathAndRawQuery) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/e%63ho?a=%20b&c", {{"X-Test", "hdr"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /echo ?a=%20b&c body= x=hdr");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain");
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_TRUE(r->HasHeader("Date"));

  r = http::Fetch("127.0.0.1", port_, "POST", "/echo", {}, "payload");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "POST /echo ? body=payload x=");
}

TEST_F(HttpServerTest, DefaultContentTypeIsLokiJson) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/label/job/values");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Content-Type"), "application/json; charset=UTF-8");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  for (int i = 0; i < 20; i++) {
    auto r = c.Call("POST", "/echo?i=" + std::to_string(i), {}, "b" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body,
              "POST /echo ?i=" + std::to_string(i) + " body=b" + std::to_string(i) + " x=");
    EXPECT_FALSE(r->connection_close);
  }
  EXPECT_EQ(c.reconnects(), 0);  // never silently retried on a new connection
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  ASSERT_TRUE(c.Connect().ok());
  std::string batch;
  for (int i = 0; i < 5; i++)
    batch += http::BuildRequest("GET", c.url(), "/echo?n=" + std::to_string(i), {}, "");
  batch += http::BuildRequest("POST", c.url(), "/echo", {}, "last");
  ASSERT_TRUE(c.SendRaw(batch).ok());
  for (int i = 0; i < 5; i++) {
    auto r = c.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "GET /echo ?n=" + std::to_string(i) + " body= x=");
  }
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "POST /echo ? body=last x=");
}

TEST_F(HttpServerTest, UnknownPathIsGo404) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "404 page not found\n");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "DELETE", "/echo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->Header("Allow"), "GET, POST");
  r = http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/push");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndConnectionCloses) {
  HttpServerOptions o;
  o.max_body_bytes = 1000;
  StartServer(o);
  // Content-Length announced above the limit: rejected before the body is read.
  HttpClient c("127.0.0.1", port_);
  auto r = c.Call("POST", "/echo", {}, std::string(5000, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "request body too large: message size too large than max (5000 vs 1000)");
  EXPECT_TRUE(r->connection_close);
  EXPECT_TRUE(c.PeerClosed(2000));

  // Chunked body that grows past the limit.
  HttpClient c2("127.0.0.1", port_);
  ASSERT_TRUE(c2.Connect().ok());
  std::string chunk(600, 'y');
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                    chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
  ASSERT_TRUE(c2.SendRaw(req).ok());
  r = c2.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body.rfind("request body too large: ", 0), 0u) << r->body;

  // At the limit is fine.
  r = http::Fetch("127.0.0.1", port_, "POST", "/echo", {}, std::string(1000, 'z'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

using skald::testing::CapturedLog;

size_t CountLines(const std::string& text, std::string_view needle) {
  return skald::testing::CountOccurrences(text, needle);
}

TEST_F(HttpServerTest, HeaderFieldOver64KiBIs431NotADroppedConnection) {
  CapturedLog captured;
  StartServer();  // 1 MiB header limit: the field fits the block but not a Beast field
  for (int i = 0; i < 3; i++) {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Call("GET", "/echo", {{"X-Big", std::string(70 << 10, 'a')}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 431);
    EXPECT_EQ(r->body, "431 Request Header Fields Too Large");
    EXPECT_TRUE(r->connection_close);
  }
  // A long field name is the same.
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/echo", {{std::string(70 << 10, 'n'), "v"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  // Just under Beast's field limit is served.
  r = http::Fetch("127.0.0.1", port_, "GET", "/echo", {{"X-Test", std::string(60 << 10, 'b')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  // Four 431s, one warning (the interval is a minute), no io-thread exception.
  const std::string text = captured.Text();
  EXPECT_EQ(CountLines(text, "HTTP request header too large"), 1u) << text;
  EXPECT_EQ(CountLines(text, "suppressed=0"), 1u) << text;
  EXPECT_EQ(CountLines(text, "caught exception"), 0u) << text;
}

TEST_F(HttpServerTest, HeaderBlockOverLimitIs431AndLoggedOncePerInterval) {
  CapturedLog captured;
  HttpServerOptions o;
  o.max_header_bytes = 4096;
  StartServer(o);
  for (int i = 0; i < 5; i++) {
    HttpClient c("127.0.0.1", port_);
    std::vector<std::pair<std::string, std::string>> headers;
    for (int h = 0; h < 20; h++)
      headers.emplace_back("X-H" + std::to_string(h), std::string(300, 'v'));
    auto r = c.Call("GET", "/echo", headers);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.PeerClosed(2000));
  }
  EXPECT_EQ(CountLines(captured.Text(), "HTTP request header too large"), 1u) << captured.Text();
}

TEST_F(HttpServerTest, RejectedHeaderWarningsCarryTheSuppressedCount) {
  CapturedLog captured;
  HttpServerOptions o;
  o.max_header_bytes = 1024;
  o.rejected_header_log_interval_ms = 0;  // every one is logged, none suppressed
  StartServer(o);
  for (int i = 0; i < 3; i++) {
    auto r = http::Fetch("127.0.0.1", port_, "GET", "/echo", {{"X-Big", std::string(2000, 'a')}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 431);
  }
  const std::string text = captured.Text();
  EXPECT_EQ(CountLines(text, "HTTP request header too large"), 3u) << text;
  EXPECT_EQ(CountLines(text, "suppressed=0"), 3u) << text;
}

TEST_F(HttpServerTest, BodyKeepsParsePaddingAndCanBeMovedOut) {
  size_t size = 0, capacity = 0;
  std::string taken;
  server_ = std::make_unique<HttpServer>([this] {
    HttpServerOptions so;
    so.address = "127.0.0.1";
    so.port = 0;
    so.threads = 1;
    so.registry = &registry_;
    return so;
  }());
  server_->Route({"POST"}, "/take", [&](const HttpRequest& req, HttpResponse* resp) {
    size = req.body.size();
    capacity = req.body.capacity();
    taken = std::move(req.body);
    resp->status = 204;
  });
  ASSERT_TRUE(server_->Start().ok());
  const std::string body(100000, 'p');
  // With a Content-Length ...
  auto r = http::Fetch("127.0.0.1", server_->port(), "POST", "/take", {}, body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(size, body.size());
  EXPECT_GE(capacity, body.size() + kBodyPadding);
  EXPECT_EQ(taken, body);
  // ... and chunked.
  HttpClient c("127.0.0.1", server_->port());
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.SendRaw("POST /take HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3e8\r\n" +
                        std::string(1000, 'c') + "\r\n0\r\n\r\n")
                  .ok());
  r = c.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(size, 1000u);
  EXPECT_GE(capacity, 1000u + kBodyPadding);
  // The request size metric counts the body even though the handler took it.
  const std::string text = registry_.Expose();
  EXPECT_NE(text.find("skald_request_message_bytes_sum{method=\"POST\",route=\"take\"} 101000\n"),
            std::string::npos)
      << text;
}

TEST_F(HttpServerTest, ExpectContinueIsHonoured) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(
      c.SendRaw(
           "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
          .ok());
  // The interim response arrives before we send the body.
  auto interim = c.ReadResponse({.return_informational = true});
  ASSERT_TRUE(interim.ok()) << interim.status().ToString();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.SendRaw("data").ok());
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /echo ? body=data x=");
}

TEST_F(HttpServerTest, WildcardRouteMatchesLongestPrefix) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/label/job/values");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "label:/loki/api/v1/label/job/values");
  r = http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/label/special/values");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "special");
  r = http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/label");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);  // the wildcard needs the trailing '/'
}

TEST_F(HttpServerTest, HandlerExceptionIs500) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/throw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "internal server error: boom");
  // The server keeps serving.
  r = http::Fetch("127.0.0.1", port_, "GET", "/echo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, NoContentHasNoBodyAndNoLength) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  auto r = c.Call("POST", "/loki/api/v1/push", {}, "data");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(r->HasHeader("Content-Length"));
  EXPECT_FALSE(r->HasHeader("Content-Type"));
  // The connection stays usable (no stray body bytes).
  r = c.Call("GET", "/echo");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, UnusualStatusCodesKeepTheirNumber) {
  StartServer();
  auto r = http::Fetch("127.0.0.1", port_, "GET", "/status/499");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 499);
  EXPECT_EQ(r->Reason(), "status code 499");
  EXPECT_EQ(r->body, "the request was cancelled by the client");
}

TEST_F(HttpServerTest, ConnectionCloseFromClientOrHandler) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  auto r = c.Call("GET", "/echo", {{"Connection", "close"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->connection_close);
  EXPECT_TRUE(c.PeerClosed(2000));

  HttpClient c2("127.0.0.1", port_);
  r = c2.Call("GET", "/close");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "bye");
  EXPECT_TRUE(r->connection_close);
  EXPECT_TRUE(c2.PeerClosed(2000));
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveRequested) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.SendRaw("GET /echo HTTP/1.0\r\n\r\n").ok());
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.PeerClosed(2000));

  HttpClient c2("127.0.0.1", port_);
  ASSERT_TRUE(c2.Connect().ok());
  ASSERT_TRUE(c2.SendRaw("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  r = c2.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Connection"), "keep-alive");
  ASSERT_TRUE(c2.SendRaw("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok());
  r = c2.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, HeadSendsHeadersOnly) {
  StartServer();
  server_->Stop();
  server_ = std::make_unique<HttpServer>(HttpServerOptions{"127.0.0.1", 0, 1});
  server_->Route({"GET", "HEAD"}, "/ready",
                 [](const HttpRequest&, HttpResponse* resp) { resp->SetText(200, "ready\n"); });
  ASSERT_TRUE(server_->Start().ok());
  HttpClient c("127.0.0.1", server_->port());
  auto r = c.Call("HEAD", "/ready");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "6");
  EXPECT_EQ(r->body, "");
  r = c.Call("GET", "/ready");  // the HEAD reply left no stray bytes
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "ready\n");
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.SendRaw("GARBAGE\r\n\r\n").ok());
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "400 Bad Request");

  r = http::Fetch("127.0.0.1", port_, "GET", "/echo%zz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
}

TEST_F(HttpServerTest, ConcurrentClients) {
  StartServer(HttpServerOptions{"", 0, 4});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", port_);
      for (int i = 0; i < 50; i++) {
        std::string body = std::to_string(t) + "-" + std::to_string(i);
        auto r = c.Call("POST", "/echo", {}, body);
        if (r.ok() && r->status == 200 && r->body == "POST /echo ? body=" + body + " x=") ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndFinishesInFlightRequests) {
  StartServer();
  HttpClient idle("127.0.0.1", port_);
  ASSERT_TRUE(idle.Call("GET", "/echo").ok());  // kept alive, now idle

  std::atomic<bool> slow_ok{false};
  std::string slow_conn;
  std::thread slow([&] {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Call("GET", "/slow");
    if (r.ok() && r->body == "slow done") {
      slow_ok = true;
      slow_conn = std::string(r->Header("Connection"));
    }
  });
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(5), [&] { return slow_entered_; }));
  }
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  auto took = std::chrono::steady_clock::now() - t0;
  slow.join();
  EXPECT_TRUE(slow_ok.load());
  EXPECT_EQ(slow_conn, "close");
  EXPECT_TRUE(idle.PeerClosed(1000));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(server_->connection_count(), 0u);
  // New connections are refused.
  EXPECT_FALSE(http::Fetch("127.0.0.1", port_, "GET", "/echo").ok());
  server_->Stop();  // idempotent
}

// A handler run off the io thread can tell that its client closed the connection (so a
// query nobody will read can stop); while the client waits, the probe says so.
TEST_F(HttpServerTest, HandlersOffTheIoThreadSeeTheClientGo) {
  ThreadPool pool("test-http", 1, 4);
  std::promise<bool> waiting_client;  // the probe's answer while the client waits
  std::promise<bool> gone;            // whether the probe saw the client go within 10 s
  std::promise<void> entered;
  std::atomic<bool> had_probe_inline{true};
  server_ = std::make_unique<HttpServer>(HttpServerOptions{.address = "127.0.0.1", .port = 0});
  server_->Route({"GET"}, "/watch", [&](const HttpRequest& req, HttpResponse* resp) {
    if (!req.client_gone) {
      gone.set_value(false);
      return;
    }
    waiting_client.set_value(req.client_gone());
    entered.set_value();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool saw = false;
    while (!saw && std::chrono::steady_clock::now() < until) {
      saw = req.client_gone();
      if (!saw) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    gone.set_value(saw);
    resp->body = "late";
  });
  server_->Route({"GET"}, "/inline", [&](const HttpRequest& req, HttpResponse* resp) {
    had_probe_inline = static_cast<bool>(req.client_gone);
  });
  ASSERT_TRUE(server_->RunOn("/watch", &pool, /*probe_client=*/true).ok());
  ASSERT_TRUE(server_->Start().ok());
  port_ = server_->port();
  ASSERT_TRUE(http::Fetch("127.0.0.1", port_, "GET", "/inline").ok());
  EXPECT_FALSE(had_probe_inline.load());

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  auto entered_f = entered.get_future();
  ASSERT_EQ(entered_f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(waiting_client.get_future().get());
  ::close(fd);
  auto gone_f = gone.get_future();
  ASSERT_EQ(gone_f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(gone_f.get());
  server_->Stop();
  pool.Shutdown();
}

TEST_F(HttpServerTest, StopWithClientThatNeverSendsAnything) {
  StartServer();
  HttpClient c("127.0.0.1", port_);
  ASSERT_TRUE(c.Connect().ok());
  ASSERT_TRUE(c.SendRaw("GET /echo HTTP/1.1\r\nHost: x\r\n").ok());  // incomplete header
  ASSERT_TRUE(WaitFor([&] { return server_->connection_count() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(c.PeerClosed(1000));
}

TEST_F(HttpServerTest, BindFailureIsReported) {
  StartServer();
  HttpServer other(HttpServerOptions{"127.0.0.1", port_, 1});
  Status s = other.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("bind"), std::string::npos) << s.message();
}

TEST_F(HttpServerTest, RequestMetricsAreRecorded) {
  StartServer();
  ASSERT_TRUE(http::Fetch("127.0.0.1", port_, "GET", "/echo").ok());
  ASSERT_TRUE(http::Fetch("127.0.0.1", port_, "GET", "/loki/api/v1/label/x/values").ok());
  ASSERT_TRUE(http::Fetch("127.0.0.1", port_, "GET", "/missing").ok());
  ASSERT_TRUE(http::Fetch("127.0.0.1", port_, "BREW", "/echo").ok());
  std::string text = registry_.Expose();
  // Non-standard methods do not become label values.
  EXPECT_EQ(text.find("BREW"), std::string::npos);
  EXPECT_NE(text.find("skald_request_duration_seconds_count{method=\"other\",route=\"echo\","
                      "status_code=\"405\",ws=\"false\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skald_request_duration_seconds_count{method=\"GET\",route=\"echo\","
                      "status_code=\"200\",ws=\"false\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skald_request_duration_seconds_count{method=\"GET\",route=\"loki_api_v1_"
                      "label\",status_code=\"200\",ws=\"false\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skald_request_duration_seconds_count{method=\"GET\",route=\"other\","
                      "status_code=\"404\",ws=\"false\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("skald_inflight_requests{method=\"GET\",route=\"echo\"} 0\n"),
            std::string::npos)
      << text;
}

TEST(RouteLabelTest, LokiStyle) {
  EXPECT_EQ(RouteLabel("/loki/api/v1/push"), "loki_api_v1_push");
  EXPECT_EQ(RouteLabel("/loki/api/v1/label/*"), "loki_api_v1_label");
  EXPECT_EQ(RouteLabel("/api/prom/push"), "api_prom_push");
  EXPECT_EQ(RouteLabel("/Ready"), "ready");
  EXPECT_EQ(RouteLabel("/"), "root");
}

}  // namespace
}  // namespace skald::server
