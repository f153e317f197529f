// POST /otlp/v1/logs end to end on an in-process Skald: a real OpenTelemetry JS SDK body
// (testdata/otlp) pushed in each encoding, then queried back with the labels and structured
// metadata Loki shows; errors are Loki's OTLP errors (status + google.rpc.Status protobuf body);
// limits_config.otlp_config is parsed from YAML and applied.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "server/config.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"
#include "wire/otlp.h"

namespace skald::server {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(SKALD_SOURCE_DIR) + "/testdata/otlp/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The SDK bodies carry fixed 2026-01-02 timestamps: old samples must be accepted. Auth is on so
// that each test has its own tenant.
class OtlpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new skald::testing::TempDir("otlp-api");
    skald_ = new skald::testing::InProcessSkald(
        dir_->path(), {"-auth.enabled=true", "-validation.reject-old-samples=false"});
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

  http::HttpResponse Push(const std::string& tenant, const std::string& ct, const std::string& enc,
                          const std::string& body) {
    http::HeaderList h = {{"Content-Type", ct}, {"X-Scope-OrgID", tenant}};
    if (!enc.empty()) h.push_back({"Content-Encoding", enc});
    return Call("POST", "/otlp/v1/logs", h, body);
  }

  // query_range over the SDK bodies' day for one tenant.
  http::HttpResponse Query(const std::string& tenant, const std::string& query_escaped,
                           bool categorize = false) {
    http::HeaderList h = {{"X-Scope-OrgID", tenant}};
    if (categorize) h.push_back({"X-Loki-Response-Encoding-Flags", "categorize-labels"});
    return Call(
        "GET",
        "/loki/api/v1/query_range?query=" + query_escaped +
            "&start=1767312000000000000&end=1767398400000000000&limit=100&direction=forward",
        h);
  }

  static inline skald::testing::TempDir* dir_ = nullptr;
  static inline skald::testing::InProcessSkald* skald_ = nullptr;
};

constexpr std::string_view kCheckout = "%7Bservice_name%3D%22checkout%22%7D";

TEST_F(OtlpApiTest, SdkProtobufIsQueryableWithLabelsAndStructuredMetadata) {
  auto pushed = Push("sdk-proto", "application/x-protobuf", "", ReadTestdata("sdk-proto.bin"));
  ASSERT_EQ(pushed.status, 204) << pushed.body;
  EXPECT_TRUE(pushed.body.empty());

  auto plain = Query("sdk-proto", std::string(kCheckout));
  ASSERT_EQ(plain.status, 200) << plain.body;
  // Without categorize-labels, structured metadata shows up among the stream's labels.
  for (const char* want :
       {R"("service_name":"checkout")", R"("service_namespace":"shop")",
        R"("deployment_environment_name":"prod")", R"("k8s_pod_name":"checkout-7d9f")",
        R"("trace_id":"0af7651916cd43dd8448eb211c80319c")", R"("span_id":"b7ad6b7169203331")",
        R"("severity_text":"INFO")", R"("severity_number":"9")", R"("http_method":"POST")",
        R"("scope_name":"checkout-logger")", R"("host_name":"node-1")",
        R"(["1767323045123456789","order 1234 placed"])",
        R"(\"detail\":{\"gateway\":\"stripe\"})"}) {
    EXPECT_NE(plain.body.find(want), std::string::npos) << want << "\n" << plain.body;
  }

  auto cat = Query("sdk-proto", std::string(kCheckout), true);
  ASSERT_EQ(cat.status, 200) << cat.body;
  EXPECT_NE(
      cat.body.find(
          R"("stream":{"deployment_environment_name":"prod","k8s_pod_name":"checkout-7d9f","service_name":"checkout","service_namespace":"shop"})"),
      std::string::npos)
      << cat.body;
  EXPECT_NE(cat.body.find(R"("structuredMetadata":{)"), std::string::npos) << cat.body;
  EXPECT_NE(cat.body.find(R"("event_name":"checkout.retry")"), std::string::npos) << cat.body;

  // A label filter on structured metadata works as in Loki.
  auto filtered =
      Query("sdk-proto", std::string(kCheckout) + "%20%7C%20severity_text%3D%22ERROR%22");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_NE(filtered.body.find("payment failed"), std::string::npos) << filtered.body;
  EXPECT_EQ(filtered.body.find("order 1234 placed"), std::string::npos) << filtered.body;
}

