// libFuzzer target: skald::ParseLabels must never crash, and a label set it
// accepts must re-parse from its canonical ToString() form to the same set
// (with the same canonical text and fingerprint).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/labels.h"

namespace {

void Require(bool cond, const char* what, std::string_view detail) {
  if (!cond) {
    std::fprintf(stderr, "labels_parse_fuzz invariant violated: %s [%.*s]\n", what,
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = skald::ParseLabels(in);
  if (!parsed.ok()) return 0;
  const std::string canonical = parsed->ToString();
  auto again = skald::ParseLabels(canonical);
  Require(again.ok(), "canonical form parses", canonical);
  Require(*again == *parsed, "canonical form parses to the same labels", canonical);
  Require(again->ToString() == canonical, "canonical form is stable", canonical);
  Require(again->Fingerprint() == parsed->Fingerprint(), "fingerprint is stable", canonical);
  return 0;
}
