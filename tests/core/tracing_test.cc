// core/tracing: W3C traceparent parsing and formatting, span parentage, the thread's current
// context (log lines, thread-pool tasks).
#include "core/tracing.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/logging.h"
#include "core/thread_pool.h"
#include "tests/testing/captured_log.h"
#include "tests/testing/wait.h"

namespace skald::trace {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecExample) {
  SpanContext ctx;
  ASSERT_TRUE(ParseTraceparent(kValid, &ctx));
  EXPECT_EQ(TraceIdHex(ctx.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(SpanIdHex(ctx.span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(ctx.sampled());
  EXPECT_EQ(FormatTraceparent(ctx), kValid);
}

TEST(TraceparentTest, UnsampledFlagsRoundTrip) {
  SpanContext ctx;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &ctx));
  EXPECT_FALSE(ctx.sampled());
  EXPECT_EQ(FormatTraceparent(ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(TraceparentTest, KeepsOnlyTheSampledBitOfTheFlags) {
  SpanContext ctx;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", &ctx));
  EXPECT_EQ(ctx.flags, kSampledFlag);
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", &ctx));
  EXPECT_EQ(ctx.flags, 0);
}

TEST(TraceparentTest, RefusesInvalidForms) {
  const char* bad[] = {
      "",
      "00",
      // Version 00 must be exactly 55 characters.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
      // Version ff is forbidden.
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // All-zero ids.
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // Uppercase hex is not allowed (HEXDIGLC).
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // Non-hex and wrong separators.
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e47-3600f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
      "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  };
  for (const char* h : bad) {
    SpanContext ctx;
    ctx.flags = 7;
    EXPECT_FALSE(ParseTraceparent(h, &ctx)) << h;
    EXPECT_EQ(ctx.flags, 7) << "untouched on failure: " << h;
  }
}

TEST(TraceparentTest, ParsesFutureVersionsLeniently) {
  SpanContext ctx;
  // Same length as version 00.
  ASSERT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &ctx));
  EXPECT_EQ(TraceIdHex(ctx.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  // Longer, with more fields after a dash.
  ASSERT_TRUE(ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future", &ctx));
  EXPECT_EQ(SpanIdHex(ctx.span_id), "00f067aa0ba902b7");
  // Longer without the dash, or shorter: not parsed.
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", &ctx));
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", &ctx));
}

TEST(TraceIdTest, NewIdsAreNonZeroAndDistinct) {
  TraceId a = NewTraceId(), b = NewTraceId();
  EXPECT_NE(a, TraceId{});
  EXPECT_NE(a, b);
  SpanId c = NewSpanId(), d = NewSpanId();
  EXPECT_NE(c, SpanId{});
  EXPECT_NE(c, d);
  EXPECT_EQ(TraceIdHex(a).size(), 32u);
  EXPECT_EQ(SpanIdHex(c).size(), 16u);
}

// Collects exported spans.
class RecordingExporter : public SpanExporter {
 public:
  void Export(std::unique_ptr<SpanData> span) override {
    std::lock_guard<std::mutex> lock(mu);
    spans.push_back(std::move(span));
  }
  const SpanData* Find(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& s : spans) {
      if (s->name == name) return s.get();
    }
    return nullptr;
  }
  std::mutex mu;
  std::vector<std::unique_ptr<SpanData>> spans;
};

TEST(SpanTest, ServerSpanContinuesTheRemoteTraceAndChildrenChain) {
  RecordingExporter exporter;
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent(kValid, &remote));
  {
    Span server;
    server.StartServer(remote, &exporter);
    ASSERT_TRUE(server.recording());
    server.SetName("HTTP POST /x");
    EXPECT_EQ(server.context().trace_id, remote.trace_id);
    EXPECT_NE(server.context().span_id, remote.span_id);
    Scope scope(&server);
    SetCurrentAttribute("tenant", "t1");
    {
      Span stage("stage");
      EXPECT_TRUE(stage.recording());
      Span inner("inner");
      inner.SetAttribute("n", int64_t{3});
    }
    Span sibling("sibling");
    sibling.End();
    server.End();
  }
  ASSERT_EQ(exporter.spans.size(), 4u);
  const SpanData* server = exporter.Find("HTTP POST /x");
  const SpanData* stage = exporter.Find("stage");
  const SpanData* inner = exporter.Find("inner");
  const SpanData* sibling = exporter.Find("sibling");
  ASSERT_TRUE(server && stage && inner && sibling);
  EXPECT_EQ(server->parent_span_id, remote.span_id);
  EXPECT_EQ(server->kind, SpanKind::kServer);
  ASSERT_EQ(server->attributes.size(), 1u);
  EXPECT_EQ(server->attributes[0].key, "tenant");
  EXPECT_EQ(stage->parent_span_id, server->context.span_id);
  EXPECT_EQ(inner->parent_span_id, stage->context.span_id);
  EXPECT_EQ(sibling->parent_span_id, server->context.span_id);
  EXPECT_EQ(inner->context.trace_id, remote.trace_id);
  ASSERT_EQ(inner->attributes.size(), 1u);
  EXPECT_TRUE(inner->attributes[0].is_int);
  EXPECT_LE(server->start_unix_nanos, stage->start_unix_nanos);
  EXPECT_GE(server->end_unix_nanos, sibling->end_unix_nanos);
  Context after = CurrentContext();
  EXPECT_FALSE(after.span.valid()) << "scopes restore the thread's previous context";
}

TEST(SpanTest, NewTraceWhenNoRemoteParent) {
  RecordingExporter exporter;
  Span server;
  server.StartServer(SpanContext{}, &exporter);
  EXPECT_TRUE(server.context().valid());
  EXPECT_TRUE(server.context().sampled());
  server.End();
  ASSERT_EQ(exporter.spans.size(), 1u);
  EXPECT_EQ(exporter.spans[0]->parent_span_id, SpanId{});
}

TEST(SpanTest, UnsampledRemoteParentAndNoExporterRecordNothing) {
  RecordingExporter exporter;
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &remote));
  {
    Span server;
    server.StartServer(remote, &exporter);
    EXPECT_FALSE(server.recording());
    EXPECT_EQ(server.context().trace_id, remote.trace_id);
    EXPECT_FALSE(server.context().sampled());
    Scope scope(&server);
    Span child("child");
    EXPECT_FALSE(child.recording());
    // The trace id is still the thread's: log lines carry it.
    TraceId id;
    ASSERT_TRUE(CurrentTraceId(&id));
    EXPECT_EQ(id, remote.trace_id);
  }
  {
    Span server;
    server.StartServer(SpanContext{}, nullptr);
    EXPECT_FALSE(server.recording());
    EXPECT_TRUE(server.context().valid()) << "ids for the response's traceparent";
  }
  EXPECT_TRUE(exporter.spans.empty());
}

TEST(SpanTest, ChildWithoutCurrentSpanDoesNothing) {
  Span s("orphan");
  EXPECT_FALSE(s.recording());
  TraceId id;
  EXPECT_FALSE(CurrentTraceId(&id));
}

TEST(SpanTest, LogLinesCarryTheTraceIdOnlyInsideARequest) {
  skald::testing::CapturedLog captured;
  log::Info("outside");
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent(kValid, &remote));
  {
    Span server;
    server.StartServer(remote, nullptr);
    Scope scope(&server);
    log::Info("inside", {{"k", "v"}});
  }
  const std::string text = captured.Text();
  EXPECT_NE(text.find("msg=outside\n"), std::string::npos) << text;
  EXPECT_NE(text.find("msg=inside k=v trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n"),
            std::string::npos)
      << text;
}

TEST(SpanTest, ThreadPoolTasksContinueTheSubmittersTrace) {
  RecordingExporter exporter;
  ThreadPool pool("trace-test", 2, 0);
  SpanContext remote;
  ASSERT_TRUE(ParseTraceparent(kValid, &remote));
  Span server;
  server.StartServer(remote, &exporter);
  server.SetName("server");
  std::atomic<bool> done{false};
  TraceId seen{};
  {
    Scope scope(&server);
    ASSERT_TRUE(pool.TrySubmit([&] {
      Span task("task");
      (void)CurrentTraceId(&seen);
      task.End();
      done = true;
    }));
  }
  ASSERT_TRUE(skald::testing::WaitFor([&] { return done.load(); }));
  server.End();
  pool.Shutdown();
  EXPECT_EQ(seen, remote.trace_id);
  const SpanData* task = exporter.Find("task");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->parent_span_id, server.context().span_id);
  // A task submitted outside any request runs without a trace.
  ThreadPool pool2("trace-test2", 1, 0);
  std::atomic<int> has{-1};
  ASSERT_TRUE(pool2.TrySubmit([&] {
    TraceId id;
    has = CurrentTraceId(&id) ? 1 : 0;
  }));
  ASSERT_TRUE(skald::testing::WaitFor([&] { return has.load() >= 0; }));
  EXPECT_EQ(has.load(), 0);
}

}  // namespace
}  // namespace skald::trace
