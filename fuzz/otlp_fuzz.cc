// libFuzzer target: OTLP logs decoding (wire/otlp.h). The protobuf path, the OTLP/JSON path and
// the compressed front-ends (gzip, zstd, lz4) must never crash, and whatever decodes must be
// well formed: views readable, metadata ranges inside the request, label strings braced. JSON
// that transcodes must give protobuf the mapper reads without a wire-format error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "wire/otlp.h"

namespace {

using skald::wire::PushRequest;

void Require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "otlp_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// Touches every byte the request points at (ASan checks the views) and checks its shape.
void Check(const PushRequest& req) {
  size_t sum = 0;
  for (const auto& s : req.streams) {
    Require(s.labels.size() >= 2 && s.labels.front() == '{' && s.labels.back() == '}',
            "label string is braced");
    Require(!s.entries.empty(), "streams carry entries");
    for (const auto& e : s.entries) {
      Require(size_t{e.metadata_begin} + e.metadata_count <= req.metadata.size(),
              "metadata range inside the request");
      for (char c : e.line) sum += static_cast<unsigned char>(c);
      for (const auto& p : req.MetadataOf(e)) {
        Require(!p.name.empty(), "metadata names are not empty");
        for (char c : p.name) sum += static_cast<unsigned char>(c);
        for (char c : p.value) sum += static_cast<unsigned char>(c);
      }
    }
  }
  volatile size_t sink = sum;
  (void)sink;
}

bool IsWireError(const skald::Status& st) {
  const std::string& m = st.message();
  return m.starts_with("proto:") || m.starts_with("unexpected EOF") || m.starts_with("unmarshal:");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the options, the rest is the body.
  const uint8_t mode = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  skald::wire::OtlpOptions opt = skald::wire::DefaultOtlpOptions();
  opt.receive_time_ns = 1;
  opt.max_decoded_bytes = 64 << 20;
  if (mode & 1) opt.severity_text_as_label = true;
  if (mode & 2) {
    skald::wire::OtlpAttributeRule r;
    r.action = skald::wire::OtlpAction::kIndexLabel;
    r.regex = [](std::string_view n) { return !n.empty() && n[0] < 'n'; };
    opt.log_rules.push_back(std::move(r));
  }
  if (mode & 4) opt.discover_service_name.clear();

  auto proto = skald::wire::DecodeOtlpProtobuf(in, opt);
  if (proto.ok()) {
    PushRequest moved = std::move(*proto);  // views must survive the move
    Check(moved);
  }

  auto transcoded = skald::wire::OtlpJsonToProtobuf(in);
  if (transcoded.ok()) {
    auto mapped = skald::wire::DecodeOtlpProtobuf(*transcoded, opt);
    Require(mapped.ok() || !IsWireError(mapped.status()), "transcoded JSON is valid protobuf");
    if (mapped.ok()) Check(*mapped);
  }

  const skald::wire::DecodeLimits small{1 << 20};
  for (const char* enc : {"gzip", "zstd", "lz4"}) {
    auto r = skald::wire::DecodeOtlpBody((mode & 8) ? "application/json" : "application/x-protobuf",
                                         enc, std::string(in), opt, small);
    if (r.ok()) Check(*r);
  }
  return 0;
}
