// /loki/api/v1/tail over a real WebSocket: a whole in-process Skald and a Boost.Beast client
// (what logcli and Grafana speak: RFC 6455 text frames, pings answered by the client).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"

namespace skald {
namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A WebSocket client whose reader thread queues every text message and the close reason.
class WsClient {
 public:
  // Returns the HTTP status of the handshake (101 on success).
  int Connect(int port, const std::string& target) {
    tcp::resolver resolver(ioc_);
    net::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    websocket::response_type res;
    beast::error_code ec;
    ws_.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
    if (ec) return static_cast<int>(res.result_int());
    reader_ = std::thread([this] { ReadLoop(); });
    return 101;
  }
  ~WsClient() {
    beast::error_code ec;
    ws_.next_layer().close(ec);
    if (reader_.joinable()) reader_.join();
  }
  // The next message within `ms`, or nullopt.
  std::optional<std::string> Next(int ms = 5000) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return !msgs_.empty() || done_; });
    if (msgs_.empty()) return std::nullopt;
    std::string m = std::move(msgs_.front());
    msgs_.pop_front();
    return m;
  }
  // Waits for the connection to end; returns the close code and reason (0 if none).
  std::pair<int, std::string> WaitClosed(int ms = 5000) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return done_; });
    return {close_code_, close_reason_};
  }

 private:
  void ReadLoop() {
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      ws_.read(buf, ec);
      std::lock_guard<std::mutex> l(mu_);
      if (ec) {
        close_code_ = ws_.reason().code;
        close_reason_ = std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
        done_ = true;
        cv_.notify_all();
        return;
      }
      msgs_.push_back(beast::buffers_to_string(buf.data()));
      cv_.notify_all();
    }
  }

  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> msgs_;
  bool done_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

std::string Enc(const std::string& s) { return http::QueryEscape(s); }

// A WebSocket upgrade request's headers, for requests the server must refuse before upgrading
// (sent with the plain HTTP client so the reply's body can be read).
skald::http::HeaderList UpgradeHeaders() {
  return {{"Connection", "Upgrade"},
          {"Upgrade", "websocket"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Sec-WebSocket-Version", "13"}};
}

class TailApiTest : public ::testing::Test {
 protected:
  void StartSkald(std::vector<std::string> flags = {}) {
    flags.push_back("-validation.discover-service-name=");
    flags.push_back("-validation.discover-log-levels=false");
    skald_ = std::make_unique<testing::InProcessSkald>(dir_.path(), flags);
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void Push(const std::string& labels_json, const std::vector<std::pair<int64_t, std::string>>& v) {
    std::string body = R"({"streams":[{"stream":)" + labels_json + R"(,"values":[)";
    for (size_t i = 0; i < v.size(); i++) {
      if (i > 0) body += ",";
      body += "[\"" + std::to_string(v[i].first) + "\",\"" + v[i].second + "\"]";
    }
    body += "]}]}";
    auto r =
        skald_->Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << r->body;
  }
  testing::TempDir dir_{"tail-api"};
  std::unique_ptr<testing::InProcessSkald> skald_;
};

TEST_F(TailApiTest, HistoryThenLiveEntriesInLokisShape) {
  StartSkald();
  const int64_t base = (NowNanos() / kNanosPerSecond - 60) * kNanosPerSecond;
  Push(R"({"app":"web"})", {{base + 1, "level=info n=1"},
                            {base + 2, "level=error n=2"},
                            {base + 3, "level=error n=3"},
                            {base + 4, "level=error n=4"}});
  WsClient c;
  ASSERT_EQ(c.Connect(skald_->port(), "/loki/api/v1/tail?limit=2&query=" +
                                          Enc(R"({app="web"} | logfmt | level="error")")),
            101);
  // History: the newest `limit` entries, oldest first.
  auto h = c.Next();
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(
      *h,
      R"({"streams":[{"stream":{"app":"web","level":"error","n":"3"},"values":[[")" +
          std::to_string(base + 3) +
          R"(","level=error n=3"]]},{"stream":{"app":"web","level":"error","n":"4"},"values":[[")" +
          std::to_string(base + 4) + R"(","level=error n=4"]]}]})");
  // Live: only what the pipeline keeps, from matching streams.
  Push(R"({"app":"web"})", {{base + 10, "level=info n=10"}, {base + 11, "level=error n=11"}});
  Push(R"({"app":"api"})", {{base + 12, "level=error n=12"}});
  auto live = c.Next();
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(*live, R"({"streams":[{"stream":{"app":"web","level":"error","n":"11"},"values":[[")" +
                       std::to_string(base + 11) + R"(","level=error n=11"]]}]})");
  EXPECT_FALSE(c.Next(300).has_value());
}

