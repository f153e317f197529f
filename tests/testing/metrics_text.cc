#include "tests/testing/metrics_text.h"

#include <cstdlib>

namespace skald::testing {

namespace {

template <class F>
void ForEachLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (f(line)) return;
    if (nl == std::string_view::npos) return;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

std::optional<double> SampleValue(std::string_view exposition, std::string_view series) {
  std::optional<double> out;
  ForEachLine(exposition, [&](std::string_view line) {
    if (line.size() <= series.size() + 1 || line.substr(0, series.size()) != series ||
        line[series.size()] != ' ') {
      return false;
    }
    std::string value(line.substr(series.size() + 1));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) return false;
    out = v;
    return true;
  });
  return out;
}

bool HasLine(std::string_view exposition, std::string_view line) {
  bool found = false;
  ForEachLine(exposition, [&](std::string_view l) { return found = (l == line); });
  return found;
}

}  // namespace skald::testing
