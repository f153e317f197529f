// libFuzzer target: the block-skipping requirement of a line filter (LineFilter::Requirement,
// logql/line_filter.h) must be sound: a block holding a line that passes the filter is never
// skipped.
//
// Input framing (bytes; `\0` separates records):
//   <query text> \0 <line> \0 <line> ...
// The query's leading line filters (LogSelector::line_filters) are compiled; queries that do
// not parse, are not log queries, or whose filters do not compile are skipped. The lines
// form one block. Checks:
//   - when some line passes Matches, MayMatch is true for the exact oracle (some line holds
//     the literal, ASCII-case-insensitively) and for an over-approximation of it;
//   - MayMatch only asks about non-empty, ASCII-lowercase literals;
//   - Never() only when no line passes and MayMatch is false even if every literal may occur;
//     Trivial() only when MayMatch is true even if no literal may occur;
//   - DebugString does not crash.
//
// Bounds (so one input stays well under a second): query <= 4 KiB, <= 64 lines of <= 4 KiB.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "logql/ast.h"
#include "logql/line_filter.h"
#include "logql/parser.h"

namespace {

using namespace skald::logql;

constexpr size_t kMaxQuery = 4096;
constexpr size_t kMaxLines = 64;
constexpr size_t kMaxLine = 4096;

void Check(bool ok) {
  if (!ok) abort();
}

// What MayMatch may ask for: a non-empty literal with no ASCII capital.
void CheckLiteral(std::string_view lit) {
  Check(!lit.empty());
  for (char c : lit) Check(!(c >= 'A' && c <= 'Z'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t end = in.find('\0');
  const std::string_view query = in.substr(0, end);
  if (query.size() > kMaxQuery) return 0;
  std::vector<std::string> lowered;  // the block's lines, ASCII-lowercased
  std::vector<std::string_view> lines;
  if (end != std::string_view::npos) {
    in.remove_prefix(end + 1);
    while (lines.size() < kMaxLines) {
      const size_t nul = in.find('\0');
      std::string_view line = in.substr(0, nul);
      if (line.size() > kMaxLine) return 0;
      lines.push_back(line);
      if (nul == std::string_view::npos) break;
      in.remove_prefix(nul + 1);
    }
  }
  lowered.reserve(lines.size());
  for (std::string_view l : lines) lowered.push_back(skald::AsciiLower(l));

  auto expr = ParseExpr(query);
  if (!expr.ok()) return 0;
  const LogSelector* sel = AsLogSelector(**expr);
  if (sel == nullptr) return 0;
  auto filter = LineFilter::Compile(sel->line_filters);
  if (!filter.ok()) return 0;
  const LiteralRequirement req = filter->Requirement();
  (void)req.DebugString();

  bool any = false;
  for (std::string_view l : lines) any = any || filter->Matches(l);
  auto exact = [&](std::string_view lit) {
    CheckLiteral(lit);
    for (const std::string& l : lowered) {
      if (l.find(lit) != std::string::npos) return true;
    }
    return false;
  };
  // Also answers "may" for literals of odd length, as a lossy block filter might.
  auto loose = [&](std::string_view lit) { return lit.size() % 2 == 1 || exact(lit); };
  auto all = [](std::string_view lit) {
    CheckLiteral(lit);
    return true;
  };
  auto none = [](std::string_view lit) {
    CheckLiteral(lit);
    return false;
  };

  const bool may = req.MayMatch(exact);
  if (any) {
    Check(may);
    Check(req.MayMatch(loose));
    Check(!req.Never());
  }
  if (may) Check(req.MayMatch(loose) && req.MayMatch(all));
  if (req.Never()) Check(!any && !req.MayMatch(all));
  if (req.Trivial()) Check(req.MayMatch(none) && may);
  Check(!(req.Trivial() && req.Never()));
  return 0;
}