TEST_F(TailApiTest, BadRequestsAreRefusedBeforeTheUpgrade) {
  StartSkald();
  struct Case {
    std::string target;
    std::string body;
  };
  const Case cases[] = {
      {"/loki/api/v1/tail?query=" + Enc(R"({app="web"})") + "&delay_for=6",
       "delay_for can't be greater than 5"},
      {"/loki/api/v1/tail?query=" + Enc(R"({app="web"})") + "&delay_for=x",
       R"(strconv.Atoi: parsing "x": invalid syntax)"},
      {"/loki/api/v1/tail?query=" + Enc(R"({app="web"})") + "&limit=0",
       "limit must be a positive value"},
      {"/loki/api/v1/tail?query=bad%7B",
       "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"},
      {"/loki/api/v1/tail?query=" + Enc(R"({app="web"})") + "&start=x",
       R"(could not parse 'start' parameter: strconv.ParseInt: parsing "x": invalid syntax)"},
  };
  for (const Case& c : cases) {
    auto r = skald_->Call("GET", c.target, UpgradeHeaders());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << c.target;
    EXPECT_EQ(r->body, c.body) << c.target;
  }
  // Without an upgrade: gorilla/websocket's reply.
  auto plain = skald_->Call("GET", "/loki/api/v1/tail?query=" + Enc(R"({app="web"})"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 400);
  EXPECT_EQ(plain->body, "Bad Request\n");
  // A metric query is upgraded, then closed (Loki's order).
  WsClient m;
  ASSERT_EQ(
      m.Connect(skald_->port(), "/loki/api/v1/tail?query=" + Enc(R"(sum(rate({app="web"}[1m])))")),
      101);
  auto [code, reason] = m.WaitClosed();
  EXPECT_EQ(code, 1011);
  EXPECT_EQ(reason, "only log selector is supported");
}

TEST_F(TailApiTest, ConcurrentTailsPerTenantAreLimited) {
  StartSkald({"-querier.max-concurrent-tail-requests=1"});
  WsClient a;
  ASSERT_EQ(a.Connect(skald_->port(), "/loki/api/v1/tail?query=" + Enc(R"({app="web"})")), 101);
  // The first tail registers once its (empty) history query has run.
  bool registered = false;
  for (int i = 0; i < 250 && !registered; i++) {
    registered = skald_->Metrics().find("\nloki_querier_tail_active 1\n") != std::string::npos;
    if (!registered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(registered);
  auto r = skald_->Call("GET", "/loki/api/v1/tail?query=" + Enc(R"({app="x"})"), UpgradeHeaders());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const int status = r->status;
  const std::string body = r->body;
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body, "max concurrent tail requests limit exceeded, count > limit (2 > 1)");
}

TEST_F(TailApiTest, ShutdownClosesTails) {
  StartSkald();
  WsClient a;
  ASSERT_EQ(a.Connect(skald_->port(), "/loki/api/v1/tail?query=" + Enc(R"({app="web"})")), 101);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // registered
  ASSERT_TRUE(skald_->Stop().ok());
  auto [code, reason] = a.WaitClosed();
  EXPECT_EQ(code, 1001);
  EXPECT_EQ(reason, "server shutting down");
}

}  // namespace
}  // namespace skald
