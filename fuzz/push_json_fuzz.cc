// libFuzzer target: JSON push decoding (v1 and legacy v0) must never crash.
// A successfully decoded request must survive protobuf re-encoding unchanged,
// and JSON re-encoding too whenever its label strings are in ParseLabels'
// canonical form (EncodePushJson writes labels via skald::ParseLabels).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/labels.h"
#include "wire/push.h"
#include "wire/push_compare.h"

namespace {

using skald::wire::PushRequest;

void Require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "push_json_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

void RequireProtobufRoundTrip(const PushRequest& req) {
  auto raw = skald::wire::DecodePushProtobufRaw(skald::wire::EncodePushProtobufRaw(req));
  Require(raw.ok(), "re-encoded protobuf decodes");
  Require(skald::wire::PushContentEqual(req, *raw), "protobuf round trip");
}

bool LabelsAreCanonical(const PushRequest& req) {
  for (const auto& s : req.streams) {
    auto parsed = skald::ParseLabels(s.labels);
    if (!parsed.ok() || parsed->ToString() != s.labels) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto req = skald::wire::DecodePushJson(std::string(in));
  if (req.ok()) {
    PushRequest moved = std::move(*req);
    RequireProtobufRoundTrip(moved);
    if (LabelsAreCanonical(moved)) {
      std::string json = skald::wire::EncodePushJson(moved);
      auto again = skald::wire::DecodePushJson(json);
      Require(again.ok(), "re-encoded JSON decodes");
      Require(skald::wire::PushContentEqual(moved, *again), "JSON round trip");
    }
  }

  auto legacy = skald::wire::DecodePushJsonLegacy(std::string(in));
  if (legacy.ok()) RequireProtobufRoundTrip(*legacy);

  (void)skald::wire::DecodePushBody("application/json; charset=utf-8", "gzip", std::string(in),
                                    skald::wire::DecodeLimits{1 << 20});
  return 0;
}
