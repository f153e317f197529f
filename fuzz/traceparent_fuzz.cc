// libFuzzer target: skald::trace::ParseTraceparent (every HTTP request's `traceparent` header)
// must never crash, and what it accepts must be a valid context that formats to a 55-character
// version-00 header carrying the input's ids and parses back to the same context.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/tracing.h"

namespace {

void Require(bool cond, const char* what, std::string_view detail) {
  if (!cond) {
    std::fprintf(stderr, "traceparent_fuzz invariant violated: %s [%.*s]\n", what,
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  skald::trace::SpanContext ctx;
  if (!skald::trace::ParseTraceparent(in, &ctx)) return 0;
  Require(ctx.valid(), "accepted ids are non-zero", in);
  Require((ctx.flags & ~skald::trace::kSampledFlag) == 0, "only the sampled flag is kept", in);
  Require(in.size() >= skald::trace::kTraceparentSize, "accepted input is long enough", in);
  const std::string formatted = skald::trace::FormatTraceparent(ctx);
  Require(formatted.size() == skald::trace::kTraceparentSize, "formats to 55 characters",
          formatted);
  Require(formatted.compare(2, 50, in.substr(2, 50)) == 0, "ids are carried over", formatted);
  skald::trace::SpanContext again;
  Require(skald::trace::ParseTraceparent(formatted, &again), "formatted form parses", formatted);
  Require(
      again.trace_id == ctx.trace_id && again.span_id == ctx.span_id && again.flags == ctx.flags,
      "formatted form parses to the same context", formatted);
  return 0;
}
