// The ruler end to end: rule groups set through Loki's API on an in-process Skald, evaluated
// on the real LogQL engine over pushed logs, alerts delivered to a real Alertmanager
// (Debian's prometheus-alertmanager) and recording rules remote-written to a real Prometheus
// (Debian's prometheus with its remote-write receiver), both on loopback.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <string>

#include "core/time.h"
#include "tests/testing/external_server.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace skald {
namespace {

using testing::ExternalServer;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

class RulerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExternalServer::Available("prometheus-alertmanager"))
        << "prometheus-alertmanager missing: scripts/install-deps.sh installs it";
    ASSERT_TRUE(ExternalServer::Available("prometheus"))
        << "prometheus missing: scripts/install-deps.sh installs it";
    const std::string d = dir_.path();
    WriteFile(d + "/am.yml",
              "route:\n  receiver: 'null'\n  group_wait: 0s\nreceivers:\n  - name: 'null'\n");
    const int am_port = ExternalServer::FreePort();
    Status s = am_.Start(
        {"prometheus-alertmanager", "--config.file=" + d + "/am.yml",
         "--storage.path=" + d + "/am-data",
         "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
        am_port, "/-/ready", d + "/am.log");
    ASSERT_TRUE(s.ok()) << s.ToString();
    WriteFile(d + "/prom.yml", "global:\n  scrape_interval: 1m\n");
    const int prom_port = ExternalServer::FreePort();
    s = prom_.Start({"prometheus", "--config.file=" + d + "/prom.yml",
                     "--storage.tsdb.path=" + d + "/prom-data",
                     "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                     "--web.enable-remote-write-receiver"},
                    prom_port, "/-/ready", d + "/prom.log");
    ASSERT_TRUE(s.ok()) << s.ToString();
    skald_ = std::make_unique<testing::InProcessSkald>(
        d + "/skald",
        std::vector<std::string>{
            "-ruler.alertmanager-url=http://127.0.0.1:" + std::to_string(am_port),
            "-ruler.remote-write.enabled=true",
            "-ruler.remote-write.url=http://127.0.0.1:" + std::to_string(prom_port) +
                "/api/v1/write",
            "-ruler.evaluation-interval=1s", "-ruler.poll-interval=1s", "-ruler.resend-delay=1s",
            "-ruler.external.url=http://grafana.example:3000"});
    s = skald_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  StatusOr<http::HttpResponse> Get(int port, const std::string& target) {
    http::HttpClient c("127.0.0.1", port);
    return c.Call("GET", target);
  }

  testing::TempDir dir_{"ruler"};
  ExternalServer am_, prom_;
  std::unique_ptr<testing::InProcessSkald> skald_;
};

constexpr const char* kGroup = R"(name: api-errors
interval: 1s
rules:
  - alert: HighErrors
    expr: sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 2
    labels:
      severity: page
    annotations:
      summary: '{{ $labels.app }} has {{ $value }} errors'
  - record: app:errors:count5m
    expr: |
      sum by (app) (
        count_over_time({app="api"} |= "error" [5m])
      )
    labels:
      source: skald
)";