TEST_F(OtlpApiTest, EveryEncodingOfTheSdkBodyIsAccepted) {
  EXPECT_EQ(
      Push("enc", "application/x-protobuf", "gzip", ReadTestdata("sdk-proto-gzip.bin.gz")).status,
      204);
  EXPECT_EQ(Push("enc", "application/json", "", ReadTestdata("sdk-http-json.json")).status, 204);
  EXPECT_EQ(
      Push("enc", "application/json", "gzip", ReadTestdata("sdk-http-json-gzip.json.gz")).status,
      204);
  // The same entries four times: duplicates are dropped, four lines remain.
  auto q = Query("enc", "sum%28count_over_time%28" + std::string(kCheckout) + "%5B1d%5D%29%29");
  ASSERT_EQ(q.status, 200) << q.body;
}

TEST_F(OtlpApiTest, ErrorsAreOtlpStatusProtobufs) {
  auto ct = Push("err", "text/plain", "", "x");
  EXPECT_EQ(ct.status, 400);
  EXPECT_EQ(ct.content_type, "application/octet-stream");
  EXPECT_EQ(ct.body, wire::EncodeOtlpErrorStatus("content type: text/plain is not supported"));

  auto enc = Push("err", "application/x-protobuf", "br", "x");
  EXPECT_EQ(enc.status, 400);
  EXPECT_EQ(enc.body,
            wire::EncodeOtlpErrorStatus(
                "unsupported content encoding br: only gzip, lz4 and zstd are supported"));

  auto truncated =
      Push("err", "application/x-protobuf", "", ReadTestdata("sdk-proto.bin").substr(0, 100));
  EXPECT_EQ(truncated.status, 400);
  EXPECT_EQ(truncated.body, wire::EncodeOtlpErrorStatus("unexpected EOF"));

  auto json = Push("err", "application/json", "", "{\"resourceLogs\":");
  EXPECT_EQ(json.status, 400);
  EXPECT_EQ(json.content_type, "application/octet-stream");

  // No log records: Loki's distributor answers 422.
  auto empty = Push("err", "application/json", "", "{}");
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(empty.body, wire::EncodeOtlpErrorStatus(
                            "error at least one valid stream is required for ingestion"));

  // Nothing of the rejected bodies was stored for the tenant.
  auto q = Query("err", "%7Bservice_name%3D~%22.%2B%22%7D");
  ASSERT_EQ(q.status, 200);
  EXPECT_NE(q.body.find(R"("result":[])"), std::string::npos) << q.body;
}

