// libFuzzer target for the XML Skald reads from S3-compatible servers (src/storage/s3_xml.h):
// the input is a response body. ParseListPage must fail cleanly or return keys; ElementText
// and DecodeEntities must not crash; and escaping any byte string for a request body and
// decoding it again must give the same bytes back (the keys Skald sends in DeleteObjects are
// the keys the server deletes). Crashes, sanitizer reports and round-trip mismatches are bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/markup_escape.h"
#include "storage/s3_xml.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace skald::storage::s3xml;  // NOLINT
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto page = ParseListPage(in);
  if (page.ok()) {
    size_t total = 0;
    for (const std::string& k : page->keys) total += k.size();
    // Decoding never grows text by more than a character reference's UTF-8 (4 bytes for 4+).
    Check(total <= in.size());
  }
  (void)ElementText(in, "Code");
  (void)ElementText(in, "UploadId");

  std::string decoded;
  DecodeEntities(in, &decoded);

  std::string escaped;
  skald::AppendXmlEscaped(&escaped, in);
  Check(escaped.find('<') == std::string::npos);
  std::string back;
  DecodeEntities(escaped, &back);
  Check(back == in);
  return 0;
}
