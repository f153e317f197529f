// A scaled-out cluster as separate processes on loopback, on real engines: etcd (the
// etcd_server ctest fixture) holds the rings, a Ceph radosgw of the test's own (port 17520,
// started and stopped by scripts/servers/) holds chunks and index. 3 ingesters (RF 3), 2
// distributors, 1 query frontend, 2 queriers pulling from it, 1 compactor.
//
// While a client pushes without pause through both distributors:
//   - an ingester is killed with -9: every push keeps succeeding;
//   - queries through the frontend (split and sharded) return each acknowledged line once;
//   - the killed ingester restarts under its ID, replays its WAL and is ACTIVE again;
//   - another ingester is scaled down with SIGTERM: it flushes, leaves the ring, exits 0;
//   - the object store is down for 30 s: pushes keep succeeding;
// and at the end, with the store back and every ingester flushed, each acknowledged line is
// returned once and counted once.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/time.h"
#include "skald_process.h"
#include "tests/testing/env_file.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"

namespace skald::testing {
namespace {

using http::QueryEscape;
using skald::testing::SampleValue;

constexpr int kRgwPort = 17520;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = ReadEnvFileNamedBy("SKALD_TEST_ETCD_ENV");
    etcd_ = env["ETCD_ENDPOINT"];
    ASSERT_FALSE(etcd_.empty()) << "SKALD_TEST_ETCD_ENV names no etcd.env";
    rgw_dir_ = std::make_unique<TempDir>("rgw");
    scripts_ = std::string(SKALD_SOURCE_DIR) + "/scripts/servers/";
    ASSERT_EQ(StartStore(), 0);
  }
  void TearDown() override {
    const std::string stop =
        "bash " + scripts_ + "stop-ceph-rgw.sh " + rgw_dir_->path() + " > /dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  int StartStore() {
    const std::string start = "S3_BUCKET=cluster bash " + scripts_ + "start-ceph-rgw.sh " +
                              rgw_dir_->path() + " " + std::to_string(kRgwPort) + " >> " +
                              rgw_dir_->path() + "/start.out 2>&1";
    return std::system(start.c_str());
  }
  void KillStore() {
    std::ifstream in(rgw_dir_->path() + "/run/rgw.pidf");
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    for (int i = 0; i < 100 && ::kill(pid, 0) == 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::vector<std::string> Flags(const std::string& id, const std::string& target) {
    return {"-target=" + target,
            "-ring.store=etcd",
            "-etcd.endpoints=" + etcd_,
            "-ring.prefix=skald-cluster-" + std::to_string(::getpid()) + "/",
            "-ingester.lifecycler.ID=" + id,
            "-ingester.heartbeat-period=200ms",
            "-ring.heartbeat-timeout=2s",
            "-ingester.num-tokens=64",
            "-distributor.replication-factor=3",
            "-s3.endpoint=http://127.0.0.1:" + std::to_string(kRgwPort),
            "-s3.buckets=cluster",
            "-s3.force-path-style",
            "-s3.access-key-id=testkey",
            "-s3.secret-access-key=testsecret",
            "-s3.max-retries=1",
            "-s3.min-backoff=10ms",
            "-s3.max-backoff=50ms",
            "-validation.max-entries-limit=1000000"};
  }

  SkaldProcess* Add(const std::string& id, const std::string& target,
                    std::vector<std::string> extra = {}) {
    dirs_.push_back(std::make_unique<TempDir>());
    std::vector<std::string> f = Flags(id, target);
    f.insert(f.end(), extra.begin(), extra.end());
    procs_[id] = std::make_unique<SkaldProcess>(dirs_.back()->path(), f);
    return procs_[id].get();
  }

  // The gRPC port a process logged at start.
  static int GrpcPort(const SkaldProcess& p) {
    const std::string log = p.last_run_log();
    const size_t at = log.find("grpc_port=");
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + 10);
  }

  std::string etcd_, scripts_;
  std::unique_ptr<TempDir> rgw_dir_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::map<std::string, std::unique_ptr<SkaldProcess>> procs_;
};

// Pushes one line at a time, alternating between the distributors, until stopped; remembers
// which lines were acknowledged (204) and which were not.
class Pusher {
 public:
  Pusher(std::vector<SkaldProcess*> to, int64_t base) : to_(std::move(to)), base_(base) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Pusher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  int sent() const { return n_.load(); }

