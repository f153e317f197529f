// RemoteWriter against the real Prometheus (Debian's `prometheus`, remote-write receiver on),
// plus the failure paths Prometheus cannot be made to produce, against an in-test receiver.
#include "ruler/remote_write.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "tests/ruler/remote_test_util.h"
#include "tests/testing/external_server.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"
#include "tools/http/http_client.h"

namespace skald::ruler {
namespace {

using skald::testing::ExternalServer;
using skald::testing::TempDir;
using skald::testing::WaitFor;

using test::ElapsedMs;
using test::L;
using test::NowMs;

std::string Hex(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

std::string Snappy(const std::string& compressed) {
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) return "<bad snappy>";
  return out;
}

// ---------------------------------------------------------------------------
// Encoding

TEST(EncodeWriteRequestTest, KnownBytes) {
  std::vector<RemoteSample> samples = {
      {L({{"a", "b"}, {"__name__", "m"}}), 1.5, 1000},
  };
  // Label{__name__,m}: 0a 08 "__name__" 12 01 "m" (13 bytes); Label{a,b}: 0a 01 61 12 01 62
  // (6); Sample: 09 <1.5 as little-endian IEEE 754> 10 e8 07 (12); TimeSeries: 0a 0d [13]
  // 0a 06 [6] 12 0c [12] (37 = 0x25); WriteRequest: 0a 25 [37].
  const std::string expected =
      "0a25"
      "0a0d"
      "0a085f5f6e616d655f5f12016d"
      "0a06"
      "0a0161120162"
      "120c"
      "09000000000000f83f"
      "10e807";
  EXPECT_EQ(Hex(EncodeWriteRequest(samples)), expected);
}

TEST(EncodeWriteRequestTest, DefaultsAreLeftOutAndNegativeTimestampsAreTwosComplement) {
  std::vector<RemoteSample> samples = {
      {L({{"__name__", "z"}}), 0.0, -1},  // value 0 omitted; -1 is a 10-byte varint
      {L({{"__name__", "y"}}), -0.0, 0},  // -0.0 has a sign bit, so it is sent; ts 0 omitted
  };
  const std::string expected =
      // series 1: labels (13) + samples 12 0b 10 ff*9 01 (13) = 28 = 0x1c
      "0a1c"
      "0a0d0a085f5f6e616d655f5f12017a"
      "120b10ffffffffffffffffff01"
      // series 2: labels (13) + samples 12 09 09 <-0.0> (11) = 26 = 0x1a
      "0a1a"
      "0a0d0a085f5f6e616d655f5f120179"
      "1209090000000000000080";
  EXPECT_EQ(Hex(EncodeWriteRequest(samples)), expected);
  EXPECT_EQ(EncodeWriteRequest({}), "");
}

TEST(EncodeWriteRequestTest, SnappyIsTheBlockFormatOfTheProtobuf) {
  std::vector<RemoteSample> samples;
  for (int i = 0; i < 100; ++i) {
    samples.push_back({L({{"__name__", "m"}, {"i", std::to_string(i)}}), i * 0.5, 1000 + i});
  }
  const std::string compressed = EncodeWriteRequestSnappy(samples);
  EXPECT_LT(compressed.size(), EncodeWriteRequest(samples).size());
  EXPECT_EQ(Snappy(compressed), EncodeWriteRequest(samples));
}

// ---------------------------------------------------------------------------
// ExternalServer itself

TEST(ExternalServerTest, EarlyExitIsAnErrorWithTheLogTail) {
  TempDir dir("external");
  ExternalServer server;
  const auto start = std::chrono::steady_clock::now();
  Status st = server.Start({"sh", "-c", "echo boom-from-child; exit 3"}, ExternalServer::FreePort(),
                           "/-/ready", dir.Sub("log"), 10000);
  EXPECT_LT(ElapsedMs(start), 5000);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("exited with status 3"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("boom-from-child"), std::string::npos) << st.ToString();
}

TEST(ExternalServerTest, MissingBinaryIsNotFound) {
  TempDir dir("external");
  ExternalServer server;
  EXPECT_FALSE(ExternalServer::Available("skald-no-such-binary"));
  EXPECT_TRUE(ExternalServer::Available("sh"));
  Status st =
      server.Start({"skald-no-such-binary"}, ExternalServer::FreePort(), "/", dir.Sub("log"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
}

TEST(ExternalServerTest, NotReadyInTimeIsDeadlineExceededAndTheProcessIsKilled) {
  TempDir dir("external");
  ExternalServer server;
  Status st = server.Start({"sleep", "30"}, ExternalServer::FreePort(), "/", dir.Sub("log"), 300);
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st.ToString();
}

// ---------------------------------------------------------------------------
// The real Prometheus

// Prometheus' JSON for a sample time (web/api/v1 marshalTimestamp): seconds, then the
// milliseconds as three digits when there are any.
std::string PromTime(int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), ".%03d", static_cast<int>(ms % 1000));
    s += buf;
  }
  return s;
}

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("prometheus");
    server_ = new ExternalServer;
    const std::string config = dir_->Sub("prometheus.yml");
    std::ofstream(config) << "global:\n  scrape_interval: 15s\n";
    const int port = ExternalServer::FreePort();
    *status_ = server_->Start(
        {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_->Sub("data"),
         "--web.listen-address=127.0.0.1:" + std::to_string(port),
         "--web.enable-remote-write-receiver"},
        port, "/-/ready", dir_->Sub("prometheus.log"));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    // Fail, not skip: scripts/install-deps.sh installs prometheus.
    ASSERT_TRUE(ExternalServer::Available("prometheus")) << "prometheus is not installed";
    ASSERT_TRUE(status_->ok()) << status_->ToString();
  }

  static std::string WriteUrl() {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/write";
  }
  // GET /api/v1/query; the whole body.
  static std::string Query(const std::string& expr, int64_t at_ms) {
    http::HttpClient client("127.0.0.1", server_->port(), 10000);
    auto resp = client.Call(
        "GET", "/api/v1/query?query=" + http::QueryEscape(expr) + "&time=" + PromTime(at_ms));
    if (!resp.ok()) return resp.status().ToString();
    return std::to_string(resp->status) + " " + resp->body;
  }

  static inline TempDir* dir_ = nullptr;
  static inline ExternalServer* server_ = nullptr;
  static inline Status* status_ = new Status();
};

