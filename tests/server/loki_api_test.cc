// In-process tests of the Loki HTTP handlers (App on port 0): ranges whose
// length overflows int64 get Loki's 400s instead of a 200, the legacy push path
// decodes v0 JSON (one media-type parse, errors as before), and query policy
// answers reach the client with their status codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/time.h"
#include "server/app.h"
#include "server/config.h"
#include "tests/server/http_client.h"

namespace skald::server {
namespace {

// One App for the whole binary: metrics register in the process-wide registry.
class LokiApiHandlerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/skald-loki-api-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    Config c;
    c.server.http_listen_address = "127.0.0.1";
    c.server.http_listen_port = 0;
    c.common.path_prefix = *dir_;
    auto app = App::Create(c);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = app->release();
    ASSERT_TRUE(app_->Start().ok());
  }
  static void TearDownTestSuite() {
    if (app_ != nullptr) (void)app_->Shutdown();
    delete app_;
    app_ = nullptr;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  test::ClientResponse Call(std::string_view method, std::string_view target,
                            const test::HeaderList& headers = {}, std::string_view body = {}) {
    test::HttpClient client("127.0.0.1", app_->http_port());
    auto r = client.Call(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : test::ClientResponse{};
  }

  static inline App* app_ = nullptr;
  static inline std::string* dir_ = nullptr;
};

constexpr std::string_view kSelector = "query=%7Bapp%3D%22a%22%7D";

// Regression: start=-2^62&end=2^62 overflowed end - start and was answered 200.
TEST_F(LokiApiHandlerTest, RangeLongerThanInt64IsA400) {
  const std::string range = "&start=-4611686018427387904&end=4611686018427387904";
  auto r = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) + range);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "the query time range exceeds the limit (query length: 2562047h47m16.854775807s, "
            "limit: 30d1h)");
  auto s = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) + range + "&step=1");
  EXPECT_EQ(s.status, 400);
  EXPECT_EQ(s.body,
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter");
  auto full = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) +
                              "&start=-9223372036854775808&end=9223372036854775807");
  EXPECT_EQ(full.status, 400);
  auto backwards = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) +
                                   "&start=9223372036854775807&end=-9223372036854775808");
  EXPECT_EQ(backwards.status, 400);
  EXPECT_EQ(backwards.body, "end timestamp must not be before or equal to start time");
}

TEST_F(LokiApiHandlerTest, MetadataEndpointsAcceptTheExtremesOfTime) {
  for (const char* path :
       {"/loki/api/v1/labels", "/loki/api/v1/label/app/values", "/loki/api/v1/series"}) {
    auto r =
        Call("GET", std::string(path) + "?start=-9223372036854775808&end=-9223372036854775808");
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  }
}

TEST_F(LokiApiHandlerTest, QueryPolicyAnswersKeepTheirStatusCodes) {
  auto metric = Call("GET", "/loki/api/v1/query_range?query=rate(%7Bapp%3D%22a%22%7D%5B1m%5D)");
  EXPECT_EQ(metric.status, 501);
  auto instant = Call("GET", "/loki/api/v1/query?" + std::string(kSelector));
  EXPECT_EQ(instant.status, 400);
  auto limit = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) + "&limit=5001");
  EXPECT_EQ(limit.status, 400);
  EXPECT_EQ(limit.body,
            "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > "
            "5000)");
}

TEST_F(LokiApiHandlerTest, LegacyPushPathParsesTheMediaTypeOnce) {
  const std::string ts = FormatRFC3339Nano(NowNanos());
  const std::string v0 = R"({"streams":[{"labels":"{job=\"legacy-once\"}","entries":[{"ts":")" +
                         ts + R"(","line":"old client"}]}]})";
  auto ok =
      Call("POST", "/api/prom/push", {{"Content-Type", "application/json; charset=utf-8"}}, v0);
  EXPECT_EQ(ok.status, 204) << ok.body;
  auto bad = Call("POST", "/api/prom/push", {{"Content-Type", "application/"}}, v0);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "mime: expected token after slash");
  auto missing = Call("POST", "/api/prom/push", {}, v0);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, "mime: no media type");
}

}  // namespace
}  // namespace skald::server
