// Two skald processes in one ingester ring held by a real etcd (the ring_etcd_server_start
// ctest fixture; SKALD_TEST_ETCD_ENV names its etcd.env): both show up ACTIVE, one killed
// with -9 turns UNHEALTHY after the heartbeat timeout and keeps its tokens when it restarts,
// SIGTERM makes an instance leave, and the page's Forget removes a dead one.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/time.h"
#include "ring/etcd_kv.h"
#include "ring/lifecycler.h"
#include "skald_process.h"
#include "tests/testing/env_file.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"

namespace skald::testing {
namespace {

class RingEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = ReadEnvFileNamedBy("SKALD_TEST_ETCD_ENV");
    endpoint_ = env["ETCD_ENDPOINT"];
    ASSERT_FALSE(endpoint_.empty()) << "SKALD_TEST_ETCD_ENV names no etcd.env";
    prefix_ = "skald-it-" + std::to_string(::getpid()) + "/";
    ring::EtcdConfig cfg;
    cfg.endpoint = endpoint_;
    auto kv = ring::EtcdKV::Open(cfg);
    ASSERT_TRUE(kv.ok());
    kv_ = std::move(*kv);
  }
  std::vector<std::string> Flags(const std::string& id) {
    return {"-ring.store=etcd",
            "-etcd.endpoints=" + endpoint_,
            "-ring.prefix=" + prefix_,
            "-ingester.lifecycler.ID=" + id,
            "-ingester.heartbeat-period=200ms",
            "-ring.heartbeat-timeout=2s",
            "-ingester.num-tokens=64"};
  }
  // The ring as the etcd keys hold it.
  ring::Ring Read() {
    auto r = ring::ReadRing(kv_.get(), prefix_ + "ring/", 2 * kNanosPerSecond);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ring::Ring();
  }
  // /ring's JSON from `skald`.
  std::string RingJson(const SkaldProcess& skald) {
    auto r = skald.Call("GET", "/ring", {{"Accept", "application/json"}});
    return r.ok() ? r->body : r.status().ToString();
  }

  std::string endpoint_, prefix_;
  std::unique_ptr<ring::EtcdKV> kv_;
};

TEST_F(RingEtcdTest, MembersHeartbeatLeaveAndAreForgotten) {
  TempDir dir_a, dir_b;
  SkaldProcess a(dir_a.path(), Flags("ingester-a"));
  SkaldProcess b(dir_b.path(), Flags("ingester-b"));
  ASSERT_TRUE(a.Start()) << a.log();
  ASSERT_TRUE(b.Start()) << b.log();
  ring::Ring r = Read();
  ASSERT_EQ(r.instances().size(), 2u);
  EXPECT_EQ(r.instances()[0].state, ring::State::kActive);
  EXPECT_EQ(r.instances()[1].state, ring::State::kActive);
  const std::vector<uint32_t> b_tokens = r.Find("ingester-b")->tokens;
  EXPECT_EQ(b_tokens.size(), 64u);
  std::string json = RingJson(a);
  EXPECT_NE(json.find("\"id\":\"ingester-b\",\"state\":\"ACTIVE\""), std::string::npos) << json;

  // kill -9: no leave, the heartbeat stops, A's page shows it UNHEALTHY after 2 s.
  b.Kill();
  bool unhealthy = false;
  for (int i = 0; i < 100 && !unhealthy; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    unhealthy =
        RingJson(a).find("\"id\":\"ingester-b\",\"state\":\"UNHEALTHY\"") != std::string::npos;
  }
  EXPECT_TRUE(unhealthy) << RingJson(a);
  // Writes for any key now skip it: with RF 1, every key goes to ingester-a.
  r = Read();
  for (uint32_t k = 0; k < 100; k++) {
    auto set = r.Get(k * 42949672u, ring::Operation::kWrite, 1, NowNanos());
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->instances[0]->id, "ingester-a");
  }

  // Restarted under the same id, it comes back ACTIVE with the same tokens.
  ASSERT_TRUE(b.Start()) << b.log();
  r = Read();
  ASSERT_NE(r.Find("ingester-b"), nullptr);
  EXPECT_EQ(r.Find("ingester-b")->tokens, b_tokens);
  EXPECT_EQ(r.Find("ingester-b")->state, ring::State::kActive);

  // SIGTERM: LEAVING, flush, leave the ring, exit 0.
  EXPECT_EQ(b.Stop(), 0) << b.log();
  EXPECT_EQ(Read().Find("ingester-b"), nullptr);

  // A dead instance is forgotten from the page of a live one.
  a.Kill();
  ASSERT_TRUE(b.Start()) << b.log();
  EXPECT_NE(Read().Find("ingester-a"), nullptr);
  auto page = b.Call("POST", "/ring", {{"Content-Type", "application/x-www-form-urlencoded"}},
                     "forget=ingester-a");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(Read().Find("ingester-a"), nullptr);
  EXPECT_EQ(b.Stop(), 0);
  EXPECT_TRUE(Read().instances().empty());
}

