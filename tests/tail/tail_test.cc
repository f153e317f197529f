// Unit tests for the live-tail hub: selection, pipeline, delay_for, bounded buffering with
// dropped-entry reports, slow-client and max-duration closing, the per-tenant limit. The
// connection and the next pusher are test doubles here (the hub only calls their interfaces);
// the WebSocket path over a real server is tested in tests/integration/tail_test.cc.
#include "tail/tail.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "logql/ast.h"
#include "logql/parser.h"

namespace skald::tail {
namespace {

// Accepts every push (what the ingester would report for entries it appended).
class AcceptAll final : public ingester::Pusher {
 public:
  Status PushBatch(std::string_view, std::span<ingester::StreamAppend> streams) override {
    for (auto& s : streams) s.result.appended = static_cast<uint32_t>(s.entries.size());
    return Status::OK();
  }
};

// Records messages; `capacity` messages at most until the test drains it (a slow reader).
class FakeConn final : public Connection {
 public:
  explicit FakeConn(size_t capacity = 1000) : capacity_(capacity) {}
  bool Send(std::string text) override {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || queued_.size() >= capacity_) return false;
    queued_.push_back(std::move(text));
    return true;
  }
  void Close(uint16_t code, std::string reason) override {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    code_ = code;
    reason_ = std::move(reason);
  }
  bool closed() const override {
    std::lock_guard<std::mutex> l(mu_);
    return closed_;
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out(queued_.begin(), queued_.end());
    queued_.clear();
    return out;
  }
  uint16_t code() const {
    std::lock_guard<std::mutex> l(mu_);
    return code_;
  }
  std::string reason() const {
    std::lock_guard<std::mutex> l(mu_);
    return reason_;
  }

 private:
  mutable std::mutex mu_;
  size_t capacity_;
  std::deque<std::string> queued_;
  bool closed_ = false;
  uint16_t code_ = 0;
  std::string reason_;
};

std::unique_ptr<logql::Expr> Selector(std::string_view q) {
  auto e = logql::ParseExpr(q);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(*e);
}

Status Push(TailHub& hub, std::string_view labels,
            std::vector<std::pair<int64_t, std::string>> lines) {
  Labels ls = *ParseLabels(labels);
  std::vector<ingester::AppendEntry> entries;
  for (const auto& [ts, line] : lines) entries.push_back({ts, line, {}});
  ingester::StreamAppend sa;
  sa.labels = &ls;
  sa.entries = entries;
  return hub.PushBatch("t", std::span<ingester::StreamAppend>(&sa, 1));
}

// Waits until pred() or 5 s.
template <class F>
bool Eventually(F pred) {
  for (int i = 0; i < 500; i++) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(TailHubTest, SendsHistoryThenMatchingLiveEntriesThroughThePipeline) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto conn = std::make_shared<FakeConn>();
  auto expr = Selector(R"({app="web"} | logfmt | level="error")");
  wire::ResultStream past;
  past.labels = *ParseLabels(R"({app="web"})");
  past.entries.push_back({20, "old two", {}, {{"level", "error"}}});
  past.entries.push_back({10, "old one", {}, {{"level", "error"}}});
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {past}, {}, conn).ok());
  EXPECT_EQ(
      Joined(conn->Take()),
      R"({"streams":[{"stream":{"app":"web","level":"error"},"values":[["10","old one"],["20","old two"]]}]})"
      "\n");
  ASSERT_TRUE(Push(hub, R"({app="web"})", {{30, "level=info a=1"}, {31, "level=error a=2"}}).ok());
  ASSERT_TRUE(Push(hub, R"({app="api"})", {{32, "level=error a=3"}}).ok());
  std::string got;
  ASSERT_TRUE(Eventually([&] {
    got += Joined(conn->Take());
    return !got.empty();
  }));
  EXPECT_EQ(
      got,
      R"({"streams":[{"stream":{"a":"2","app":"web","level":"error"},"values":[["31","level=error a=2"]]}]})"
      "\n");
  EXPECT_EQ(hub.open_tails(), 1u);
  conn->Close(1000, "bye");
  EXPECT_TRUE(Eventually([&] { return hub.open_tails() == 0; }));
}