TEST_F(PrometheusTest, SamplesArriveWithExactLabelsValuesAndTimestamps) {
  metrics::Registry registry;
  RemoteWriter writer({.url = WriteUrl()}, &registry);
  // Recent, whole-second-aligned times plus a millisecond part, to see milliseconds survive.
  const int64_t base = (NowMs() / 1000 - 30) * 1000;
  const int64_t t1 = base + 250, t2 = base + 10250, t3 = base + 20007;
  writer.Enqueue(
      "tenant-a",
      {{L({{"__name__", "skald_rw_gauge"}, {"rule", "r1"}, {"env", "prod \"x\""}}), 1.5, t1},
       {L({{"__name__", "skald_rw_other"}, {"job", "ruler"}}), -0.001, t1}});
  writer.Enqueue(
      "tenant-a",
      {{L({{"__name__", "skald_rw_gauge"}, {"rule", "r1"}, {"env", "prod \"x\""}}), 2.25, t2},
       {L({{"__name__", "skald_rw_gauge"}, {"rule", "r2"}, {"env", "dev"}}),
        std::numeric_limits<double>::quiet_NaN(), t3}});
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 4; }, 20000))
      << "sent=" << writer.samples_sent() << " failed=" << writer.samples_failed()
      << "\nprometheus log:\n"
      << server_->log();
  EXPECT_EQ(writer.samples_failed(), 0u);
  EXPECT_EQ(writer.samples_dropped(), 0u);

  // A range selector returns every stored sample with its own timestamp, series sorted by
  // labels: the exact label sets, values and times that were written, and nothing else.
  EXPECT_EQ(Query("skald_rw_gauge[5m]", base + 30000),
            "200 {\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{\"__name__\":\"skald_rw_gauge\",\"env\":\"dev\",\"rule\":\"r2\"},"
            "\"values\":[[" +
                PromTime(t3) +
                ",\"NaN\"]]},"
                "{\"metric\":{\"__name__\":\"skald_rw_gauge\",\"env\":\"prod \\\"x\\\"\","
                "\"rule\":\"r1\"},\"values\":[[" +
                PromTime(t1) + ",\"1.5\"],[" + PromTime(t2) + ",\"2.25\"]]}]}}");
  EXPECT_EQ(Query("skald_rw_other[5m]", base + 30000),
            "200 {\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{\"__name__\":\"skald_rw_other\",\"job\":\"ruler\"},\"values\":[[" +
                PromTime(t1) + ",\"-0.001\"]]}]}}");

  writer.Stop();
  const std::string exposition = registry.Expose();
  EXPECT_EQ(skald::testing::SampleValue(exposition,
                                        "loki_ruler_remote_write_samples_total{status=\"sent\"}"),
            4.0)
      << exposition;
  EXPECT_EQ(skald::testing::SampleValue(exposition,
                                        "loki_ruler_remote_write_samples_total{status=\"failed\"}"),
            0.0)
      << exposition;
  const auto requests = skald::testing::SampleValue(
      exposition, "loki_ruler_remote_write_requests_total{status=\"sent\"}");
  ASSERT_TRUE(requests.has_value()) << exposition;
  EXPECT_GE(*requests, 1.0);
  EXPECT_LE(*requests, 2.0);  // the two batches may or may not have been grouped
}

