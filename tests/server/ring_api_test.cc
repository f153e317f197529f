// The ring page and the ingester lifecycle endpoints on a whole in-process Skald (in-memory
// ring), and the page's rendering of a ring snapshot.
#include "server/ring_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"

namespace skald::server {
namespace {

using skald::testing::InProcessSkald;
using skald::testing::TempDir;

TEST(RingApiTest, TheInstanceIsActiveOnTheRingPageAndLeavesOnShutdown) {
  TempDir dir;
  std::atomic<int> stops{0};
  AppHooks hooks;
  hooks.request_stop = [&stops] { stops++; };
  InProcessSkald skald(dir.path(),
                       {"-ingester.lifecycler.ID=ingester-7", "-ingester.num-tokens=32"}, hooks);
  ASSERT_TRUE(skald.Start().ok());

  auto json = skald.Call("GET", "/ring", {{"Accept", "application/json"}});
  ASSERT_TRUE(json.ok());
  ASSERT_EQ(json->status, 200) << json->body;
  // The address advertised is the gRPC port actually bound (the harness asks for port 0).
  EXPECT_NE(json->body.find("\"id\":\"ingester-7\",\"state\":\"ACTIVE\",\"address\":\"127.0.0.1:"),
            std::string::npos)
      << json->body;
  EXPECT_EQ(json->body.find("\"address\":\"127.0.0.1:0\""), std::string::npos) << json->body;
  EXPECT_NE(json->body.find("\"tokens\":32,\"ownership\":1}"), std::string::npos) << json->body;

  auto html = skald.Call("GET", "/ring");
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->content_type, "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("<td>ingester-7</td><td></td><td>ACTIVE</td>"), std::string::npos)
      << html->body;
  EXPECT_NE(html->body.find("<td>100.0%</td>"), std::string::npos);
  EXPECT_NE(html->body.find("name=\"forget\" value=\"ingester-7\""), std::string::npos);

  // prepare_shutdown: set, read, clear.
  EXPECT_EQ(skald.Call("GET", "/ingester/prepare_shutdown")->body, "unset");
  EXPECT_EQ(skald.Call("POST", "/ingester/prepare_shutdown")->status, 204);
  EXPECT_EQ(skald.Call("GET", "/ingester/prepare_shutdown")->body, "set");
  EXPECT_EQ(skald.Call("DELETE", "/ingester/prepare_shutdown")->status, 204);
  EXPECT_EQ(skald.Call("GET", "/ingester/prepare_shutdown")->body, "unset");

  // A line, then /ingester/shutdown without terminating: flushed, and out of the ring.
  const std::string now = std::to_string(NowNanos());
  auto push = skald.Call(
      "POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
      R"({"streams":[{"stream":{"app":"r"},"values":[[")" + now + R"(","hello ring"]]}]})");
  ASSERT_EQ(push->status, 204) << push->body;
  auto down = skald.Call("POST", "/ingester/shutdown?terminate=false");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 204) << down->body;
  EXPECT_EQ(stops.load(), 0);
  json = skald.Call("GET", "/ring", {{"Accept", "application/json"}});
  EXPECT_EQ(json->body.find("ingester-7"), std::string::npos) << json->body;
  EXPECT_NE(skald.Metrics().find("loki_ingester_chunks_flushed_total"), std::string::npos);
  // The line is in the store now: a pack object under the data directory.
  size_t packs = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/store")) {
    packs += e.is_regular_file() && e.path().string().find("/packs/") != std::string::npos;
  }
  EXPECT_EQ(packs, 1u);
  // With terminate (the default) the process is asked to stop.
  EXPECT_EQ(skald.Call("GET", "/ingester/shutdown")->status, 204);
  EXPECT_EQ(stops.load(), 1);
  EXPECT_TRUE(skald.Stop().ok());  // leaving twice is fine
}

TEST(RingApiTest, ForgetRemovesAnInstance) {
  TempDir dir;
  InProcessSkald skald(dir.path(), {"-ingester.lifecycler.ID=a"});
  ASSERT_TRUE(skald.Start().ok());
  auto page = skald.Call("POST", "/ring", {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "forget=a");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("<td>a</td>"), std::string::npos) << page->body;
  // The next heartbeat registers it again (it is alive).
  EXPECT_TRUE(skald.Stop().ok());
}

TEST(RingApiTest, PageEscapesAndMarksStaleInstances) {
  ring::InstanceDesc d;
  d.id = "<b>x</b>";
  d.state = ring::State::kActive;
  d.heartbeat_ns = 1;
  d.tokens = {1, 2};
  ring::Ring r({d}, kNanosPerMinute);
  const std::string html = RingPageHtml(r, 10 * kNanosPerMinute, kNanosPerMinute);
  EXPECT_NE(html.find("<td>&lt;b&gt;x&lt;/b&gt;</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>UNHEALTHY</td>"), std::string::npos) << html;
  const std::string json = RingJson(r, 10 * kNanosPerMinute, kNanosPerMinute);
  EXPECT_NE(json.find("\"state\":\"UNHEALTHY\""), std::string::npos) << json;
}

TEST(RingApiTest, UnsupportedStoresAreRefused) {
  Config c;
  c.ingester.lifecycler.ring.store = "consul";
  Status s = ValidateConfig(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Skald supports inmemory and etcd"), std::string::npos);
}

}  // namespace
}  // namespace skald::server
