// AlertmanagerNotifier against the real Alertmanager (Debian's prometheus-alertmanager, 0.25):
// posted alerts are read back through its v2 API.
#include "ruler/alertmanager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
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

TEST(EncodeAlertsJsonTest, ExactText) {
  std::vector<NotifiedAlert> alerts(2);
  alerts[0].labels = L({{"severity", "page"}, {"alertname", "HighErrors"}});
  alerts[0].annotations = L({{"summary", "5 errors <in> \"api\"\n"}});
  alerts[0].starts_at_ms = 1765000000123;  // 2025-12-06T05:46:40.123Z
  alerts[0].generator_url = "http://skald:3100/graph?g0.expr=x&y";
  alerts[1].labels = L({{"alertname", "Resolved"}});
  alerts[1].starts_at_ms = 1000;
  alerts[1].ends_at_ms = 1765000060005;
  // Go's encoding/json escapes (HTML-safe, as Prometheus' notifier writes); endsAt left out
  // while firing, generatorURL when empty.
  EXPECT_EQ(EncodeAlertsJson(alerts),
            "[{\"labels\":{\"alertname\":\"HighErrors\",\"severity\":\"page\"},"
            "\"annotations\":{\"summary\":\"5 errors \\u003cin\\u003e \\\"api\\\"\\n\"},"
            "\"startsAt\":\"2025-12-06T05:46:40.123Z\","
            "\"generatorURL\":\"http://skald:3100/graph?g0.expr=x\\u0026y\"},"
            "{\"labels\":{\"alertname\":\"Resolved\"},\"annotations\":{},"
            "\"startsAt\":\"1970-01-01T00:00:01.000Z\",\"endsAt\":\"2025-12-06T05:47:40.005Z\"}]");
  EXPECT_EQ(EncodeAlertsJson({}), "[]");
}

// The top-level objects of a JSON array, as text (enough to look at one alert at a time).
std::vector<std::string> ArrayObjects(const std::string& json) {
  std::vector<std::string> out;
  int depth = 0;
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (depth == 1 && c == '{') start = i;
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == 1 && c == '}') out.push_back(json.substr(start, i - start + 1));
    }
  }
  return out;
}

std::string Rfc3339Millis(int64_t ms) {
  NotifiedAlert a;
  a.starts_at_ms = ms;
  const std::string json = EncodeAlertsJson({a});
  const size_t p = json.find("\"startsAt\":\"") + 12;
  return json.substr(p, json.find('"', p) - p);
}

class AlertmanagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("alertmanager");
    server_ = new ExternalServer;
    const std::string config = dir_->Sub("alertmanager.yml");
    std::ofstream(config) << "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n";
    const int port = ExternalServer::FreePort();
    *status_ = server_->Start(
        {"prometheus-alertmanager", "--config.file=" + config,
         "--storage.path=" + dir_->Sub("data"),
         "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="},
        port, "/-/ready", dir_->Sub("alertmanager.log"));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    // Fail, not skip: scripts/install-deps.sh installs prometheus-alertmanager.
    ASSERT_TRUE(ExternalServer::Available("prometheus-alertmanager"))
        << "prometheus-alertmanager is not installed";
    ASSERT_TRUE(status_->ok()) << status_->ToString();
  }

  static std::string Url() { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  // The active alerts whose label `test` is `name` (each test uses its own), as JSON objects.
  static std::vector<std::string> ActiveAlerts(const std::string& name) {
    http::HttpClient client("127.0.0.1", server_->port(), 10000);
    auto resp = client.Call(
        "GET", "/api/v2/alerts?active=true&filter=" + http::QueryEscape("test=\"" + name + "\""));
    if (!resp.ok() || resp->status != 200) {
      ADD_FAILURE() << "GET /api/v2/alerts: "
                    << (resp.ok() ? resp->body : resp.status().ToString());
      return {};
    }
    return ArrayObjects(resp->body);
  }
  // The one alert object containing `needle`, or "" (with a failure) when not exactly one.
  static std::string FindAlert(const std::vector<std::string>& alerts, const std::string& needle) {
    std::string found;
    int n = 0;
    for (const auto& a : alerts) {
      if (a.find(needle) != std::string::npos) {
        found = a;
        ++n;
      }
    }
    if (n != 1) ADD_FAILURE() << n << " alerts contain " << needle;
    return found;
  }

  static inline TempDir* dir_ = nullptr;
  static inline ExternalServer* server_ = nullptr;
  static inline Status* status_ = new Status();
};

