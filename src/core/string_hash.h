// Hash and equality for hash maps keyed by std::string that are looked up by
// std::string_view without building a string (heterogeneous lookup). absl's own string hash
// takes absl::string_view, which is not std::string_view in the Debian build.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace skald {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace skald