TEST(OtlpApiConfigTest, StructuredMetadataMustBeAllowed) {
  skald::testing::TempDir dir("otlp-no-sm");
  skald::testing::InProcessSkald s(dir.path(), {"-validation.reject-old-samples=false",
                                                "-validation.allow-structured-metadata=false"});
  ASSERT_TRUE(s.Start().ok());
  auto r = s.Call("POST", "/otlp/v1/logs", {{"Content-Type", "application/x-protobuf"}},
                  ReadTestdata("sdk-proto.bin"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("includes structured metadata, but this feature is disallowed"),
            std::string::npos)
      << r->body;
}

TEST(OtlpApiConfigTest, OtlpConfigIsParsedAndApplied) {
  skald::testing::TempDir dir("otlp-config");
  const std::string yaml = R"(
distributor:
  otlp_config:
    default_resource_attributes_as_index_labels: [service.name]
limits_config:
  reject_old_samples: false
  otlp_config:
    resource_attributes:
      attributes_config:
        - action: index_label
          regex: host\..*
        - action: drop
          attributes: [process.pid]
    scope_attributes:
      - action: drop
        attributes: [x]
    log_attributes:
      - action: index_label
        attributes: [http.method]
    severity_text_as_label: true
)";
  const std::string path = dir.path() + "/skald.yaml";
  std::ofstream(path) << yaml;
  skald::testing::InProcessSkald s(dir.path(), {"-config.file=" + path});
  ASSERT_TRUE(s.Start().ok());
  const auto& otlp = s.config().limits_config.otlp_config;
  ASSERT_EQ(otlp.resource_attributes.size(), 2u);
  EXPECT_EQ(otlp.resource_attributes[0].regex, "host\\..*");
  EXPECT_EQ(otlp.resource_attributes[1].action, limits::OtlpAttributeAction::kDrop);
  EXPECT_TRUE(otlp.severity_text_as_label);

  auto r = s.Call("POST", "/otlp/v1/logs", {{"Content-Type", "application/x-protobuf"}},
                  ReadTestdata("sdk-proto.bin"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 204) << r->body;
  auto q = s.Call("GET",
                  "/loki/api/v1/series?match[]=%7Bservice_name%3D%22checkout%22%7D"
                  "&start=1767312000000000000&end=1767398400000000000");
  ASSERT_TRUE(q.ok());
  // service.namespace etc. are no longer indexed; host.name is; the first record's http.method
  // and every record's severity_text became labels.
  EXPECT_NE(
      q->body.find(
          R"({"host_name":"node-1","http_method":"POST","service_name":"checkout","severity_text":"INFO"})"),
      std::string::npos)
      << q->body;
  EXPECT_NE(
      q->body.find(R"({"host_name":"node-1","service_name":"checkout","severity_text":"ERROR"})"),
      std::string::npos)
      << q->body;
  EXPECT_EQ(q->body.find("service_namespace"), std::string::npos) << q->body;
}

// A tenant's otlp_config in the runtime overrides applies to that tenant's OTLP pushes only.
TEST(OtlpApiConfigTest, PerTenantOtlpConfigOverridesApply) {
  skald::testing::TempDir dir("otlp-tenant");
  const std::string runtime = dir.path() + "/runtime.yaml";
  std::ofstream(runtime) << R"(
overrides:
  tenant-b:
    reject_old_samples: false
    otlp_config:
      severity_text_as_label: true
)";
  skald::testing::InProcessSkald s(dir.path(), {"-auth.enabled", "-runtime-config.file=" + runtime,
                                                "-validation.reject-old-samples=false"});
  ASSERT_TRUE(s.Start().ok());
  const std::string series =
      "/loki/api/v1/series?match[]=%7Bservice_name%3D%22checkout%22%7D"
      "&start=1767312000000000000&end=1767398400000000000";
  for (const char* tenant : {"tenant-a", "tenant-b"}) {
    auto r = s.Call("POST", "/otlp/v1/logs",
                    {{"Content-Type", "application/x-protobuf"}, {"X-Scope-OrgID", tenant}},
                    ReadTestdata("sdk-proto.bin"));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << tenant << ": " << r->body;
  }
  auto a = s.Call("GET", series, {{"X-Scope-OrgID", "tenant-a"}});
  auto b = s.Call("GET", series, {{"X-Scope-OrgID", "tenant-b"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->body.find("checkout"), std::string::npos) << a->body;
  EXPECT_EQ(a->body.find("severity_text"), std::string::npos) << a->body;
  EXPECT_NE(b->body.find(R"("severity_text":"ERROR")"), std::string::npos) << b->body;
}

TEST(OtlpApiConfigTest, OtlpConfigErrorsUseLokisTexts) {
  auto err = [](const std::string& yaml) {
    auto c = ParseConfigYaml(yaml);
    return c.ok() ? std::string("ok") : c.status().message();
  };
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    scope_attributes:\n      - action: "
                "index_label\n        attributes: [a]\n")
                .find("index_label action is only supported for resource_attributes"),
            std::string::npos);
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    log_attributes:\n      - action: keep\n"
                "        attributes: [a]\n")
                .find("unsupported action, it must be one of: drop, index_label, "
                      "structured_metadata"),
            std::string::npos);
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    log_attributes:\n      - action: drop\n")
                .find("attributes or regex must be set"),
            std::string::npos);
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    log_attributes:\n      - attributes: [a]\n"
                "        regex: b\n")
                .find("only one of attributes or regex must be set"),
            std::string::npos);
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    log_attributes:\n      - regex: '('\n")
                .find("error parsing regexp"),
            std::string::npos);
  EXPECT_NE(err("limits_config:\n  otlp_config:\n    bogus: 1\n")
                .find("unknown config key \"limits_config.otlp_config.bogus\""),
            std::string::npos);
  // otlp_config is implemented now: not reported among the ignored Loki keys.
  auto c = ParseConfigYaml("limits_config:\n  otlp_config:\n    severity_text_as_label: false\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ignored_keys.empty());
}

}  // namespace
}  // namespace skald::server
