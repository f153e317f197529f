// What serves malloc in this process, and the two things Skald asks of it: give freed memory
// back to the kernel, and say how much it holds.
//
// The `skald` binary links jemalloc (CMake option SKALD_ALLOCATOR, default jemalloc; the
// sanitizer and fuzz builds keep the C library's allocator, which the sanitizers replace).
// Libraries and unit tests do not link it: which allocator is present is decided at run time,
// through a weak reference to jemalloc's mallctl, so one build of the engines serves both.
#pragma once

#include <cstdint>

namespace skald::allocator {

// "jemalloc" when jemalloc serves malloc, else "libc".
const char* Name();

// Returns memory the allocator holds but the program freed to the kernel: jemalloc purges
// every arena's dirty pages; glibc trims its heaps (malloc_trim). Called after a flush
// releases a large share of the heap.
void ReleaseFreeMemory();

struct Stats {
  bool ok = false;         // false when the allocator does not report (libc)
  uint64_t allocated = 0;  // bytes the program holds (live allocations)
  uint64_t active = 0;     // bytes in pages with live allocations
  uint64_t resident = 0;   // bytes the allocator keeps resident (data and its metadata)
  uint64_t metadata = 0;   // bytes of the allocator's own bookkeeping
};

// A fresh reading of the allocator's counters (jemalloc's stats.*). Costs a refresh of
// jemalloc's statistics epoch: meant for scrapes, not hot paths.
Stats Read();

}  // namespace skald::allocator
