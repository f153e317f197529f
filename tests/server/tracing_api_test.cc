// Request tracing end to end on an in-process Skald: the response's traceparent continues the
// caller's trace, the exported spans chain (the server span's parent is the caller's span, the
// stage spans' parent is the server span), and log lines written for the request carry its
// trace_id (here the distributor's refused-data line).
//
// The spans go to an in-test HTTP server standing in for an OTLP receiver
// (otlp_trace_receiver.h): no OpenTelemetry Collector or Jaeger is installable here (no Debian
// package), so the test reads the OTLP JSON itself.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time.h"
#include "core/tracing.h"
#include "tests/server/otlp_trace_receiver.h"
#include "tests/testing/captured_log.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace skald::server {
namespace {

using skald::testing::ReceivedSpan;

constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";

class TracingApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.Start().ok());
    skald_ = std::make_unique<skald::testing::InProcessSkald>(
        dir_.path(), std::vector<std::string>{"-tracing.otlp-endpoint=" + receiver_.Endpoint()});
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  http::HttpResponse Call(std::string_view method, std::string_view target,
                          const http::HeaderList& headers = {}, std::string_view body = {}) {
    auto r = skald_->Call(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::HttpResponse{};
  }

  // The spans of one trace, once `count` of them arrived.
  std::vector<ReceivedSpan> WaitForSpans(std::string_view trace_id, size_t count) {
    std::vector<ReceivedSpan> got;
    skald::testing::WaitFor([&] {
      got.clear();
      for (auto& s : receiver_.Spans()) {
        if (s.trace_id == trace_id) got.push_back(std::move(s));
      }
      return got.size() >= count;
    });
    return got;
  }

  static const ReceivedSpan* Find(const std::vector<ReceivedSpan>& spans, std::string_view name) {
    for (const auto& s : spans) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  skald::testing::TempDir dir_{"tracing-api"};
  skald::testing::OtlpTraceReceiver receiver_;
  std::unique_ptr<skald::testing::InProcessSkald> skald_;
};

TEST_F(TracingApiTest, PushContinuesTheCallersTraceAndExportsChainedSpans) {
  skald::testing::CapturedLog log;
  const std::string now = std::to_string(NowNanos());
  // One entry accepted, one refused as too old: a 400 and a refused-data log line.
  const std::string body =
      R"({"streams":[{"stream":{"job":"tr"},"values":[[")" + now + R"(","ok"],["1","ancient"]]}]})";
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  auto resp = Call("POST", "/loki/api/v1/push",
                   {{"Content-Type", "application/json"}, {"traceparent", traceparent}}, body);
  ASSERT_EQ(resp.status, 400) << resp.body;

  trace::SpanContext answered;
  ASSERT_TRUE(trace::ParseTraceparent(resp.Header("traceparent"), &answered))
      << resp.Header("traceparent");
  EXPECT_EQ(trace::TraceIdHex(answered.trace_id), kTraceId);
  const std::string server_span_id = trace::SpanIdHex(answered.span_id);
  EXPECT_NE(server_span_id, kParentId) << "the response names Skald's own span";
  EXPECT_TRUE(answered.sampled());

  std::vector<ReceivedSpan> spans = WaitForSpans(kTraceId, 5);
  const ReceivedSpan* server = Find(spans, "HTTP POST /loki/api/v1/push");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->span_id, server_span_id);
  EXPECT_EQ(server->parent_span_id, kParentId);
  EXPECT_EQ(server->kind, 2);
  EXPECT_EQ(server->attributes.at("http.request.method"), "POST");
  EXPECT_EQ(server->attributes.at("http.route"), "/loki/api/v1/push");
  EXPECT_EQ(server->attributes.at("http.response.status_code"), "400");
  EXPECT_EQ(server->attributes.at("tenant"), "fake");
  EXPECT_EQ(server->resource.at("service.name"), "skald");
  for (const char* stage :
       {"push.decode", "distributor.validate", "ingester.wal_append", "ingester.apply"}) {
    const ReceivedSpan* s = Find(spans, stage);
    ASSERT_NE(s, nullptr) << stage;
    EXPECT_EQ(s->parent_span_id, server_span_id) << stage;
    EXPECT_EQ(s->kind, 1) << stage;
    EXPECT_LE(server->start, s->start) << stage;  // same number of digits: text order works
  }

  // The refused entry's log line, rate limited per tenant and reason, carries the trace id.
  ASSERT_TRUE(skald::testing::WaitFor(
      [&] { return log.Text().find("msg=\"refused log lines\"") != std::string::npos; }));
  const std::string text = log.Text();
  const size_t at = text.find("msg=\"refused log lines\"");
  const std::string line = text.substr(at, text.find('\n', at) - at);
  EXPECT_NE(line.find("tenant=fake reason=greater_than_max_sample_age lines=1 bytes=7"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("trace_id=" + std::string(kTraceId)), std::string::npos) << line;
}

TEST_F(TracingApiTest, QueryStagesAreChildrenOfTheServerSpan) {
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  auto resp = Call("GET", "/loki/api/v1/query_range?query=%7Bjob%3D%22tr%22%7D&limit=10",
                   {{"traceparent", traceparent}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  trace::SpanContext answered;
  ASSERT_TRUE(trace::ParseTraceparent(resp.Header("traceparent"), &answered));
  const std::string server_span_id = trace::SpanIdHex(answered.span_id);
  std::vector<ReceivedSpan> spans = WaitForSpans(kTraceId, 4);
  const ReceivedSpan* server = Find(spans, "HTTP GET /loki/api/v1/query_range");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->span_id, server_span_id);
  EXPECT_EQ(server->parent_span_id, kParentId);
  for (const char* stage : {"logql.parse", "querier.select_logs", "query.encode"}) {
    const ReceivedSpan* s = Find(spans, stage);
    ASSERT_NE(s, nullptr) << stage;
    EXPECT_EQ(s->parent_span_id, server_span_id) << stage;
  }
}

TEST_F(TracingApiTest, MetricQueryHasAnEvaluateSpan) {
  const std::string traceparent =
      "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";
  auto resp =
      Call("GET", "/loki/api/v1/query?query=sum(count_over_time(%7Bjob%3D%22tr%22%7D%5B5m%5D))",
           {{"traceparent", traceparent}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  std::vector<ReceivedSpan> spans = WaitForSpans(kTraceId, 4);
  const ReceivedSpan* server = Find(spans, "HTTP GET /loki/api/v1/query");
  ASSERT_NE(server, nullptr);
  for (const char* stage : {"logql.parse", "logql.evaluate", "query.encode"}) {
    const ReceivedSpan* s = Find(spans, stage);
    ASSERT_NE(s, nullptr) << stage;
    EXPECT_EQ(s->parent_span_id, server->span_id) << stage;
  }
}

TEST_F(TracingApiTest, EveryResponseStartsANewTraceWithoutAValidTraceparent) {
  const char* invalid[] = {"", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "garbage"};
  for (const char* tp : invalid) {
    http::HeaderList h;
    if (*tp != '\0') h.push_back({"traceparent", tp});
    for (const char* target : {"/ready", "/no/such/path", "/loki/api/v1/labels"}) {
      auto resp = Call("GET", target, h);
      trace::SpanContext answered;
      ASSERT_TRUE(trace::ParseTraceparent(resp.Header("traceparent"), &answered))
          << target << " " << tp << ": " << resp.head;
      EXPECT_NE(trace::TraceIdHex(answered.trace_id), kTraceId);
      EXPECT_TRUE(answered.sampled()) << "a new trace is recorded when export is on";
    }
  }
  // Two traceparent headers: ambiguous, so a new trace too.
  auto resp =
      Call("GET", "/ready",
           {{"traceparent", "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"},
            {"traceparent", "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"}});
  trace::SpanContext answered;
  ASSERT_TRUE(trace::ParseTraceparent(resp.Header("traceparent"), &answered));
  EXPECT_NE(trace::TraceIdHex(answered.trace_id), kTraceId);
}

TEST_F(TracingApiTest, UnsampledCallerIsPropagatedButNotRecorded) {
  const std::string trace_id = "0af7651916cd43dd8448eb211c80319c";
  auto resp = Call("GET", "/loki/api/v1/labels",
                   {{"traceparent", "00-" + trace_id + "-b7ad6b7169203331-00"}});
  trace::SpanContext answered;
  ASSERT_TRUE(trace::ParseTraceparent(resp.Header("traceparent"), &answered));
  EXPECT_EQ(trace::TraceIdHex(answered.trace_id), trace_id);
  EXPECT_FALSE(answered.sampled());
  // A sampled request after it is exported; the unsampled one never is.
  Call("GET", "/loki/api/v1/labels",
       {{"traceparent", "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01"}});
  ASSERT_FALSE(WaitForSpans(kTraceId, 1).empty());
  for (const auto& s : receiver_.Spans()) EXPECT_NE(s.trace_id, trace_id) << s.name;
}

}  // namespace
}  // namespace skald::server
