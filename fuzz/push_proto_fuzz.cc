// libFuzzer target: protobuf push decoding (raw, snappy, and via DecodePushBody
// with gzip/deflate) must never crash, and every request that decodes must
// re-encode to bytes that decode to the same content.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/push.h"
#include "wire/push_compare.h"

namespace {

using skald::wire::PushRequest;

void Require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "push_proto_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// Re-encodes as raw and snappy protobuf; both must decode to the same content.
void RequireProtobufRoundTrip(const PushRequest& req) {
  auto raw = skald::wire::DecodePushProtobufRaw(skald::wire::EncodePushProtobufRaw(req));
  Require(raw.ok(), "re-encoded protobuf decodes");
  Require(skald::wire::PushContentEqual(req, *raw), "raw protobuf round trip");
  auto snappy = skald::wire::DecodePushProtobuf(skald::wire::EncodePushProtobufSnappy(req));
  Require(snappy.ok(), "re-encoded snappy protobuf decodes");
  Require(skald::wire::PushContentEqual(req, *snappy), "snappy protobuf round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const skald::wire::DecodeLimits small{1 << 20};

  auto raw = skald::wire::DecodePushProtobufRaw(std::string(in));
  if (raw.ok()) {
    // Move first: views must stay valid in the moved-to request.
    PushRequest moved = std::move(*raw);
    RequireProtobufRoundTrip(moved);
  }

  auto snappy = skald::wire::DecodePushProtobuf(in, small);
  if (snappy.ok()) RequireProtobufRoundTrip(*snappy);

  // Decompression front-ends: only memory safety matters here.
  (void)skald::wire::DecodePushBody("application/x-protobuf", "gzip", std::string(in), small);
  (void)skald::wire::DecodePushBody("application/x-protobuf", "deflate", std::string(in), small);
  return 0;
}