NotifiedAlert Alert(const std::string& test, const std::string& name, int64_t starts_at_ms) {
  NotifiedAlert a;
  a.labels = L({{"alertname", name}, {"test", test}, {"severity", "page"}});
  a.annotations = L({{"summary", name + " is <firing> & \"loud\""}, {"runbook", "none"}});
  a.starts_at_ms = starts_at_ms;
  a.generator_url = "http://skald.example:3100/rules?rule=" + name;
  return a;
}

TEST_F(AlertmanagerTest, PostedAlertsAreActiveWithLabelsAnnotationsAndStartsAt) {
  metrics::Registry registry;
  AlertmanagerNotifier notifier({.urls = {Url()}}, &registry);
  const int64_t starts = NowMs() - 60000 + 123;
  notifier.Send({Alert("posted", "DiskFull", starts), Alert("posted", "CpuHot", starts + 1)});
  ASSERT_TRUE(WaitFor([&] { return notifier.alerts_sent() == 2; }, 10000))
      << "failed=" << notifier.alerts_failed() << "\n"
      << server_->log();
  const auto alerts = ActiveAlerts("posted");
  ASSERT_EQ(alerts.size(), 2u);
  for (const auto& [name, at] : {std::pair{"DiskFull", starts}, std::pair{"CpuHot", starts + 1}}) {
    const std::string labels = std::string("\"labels\":{\"alertname\":\"") + name +
                               "\",\"severity\":\"page\",\"test\":\"posted\"}";
    const std::string a = FindAlert(alerts, labels);
    // Alertmanager writes the annotation back with Go's escaping, as we sent it.
    EXPECT_NE(a.find(std::string("\"annotations\":{\"runbook\":\"none\",\"summary\":\"") + name +
                     " is \\u003cfiring\\u003e \\u0026 \\\"loud\\\"\"}"),
              std::string::npos)
        << a;
    EXPECT_NE(a.find("\"startsAt\":\"" + Rfc3339Millis(at) + "\""), std::string::npos) << a;
    EXPECT_NE(a.find(std::string("\"generatorURL\":\"http://skald.example:3100/rules?rule=") +
                     name + "\""),
              std::string::npos)
        << a;
    EXPECT_NE(a.find("\"state\":\"active\""), std::string::npos) << a;
    EXPECT_NE(a.find("\"receivers\":[{\"name\":\"null\"}]"), std::string::npos) << a;
  }
  notifier.Stop();
  EXPECT_EQ(notifier.alerts_failed(), 0u);
  const std::string exposition = registry.Expose();
  EXPECT_TRUE(skald::testing::HasLine(exposition, "loki_prometheus_notifications_sent_total 2"))
      << exposition;
  EXPECT_TRUE(skald::testing::HasLine(exposition, "loki_prometheus_notifications_queue_length 0"))
      << exposition;
}

TEST_F(AlertmanagerTest, ResolvedAlertLeavesTheActiveList) {
  AlertmanagerNotifier notifier({.urls = {Url()}}, nullptr);
  const int64_t now = NowMs();
  notifier.Send({Alert("resolve", "Flapping", now - 120000), Alert("resolve", "Steady", now)});
  ASSERT_TRUE(WaitFor([&] { return notifier.alerts_sent() == 2; }, 10000));
  ASSERT_EQ(ActiveAlerts("resolve").size(), 2u);

  NotifiedAlert resolved = Alert("resolve", "Flapping", now - 120000);
  resolved.ends_at_ms = now - 1000;
  notifier.Send({resolved});
  ASSERT_TRUE(WaitFor([&] { return notifier.alerts_sent() == 3; }, 10000));
  const auto alerts = ActiveAlerts("resolve");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].find("\"alertname\":\"Steady\""), std::string::npos) << alerts[0];
}

