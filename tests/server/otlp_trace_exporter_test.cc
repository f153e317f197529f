// OtlpTraceExporter: the endpoint's resolution (config, then OpenTelemetry's env), the OTLP JSON
// body, batching, retries on 5xx/429, and drops counted when the queue is full. The receiver is
// an in-test HTTP server (otlp_trace_receiver.h): no OTLP collector is installable here.
#include "server/otlp_trace_exporter.h"

#include <gtest/gtest.h>

#include "core/metrics.h"
#include "tests/server/otlp_trace_receiver.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/wait.h"

namespace skald::server {
namespace {

using skald::testing::OtlpTraceReceiver;
using skald::testing::ReceivedSpan;

TEST(OtlpTracesUrlTest, ConfigFirstThenTracesEnvThenBaseEnv) {
  EXPECT_EQ(OtlpTracesUrl("http://c:4318", "http://t:1/custom", "http://b:2"),
            "http://c:4318/v1/traces");
  EXPECT_EQ(OtlpTracesUrl("http://c:4318/", nullptr, nullptr), "http://c:4318/v1/traces");
  // A signal-specific endpoint is used as it is (the OpenTelemetry spec).
  EXPECT_EQ(OtlpTracesUrl("", "http://t:1/custom", "http://b:2"), "http://t:1/custom");
  EXPECT_EQ(OtlpTracesUrl("", "", "http://b:2/"), "http://b:2/v1/traces");
  EXPECT_EQ(OtlpTracesUrl("", nullptr, nullptr), "");
}

std::unique_ptr<trace::SpanData> MakeSpan(std::string name, bool child) {
  auto s = std::make_unique<trace::SpanData>();
  s->context.trace_id = trace::NewTraceId();
  s->context.span_id = trace::NewSpanId();
  s->context.flags = trace::kSampledFlag;
  if (child) s->parent_span_id = trace::NewSpanId();
  s->name = std::move(name);
  s->kind = child ? trace::SpanKind::kInternal : trace::SpanKind::kServer;
  s->start_unix_nanos = 1'700'000'000'000'000'001;
  s->end_unix_nanos = 1'700'000'000'000'000'999;
  s->attributes.push_back({"http.route", "/loki/api/v1/push", 0, false});
  s->attributes.push_back({"http.response.status_code", "", 503, true});
  s->error = true;
  s->status_message = "boom \"quoted\"";
  return s;
}

TEST(EncodeOtlpTracesJsonTest, FollowsTheOtlpJsonMapping) {
  std::vector<std::unique_ptr<trace::SpanData>> spans;
  spans.push_back(MakeSpan("root", false));
  spans.push_back(MakeSpan("child", true));
  const std::string body = EncodeOtlpTracesJson(spans, "1.2.3");
  std::vector<ReceivedSpan> got = skald::testing::ParseSpans(body);
  ASSERT_EQ(got.size(), 2u) << body;
  EXPECT_EQ(got[0].name, "root");
  EXPECT_EQ(got[0].trace_id, trace::TraceIdHex(spans[0]->context.trace_id));
  EXPECT_EQ(got[0].span_id, trace::SpanIdHex(spans[0]->context.span_id));
  EXPECT_EQ(got[0].parent_span_id, "") << "a root span has no parentSpanId";
  EXPECT_EQ(got[0].kind, 2);
  EXPECT_EQ(got[0].start, "1700000000000000001");
  EXPECT_EQ(got[0].end, "1700000000000000999");
  EXPECT_EQ(got[0].attributes["http.route"], "/loki/api/v1/push");
  EXPECT_EQ(got[0].attributes["http.response.status_code"], "503");
  EXPECT_EQ(got[0].status_code, 2);
  EXPECT_EQ(got[0].resource["service.name"], "skald");
  EXPECT_EQ(got[0].resource["service.version"], "1.2.3");
  EXPECT_EQ(got[1].parent_span_id, trace::SpanIdHex(spans[1]->parent_span_id));
  EXPECT_EQ(got[1].kind, 1);
  EXPECT_NE(body.find("\"intValue\":\"503\""), std::string::npos) << "int64 as a JSON string";
}

TEST(OtlpTraceExporterTest, RefusesUnusableUrls) {
  OtlpTraceExporterOptions o;
  o.url = "https://collector:4318/v1/traces";
  EXPECT_FALSE(OtlpTraceExporter::Create(o, nullptr).ok());
  o.url = "http://:4318/v1/traces";
  EXPECT_FALSE(OtlpTraceExporter::Create(o, nullptr).ok());
}

TEST(OtlpTraceExporterTest, BatchesAndRetriesUntilTheReceiverAccepts) {
  OtlpTraceReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  receiver.FailNext(2, 503);
  metrics::Registry registry;
  OtlpTraceExporterOptions o;
  o.url = receiver.Endpoint() + "/v1/traces";
  o.flush_interval_ms = 20;
  o.initial_backoff_ms = 5;
  auto exporter = OtlpTraceExporter::Create(o, &registry);
  ASSERT_TRUE(exporter.ok()) << exporter.status().ToString();
  for (int i = 0; i < 3; i++) (*exporter)->Export(MakeSpan("s" + std::to_string(i), i > 0));
  ASSERT_TRUE(skald::testing::WaitFor([&] { return receiver.Spans().size() == 3; }));
  // One batch normally (the flush interval gathers the three); what matters is that the two
  // 503s were retried.
  EXPECT_GE(receiver.requests(), 3);
  for (const std::string& ct : receiver.content_types()) EXPECT_EQ(ct, "application/json");
  EXPECT_TRUE(skald::testing::WaitFor([&] { return (*exporter)->spans_exported() == 3; }));
  EXPECT_EQ((*exporter)->spans_dropped(), 0u);
  EXPECT_NE(registry.Expose().find("skald_tracing_spans_exported_total 3"), std::string::npos)
      << registry.Expose();
}

TEST(OtlpTraceExporterTest, GivesUpAfterTheRetriesAndOnClientErrors) {
  OtlpTraceReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  metrics::Registry registry;
  OtlpTraceExporterOptions o;
  o.url = receiver.Endpoint() + "/v1/traces";
  o.flush_interval_ms = 5;
  o.initial_backoff_ms = 1;
  o.max_retries = 2;
  auto exporter = OtlpTraceExporter::Create(o, &registry);
  ASSERT_TRUE(exporter.ok());
  receiver.FailNext(100, 429);
  (*exporter)->Export(MakeSpan("a", false));
  ASSERT_TRUE(skald::testing::WaitFor([&] { return (*exporter)->spans_dropped() == 1; }));
  EXPECT_EQ(receiver.requests(), 3) << "the first try and two retries";
  receiver.FailNext(100, 400);
  (*exporter)->Export(MakeSpan("b", false));
  ASSERT_TRUE(skald::testing::WaitFor([&] { return (*exporter)->spans_dropped() == 2; }));
  EXPECT_EQ(receiver.requests(), 4) << "400 is not retried";
  EXPECT_NE(registry.Expose().find("skald_tracing_spans_dropped_total{reason=\"export_failed\"} 2"),
            std::string::npos)
      << registry.Expose();
}

TEST(OtlpTraceExporterTest, DropsWhatDoesNotFitTheQueue) {
  metrics::Registry registry;
  OtlpTraceExporterOptions o;
  o.url = "http://127.0.0.1:9/v1/traces";  // nothing listens: every post fails
  o.queue_capacity = 4;
  o.max_batch = 1000;
  o.flush_interval_ms = 60'000;  // the sender holds off: the queue fills
  o.max_retries = 0;
  auto exporter = OtlpTraceExporter::Create(o, &registry);
  ASSERT_TRUE(exporter.ok());
  for (int i = 0; i < 10; i++) (*exporter)->Export(MakeSpan("x", false));
  EXPECT_EQ((*exporter)->spans_dropped(), 6u);
  EXPECT_NE(registry.Expose().find("skald_tracing_spans_dropped_total{reason=\"queue_full\"} 6"),
            std::string::npos)
      << registry.Expose();
  (*exporter)->Stop(0);
  EXPECT_EQ((*exporter)->spans_exported(), 0u);
  EXPECT_EQ((*exporter)->spans_dropped(), 10u) << "the queued rest is dropped at shutdown";
}

}  // namespace
}  // namespace skald::server
