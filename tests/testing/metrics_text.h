// Reading a Prometheus text exposition in tests by whole lines, so that
// `x{tenant="a"} 1` never matches `x{tenant="a"} 12`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skald::testing {

// The value of the sample whose series (`name` or `name{labels}`, exactly as
// exposed) is `series`; nullopt when no line has that series.
std::optional<double> SampleValue(std::string_view exposition, std::string_view series);

// True when some line of the exposition is exactly `line` (no trailing newline).
bool HasLine(std::string_view exposition, std::string_view line);

}  // namespace skald::testing
