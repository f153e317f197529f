// libFuzzer target for what the query frontend decodes: queriers' JSON answers to subqueries
// (src/frontend/merge.h). The input is split at NUL bytes into answers; the first byte picks
// summing or not. Merging must fail cleanly or give an answer that merges into itself unchanged
// (merging is idempotent on its own output), and a streams merge never returns more entries
// than its limit. Crashes, sanitizer reports and check failures are bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "frontend/merge.h"

namespace {

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

// The entries of a merged streams answer (every stream's "values" elements).
size_t CountEntries(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  Check(parser.parse(body).get(root) == simdjson::SUCCESS);
  simdjson::dom::array result;
  Check(root["data"]["result"].get(result) == simdjson::SUCCESS);
  size_t n = 0;
  for (simdjson::dom::element stream : result) {
    simdjson::dom::array values;
    Check(stream["values"].get(values) == simdjson::SUCCESS);
    n += values.size();
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool sum = (data[0] & 1) != 0;
  const uint32_t limit = data[0] >> 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> parts;
  while (true) {
    const size_t nul = in.find('\0');
    parts.push_back(in.substr(0, nul));
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  auto m = skald::frontend::MergeMatrices(parts, sum);
  if (m.ok()) {
    auto again = skald::frontend::MergeMatrices({*m}, false);
    Check(again.ok() && *again == *m);
  }
  auto s = skald::frontend::MergeStreams(parts, limit, (data[0] & 2) != 0);
  if (s.ok()) {
    auto again = skald::frontend::MergeStreams({*s}, limit, (data[0] & 2) != 0);
    Check(again.ok() && *again == *s);
    Check(CountEntries(*s) <= limit);
  }
  return 0;
}
