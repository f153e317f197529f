// Retention and Loki's delete API through a whole Skald in-process: query-time hiding (also
// of entries still in ingester memory), cancellation, the compactor's physical deletion after
// the cancel period, persistence across a restart, tenant isolation and Loki's error texts.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"
#include "tools/http/http_client.h"

namespace skald::testing {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (skald_) {
      EXPECT_TRUE(skald_->Stop().ok());
    }
  }
  Status Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {"-auth.enabled", "-compactor.retention-enabled=true",
                                      "-compactor.compaction-interval=200ms",
                                      "-compactor.retention-delete-delay=0s",
                                      "-compactor.delete-request-cancel-period=2s"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    if (!skald_) skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data"), flags);
    return skald_->Start();
  }
  http::HttpResponse Call(const std::string& method, const std::string& tenant,
                          const std::string& target, const std::string& body = "") {
    http::HeaderList h = {{"X-Scope-OrgID", tenant}};
    if (!body.empty()) h.push_back({"Content-Type", "application/json"});
    auto r = skald_->Call(method, target, h, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::HttpResponse{};
  }
  void Push(const std::string& tenant, const std::string& app,
            const std::vector<std::pair<int64_t, std::string>>& lines) {
    std::string values;
    for (const auto& [ts, line] : lines) {
      if (!values.empty()) values += ",";
      values += "[\"" + std::to_string(ts) + "\",\"" + line + "\"]";
    }
    auto r = Call("POST", tenant, "/loki/api/v1/push",
                  R"({"streams":[{"stream":{"app":")" + app + R"("},"values":[)" + values + "]}]}");
    ASSERT_EQ(r.status, 204) << r.body;
  }
  // Lines of a log query over the last `hours`, newest first, as one string.
  std::string Lines(const std::string& tenant, const std::string& query, int hours = 1) {
    const int64_t now = NowNanos();
    auto r = Call("GET", tenant,
                  "/loki/api/v1/query_range?query=" + http::QueryEscape(query) +
                      "&start=" + std::to_string(now - hours * kNanosPerHour) +
                      "&end=" + std::to_string(now + kNanosPerSecond) + "&limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    // The lines: the string after the timestamp of each ["<ns>","<line>"...] value.
    static const std::regex kValue(R"re(\["[0-9]+","([^"]*)")re");
    std::string out;
    for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), kValue);
         it != std::sregex_iterator(); ++it) {
      if (!out.empty()) out += "|";
      out += (*it)[1].str();
    }
    return out;
  }
  // The value of an instant metric query (one series) or "" when the result is empty.
  std::string Instant(const std::string& tenant, const std::string& query) {
    auto r = Call("GET", tenant,
                  "/loki/api/v1/query?query=" + http::QueryEscape(query) +
                      "&time=" + std::to_string(NowNanos()));
    EXPECT_EQ(r.status, 200) << r.body;
    const size_t v = r.body.find("\"value\":[");
    if (v == std::string::npos) return "";
    const size_t q = r.body.find(",\"", v);
    return r.body.substr(q + 2, r.body.find('"', q + 2) - q - 2);
  }
  http::HttpResponse Delete(const std::string& tenant, const std::string& query, int64_t start_s,
                            int64_t end_s) {
    return Call("POST", tenant,
                "/loki/api/v1/delete?query=" + http::QueryEscape(query) +
                    "&start=" + std::to_string(start_s) + "&end=" + std::to_string(end_s));
  }

  TempDir dir_{"retention"};
  std::unique_ptr<InProcessSkald> skald_;
};

