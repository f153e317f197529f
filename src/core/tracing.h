// Request tracing: W3C trace context ids, spans, and the span current on each thread.
//
// Every HTTP request gets a server span (server/http_server), a child of the caller's
// `traceparent` when it sends a valid one, else the root of a new trace. While a thread works
// for a request, that span (or a stage span below it) is the thread's current span: log lines
// carry its trace id (core/logging), child spans hang below it, and tasks queued on a
// ThreadPool take its context along (core/thread_pool).
//
// Spans are recorded only when a SpanExporter is given (tracing.otlp_endpoint set) and the
// caller did not ask for the trace to be left unsampled (ParentBased sampling: a remote parent
// whose sampled flag is 0 is not recorded). An unrecorded server span still has its ids (for
// the response's traceparent and the log lines); its stage spans then cost a thread-local read
// and nothing else: no clock reads, no allocation.
//
// Use:
//   trace::Span span("distributor.validate");   // child of the current span, current until End()
//   span.SetAttribute("lines", int64_t{n});     // no-op unless recording
//   ...                                          // ended by End() or the destructor
// Spans on one thread must end in the reverse order of their start (they form a stack).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace skald::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// Trace flags (W3C): bit 0 is "sampled".
inline constexpr uint8_t kSampledFlag = 0x01;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t flags = 0;

  // Both ids non-zero (W3C: all-zero ids are invalid).
  bool valid() const;
  bool sampled() const { return (flags & kSampledFlag) != 0; }
};

// Length of a version-00 traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex.
inline constexpr size_t kTraceparentSize = 55;

// Parses a W3C traceparent header value. Version 00 must be exactly 55 characters; a higher
// version (not ff) is parsed leniently as the spec asks: at least 55 characters, its first 55
// read as version 00's fields, and anything after them must start with '-'. Hex digits must be
// lowercase. Returns false (and leaves *out untouched) on anything invalid: wrong length or
// separators, non-hex, version ff, all-zero trace or parent id.
bool ParseTraceparent(std::string_view header, SpanContext* out);
// "00-<trace id>-<span id>-<flags>", 55 characters.
std::string FormatTraceparent(const SpanContext& ctx);

// Lowercase hex of an id.
std::string TraceIdHex(const TraceId& id);
std::string SpanIdHex(const SpanId& id);
// Appends 32 hex digits of the trace id to *out.
void AppendTraceIdHex(std::string* out, const TraceId& id);

// Random non-zero ids (a per-thread generator seeded from the OS; not for cryptography).
TraceId NewTraceId();
SpanId NewSpanId();

enum class SpanKind : uint8_t { kInternal = 1, kServer = 2, kClient = 3 };

struct Attribute {
  std::string key;
  std::string string_value;
  int64_t int_value = 0;
  bool is_int = false;
};

// A finished span, as handed to the exporter.
struct SpanData {
  SpanContext context;
  SpanId parent_span_id{};  // all zero for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  std::vector<Attribute> attributes;
  bool error = false;  // OTLP status code ERROR (else UNSET)
  std::string status_message;
};

// Where finished spans go (server/otlp_trace_exporter). Export runs on the thread that ends
// the span, inside request handling: it must never block. Thread-safe.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual void Export(std::unique_ptr<SpanData> span) = 0;
};

// What a task needs to continue a request's trace on another thread.
struct Context {
  SpanContext span;
  SpanExporter* exporter = nullptr;  // null: the trace is not recorded
};

class Span {
 public:
  // A span that does nothing (e.g. before StartServer).
  Span() = default;
  // Starts a child of the thread's current span and makes it current until End(). Does
  // nothing when the current trace is not recorded (or there is none).
  explicit Span(std::string_view name, SpanKind kind = SpanKind::kInternal);
  // End().
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  // Starts the server span of an incoming request: a child of `remote` when it is valid (its
  // trace id, a new span id), else the root of a new trace. Recorded when exporter is non-null
  // and remote (if valid) is sampled. Not made current: see Scope. Only on a span that was
  // default-constructed and never started.
  void StartServer(const SpanContext& remote, SpanExporter* exporter);

  // True when the span will be exported: callers may skip building names and attributes.
  bool recording() const { return data_ != nullptr; }
  // The span's ids (valid for a started server span; for an unrecorded child, the ids of
  // the span that was current).
  const SpanContext& context() const { return context_; }

  // No-ops unless recording.
  void SetName(std::string_view name);
  void SetAttribute(std::string_view key, std::string_view value);
  void SetAttribute(std::string_view key, const char* value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, int64_t value);
  void SetError(std::string_view message);

  // Ends the span: exports it when recording and, if it was made current by the constructor,
  // makes the previous span current again. Idempotent.
  void End();

 private:
  friend class Scope;
  SpanContext context_;
  SpanExporter* exporter_ = nullptr;
  std::unique_ptr<SpanData> data_;  // non-null while recording and not ended
  bool activated_ = false;          // the constructor made it current
  Context prev_context_;            // what was current before (activated only)
  Span* prev_span_ = nullptr;
};

// Makes `span` the thread's current span for the scope's lifetime (the server span on the
// thread that runs the handler). The span must outlive the scope.
class Scope {
 public:
  explicit Scope(Span* span);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Context prev_context_;
  Span* prev_span_;
};

// The thread's current trace context (invalid span context when none).
Context CurrentContext();
// The current span's trace id when the thread works for a request; false otherwise.
bool CurrentTraceId(TraceId* out);
// Sets an attribute on the span current on this thread, when it lives on this thread and is
// recorded (the tenant, once a handler knows it).
void SetCurrentAttribute(std::string_view key, std::string_view value);

// Makes `context` current for the scope's lifetime (a task continuing a request's trace on a
// worker thread; its spans become children of context.span).
class ScopedContext {
 public:
  explicit ScopedContext(const Context& context);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  Context prev_context_;
  Span* prev_span_;
};

}  // namespace skald::trace
