// Trace ids, traceparent and spans (see tracing.h).
#include "core/tracing.h"

#include <chrono>
#include <random>
#include <thread>

#include "core/time.h"

namespace skald::trace {

namespace {

// The thread's current trace: its context and, when the span lives on this thread, the span.
struct Current {
  Context context;
  Span* span = nullptr;
};
thread_local Current t_current;

// splitmix64 over a per-thread state seeded once from the OS and the thread's identity.
uint64_t NextRandom() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    seed ^= static_cast<uint64_t>(std::hash<std::thread::id>()(std::this_thread::get_id()));
    seed ^=
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    return seed;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a) {
    if (b != 0) return false;
  }
  return true;
}

template <size_t N>
void FillRandom(std::array<uint8_t, N>* a) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = NextRandom();
      for (size_t j = 0; j < 8 && i + j < N; j++) (*a)[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (AllZero(*a));
}

// Lowercase hex digit value, or -1 (W3C allows lowercase only).
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Parses 2 * N lowercase hex digits into *out.
template <size_t N>
bool ParseHex(std::string_view s, std::array<uint8_t, N>* out) {
  if (s.size() != 2 * N) return false;
  for (size_t i = 0; i < N; i++) {
    int hi = HexValue(s[2 * i]), lo = HexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

constexpr char kHexDigits[] = "0123456789abcdef";

template <size_t N>
void AppendHex(std::string* out, const std::array<uint8_t, N>& a) {
  for (uint8_t b : a) {
    out->push_back(kHexDigits[b >> 4]);
    out->push_back(kHexDigits[b & 0xf]);
  }
}

}  // namespace

bool SpanContext::valid() const { return !AllZero(trace_id) && !AllZero(span_id); }

bool ParseTraceparent(std::string_view h, SpanContext* out) {
  // version "-" trace-id "-" parent-id "-" flags, at fixed offsets 0, 3, 36, 53.
  if (h.size() < kTraceparentSize) return false;
  std::array<uint8_t, 1> version;
  if (!ParseHex(h.substr(0, 2), &version) || version[0] == 0xff) return false;
  if (version[0] == 0 ? h.size() != kTraceparentSize
                      : h.size() > kTraceparentSize && h[kTraceparentSize] != '-') {
    return false;
  }
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  SpanContext ctx;
  std::array<uint8_t, 1> flags;
  if (!ParseHex(h.substr(3, 32), &ctx.trace_id) || !ParseHex(h.substr(36, 16), &ctx.span_id) ||
      !ParseHex(h.substr(53, 2), &flags)) {
    return false;
  }
  if (!ctx.valid()) return false;
  // Version 00 defines only the sampled bit (level 2 adds "random", which we do not use);
  // other bits are not propagated.
  ctx.flags = flags[0] & kSampledFlag;
  *out = ctx;
  return true;
}

std::string FormatTraceparent(const SpanContext& ctx) {
  std::string out;
  out.reserve(kTraceparentSize);
  out.append("00-");
  AppendHex(&out, ctx.trace_id);
  out.push_back('-');
  AppendHex(&out, ctx.span_id);
  out.push_back('-');
  AppendHex(&out, std::array<uint8_t, 1>{ctx.flags});
  return out;
}

std::string TraceIdHex(const TraceId& id) {
  std::string out;
  out.reserve(32);
  AppendHex(&out, id);
  return out;
}

std::string SpanIdHex(const SpanId& id) {
  std::string out;
  out.reserve(16);
  AppendHex(&out, id);
  return out;
}

void AppendTraceIdHex(std::string* out, const TraceId& id) { AppendHex(out, id); }

TraceId NewTraceId() {
  TraceId id;
  FillRandom(&id);
  return id;
}

SpanId NewSpanId() {
  SpanId id;
  FillRandom(&id);
  return id;
}

Span::Span(std::string_view name, SpanKind kind) {
  const Current& cur = t_current;
  context_ = cur.context.span;
  if (cur.context.exporter == nullptr || !cur.context.span.valid()) return;
  exporter_ = cur.context.exporter;
  data_ = std::make_unique<SpanData>();
  data_->parent_span_id = context_.span_id;
  context_.span_id = NewSpanId();
  data_->name = std::string(name);
  data_->kind = kind;
  data_->start_unix_nanos = NowNanos();
  prev_context_ = cur.context;
  prev_span_ = cur.span;
  activated_ = true;
  t_current = Current{Context{context_, exporter_}, this};
}

Span::~Span() { End(); }

void Span::StartServer(const SpanContext& remote, SpanExporter* exporter) {
  const bool has_parent = remote.valid();
  context_.trace_id = has_parent ? remote.trace_id : NewTraceId();
  context_.span_id = NewSpanId();
  const bool record = exporter != nullptr && (!has_parent || remote.sampled());
  context_.flags = record ? kSampledFlag : 0;
  if (!record) return;
  exporter_ = exporter;
  data_ = std::make_unique<SpanData>();
  if (has_parent) data_->parent_span_id = remote.span_id;
  data_->kind = SpanKind::kServer;
  data_->start_unix_nanos = NowNanos();
}

void Span::SetName(std::string_view name) {
  if (data_) data_->name = std::string(name);
}

void Span::SetAttribute(std::string_view key, std::string_view value) {
  if (!data_) return;
  Attribute& a = data_->attributes.emplace_back();
  a.key = std::string(key);
  a.string_value = std::string(value);
}

void Span::SetAttribute(std::string_view key, int64_t value) {
  if (!data_) return;
  Attribute& a = data_->attributes.emplace_back();
  a.key = std::string(key);
  a.int_value = value;
  a.is_int = true;
}

void Span::SetError(std::string_view message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::string(message);
}

void Span::End() {
  if (data_) {
    data_->context = context_;
    data_->end_unix_nanos = NowNanos();
    exporter_->Export(std::move(data_));
    data_.reset();
  }
  if (activated_) {
    activated_ = false;
    t_current = Current{prev_context_, prev_span_};
  }
}

Scope::Scope(Span* span) : prev_context_(t_current.context), prev_span_(t_current.span) {
  t_current = Current{Context{span->context_, span->data_ ? span->exporter_ : nullptr}, span};
}

Scope::~Scope() { t_current = Current{prev_context_, prev_span_}; }

Context CurrentContext() { return t_current.context; }

bool CurrentTraceId(TraceId* out) {
  const SpanContext& ctx = t_current.context.span;
  if (AllZero(ctx.trace_id)) return false;
  *out = ctx.trace_id;
  return true;
}

void SetCurrentAttribute(std::string_view key, std::string_view value) {
  if (t_current.span != nullptr) t_current.span->SetAttribute(key, value);
}

ScopedContext::ScopedContext(const Context& context)
    : prev_context_(t_current.context), prev_span_(t_current.span) {
  t_current = Current{context, nullptr};
}

ScopedContext::~ScopedContext() { t_current = Current{prev_context_, prev_span_}; }

}  // namespace skald::trace