// Pushes `n` one-line streams {app="g", s="<first..first+n-1>"} to `skald`, one request each;
// the statuses in order.
std::vector<int> PushStreams(const SkaldProcess& skald, int first, int n, size_t line_bytes) {
  std::vector<int> out;
  const std::string line(line_bytes, 'x');
  for (int i = first; i < first + n; i++) {
    const std::string body = R"({"streams":[{"stream":{"app":"g","s":")" + std::to_string(i) +
                             R"("},"values":[[")" + std::to_string(NowNanos()) + R"(",")" + line +
                             R"("]]}]})";
    auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
    out.push_back(r.ok() ? r->status : -1);
  }
  return out;
}

// ingestion_rate_strategy: global divides a tenant's rate by the healthy distributors, and
// max_global_streams_per_user becomes a local limit of global / ingesters * min(RF, ingesters).
TEST_F(RingEtcdTest, GlobalLimitsFollowTheRings) {
  auto flags = [&](const std::string& id, int rf) {
    std::vector<std::string> f = Flags(id);
    f.push_back("-distributor.ingestion-rate-limit-mb=1");
    f.push_back("-distributor.ingestion-burst-size-mb=1");
    f.push_back("-ingester.max-global-streams-per-user=10");
    f.push_back("-distributor.replication-factor=" + std::to_string(rf));
    return f;
  };
  TempDir dir_a, dir_b;
  SkaldProcess a(dir_a.path(), flags("limit-a", 1));
  SkaldProcess b(dir_b.path(), flags("limit-b", 1));
  ASSERT_TRUE(a.Start()) << a.log();
  ASSERT_TRUE(b.Start()) << b.log();
  // A's watchers refresh within a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  // Streams: 10 global over 2 ingesters at RF 1 is 5 each.
  std::vector<int> got = PushStreams(a, 0, 6, 10);
  EXPECT_EQ(got, (std::vector<int>{204, 204, 204, 204, 204, 429})) << a.log();

  // Rate: 1 MB/s shared by two distributors is 524288 bytes/s each; the limit is named in
  // the refusal of a push larger than the (undivided) 1 MiB burst.
  auto big_push = [] {
    std::string body = R"({"streams":[{"stream":{"app":"g","s":"0"},"values":[)";
    for (int i = 0; i < 5; i++) {
      if (i > 0) body += ",";
      body += "[\"" + std::to_string(NowNanos() + i) + "\",\"" + std::string(220000, 'y') + "\"]";
    }
    return body + "]}]}";
  };
  auto over =
      a.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, big_push());
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->status, 429);
  EXPECT_NE(over->body.find("(limit: 524288 bytes/sec)"), std::string::npos) << over->body;

  // B leaves: A's share is the whole rate again, and its stream limit all 10.
  EXPECT_EQ(b.Stop(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  over = a.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, big_push());
  ASSERT_TRUE(over.ok());
  EXPECT_NE(over->body.find("(limit: 1048576 bytes/sec)"), std::string::npos) << over->body;
  got = PushStreams(a, 5, 6, 10);  // streams 5..10: 5..9 fit (10 in all), 10 does not
  EXPECT_EQ(got, (std::vector<int>{204, 204, 204, 204, 204, 429})) << a.log();
  EXPECT_EQ(a.Stop(), 0);
}

