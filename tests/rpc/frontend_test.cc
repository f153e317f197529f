// The query frontend's queue served over real gRPC (frontend.Frontend/Process) to real
// FrontendWorkers on loopback: queries reach a querier, answers come back, a querier that goes
// away mid-query has its query handed to another.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/time.h"
#include "frontend/queue.h"
#include "rpc/frontend_worker.h"
#include "rpc/server.h"

namespace skald::rpc {
namespace {

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    frontend::QueueOptions qo;
    qo.max_outstanding_per_tenant = 3;
    queue_ = std::make_unique<frontend::RequestQueue>(qo);
    GrpcServices sv;
    sv.frontend = queue_.get();
    auto server = GrpcServer::Start("127.0.0.1:0", sv);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  void TearDown() override {
    queue_->Stop();
    server_->Stop();
  }

  std::unique_ptr<FrontendWorker> Worker(const std::string& id, FrontendWorker::Handler h) {
    FrontendWorkerOptions o;
    o.frontend_address = "127.0.0.1:" + std::to_string(server_->port());
    o.concurrency = 2;
    o.client_id = id;
    auto w = std::make_unique<FrontendWorker>(o, std::move(h));
    w->Start();
    return w;
  }

  bool WaitClients(int n) {
    for (int i = 0; i < 200; i++) {
      if (queue_->connected_clients() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<frontend::RequestQueue> queue_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(FrontendTest, QueriesReachAQuerierAndTheAnswerComesBack) {
  auto w = Worker("q1", [](const frontend::Request& r) {
    frontend::Response out;
    out.code = 200;
    out.headers.emplace_back("Content-Type", "application/json");
    std::string tenant;
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Scope-OrgID") tenant = v;
    }
    out.body = r.method + " " + r.url + " " + tenant + " " + r.body;
    return out;
  });
  ASSERT_TRUE(WaitClients(2));  // two streams
  frontend::Request req;
  req.method = "POST";
  req.url = "/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D";
  req.headers.emplace_back("X-Scope-OrgID", "team-a");
  req.body = std::string("bin\0ary", 7);
  auto task = std::make_shared<frontend::Task>("team-a", req);
  ASSERT_TRUE(queue_->Enqueue(task).ok());
  frontend::Response resp;
  ASSERT_TRUE(task->Wait(MonotonicNanos() + 10 * kNanosPerSecond, &resp));
  EXPECT_EQ(resp.code, 200);
  EXPECT_EQ(resp.body, "POST /loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D team-a " +
                           std::string("bin\0ary", 7));
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(resp.headers[0].second, "application/json");
}

TEST_F(FrontendTest, AQuerierThatDiesMidQueryHasItsQueryRetriedElsewhere) {
  std::atomic<bool> hold{true};
  std::atomic<int> seen_by_first{0};
  auto first = Worker("dying", [&](const frontend::Request&) {
    seen_by_first++;
    while (hold.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    frontend::Response out;
    out.code = 500;
    out.body = "should never arrive";
    return out;
  });
  ASSERT_TRUE(WaitClients(2));
  auto task = std::make_shared<frontend::Task>("t", frontend::Request{});
  ASSERT_TRUE(queue_->Enqueue(task).ok());
  for (int i = 0; i < 200 && seen_by_first.load() == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(seen_by_first.load(), 1);
  // A second querier arrives; the first one's streams are cut (as if it was killed).
  auto second = Worker("healthy", [](const frontend::Request&) {
    frontend::Response out;
    out.code = 200;
    out.body = "ok";
    return out;
  });
  std::thread stopper([&] { first->Stop(); });
  frontend::Response resp;
  ASSERT_TRUE(task->Wait(MonotonicNanos() + 10 * kNanosPerSecond, &resp));
  EXPECT_EQ(resp.code, 200);
  EXPECT_EQ(resp.body, "ok");
  hold = false;
  stopper.join();
}

TEST_F(FrontendTest, TooManyOutstandingRequestsPerTenant) {
  // No querier: tasks wait. The tenant's fourth is refused, another tenant is not.
  std::vector<std::shared_ptr<frontend::Task>> tasks;
  for (int i = 0; i < 3; i++) {
    tasks.push_back(std::make_shared<frontend::Task>("busy", frontend::Request{}));
    ASSERT_TRUE(queue_->Enqueue(tasks.back()).ok());
  }
  auto extra = std::make_shared<frontend::Task>("busy", frontend::Request{});
  Status st = queue_->Enqueue(extra);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "too many outstanding requests");
  EXPECT_TRUE(queue_->Enqueue(std::make_shared<frontend::Task>("quiet", frontend::Request{})).ok());
  EXPECT_EQ(queue_->length("busy"), 3u);
}

}  // namespace
}  // namespace skald::rpc
