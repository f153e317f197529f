// libFuzzer target: the LogQL parser must never crash or hang on any input.
// For accepted queries:
//   - ExprString() must re-parse to an equal tree and be a fixed point
//     (skipped when it holds NaN/Inf, which LogQL cannot spell);
//   - PrettyExprString() (format_query's text) must not crash and gives some text;
//   - the regex-shape classifier must not crash on the raw input;
//   - for log queries, the line filters must compile (or fail cleanly) and
//     LineFilter::Select over a buffer built from the input must agree with
//     per-line Matches.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "logql/ast.h"
#include "logql/line_filter.h"
#include "logql/parser.h"
#include "logql/regex_util.h"

namespace {

void Require(bool cond, const char* what, std::string_view detail) {
  if (!cond) {
    std::fprintf(stderr, "logql_parse_fuzz invariant violated: %s [%.*s]\n", what,
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
  }
}

void CheckLineFilters(const skald::logql::LogSelector& sel, std::string_view input) {
  auto filter = skald::logql::LineFilter::Compile(sel.line_filters);
  if (!filter.ok()) return;
  // Lines: the input split at every 7th byte and at newlines, plus the filter values.
  std::string data;
  std::vector<uint32_t> offsets{0};
  auto add = [&](std::string_view line) {
    data.append(line);
    offsets.push_back(static_cast<uint32_t>(data.size()));
  };
  size_t start = 0;
  for (size_t i = 0; i < input.size(); i++) {
    if (input[i] == '\n' || (i - start) == 7) {
      add(input.substr(start, i - start));
      start = i;
    }
  }
  add(input.substr(start));
  for (const auto& f : sel.line_filters) {
    for (const auto& v : f.values) {
      add(v);
      add("x" + v + "y");
    }
  }
  std::vector<uint32_t> got;
  size_t n = filter->Select(data, offsets, &got);
  Require(n == got.size(), "Select returns the count", input);
  std::vector<uint32_t> want;
  for (size_t i = 0; i + 1 < offsets.size(); i++) {
    if (filter->Matches(std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]))) {
      want.push_back(static_cast<uint32_t>(i));
    }
  }
  Require(got == want, "Select agrees with Matches", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto expr = skald::logql::ParseExpr(in);
  (void)skald::logql::ParseMatchers(in);
  (void)skald::logql::internal::LokiSimplifiesLabelRegex(in);
  if (!expr.ok()) return 0;
  const std::string pretty = skald::logql::PrettyExprString(**expr);
  Require(!pretty.empty(), "PrettyExprString is not empty", in);
  const std::string text = skald::logql::ExprString(**expr);
  if (text.find("NaN") == std::string::npos && text.find("Inf") == std::string::npos) {
    auto again = skald::logql::ParseExpr(text);
    Require(again.ok(), "ExprString re-parses", text);
    Require(skald::logql::ExprEqual(**expr, **again), "ExprString re-parses to an equal tree",
            text);
    Require(skald::logql::ExprString(**again) == text, "ExprString is a fixed point", text);
  }
  if (const auto* sel = skald::logql::AsLogSelector(**expr)) CheckLineFilters(*sel, in);
  return 0;
}
