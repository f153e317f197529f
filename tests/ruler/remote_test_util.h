// Helpers shared by the tests that talk to a real Alertmanager or Prometheus.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/labels.h"

namespace skald::ruler::test {

inline Labels L(std::vector<Label> pairs) { return Labels(std::move(pairs)); }

// Wall-clock milliseconds (what the servers compare timestamps with).
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace skald::ruler::test
