// Fuzzes every line parser kind (logql/parsers.h) over arbitrary lines. The first byte picks
// the stage (json, json with paths, logfmt with flags/params, regexp, pattern, unpack); the
// rest is the line. Checks: no crash or hang, every name non-empty, every name and value a
// view into the line or into memory that stays readable until the next Parse (touched after
// Parse returns, so ASan flags a dangling view), ParseError texts only Loki's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "logql/parser.h"
#include "logql/parsers.h"

namespace {

using skald::logql::LineParser;

class CheckingSink : public skald::logql::ParsedSink {
 public:
  void Add(std::string_view name, std::string_view value) override {
    if (name.empty()) abort();
    got.emplace_back(name, value);
  }
  bool AlreadyParsed(std::string_view name) const override { return name.size() == 1; }
  void SetLine(std::string_view l) override { line = l; }
  void Put(std::string_view name, std::string_view value) override {
    if (name.empty()) abort();
    got.emplace_back(name, value);
  }
  bool IsStreamOrMetadata(std::string_view) const override { return false; }
  std::vector<std::pair<std::string_view, std::string_view>> got;
  std::string_view line;
};

const char* kStages[] = {
    "| json",
    R"(| json a="a", b="b.c", c="list[0]", d="[\"x y\"][1].z", e="a.b[2][3]")",
    "| logfmt",
    "| logfmt --strict",
    "| logfmt --keep-empty",
    R"(| logfmt --strict --keep-empty a, b="c d", e="=")",
    R"re(| regexp "(?P<a>\\w+)=(?P<b>[^ ]*)?")re",
    R"re(| regexp "^(?P<first>\\S+) (?P<rest>.*)$")re",
    R"(| pattern "<a> <_> [<b>] \"<c>\" <d>")",
    R"(| pattern "x<a>,<b>")",
    "| unpack",
};
constexpr size_t kNumStages = sizeof(kStages) / sizeof(kStages[0]);

std::vector<std::unique_ptr<LineParser>>& Parsers() {
  static auto* parsers = [] {
    auto* v = new std::vector<std::unique_ptr<LineParser>>;
    for (const char* st : kStages) {
      auto expr = skald::logql::ParseExpr(std::string("{a=\"b\"} ") + st);
      if (!expr.ok()) abort();
      auto p = skald::logql::NewLineParser(skald::logql::AsLogSelector(**expr)->stages.at(0));
      if (!p.ok()) abort();
      v->push_back(std::move(p).value());
    }
    return v;
  }();
  return *parsers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& parsers = Parsers();
  LineParser* p = parsers[data[0] % kNumStages].get();
  // A heap copy of exactly the line so ASan catches reads past its end.
  std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::unique_ptr<char[]> owned(new char[line.size() + 1]);
  memcpy(owned.get(), line.data(), line.size());
  std::string_view l(owned.get(), line.size());
  CheckingSink sink;
  skald::logql::ParseError err = p->Parse(l, &sink);
  if (err) {
    std::string_view e = err.error;
    if (e != "JSONParserErr" && e != "LogfmtParserErr") abort();
  }
  // Touch every view after Parse returned: they must still be readable.
  size_t sum = 0;
  for (const auto& [n, v] : sink.got) {
    for (char c : n) sum += static_cast<unsigned char>(c);
    for (char c : v) sum += static_cast<unsigned char>(c);
  }
  for (char c : sink.line) sum += static_cast<unsigned char>(c);
  for (char c : err.details) sum += static_cast<unsigned char>(c);
  // A clone must give the same answer.
  auto clone = p->Clone();
  CheckingSink sink2;
  skald::logql::ParseError err2 = clone->Parse(l, &sink2);
  if (err2.error != err.error || err2.details != err.details || sink2.got != sink.got) abort();
  return static_cast<int>(sum & 0);
}