TEST_F(PrometheusTest, OutOfBoundsSampleIsRefusedWith400AndNotRetried) {
  // A sample far older than the head block is a client error to Prometheus (HTTP 400):
  // the writer must give up on it at once, and still deliver what comes next.
  RemoteWriter writer({.url = WriteUrl(), .min_backoff_ms = 5000}, nullptr);
  const int64_t now = NowMs();
  // An empty head accepts any time; a recent sample makes "48 hours ago" out of bounds.
  writer.Enqueue("t", {{L({{"__name__", "skald_rw_before_ancient"}}), 1, now}});
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 1; }, 4000));
  writer.Enqueue("t", {{L({{"__name__", "skald_rw_ancient"}}), 1, now - 48LL * 3600 * 1000}});
  writer.Enqueue("other", {{L({{"__name__", "skald_rw_after_ancient"}}), 7, now}});
  ASSERT_TRUE(
      WaitFor([&] { return writer.samples_failed() == 1 && writer.samples_sent() == 2; }, 4000))
      << "sent=" << writer.samples_sent() << " failed=" << writer.samples_failed();
  EXPECT_EQ(Query("skald_rw_after_ancient", now),
            "200 {\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"__name__\":\"skald_rw_after_ancient\"},\"value\":[" +
                PromTime(now) + ",\"7\"]}]}}");
}

// ---------------------------------------------------------------------------
// A scripted receiver: a test double for faults the real Prometheus cannot be made to
// produce on demand (a 500 followed by success, a 429). It answers the given statuses in
// order (the last one repeats) and records every request.
class FakeReceiver {
 public:
  struct Request {
    std::string head;
    std::string body;
  };

  explicit FakeReceiver(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "fake receiver: cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeReceiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write"; }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Waits for fd to be readable, checking stop_ every 20 ms; false when stopping.
  bool WaitReadable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void Serve() {
    while (WaitReadable(listen_fd_)) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ServeConnection(fd);
      ::close(fd);
    }
  }

  void ServeConnection(int fd) {
    std::string buf;
    for (;;) {
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!Read(fd, &buf)) return;
      }
      Request req;
      req.head = buf.substr(0, head_end);
      size_t length = 0;
      std::string lower;
      for (char c : req.head) lower.push_back(static_cast<char>(std::tolower(c)));
      size_t cl = lower.find("content-length:");
      if (cl != std::string::npos) length = std::stoul(req.head.substr(cl + 15));
      buf.erase(0, head_end + 4);
      while (buf.size() < length) {
        if (!Read(fd, &buf)) return;
      }
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      int status;
      {
        std::lock_guard<std::mutex> lock(mu_);
        status = statuses_[std::min(requests_.size(), statuses_.size() - 1)];
        requests_.push_back(std::move(req));
      }
      const std::string body = "scripted " + std::to_string(status);
      const std::string resp = "HTTP/1.1 " + std::to_string(status) +
                               " Scripted\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\n\r\n" + body;
      if (::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  bool Read(int fd, std::string* buf) {
    if (!WaitReadable(fd)) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
    return true;
  }

  const std::vector<int> statuses_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

std::string HeaderValue(const std::string& head, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  size_t p = head.find(key);
  if (p == std::string::npos) return "<absent>";
  p += key.size();
  return head.substr(p, head.find("\r\n", p) - p);
}

std::vector<RemoteSample> Batch(const std::string& metric, int n, int64_t ts) {
  std::vector<RemoteSample> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({L({{"__name__", metric}, {"i", std::to_string(i)}}), 1.0 * i, ts});
  }
  return out;
}

