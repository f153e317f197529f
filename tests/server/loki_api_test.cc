// In-process tests of the Loki HTTP handlers (App on port 0): ranges whose
// length overflows int64 get Loki's 400s instead of a 200, the legacy push path
// decodes v0 JSON (one media-type parse, errors as before), and query policy
// answers reach the client with their status codes; format_query answers Loki's
// JSON for valid and invalid queries, on GET and POST, without a tenant.
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>

#include <fstream>

#include "core/time.h"
#include "tests/testing/captured_log.h"
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
  EXPECT_EQ(metric.status, 200) << metric.body;
  EXPECT_NE(metric.body.find(R"("resultType":"matrix")"), std::string::npos) << metric.body;
  auto save_and_test = Call("GET", "/loki/api/v1/query?query=vector(1)%2Bvector(1)&time=1");
  EXPECT_EQ(save_and_test.status, 200) << save_and_test.body;
  EXPECT_NE(save_and_test.body.find(R"("result":[{"metric":{},"value":[1,"2"]}])"),
            std::string::npos)
      << save_and_test.body;
  auto instant = Call("GET", "/loki/api/v1/query?" + std::string(kSelector));
  EXPECT_EQ(instant.status, 400);
  auto limit = Call("GET", "/loki/api/v1/query_range?" + std::string(kSelector) + "&limit=5001");
  EXPECT_EQ(limit.status, 400);
  EXPECT_EQ(limit.body,
            "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > "
            "5000)");
}

// index/stats and index/volume(_range), answered from block and chunk metadata; the
// shapes and error texts observed with Loki 3.7 (volume values: line bytes).
TEST_F(LokiApiHandlerTest, IndexStatsAndVolumeAnswerFromMetadata) {
  const int64_t t0 = NowNanos() - 600 * kNanosPerSecond;
  auto ts = [&](int s) { return std::to_string(t0 + s * kNanosPerSecond); };
  const std::string body = R"({"streams":[{"stream":{"job":"vol","host":"h1"},"values":[[")" +
                           ts(0) + R"(","aaaa"],[")" + ts(1) +
                           R"(","bbbb"]]},{"stream":{"job":"vol","host":"h2"},"values":[[")" +
                           ts(2) + R"(","cc"]]}]})";
  auto pushed = Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
  ASSERT_EQ(pushed.status, 204) << pushed.body;
  const std::string range = "&start=" + std::to_string(t0 - 3600 * kNanosPerSecond) +
                            "&end=" + std::to_string(NowNanos());
  const std::string vol =
      "query=%7Bjob%3D%22vol%22%2Chost%3D~%22.%2B%22%7D" + range;  // {job="vol",host=~".+"}

  auto stats = Call("GET", "/loki/api/v1/index/stats?query=%7Bjob%3D%22vol%22%7D" + range);
  EXPECT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body, "{\"streams\":2,\"chunks\":2,\"bytes\":10,\"entries\":3}\n");

  auto volume = Call("GET", "/loki/api/v1/index/volume?" + vol);
  EXPECT_EQ(volume.status, 200) << volume.body;
  const std::regex series(
      R"re(\{"metric":\{"host":"h1","job":"vol"\},"value":\[[0-9.]+,"8"\]\},)re"
      R"re(\{"metric":\{"host":"h2","job":"vol"\},"value":\[[0-9.]+,"2"\]\}\])re");
  EXPECT_TRUE(std::regex_search(volume.body, series)) << volume.body;
  EXPECT_NE(volume.body.find(R"("resultType":"vector")"), std::string::npos);

  auto one = Call("GET", "/loki/api/v1/index/volume?" + vol + "&limit=1");
  EXPECT_NE(one.body.find(R"("host":"h1")"), std::string::npos) << one.body;
  EXPECT_EQ(one.body.find(R"("host":"h2")"), std::string::npos) << one.body;
  auto target = Call("GET", "/loki/api/v1/index/volume?" + vol + "&targetLabels=host");
  EXPECT_NE(target.body.find(R"({"metric":{"host":"h1"},)"), std::string::npos) << target.body;
  // aggregateBy=labels: one series per label name; ties in label order.
  auto labels = Call("GET", "/loki/api/v1/index/volume?" + vol + "&aggregateBy=labels");
  EXPECT_TRUE(std::regex_search(
      labels.body,
      std::regex(
          R"re(\{"metric":\{"host":""\},"value":\[[0-9.]+,"10"\]\},\{"metric":\{"job":""\},"value":\[[0-9.]+,"10"\]\},\{"metric":\{"service_name":""\})re")))
      << labels.body;
  auto bad = Call("GET", "/loki/api/v1/index/volume?" + vol + "&aggregateBy=foo");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "invalid aggregation option");
  auto pipeline = Call(
      "GET", "/loki/api/v1/index/stats?query=%7Bjob%3D%22vol%22%7D%20%7C%3D%20%22x%22" + range);
  EXPECT_EQ(pipeline.status, 400);
  EXPECT_EQ(pipeline.body, "only label matchers are supported");

  auto matrix = Call("GET", "/loki/api/v1/index/volume_range?" + vol + "&step=60");
  EXPECT_EQ(matrix.status, 200) << matrix.body;
  EXPECT_NE(matrix.body.find(R"("resultType":"matrix")"), std::string::npos) << matrix.body;
  EXPECT_NE(matrix.body.find(R"("8"]])"), std::string::npos) << matrix.body;

  // Flushed to the store, the same streams and entries are counted from the chunk refs.
  auto flushed = Call("POST", "/flush");
  ASSERT_EQ(flushed.status, 204);
  auto stored = Call("GET", "/loki/api/v1/index/stats?query=%7Bjob%3D%22vol%22%7D" + range);
  EXPECT_TRUE(std::regex_search(
      stored.body, std::regex(R"re(^\{"streams":2,"chunks":2,"bytes":[0-9]+,"entries":3\}\n$)re")))
      << stored.body;
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

