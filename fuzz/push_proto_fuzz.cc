// libFuzzer target: protobuf push decoding (raw, snappy, and via DecodePushBody
// with gzip/deflate) must never crash, and every request that decodes must
// re-encode to bytes that decode to the same content.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/push.h"
#include "api/push_compare.h"

namespace {

using skald::api::PushRequest;

void Require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "push_proto_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// Re-encodes as raw and snappy protobuf; both must decode to the same content.
void RequireProtobufRoundTrip(const PushRequest& req) {
  auto raw = skald::api::DecodePushProtobufRaw(skald::api::EncodePushProtobufRaw(req));
  Require(raw.ok(), "re-encoded protobuf decodes");
  Require(skald::api::PushContentEqual(req, *raw), "raw protobuf round trip");
  auto snappy = skald::api::DecodePushProtobuf(skald::api::EncodePushProtobufSnappy(req));
  Require(snappy.ok(), "re-encoded snappy protobuf decodes");
  Require(skald::api::PushContentEqual(req, *snappy), "snappy protobuf round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const skald::api::DecodeLimits small{1 << 20};

  auto raw = skald::api::DecodePushProtobufRaw(std::string(in));
  if (raw.ok()) {
    // Move first: views must stay valid in the moved-to request.
    PushRequest moved = std::move(*raw);
    RequireProtobufRoundTrip(moved);
  }

  auto snappy = skald::api::DecodePushProtobuf(in, small);
  if (snappy.ok()) RequireProtobufRoundTrip(*snappy);

  // Decompression front-ends: only memory safety matters here.
  (void)skald::api::DecodePushBody("application/x-protobuf", "gzip", std::string(in), small);
  (void)skald::api::DecodePushBody("application/x-protobuf", "deflate", std::string(in), small);
  return 0;
}