 private:
  void Run() {
    while (!stop_) {
      const int i = n_++;
      const std::string line = "cluster line " + std::to_string(i);
      const std::string body = R"({"streams":[{"stream":{"app":"cluster","s":")" +
                               std::to_string(i % 5) + R"("},"values":[[")" +
                               std::to_string(base_ + i * kNanosPerMilli) + R"(",")" + line +
                               R"("]]}]})";
      SkaldProcess* d = to_[static_cast<size_t>(i) % to_.size()];
      auto r = d->Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
      std::lock_guard<std::mutex> lock(mu_);
      if (r.ok() && r->status == 204) {
        acked_.insert(line);
      } else {
        failures_.push_back(
            line + ": " +
            (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::vector<SkaldProcess*> to_;
  const int64_t base_;
  std::atomic<bool> stop_{false};
  std::atomic<int> n_{0};
  std::thread thread_;
  std::mutex mu_;
  std::set<std::string> acked_;
  std::vector<std::string> failures_;
};

// Every line of {app="cluster"} the frontend returns, with how often.
std::map<std::string, int> Lines(const SkaldProcess& frontend, int64_t start, int64_t end) {
  std::map<std::string, int> out;
  auto r = frontend.Call(
      "GET", "/loki/api/v1/query_range?query=" + QueryEscape("{app=\"cluster\"}") +
                 "&limit=100000&start=" + std::to_string(start) + "&end=" + std::to_string(end));
  if (!r.ok() || r->status != 200) {
    out["error: " + (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString())] =
        1;
    return out;
  }
  for (size_t at = r->body.find("\"cluster line "); at != std::string::npos;
       at = r->body.find("\"cluster line ", at + 1)) {
    const size_t end_quote = r->body.find('"', at + 1);
    out[r->body.substr(at + 1, end_quote - at - 1)]++;
  }
  return out;
}

// sum(count_over_time(...)) through the frontend (sharded: shards add up).
std::string Count(const SkaldProcess& frontend, int64_t at) {
  auto r = frontend.Call("GET", "/loki/api/v1/query_range?query=" +
                                    QueryEscape("sum(count_over_time({app=\"cluster\"}[2h]))") +
                                    "&start=" + std::to_string(at) + "&end=" + std::to_string(at) +
                                    "&step=60");
  if (!r.ok() || r->status != 200) return "error";
  const size_t v = r->body.find("\"values\":[[");
  if (v == std::string::npos) return "";
  const size_t q = r->body.find(",\"", v);
  return r->body.substr(q + 2, r->body.find('"', q + 2) - q - 2);
}

std::string Check(const std::map<std::string, int>& got, const std::set<std::string>& acked) {
  std::string problems;
  for (const std::string& l : acked) {
    auto it = got.find(l);
    if (it == got.end()) {
      problems += "lost: " + l + "\n";
    } else if (it->second != 1) {
      problems += "returned " + std::to_string(it->second) + " times: " + l + "\n";
    }
  }
  for (const auto& [l, n] : got) {
    if (l.starts_with("error")) problems += l + "\n";
  }
  return problems;
}

TEST_F(ClusterTest, NothingAcknowledgedIsLostOrDuplicatedThroughFailures) {
  for (int i = 1; i <= 3; i++) {
    SkaldProcess* p = Add("ingester-" + std::to_string(i), "ingester");
    ASSERT_TRUE(p->Start()) << p->log();
  }
  std::vector<SkaldProcess*> distributors;
  for (int i = 1; i <= 2; i++) {
    SkaldProcess* p = Add("distributor-" + std::to_string(i), "distributor");
    ASSERT_TRUE(p->Start()) << p->log();
    distributors.push_back(p);
  }
  SkaldProcess* compactor = Add("compactor", "compactor");
  ASSERT_TRUE(compactor->Start()) << compactor->log();
  // The frontend reports ready only once a querier is connected: start it without waiting.
  // Short splits, so the window's queries are cut in time as well as by shard.
  SkaldProcess* frontend = Add("frontend", "query-frontend",
                               {"-querier.shards=4", "-querier.split-queries-by-interval=5s"});
  EXPECT_FALSE(frontend->Start(3000));  // alive, not ready: no querier yet
  const int frontend_grpc = GrpcPort(*frontend);
  ASSERT_GT(frontend_grpc, 0) << frontend->log();
  for (int i = 1; i <= 2; i++) {
    SkaldProcess* p = Add("querier-" + std::to_string(i), "querier",
                          {"-querier.frontend-address=127.0.0.1:" + std::to_string(frontend_grpc)});
    ASSERT_TRUE(p->Start()) << p->log();
  }
  auto ready = [&] {
    for (int i = 0; i < 100; i++) {
      auto r = frontend->Call("GET", "/ready");
      if (r.ok() && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(ready()) << frontend->log();

  const int64_t base = (NowNanos() / kNanosPerSecond - 1800) * kNanosPerSecond;
  const int64_t q_start = base - kNanosPerSecond;
  // Lines are stamped base + i ms: a minute covers every one pushed here.
  auto q_end = [base] { return base + 60 * kNanosPerSecond; };
  Pusher pusher(distributors, base);
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // kill -9 one ingester: pushes keep succeeding.
  procs_["ingester-1"]->Kill();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_TRUE(pusher.failures().empty()) << pusher.failures().front();
  std::set<std::string> acked = pusher.acked();
  EXPECT_EQ(Check(Lines(*frontend, q_start, q_end()), acked), "");

  // It restarts under its ID: WAL replayed, ACTIVE again.
  ASSERT_TRUE(procs_["ingester-1"]->Start()) << procs_["ingester-1"]->log();
  auto ring = distributors[0]->Call("GET", "/ring", {{"Accept", "application/json"}});
  ASSERT_TRUE(ring.ok());
  EXPECT_NE(ring->body.find(R"("id":"ingester-1","state":"ACTIVE")"), std::string::npos)
      << ring->body;

  // Graceful scale-down of another: flush, leave, exit 0.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(procs_["ingester-3"]->Stop(), 0) << procs_["ingester-3"]->log();
  EXPECT_NE(procs_["ingester-3"]->last_run_log().find("flushed in-memory chunks on shutdown"),
            std::string::npos);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(pusher.failures().empty()) << pusher.failures().front();
  EXPECT_EQ(Check(Lines(*frontend, q_start, q_end()), pusher.acked()), "");

  // The object store is down for 30 s: pushes keep succeeding.
  KillStore();
  const int before = pusher.sent();
  std::this_thread::sleep_for(std::chrono::seconds(30));
  EXPECT_GT(pusher.sent() - before, 100);
  EXPECT_TRUE(pusher.failures().empty()) << pusher.failures().front();
  ASSERT_EQ(StartStore(), 0);
  pusher.Stop();
  acked = pusher.acked();
  EXPECT_TRUE(pusher.failures().empty())
      << pusher.failures().size() << " failed, first " << pusher.failures().front();

  // Everything flushed to the store (the breaker may stay open ~10 s after the outage).
  // ingester-2 first: it holds every line; ingester-1 missed those pushed while it was dead.
  for (const char* id : {"ingester-2", "ingester-1"}) {
    int status = 0;
    for (int i = 0; i < 60 && status != 204; i++) {
      auto f = procs_[id]->Call("POST", "/flush");
      status = f.ok() ? f->status : -1;
      if (status != 204) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_EQ(status, 204) << procs_[id]->log();
  }
  EXPECT_EQ(Check(Lines(*frontend, q_start, q_end()), acked), "");
  EXPECT_EQ(Count(*frontend, NowNanos()), std::to_string(acked.size()));
  // ingester-1's flush found what it holds of the streams ingester-2 owns in the store: those
  // copies were dropped, not stored again (docs/operations/scale-out.md, "Replica flushes").
  double deduped = 0;
  for (const char* id : {"ingester-1", "ingester-2"}) {
    auto m = procs_[id]->Call("GET", "/metrics");
    ASSERT_TRUE(m.ok());
    deduped += SampleValue(m->body, "skald_ingester_replica_chunks_deduped_total").value_or(0);
  }
  EXPECT_GT(deduped, 0);

  // Split and sharded answers equal a querier's whole answer.
  auto result = [](const SkaldProcess& p, const std::string& target) {
    auto r = p.Call("GET", target);
    if (!r.ok() || r->status != 200) return std::string("error");
    const size_t a = r->body.find("\"result\":"), b = r->body.find(",\"stats\":");
    return a == std::string::npos || b == std::string::npos ? r->body : r->body.substr(a, b - a);
  };
  const std::string metric = "/loki/api/v1/query_range?query=" +
                             QueryEscape("sum by (s) (count_over_time({app=\"cluster\"}[2s]))") +
                             "&start=" + std::to_string(base) +
                             "&end=" + std::to_string(base + 40 * kNanosPerSecond) + "&step=1";
  const std::string whole = result(*procs_["querier-1"], metric);
  EXPECT_NE(whole.find("\"values\""), std::string::npos) << whole;
  EXPECT_EQ(result(*frontend, metric), whole);
  const std::string logs =
      "/loki/api/v1/query_range?query=" + QueryEscape("{app=\"cluster\"} |= \"line 1\"") +
      "&limit=37&start=" + std::to_string(base) +
      "&end=" + std::to_string(base + 40 * kNanosPerSecond);
  EXPECT_EQ(result(*frontend, logs), result(*procs_["querier-1"], logs));

  for (auto& [id, p] : procs_) {
    if (id == "ingester-3") continue;  // already stopped
    EXPECT_EQ(p->Stop(), 0) << id << "\n" << p->log();
  }
}

}  // namespace
}  // namespace skald::testing
