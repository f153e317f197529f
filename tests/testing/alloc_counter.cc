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

// Every unaligned form is replaced, so no allocation is made by the runtime's (or a
// sanitizer's) operator new and released by ours, or the other way round. Aligned forms
// are left alone: both their new and their delete stay the runtime's.
namespace {
void* CountedAlloc(size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  return std::malloc(n ? n : 1);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

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