TEST_F(RetentionTest, DeleteRequestHidesCancelsAndIsAppliedByTheCompactor) {
  ASSERT_TRUE(Start().ok());
  const int64_t t = (NowNanos() / kNanosPerSecond - 120) * kNanosPerSecond;
  Push("a", "api",
       {{t, "ok 1"}, {t + kNanosPerSecond, "secret 2"}, {t + 2 * kNanosPerSecond, "ok 3"}});
  Push("b", "api", {{t + kNanosPerSecond, "secret 2"}});
  ASSERT_EQ(Lines("a", "{app=\"api\"}"), "ok 3|secret 2|ok 1");

  const int64_t now_s = NowNanos() / kNanosPerSecond;
  auto added = Delete("a", "{app=\"api\"} |= \"secret\"", now_s - 3600, now_s);
  ASSERT_EQ(added.status, 204) << added.body;
  const std::string id(added.Header("X-Delete-Request-ID"));
  ASSERT_EQ(id.size(), 8u);

  // Hidden at once, while the entries are still in ingester memory, for log and metric
  // queries; the other tenant is untouched.
  EXPECT_EQ(Lines("a", "{app=\"api\"}"), "ok 3|ok 1");
  EXPECT_EQ(Instant("a", "sum(count_over_time({app=\"api\"}[1h]))"), "2");
  EXPECT_EQ(Instant("a", "sum(bytes_over_time({app=\"api\"}[1h]))"), "8");
  EXPECT_EQ(Lines("b", "{app=\"api\"}"), "secret 2");

  auto list = Call("GET", "a", "/loki/api/v1/delete");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"request_id\":\"" + id + "\""), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("\"status\":\"received\""), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("\"start_time\":" + std::to_string(now_s - 3600) + ","),
            std::string::npos)
      << list.body;
  EXPECT_EQ(Call("GET", "b", "/loki/api/v1/delete").body, "[]\n");

  // Cancelled within the cancel period: the lines are back.
  EXPECT_EQ(Call("DELETE", "b", "/loki/api/v1/delete?request_id=" + id).status, 404);
  EXPECT_EQ(Call("DELETE", "a", "/loki/api/v1/delete?request_id=" + id).status, 204);
  EXPECT_EQ(Lines("a", "{app=\"api\"}"), "ok 3|secret 2|ok 1");

  // Again, flushed to the store; once the cancel period is over the compactor rewrites the
  // chunk and marks the request processed.
  ASSERT_EQ(Delete("a", "{app=\"api\"} |= \"secret\"", now_s - 3600, now_s).status, 204);
  ASSERT_EQ(Call("POST", "a", "/flush").status, 204);
  EXPECT_TRUE(WaitFor(
      [&] {
        return Call("GET", "a", "/loki/api/v1/delete").body.find("\"processed\"") !=
               std::string::npos;
      },
      20000));
  EXPECT_GE(
      SampleValue(skald_->Metrics(), "skald_compactor_deleted_lines_total{user=\"a\"}").value_or(0),
      1);
  EXPECT_EQ(Lines("a", "{app=\"api\"}"), "ok 3|ok 1");
  std::string listed = Call("GET", "a", "/loki/api/v1/delete").body;
  const size_t at = listed.find("\"request_id\":\"") + 14;
  auto late = Call("DELETE", "a", "/loki/api/v1/delete?request_id=" + listed.substr(at, 8));
  EXPECT_EQ(late.status, 400);
  EXPECT_EQ(late.body,
            "deletion of request which is in process or already processed is not allowed\n");

  // After a restart: still gone, and tenant b still has its line.
  ASSERT_TRUE(skald_->Stop().ok());
  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(Lines("a", "{app=\"api\"}"), "ok 3|ok 1");
  EXPECT_EQ(Lines("b", "{app=\"api\"}"), "secret 2");
}

TEST_F(RetentionTest, RetentionPeriodHidesAndRemovesOldChunks) {
  ASSERT_TRUE(Start({"-store.retention=24h"}).ok());
  const int64_t now = NowNanos();
  Push("a", "old", {{now - 48 * kNanosPerHour, "two days ago"}});
  Push("a", "new", {{now - 60 * kNanosPerSecond, "a minute ago"}});
  EXPECT_EQ(Lines("a", "{app=~\"old|new\"}", 72), "a minute ago");
  EXPECT_EQ(Instant("a", "sum(count_over_time({app=\"old\"}[72h]))"), "");
  ASSERT_EQ(Call("POST", "a", "/flush").status, 204);
  EXPECT_TRUE(WaitFor(
      [&] {
        return SampleValue(skald_->Metrics(), "skald_compactor_chunks_expired_total").value_or(0) >=
               1;
      },
      20000));
  EXPECT_EQ(Lines("a", "{app=~\"old|new\"}", 72), "a minute ago");
}

