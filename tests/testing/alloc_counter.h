// AllocCounter: counts global operator new calls between Start() and Stop(),
// to pin "this path does not allocate".
//
// Linking the library skald_testkit_alloc_counter replaces the global
// operator new/delete of the whole test binary (plain malloc/free plus one
// relaxed atomic check), so link it only into tests that count allocations.
#pragma once

#include <cstddef>

namespace skald::testing {

struct AllocCounter {
  // Resets the count and starts counting (on every thread).
  static void Start();
  // Stops counting; returns the allocations since Start().
  static size_t Stop();
};

}  // namespace skald::testing
