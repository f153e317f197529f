// In-process tests of the Loki HTTP handlers (App on port 0): ranges whose
// length overflows int64 get Loki's 400s instead of a 200, the legacy push path
// decodes v0 JSON (one media-type parse, errors as before), and query policy
// answers reach the client with their status codes.
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"

namespace skald::server {
namespace {

// One in-process Skald for the whole suite.
class LokiApiHandlerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new skald::testing::TempDir("loki-api-handlers");
    skald_ = new skald::testing::InProcessSkald(dir_->path());
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static void TearDownTestSuite() {
    delete skald_;
    skald_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  http::HttpResponse Call(std::string_view method, std::string_view target,
                          const http::HeaderList& headers = {}, std::string_view body = {}) {
    auto r = skald_->Call(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::HttpResponse{};
  }

  static inline skald::testing::TempDir* dir_ = nullptr;
  static inline skald::testing::InProcessSkald* skald_ = nullptr;
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

namespace skald::server {
namespace {

// buildinfo carries real build facts: Loki's UTC date format and the compiler in goVersion.
TEST_F(LokiApiHandlerTest, BuildInfoHasLokisDateFormatAndTheCompiler) {
  auto r = Call("GET", "/loki/api/v1/status/buildinfo");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("version":"3.5.0")"), std::string::npos) << r.body;
  const std::regex date(R"re("buildDate":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")re");
  EXPECT_TRUE(std::regex_search(r.body, date)) << r.body;
  const std::regex compiler(R"re("goVersion":"(g\+\+|clang\+\+) [0-9])re");
  EXPECT_TRUE(std::regex_search(r.body, compiler)) << r.body;
  EXPECT_EQ(r.body.find(R"("revision":"")"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace skald::server