TEST_F(AlertmanagerTest, EachAlertmanagerCountsSeparately) {
  const int closed_port = ExternalServer::FreePort();
  metrics::Registry registry;
  AlertmanagerNotifier notifier(
      {.urls = {"http://127.0.0.1:" + std::to_string(closed_port), Url()}, .timeout_ms = 2000},
      &registry);
  notifier.Send(
      {Alert("two", "A", NowMs()), Alert("two", "B", NowMs()), Alert("two", "C", NowMs())});
  ASSERT_TRUE(
      WaitFor([&] { return notifier.alerts_sent() + notifier.alerts_failed() == 6; }, 10000));
  EXPECT_EQ(notifier.alerts_sent(), 3u);
  EXPECT_EQ(notifier.alerts_failed(), 3u);
  // The dead one does not keep the live one from getting every alert.
  EXPECT_EQ(ActiveAlerts("two").size(), 3u);
  notifier.Stop();
  EXPECT_TRUE(
      skald::testing::HasLine(registry.Expose(), "loki_prometheus_notifications_errors_total 3"));
}

TEST_F(AlertmanagerTest, FullQueueDropsTheOldestAlerts) {
  metrics::Registry registry;
  AlertmanagerNotifier notifier({.urls = {Url()}, .queue_capacity = 3, .max_batch = 2}, &registry);
  std::vector<NotifiedAlert> many;
  for (int i = 0; i < 10; ++i) many.push_back(Alert("overflow", "A" + std::to_string(i), NowMs()));
  // One Send of more than the capacity: the queue keeps the newest three before the sender
  // can take any, so the outcome does not depend on timing.
  notifier.Send(many);
  EXPECT_EQ(notifier.alerts_dropped(), 7u);
  ASSERT_TRUE(WaitFor([&] { return notifier.alerts_sent() == 3; }, 10000));
  const auto alerts = ActiveAlerts("overflow");
  ASSERT_EQ(alerts.size(), 3u);
  for (const char* name : {"A7", "A8", "A9"}) {
    FindAlert(alerts, std::string("\"alertname\":\"") + name + "\"");
  }
  notifier.Stop();
  EXPECT_TRUE(
      skald::testing::HasLine(registry.Expose(), "loki_prometheus_notifications_dropped_total 7"));
}

TEST(AlertmanagerFailureTest, UnreachableAlertmanagerCountsFailuresAndStopsQuickly) {
  const int closed_port = ExternalServer::FreePort();
  auto notifier = std::make_unique<AlertmanagerNotifier>(
      AlertmanagerOptions{.urls = {"http://127.0.0.1:" + std::to_string(closed_port)}}, nullptr);
  NotifiedAlert a;
  a.labels = L({{"alertname", "X"}});
  notifier->Send({a, a, a});
  ASSERT_TRUE(WaitFor([&] { return notifier->alerts_failed() == 3; }, 5000));
  EXPECT_EQ(notifier->alerts_sent(), 0u);
  const auto start = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(ElapsedMs(start), 500);
}

TEST(AlertmanagerFailureTest, StopBoundsTheTimeSpentDraining) {
  const int closed_port = ExternalServer::FreePort();
  AlertmanagerNotifier notifier(
      {.urls = {"http://127.0.0.1:" + std::to_string(closed_port)}, .max_batch = 1}, nullptr);
  NotifiedAlert a;
  a.labels = L({{"alertname", "X"}});
  notifier.Send(std::vector<NotifiedAlert>(5000, a));
  const auto start = std::chrono::steady_clock::now();
  notifier.Stop(200);
  EXPECT_LT(ElapsedMs(start), 1000);
  // Every alert is accounted for: posted and refused, or dropped when time ran out.
  EXPECT_EQ(notifier.alerts_failed() + notifier.alerts_dropped(), 5000u);
  EXPECT_EQ(notifier.alerts_sent(), 0u);
}

}  // namespace
}  // namespace skald::ruler