TEST(TailHubTest, DelayForHoldsEntriesBack) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto conn = std::make_shared<FakeConn>();
  auto expr = Selector(R"({app="web"})");
  TailOptions opts;
  opts.delay_ns = 600'000'000;
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {}, opts, conn).ok());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Push(hub, R"({app="web"})", {{1, "x"}}).ok());
  std::vector<std::string> got;
  ASSERT_TRUE(Eventually([&] {
    got = conn->Take();
    return !got.empty();
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(550));
}

TEST(TailHubTest, ASlowClientLosesEntriesWithMarkersAndIsClosed) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto conn = std::make_shared<FakeConn>(/*capacity=*/1);
  auto expr = Selector(R"({app="web"})");
  TailOptions opts;
  opts.slow_client_timeout_ns = 400'000'000;
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {}, opts, conn).ok());
  // More than the pending bound in one push: the push itself never waits.
  std::vector<std::pair<int64_t, std::string>> lines;
  for (int i = 0; i < static_cast<int>(TailHub::kMaxPendingEntries) + 500; i++) {
    lines.emplace_back(i, "line " + std::to_string(i));
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Push(hub, R"({app="web"})", lines).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // Entries past the pending bound were dropped at push time: the first message (the one that
  // fits) reports them; everything after it is dropped too and the client is closed.
  ASSERT_TRUE(Eventually([&] { return conn->closed(); }));
  EXPECT_EQ(conn->code(), 1011);
  EXPECT_EQ(conn->reason(), "slow client");
  auto msgs = conn->Take();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find(R"(["0","line 0"])"), std::string::npos);
  EXPECT_NE(msgs[0].find(R"("dropped_entries":[{"labels":{"app":"web"},"timestamp":"10000"})"),
            std::string::npos);
  EXPECT_TRUE(Eventually([&] { return hub.open_tails() == 0; }));
}

TEST(TailHubTest, ABurstWaitsForAClientThatKeepsReading) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto conn = std::make_shared<FakeConn>(/*capacity=*/1);
  auto expr = Selector(R"({app="web"})");
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {}, {}, conn).ok());
  std::vector<std::pair<int64_t, std::string>> lines;
  for (int i = 0; i < 250; i++) lines.emplace_back(i, "l");
  ASSERT_TRUE(Push(hub, R"({app="web"})", lines).ok());
  ASSERT_TRUE(Push(hub, R"({app="web"})", {{1000, "after"}}).ok());
  // The connection takes one message at a time; the rest waits in the tail's outbox (bounded)
  // and nothing is lost while the client keeps reading.
  std::vector<std::string> msgs;
  ASSERT_TRUE(Eventually([&] {
    for (auto& m : conn->Take()) msgs.push_back(std::move(m));
    return !msgs.empty() && msgs.back().find("after") != std::string::npos;
  }));
  // Every entry arrives, in order, at most 100 per message.
  const std::string all = Joined(msgs);
  EXPECT_GE(msgs.size(), 3u);
  size_t pos = 0;
  for (int i = 0; i < 250; i++) {
    const std::string want = "[\"" + std::to_string(i) + "\",\"l\"]";
    size_t at = all.find(want, pos);
    ASSERT_NE(at, std::string::npos) << "entry " << i;
    pos = at;
  }
  EXPECT_EQ(all.find("dropped_entries"), std::string::npos);
  EXPECT_FALSE(conn->closed());
}

TEST(TailHubTest, MaxDurationAndTenantLimit) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto expr = Selector(R"({app="web"})");
  TailOptions opts;
  opts.max_per_tenant = 1;
  opts.max_duration_ns = 300'000'000;
  auto a = std::make_shared<FakeConn>();
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {}, opts, a).ok());
  Status second =
      hub.Open("t", *logql::AsLogSelector(*expr), {}, opts, std::make_shared<FakeConn>());
  EXPECT_EQ(second.message(), "max concurrent tail requests limit exceeded, count > limit (2 > 1)");
  EXPECT_TRUE(hub.CheckLimit("other", 1).ok());
  ASSERT_TRUE(Eventually([&] { return a->closed(); }));
  EXPECT_EQ(a->code(), 1011);
  EXPECT_EQ(a->reason(), "reached tail max duration limit");
  EXPECT_TRUE(Eventually([&] { return hub.CheckLimit("t", 1).ok(); }));
}

TEST(TailHubTest, StopClosesEveryTail) {
  AcceptAll next;
  TailHub hub(&next, nullptr);
  auto expr = Selector(R"({app="web"})");
  auto a = std::make_shared<FakeConn>();
  ASSERT_TRUE(hub.Open("t", *logql::AsLogSelector(*expr), {}, {}, a).ok());
  hub.Stop();
  EXPECT_TRUE(a->closed());
  EXPECT_EQ(a->code(), 1001);
  EXPECT_FALSE(hub.Open("t", *logql::AsLogSelector(*expr), {}, {}, a).ok());
}

}  // namespace
}  // namespace skald::tail