std::vector<RemoteSample> Concat(std::vector<std::vector<RemoteSample>> parts) {
  std::vector<RemoteSample> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(RemoteWriterFaultTest, Retries500ThenGroupsQueuedBatchesOfATenant) {
  FakeReceiver receiver({500, 200});
  metrics::Registry registry;
  RemoteWriter writer({.url = receiver.url(), .min_backoff_ms = 300}, &registry);
  const auto first = Batch("a", 2, 1000);
  writer.Enqueue("t1", first);
  ASSERT_TRUE(WaitFor([&] { return receiver.count() == 1; }, 5000));
  // While the writer backs off from the 500, three more evaluations queue up: two of t1 and
  // one of t2. They must go out as one t1 request and one t2 request, after the retry.
  const auto b2 = Batch("b", 3, 2000), b3 = Batch("c", 1, 3000), b4 = Batch("d", 2, 4000);
  writer.Enqueue("t1", b2);
  writer.Enqueue("t2", b3);
  writer.Enqueue("t1", b4);
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 8; }, 5000))
      << "sent=" << writer.samples_sent() << " failed=" << writer.samples_failed();
  const auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(Snappy(reqs[0].body), EncodeWriteRequest(first));
  EXPECT_EQ(reqs[1].body, reqs[0].body);  // the retry resends the same bytes
  EXPECT_EQ(Snappy(reqs[2].body), EncodeWriteRequest(Concat({b2, b4})));
  EXPECT_EQ(Snappy(reqs[3].body), EncodeWriteRequest(b3));
  EXPECT_EQ(HeaderValue(reqs[2].head, "X-Scope-OrgID"), "t1");
  EXPECT_EQ(HeaderValue(reqs[3].head, "X-Scope-OrgID"), "t2");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.head.substr(0, r.head.find("\r\n")), "POST /api/v1/write HTTP/1.1");
    EXPECT_EQ(HeaderValue(r.head, "Content-Encoding"), "snappy");
    EXPECT_EQ(HeaderValue(r.head, "Content-Type"), "application/x-protobuf");
    EXPECT_EQ(HeaderValue(r.head, "X-Prometheus-Remote-Write-Version"), "0.1.0");
    EXPECT_EQ(HeaderValue(r.head, "User-Agent"), "Skald-ruler");
  }
  EXPECT_EQ(writer.samples_failed(), 0u);
  writer.Stop();
  const std::string exposition = registry.Expose();
  EXPECT_TRUE(skald::testing::HasLine(
      exposition, "loki_ruler_remote_write_requests_total{status=\"retried\"} 1"))
      << exposition;
  EXPECT_TRUE(skald::testing::HasLine(exposition,
                                      "loki_ruler_remote_write_requests_total{status=\"sent\"} 3"))
      << exposition;
}

TEST(RemoteWriterFaultTest, Retries429UntilMaxRetriesThenFails) {
  FakeReceiver receiver({429});
  RemoteWriter writer({.url = receiver.url(), .max_retries = 3, .min_backoff_ms = 5}, nullptr);
  writer.Enqueue("t", Batch("a", 2, 1000));
  ASSERT_TRUE(WaitFor([&] { return writer.samples_failed() == 2; }, 5000));
  EXPECT_EQ(receiver.count(), 4u);  // the first attempt and three retries
  EXPECT_EQ(writer.samples_sent(), 0u);
}