namespace skald::server {
namespace {

constexpr std::string_view kFormatJson = "application/json; charset=utf-8";

// Loki's docs example: `{foo=   "bar"}` comes back as `{foo="bar"}`, for GET and POST.
TEST_F(LokiApiHandlerTest, FormatQueryAnswersTheCanonicalQuery) {
  auto get = Call("GET", "/loki/api/v1/format_query?query=%7Bfoo%3D%20%20%20%22bar%22%7D");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.content_type, kFormatJson);
  EXPECT_EQ(get.body, "{\"status\":\"success\",\"data\":\"{foo=\\\"bar\\\"}\"}\n");
  auto post = Call("POST", "/loki/api/v1/format_query",
                   {{"Content-Type", "application/x-www-form-urlencoded"}},
                   "query=%7Bfoo%3D%20%20%20%22bar%22%7D");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, get.body);
  // POST with the query in the URL works too (Loki's docs).
  auto post_url = Call("POST", "/loki/api/v1/format_query?query=%7Bfoo%3D%20%20%20%22bar%22%7D");
  EXPECT_EQ(post_url.status, 200);
  EXPECT_EQ(post_url.body, get.body);
}

TEST_F(LokiApiHandlerTest, FormatQueryPrintsMetricQueriesCanonically) {
  // `sum(rate({job="varlogs"}[10m]))  by (level)` prints as Loki's String() form (which
  // is what Loki's Prettify answers for queries up to 100 characters).
  auto r = Call("GET",
                "/loki/api/v1/format_query?query=sum(rate(%7Bjob%3D%22varlogs%22%7D%5B10m%5D))"
                "%20%20by%20(level)");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "{\"status\":\"success\",\"data\":\"sum by (level)(rate({job=\\\"varlogs\\\"}[10m]))"
            "\"}\n");
}

// Loki's own handler test: `{foo="bar}` -> 400 invalid-query "literal not terminated".
TEST_F(LokiApiHandlerTest, FormatQueryParseErrorIsA400WithLokisJsonBody) {
  auto r = Call("GET", "/loki/api/v1/format_query?query=%7Bfoo%3D%22bar%7D");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, kFormatJson);
  EXPECT_EQ(r.body,
            "{\"status\":\"invalid-query\",\"error\":\"parse error at line 1, col 6: literal "
            "not terminated\"}\n");
  // No query at all is a parse error too, in the same shape.
  auto empty = Call("GET", "/loki/api/v1/format_query");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body.rfind("{\"status\":\"invalid-query\",\"error\":\"parse error", 0), 0u)
      << empty.body;
}

// Like r.FormValue in Loki, an undecodable pair elsewhere does not hide `query`.
TEST_F(LokiApiHandlerTest, FormatQueryIgnoresUndecodableParameters) {
  auto r = Call("GET", "/loki/api/v1/format_query?x=%zz&query=%7Bfoo%3D%22bar%22%7D");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"status\":\"success\",\"data\":\"{foo=\\\"bar\\\"}\"}\n");
}

// format_query is served without a tenant, even with auth enabled (Loki registers it
// outside the auth middleware), while query endpoints still want one.
TEST(LokiApiFormatQueryTest, NeedsNoTenantWithAuthEnabled) {
  skald::testing::TempDir dir("loki-api-format-auth");
  skald::testing::InProcessSkald skald(dir.path(), {"-auth.enabled"});
  ASSERT_TRUE(skald.Start().ok());
  auto r = skald.Call("GET", "/loki/api/v1/format_query?query=%7Bfoo%3D%22bar%22%7D");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  auto labels = skald.Call("GET", "/loki/api/v1/labels");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->status, 401);
}

// Honest configuration: each Loki key Skald accepts but does not implement is named in one
// warning at startup, and so is the gRPC port nothing listens on.
TEST(LokiApiStartupTest, WarnsOncePerAcceptedButUnimplementedKey) {
  skald::testing::TempDir dir("startup-warnings");
  const std::string config = dir.path() + "/loki.yaml";
  {
    std::ofstream f(config);
    f << "auth_enabled: false\n"
         "compactor:\n  retention_enabled: true\n  upload_parallelism: 4\n"
         "bloom_build:\n  enabled: true\n"
         "ruler:\n  alertmanager_url: http://localhost:9093\n  enable_sharding: true\n";
  }
  skald::testing::CapturedLog log;
  {
    skald::testing::InProcessSkald skald(dir.path() + "/data", {"-config.file=" + config});
    ASSERT_TRUE(skald.Start().ok());
  }
  const std::string text = log.Text();
  EXPECT_EQ(skald::testing::CountOccurrences(text, "not implemented: it has no effect"), 3u)
      << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "key=compactor.upload_parallelism"), 1u) << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "key=compactor.retention_enabled"), 0u) << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "key=bloom_build"), 1u) << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "key=ruler.enable_sharding"), 1u) << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "key=ruler"), 1u) << text;
  EXPECT_EQ(skald::testing::CountOccurrences(text, "msg=\"serving gRPC\""), 1u) << text;
}

}  // namespace
}  // namespace skald::server
