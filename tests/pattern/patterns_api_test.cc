// GET|POST /loki/api/v1/patterns on a whole in-process Skald: lines pushed through the
// distributor reach the pattern store through the tee, and the answer is Loki's JSON.
#include <gtest/gtest.h>

#include <string>

#include "core/time.h"
#include "server/config.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace skald::pattern {
namespace {

std::string Url(std::string_view s) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

TEST(PatternsApiTest, PushedLinesComeBackAsLokisPatterns) {
  skald::testing::TempDir dir("patterns-api");
  skald::testing::InProcessSkald skald(dir.path(), {"-pattern-ingester.enabled=true"});
  ASSERT_TRUE(skald.Start().ok());
  const int64_t t0 = (NowNanos() / kNanosPerSecond / 60) * 60 - 600;  // seconds, 60 s aligned
  std::string values;
  for (int i = 0; i < 40; i++) {
    if (i > 0) values += ",";
    values += "[\"" + std::to_string((t0 + i) * kNanosPerSecond) +
              R"(","level=info msg=\"request served\" path=/api/)" + std::to_string(i) +
              " duration=" + std::to_string(i * 3) + "ms\"]";
  }
  const std::string body = R"({"streams":[{"stream":{"app":"web"},"values":[)" + values + "]}]}";
  auto pushed =
      skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(pushed.ok());
  ASSERT_EQ(pushed->status, 204) << pushed->body;

  const std::string range =
      "&start=" + std::to_string(t0 - 60) + "&end=" + std::to_string(t0 + 120);
  const std::string q = "/loki/api/v1/patterns?query=" + Url(R"({app="web"})") + range;
  const std::string want =
      R"({"status":"success","data":[{"pattern":"level=info msg=\"request served\" )"
      R"(path=\u003c_\u003e duration=\u003c_\u003e","level":"info","samples":[)" +
      ("[" + std::to_string(t0) + ",10],[" + std::to_string(t0 + 10) + ",10],[" +
       std::to_string(t0 + 20) + ",10],[" + std::to_string(t0 + 30) + ",10]]}]}\n");
  std::string got;
  ASSERT_TRUE(skald::testing::WaitFor([&] {
    auto r = skald.Call("GET", q + "&step=10s");
    got = r.ok() ? r->body : "";
    return got == want;
  })) << got;
  // step=60s sums the buckets; POST form works the same.
  auto post = skald.Call("POST", "/loki/api/v1/patterns",
                         {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "query=" + Url(R"({app=~"w.+"})") + range + "&step=60");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 200);
  EXPECT_NE(post->body.find("\"samples\":[[" + std::to_string(t0) + ",40]]"), std::string::npos)
      << post->body;
  // Other streams: nothing.
  auto none = skald.Call("GET", "/loki/api/v1/patterns?query=" + Url(R"({app="db"})") + range);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->body, "{\"status\":\"success\",\"data\":[]}\n");

  // Loki's errors (texts recorded from Loki 3.7.6).
  struct Case {
    std::string query, extra, body;
  };
  for (const Case& c : std::vector<Case>{
           {R"({app="web"} |= "x")", "", "only label matchers are supported"},
           {R"(rate({app="web"}[1m]))", "", "only label matchers are supported"},
           {"{}", "",
            "parse error : queries require at least one regexp or equality matcher that does "
            "not have an empty-compatible value. For instance, app=~\".*\" does not meet this "
            "requirement, but app=~\".+\" will"},
           {R"({app="web")", "",
            "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,"},
           {R"({app="web"})", "&step=0",
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer"},
           {R"({app="web"})", "&start=0&end=1796520900&step=1",
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter"},
       }) {
    auto r = skald.Call("GET", "/loki/api/v1/patterns?query=" + Url(c.query) + c.extra);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << c.query;
    EXPECT_EQ(r->body, c.body) << c.query;
  }
  EXPECT_NE(skald.Metrics().find("loki_pattern_ingester_patterns_detected_total{"),
            std::string::npos);
}

TEST(PatternsApiTest, DisabledAnswersEmptyData) {
  skald::testing::TempDir dir("patterns-api-off");
  skald::testing::InProcessSkald skald(dir.path(), {"-pattern-ingester.enabled=false"});
  ASSERT_TRUE(skald.Start().ok());
  auto r = skald.Call("GET", "/loki/api/v1/patterns?query=" + Url(R"({app="web"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"status\":\"success\",\"data\":[]}\n");
}

TEST(PatternsConfigTest, YamlKeysAndTheUnimplementedOnes) {
  auto c = server::ParseConfigYaml(
      "pattern_ingester:\n  enabled: false\n  max_clusters: 10\n  retain_for: 4h\n"
      "  lifecycler:\n    ring:\n      replication_factor: 1\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->pattern_ingester.enabled);
  EXPECT_EQ(c->pattern_ingester.max_clusters, 10);
  EXPECT_EQ(c->pattern_ingester.retain_for_ns, 4 * kNanosPerHour);
  EXPECT_EQ(c->ignored_keys, std::vector<std::string>{"pattern_ingester.lifecycler"});
  EXPECT_FALSE(server::Config{}.pattern_ingester.enabled);  // off by default, as in Loki
  auto bad = server::ParseConfigYaml("pattern_ingester:\n  enabled: true\n  retain_for: 30m\n");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(server::ValidateConfig(*bad).message(),
            "retain-for (30m0s) must be greater than or equal to chunk-duration (1h0m0s)");
}

}  // namespace
}  // namespace skald::pattern