TEST_F(RulerIntegrationTest, RulesFromTheApiAlertAlertmanagerAndRecordIntoPrometheus) {
  // Three error lines and one other, a second ago.
  const int64_t ts = NowNanos() - kNanosPerSecond;
  std::string push = R"({"streams":[{"stream":{"app":"api"},"values":[)";
  for (int i = 0; i < 4; ++i) {
    if (i > 0) push += ',';
    push += "[\"" + std::to_string(ts + i) + "\",\"" + (i < 3 ? "error: boom" : "ok") + "\"]";
  }
  push += "]}]}";
  auto r = skald_->Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, push);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 204) << r->body;

  // No rules yet.
  r = skald_->Call("GET", "/loki/api/v1/rules");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "no rule groups found\n");

  // A group that does not validate is refused with the reason.
  r = skald_->Call("POST", "/loki/api/v1/rules/team-a", {{"Content-Type", "application/yaml"}},
                   "name: bad\nrules:\n  - alert: X\n    expr: '{app=\"api\"}'\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->body;

  r = skald_->Call("POST", "/loki/api/v1/rules/team-a", {{"Content-Type", "application/yaml"}},
                   kGroup);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(r->body, "{\"status\":\"success\",\"data\":null,\"errorType\":\"\",\"error\":\"\"}");

  r = skald_->Call("GET", "/loki/api/v1/rules/team-a/api-errors");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/yaml");
  EXPECT_NE(r->body.find("name: api-errors"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("alert: HighErrors"), std::string::npos) << r->body;
  r = skald_->Call("GET", "/loki/api/v1/rules");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("team-a:", 0), 0u) << r->body;
  r = skald_->Call("GET", "/loki/api/v1/rules/team-a/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "group does not exist\n");

  // Alertmanager receives the alert, with labels and expanded annotations.
  std::string am_body;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto a = Get(am_.port(), "/api/v2/alerts");
        if (!a.ok() || a->status != 200) return false;
        am_body = a->body;
        return am_body.find("HighErrors") != std::string::npos;
      },
      30000))
      << am_body << "\n"
      << skald_->Metrics();
  simdjson::dom::parser parser;
  simdjson::dom::element alerts = parser.parse(am_body);
  ASSERT_EQ(simdjson::dom::array(alerts).size(), 1u) << am_body;
  simdjson::dom::element a0 = alerts.at(0);
  EXPECT_EQ(std::string_view(a0["labels"]["alertname"]), "HighErrors");
  EXPECT_EQ(std::string_view(a0["labels"]["app"]), "api");
  EXPECT_EQ(std::string_view(a0["labels"]["severity"]), "page");
  EXPECT_EQ(std::string_view(a0["annotations"]["summary"]), "api has 3 errors");
  EXPECT_EQ(std::string_view(a0["status"]["state"]), "active");
  EXPECT_NE(std::string_view(a0["generatorURL"]).find("http://grafana.example:3000/graph?g0.expr="),
            std::string_view::npos);

  // Prometheus holds the recorded series and ALERTS.
  std::string prom_body;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto q = Get(prom_.port(), "/api/v1/query?query=app%3Aerrors%3Acount5m");
        if (!q.ok() || q->status != 200) return false;
        prom_body = q->body;
        return prom_body.find("\"result\":[{") != std::string::npos;
      },
      30000))
      << prom_body;
  simdjson::dom::element pq = parser.parse(prom_body);
  simdjson::dom::element series = pq["data"]["result"].at(0);
  EXPECT_EQ(std::string_view(series["metric"]["__name__"]), "app:errors:count5m");
  EXPECT_EQ(std::string_view(series["metric"]["app"]), "api");
  EXPECT_EQ(std::string_view(series["metric"]["source"]), "skald");
  EXPECT_EQ(simdjson::dom::object(series["metric"]).size(), 3u) << prom_body;
  EXPECT_EQ(std::string_view(series["value"].at(1)), "3");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto q = Get(prom_.port(), "/api/v1/query?query=ALERTS%7Balertstate%3D%22firing%22%7D");
        return q.ok() && q->body.find("HighErrors") != std::string::npos;
      },
      30000));

  // Prometheus' rules and alerts API on Skald, as Grafana reads it.
  r = skald_->Call("GET", "/prometheus/api/v1/rules");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  simdjson::dom::element rules = parser.parse(r->body);
  EXPECT_EQ(std::string_view(rules["status"]), "success");
  simdjson::dom::element g = rules["data"]["groups"].at(0);
  EXPECT_EQ(std::string_view(g["name"]), "api-errors");
  EXPECT_EQ(std::string_view(g["file"]), "team-a");
  EXPECT_EQ(double(g["interval"]), 1.0);
  simdjson::dom::element alert_rule = g["rules"].at(0);
  EXPECT_EQ(std::string_view(alert_rule["type"]), "alerting");
  EXPECT_EQ(std::string_view(alert_rule["state"]), "firing");
  EXPECT_EQ(std::string_view(alert_rule["health"]), "ok");
  EXPECT_EQ(std::string_view(alert_rule["alerts"].at(0)["value"]), "3e+00");
  simdjson::dom::element rec_rule = g["rules"].at(1);
  EXPECT_EQ(std::string_view(rec_rule["type"]), "recording");
  EXPECT_EQ(std::string_view(rec_rule["name"]), "app:errors:count5m");
  EXPECT_EQ(std::string_view(rec_rule["health"]), "ok");
  r = skald_->Call("GET", "/prometheus/api/v1/rules?type=record");
  ASSERT_TRUE(r.ok());
  simdjson::dom::element only_rec = parser.parse(r->body);
  EXPECT_EQ(simdjson::dom::array(only_rec["data"]["groups"].at(0)["rules"]).size(), 1u);
  r = skald_->Call("GET", "/prometheus/api/v1/rules?type=bogus");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("not supported value \\\"bogus\\\""), std::string::npos) << r->body;
  r = skald_->Call("GET", "/prometheus/api/v1/alerts");
  ASSERT_TRUE(r.ok());
  simdjson::dom::element al = parser.parse(r->body);
  EXPECT_EQ(std::string_view(al["data"]["alerts"].at(0)["labels"]["alertname"]), "HighErrors");

  // Deleting the group stops it.
  r = skald_->Call("DELETE", "/loki/api/v1/rules/team-a/api-errors");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 202) << r->body;
  r = skald_->Call("GET", "/loki/api/v1/rules");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  r = skald_->Call("GET", "/prometheus/api/v1/rules");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("\"groups\":[]"), std::string::npos) << r->body;
  r = skald_->Call("DELETE", "/loki/api/v1/rules/team-a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "group namespace does not exist\n");
}

}  // namespace
}  // namespace skald