// sum(count_over_time({app="rep"}[1h])) as `skald` answers it from what it holds ("" when it
// holds nothing).
std::string CountOn(const SkaldProcess& skald) {
  const int64_t now = NowNanos();
  auto r = skald.Call("GET", "/loki/api/v1/query?query=" +
                                 http::QueryEscape("sum(count_over_time({app=\"rep\"}[1h]))") +
                                 "&time=" + std::to_string(now + kNanosPerSecond));
  if (!r.ok() || r->status != 200) return "error";
  const size_t v = r->body.find("\"value\":[");
  if (v == std::string::npos) return "";
  const size_t q = r->body.find(",\"", v);
  return r->body.substr(q + 2, r->body.find('"', q + 2) - q - 2);
}

// A distributor writes each stream to 3 ingesters (RF 3) over gRPC and acknowledges after a
// quorum of 2: every ingester holds every line; with one ingester killed (-9) pushes keep
// succeeding and both survivors hold everything; with two gone there is no quorum (503).
TEST_F(RingEtcdTest, DistributorReplicatesToAQuorumOfIngesters) {
  std::vector<std::unique_ptr<TempDir>> dirs;
  std::vector<std::unique_ptr<SkaldProcess>> ingesters;
  for (int i = 0; i < 3; i++) {
    dirs.push_back(std::make_unique<TempDir>());
    std::vector<std::string> f = Flags("rep-ingester-" + std::to_string(i));
    f.push_back("-target=ingester");
    ingesters.push_back(std::make_unique<SkaldProcess>(dirs.back()->path(), f));
    ASSERT_TRUE(ingesters.back()->Start()) << ingesters.back()->log();
  }
  TempDir ddir;
  std::vector<std::string> df = Flags("rep-distributor");
  df.push_back("-target=distributor");
  SkaldProcess distributor(ddir.path(), df);
  ASSERT_TRUE(distributor.Start()) << distributor.log();
  // The distributor is not an ingester: the ingester ring has the three.
  EXPECT_EQ(Read().instances().size(), 3u);

  auto push = [&](int first, int n) {
    std::vector<int> out;
    for (int i = first; i < first + n; i++) {
      const std::string body = R"({"streams":[{"stream":{"app":"rep","s":")" +
                               std::to_string(i % 7) + R"("},"values":[[")" +
                               std::to_string(NowNanos()) + R"(","line )" + std::to_string(i) +
                               R"("]]}]})";
      auto r = distributor.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
                                body);
      out.push_back(r.ok() ? r->status : -1);
    }
    return out;
  };
  std::vector<int> got = push(0, 30);
  EXPECT_EQ(std::count(got.begin(), got.end(), 204), 30) << distributor.log();
  for (auto& ing : ingesters) EXPECT_EQ(CountOn(*ing), "30") << ing->log();
  // A distributor stores nothing and answers no queries (queriers do).
  auto q =
      distributor.Call("GET", "/loki/api/v1/query?query=" + http::QueryEscape("{app=\"rep\"}"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->status, 404);

  ingesters[0]->Kill();
  got = push(30, 20);
  EXPECT_EQ(std::count(got.begin(), got.end(), 204), 20) << distributor.log();
  EXPECT_EQ(CountOn(*ingesters[1]), "50");
  EXPECT_EQ(CountOn(*ingesters[2]), "50");

  ingesters[1]->Kill();
  got = push(50, 1);
  EXPECT_EQ(got, std::vector<int>{503});
  EXPECT_EQ(distributor.Stop(), 0);
  EXPECT_EQ(ingesters[2]->Stop(), 0);
}

}  // namespace
}  // namespace skald::testing
