// Replaces the global operator new/delete (see alloc_counter.h).
#include "tests/testing/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

// GCC flags malloc/free inside replaced operators as mismatched once inlined; they match.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocs{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace skald::testing {

void AllocCounter::Start() {
  g_allocs = 0;
  g_counting = true;
}

size_t AllocCounter::Stop() {
  g_counting = false;
  return g_allocs.load();
}

}  // namespace skald::testing
