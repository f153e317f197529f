// libFuzzer target: the text/template engine (line_format / label_format) must never crash,
// hang or grow memory without bound on any template text. Whatever parses is executed
// against fixed entry data. Bounds that make this hold (see docs/logql.md, "Templates"):
// parse nesting depth 100, 2^20 evaluation steps and 64 MiB of built strings per Execute,
// 16 MiB per value and per output.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "logql/template.h"

namespace {

class FixedData : public skald::logql::TemplateData {
 public:
  std::optional<std::string_view> Label(std::string_view name) const override {
    auto it = labels_.find(name);
    if (it == labels_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view Line() const override { return "level=info msg=\"hello world\" n=42"; }
  int64_t TimestampNanos() const override { return 1700000000123456789; }
  void ForEachLabel(
      const std::function<void(std::string_view, std::string_view)>& fn) const override {
    for (const auto& [k, v] : labels_) fn(k, v);
  }

 private:
  std::map<std::string, std::string, std::less<>> labels_ = {
      {"app", "foo"},   {"level", "error"},
      {"n", "42"},      {"f", "1.5"},
      {"empty", ""},    {"json", R"({"a":1,"b":"x","c":[1,2,{"d":null}],"e":{"f":true}})"},
      {"dur", "1m30s"}, {"ts", "2024-03-05T10:00:00+02:00"},
  };
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = skald::logql::Template::Parse(text);
  if (!t.ok()) {
    if (t.status().message().rfind("template: line:", 0) != 0) {
      std::fprintf(stderr, "parse error without Go's prefix: %s\n", t.status().message().c_str());
      std::abort();
    }
    return 0;
  }
  static const FixedData kData;
  std::string out;
  skald::Status st = t->Execute(kData, &out);
  if (out.size() > (16u << 20) + (1u << 20)) {
    std::fprintf(stderr, "output over the cap: %zu bytes\n", out.size());
    std::abort();
  }
  if (!st.ok() && st.message().rfind("template: line", 0) != 0) {
    std::fprintf(stderr, "exec error without Go's prefix: %s\n", st.message().c_str());
    std::abort();
  }
  // A constant template must produce the same output again.
  if (st.ok() && t->IsConstant()) {
    std::string again;
    (void)t->Execute(kData, &again);
    if (again != out) std::abort();
  }
  return 0;
}
