// libFuzzer target for the compactor's stored objects and inputs. The first byte picks a mode:
//   0: the rest is a delete-requests object (deletes/<tenant>/requests); what decodes must
//      encode back to the same bytes.
//   1: the rest is a delete query (POST /loki/api/v1/delete?query=); what parses must build a
//      working erasure that can be run over an entry.
// Any failure must be a clean Status; crashes, sanitizer reports and round-trip mismatches
// are bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compactor/delete_requests.h"
#include "core/labels.h"
#include "logql/erasure.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 1 << 16) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace skald;
  if (data[0] % 2 == 0) {
    auto decoded = compactor::DecodeDeleteRequests(in);
    if (!decoded.ok()) return 0;
    const std::string again = compactor::EncodeDeleteRequests(*decoded);
    auto twice = compactor::DecodeDeleteRequests(again);
    Check(twice.ok());
    Check(compactor::EncodeDeleteRequests(*twice) == again);
    return 0;
  }
  compactor::DeleteRequest r;
  r.query = std::string(in);
  auto p = compactor::ParseDeleteRequest(std::move(r));
  if (!p.ok()) return 0;
  logql::Erasure e(1000, 0, {}, {{p->matchers, p->pipeline, 0, 2000}});
  auto s = e.ForStream(Labels({{"app", "api"}, {"level", "error"}}));
  (void)s.Erased(500, "level=error msg=\"secret\" status=500", {});
  return 0;
}