TEST(RemoteWriterFaultTest, Drops400AtOnceWithoutRetrying) {
  FakeReceiver receiver({400, 200});
  metrics::Registry registry;
  RemoteWriter writer({.url = receiver.url(), .min_backoff_ms = 5, .send_tenant_header = false},
                      &registry);
  const auto refused = Batch("a", 3, 1000), accepted = Batch("b", 1, 2000);
  writer.Enqueue("t", refused);
  ASSERT_TRUE(WaitFor([&] { return writer.samples_failed() == 3; }, 5000));
  writer.Enqueue("t", accepted);
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 1; }, 5000));
  // Had the 400 been retried, the second request would carry the refused batch again.
  const auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(Snappy(reqs[0].body), EncodeWriteRequest(refused));
  EXPECT_EQ(Snappy(reqs[1].body), EncodeWriteRequest(accepted));
  EXPECT_EQ(HeaderValue(reqs[0].head, "X-Scope-OrgID"), "<absent>");
  writer.Stop();
  EXPECT_TRUE(skald::testing::HasLine(
      registry.Expose(), "loki_ruler_remote_write_samples_total{status=\"failed\"} 3"));
}

TEST(RemoteWriterFaultTest, StopWithUnreachableReceiverReturnsWithinItsTimeout) {
  const int closed_port = ExternalServer::FreePort();  // nothing listens there
  auto writer = std::make_unique<RemoteWriter>(
      RemoteWriteOptions{.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/api/v1/write",
                         .max_retries = 1000000,
                         .min_backoff_ms = 10,
                         .max_backoff_ms = 50},
      nullptr);
  writer->Enqueue("t", Batch("a", 2, 1000));
  writer->Enqueue("u", Batch("b", 3, 1000));
  const auto start = std::chrono::steady_clock::now();
  writer->Stop(300);
  const int64_t took = ElapsedMs(start);
  EXPECT_GE(took, 250);  // it kept trying until the deadline
  EXPECT_LT(took, 1000);
  // The batch being retried failed; the one never attempted was dropped.
  EXPECT_EQ(writer->samples_sent(), 0u);
  EXPECT_EQ(writer->samples_failed() + writer->samples_dropped(), 5u);
  const auto start2 = std::chrono::steady_clock::now();
  writer.reset();  // the destructor's Stop finds nothing left to do
  EXPECT_LT(ElapsedMs(start2), 100);
}

TEST(RemoteWriterFaultTest, FullQueueDropsTheOldestBatches) {
  FakeReceiver receiver({500, 200});
  metrics::Registry registry;
  RemoteWriter writer({.url = receiver.url(), .queue_capacity = 2, .min_backoff_ms = 500},
                      &registry);
  writer.Enqueue("t", Batch("inflight", 1, 1000));
  ASSERT_TRUE(WaitFor([&] { return receiver.count() == 1; }, 5000));
  // The sender is backing off with "inflight"; the queue holds two batches, so the three
  // oldest of these five go.
  for (int i = 0; i < 5; ++i)
    writer.Enqueue("t", Batch(std::string("q").append(std::to_string(i)), 2, 2000));
  EXPECT_EQ(writer.samples_dropped(), 6u);
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 5; }, 5000));
  const auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(Snappy(reqs[2].body),
            EncodeWriteRequest(Concat({Batch("q3", 2, 2000), Batch("q4", 2, 2000)})));
  writer.Stop();
  EXPECT_TRUE(skald::testing::HasLine(
      registry.Expose(), "loki_ruler_remote_write_samples_total{status=\"dropped\"} 6"));
}

TEST(RemoteWriterFaultTest, SplitsLargeBatchesIntoRequestsOfAtMost5000Samples) {
  FakeReceiver receiver({200});
  RemoteWriter writer({.url = receiver.url()}, nullptr);
  const auto big = Batch("big", 12000, 1000);
  writer.Enqueue("t", big);
  ASSERT_TRUE(WaitFor([&] { return writer.samples_sent() == 12000; }, 10000));
  const auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(Snappy(reqs[0].body),
            EncodeWriteRequest(std::vector<RemoteSample>(big.begin(), big.begin() + 5000)));
  EXPECT_EQ(Snappy(reqs[2].body),
            EncodeWriteRequest(std::vector<RemoteSample>(big.begin() + 10000, big.end())));
}

}  // namespace
}  // namespace skald::ruler
