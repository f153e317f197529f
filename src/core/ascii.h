// ASCII case folding for protocol text: HTTP header names, media types, LogQL keywords,
// config units, query parameters. Only A-Z and a-z fold; every other byte (including UTF-8)
// compares as itself, which is what Go's strings.EqualFold does for ASCII-only keys and what
// HTTP and MIME require. Header-only, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace skald {

constexpr char AsciiToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// A copy of s with A-Z lowered.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiToLower(c);
  return out;
}

// True when a and b are equal after lowering A-Z.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiToLower(a[i]) != AsciiToLower(b[i])) return false;
  }
  return true;
}

}  // namespace skald