// -target=compactor: the compactor alone on the store an `all` process wrote, serving the
// operator endpoints and the delete API, and nothing else.
TEST_F(RetentionTest, CompactorTargetMergesWhatAnotherProcessWrote) {
  ASSERT_TRUE(Start({"-compactor.compaction-interval=1h"}).ok());
  const int64_t t = (NowNanos() / kNanosPerSecond - 120) * kNanosPerSecond;
  for (int i = 0; i < 3; i++) {
    Push("a", "app" + std::to_string(i), {{t + i, "line " + std::to_string(i)}});
    ASSERT_EQ(Call("POST", "a", "/flush").status, 204);
  }
  ASSERT_TRUE(skald_->Stop().ok());
  const std::string day_dir =
      dir_.Sub("data") + "/store/index/a/" + std::to_string(t / kNanosPerDay);
  auto files = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(day_dir)) n += e.is_regular_file();
    return n;
  };
  ASSERT_EQ(files(), 3u);

  InProcessSkald compactor(dir_.Sub("data"),
                           {"-target=compactor", "-auth.enabled", "-compactor.retention-enabled",
                            "-compactor.compaction-interval=100ms"});
  ASSERT_TRUE(compactor.Start().ok());
  EXPECT_TRUE(WaitFor([&] { return files() == 1; }, 20000));
  auto ready = compactor.Call("GET", "/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  auto push = compactor.Call("POST", "/loki/api/v1/push", {{"X-Scope-OrgID", "a"}}, "{}");
  ASSERT_TRUE(push.ok());
  EXPECT_EQ(push->status, 404);
  auto list = compactor.Call("GET", "/loki/api/v1/delete", {{"X-Scope-OrgID", "a"}});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(compactor.Metrics().find("loki_compactor_apply_retention_operation_total"),
            std::string::npos);
  ASSERT_TRUE(compactor.Stop().ok());

  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(Lines("a", "{app=~\"app.*\"}"), "line 0|line 1|line 2");  // streams by labels
}

TEST_F(RetentionTest, DeleteApiErrorsAreLokis) {
  ASSERT_TRUE(Start().ok());
  const int64_t now_s = NowNanos() / kNanosPerSecond;
  auto err = [&](const std::string& target) {
    auto r = Call("POST", "a", target);
    return std::to_string(r.status) + " " + r.body;
  };
  EXPECT_EQ(err("/loki/api/v1/delete?start=1"), "400 query not set\n");
  EXPECT_EQ(err("/loki/api/v1/delete?query=sum(x)&start=" + std::to_string(now_s - 10)),
            "400 invalid query expression\n");
  EXPECT_EQ(err("/loki/api/v1/delete?query=%7Ba%3D%22b%22%7D"), "400 start time not set\n");
  EXPECT_EQ(err("/loki/api/v1/delete?query=%7Ba%3D%22b%22%7D&start=12"),
            "400 invalid start time: require unix seconds or RFC3339 format\n");
  EXPECT_EQ(err("/loki/api/v1/delete?query=%7Ba%3D%22b%22%7D&start=" + std::to_string(now_s - 10) +
                "&end=" + std::to_string(now_s + 1000)),
            "400 deletes in the future are not allowed\n");
  EXPECT_EQ(err("/loki/api/v1/delete?query=%7Ba%3D%22b%22%7D&start=" + std::to_string(now_s - 10) +
                "&end=" + std::to_string(now_s - 20)),
            "400 start time can't be greater than or equal to end time\n");
  EXPECT_EQ(Call("DELETE", "a", "/loki/api/v1/delete?request_id=nope").status, 404);
}

TEST_F(RetentionTest, DeletionDisabledIsForbiddenAndRetentionOffIsRefused) {
  ASSERT_TRUE(Start({"-compactor.deletion-mode=disabled"}).ok());
  auto r = Call("GET", "a", "/loki/api/v1/delete");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "deletion is not available for this tenant\n");
  ASSERT_TRUE(skald_->Stop().ok());
  skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data2"),
                                            std::vector<std::string>{"-auth.enabled"});
  ASSERT_TRUE(skald_->Start().ok());
  r = Call("GET", "a", "/loki/api/v1/delete");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "Retention is not enabled\n");
}

}  // namespace
}  // namespace skald::testing
